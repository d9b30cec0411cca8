"""Issue #19: a count reads as each language writes it, one (and in French none) in the
singular, more in the plural: "1 demande en attente", "Les 2 demandes en attente"."""

from __future__ import annotations

import html

import pytest
from django.urls import reverse

from evdms.accounts.models import User
from evdms.testing.fixtures import client_for, make_connection, make_membership

pytestmark = pytest.mark.django_db


def waiting(connection, n: int) -> None:
    for i in range(n):
        driver = User.objects.create_user(f"w{i}@example.com", "a long passphrase 1")
        make_membership(connection, driver, "pending")


def requests_page(world, language: str, **params: str) -> str:
    User.objects.filter(pk=world.nadia.user_id).update(language=language)
    response = client_for(world.nadia).get(reverse("enrolment:requests"), params)
    return " ".join(html.unescape(response.content.decode()).split())


@pytest.mark.parametrize(
    ("language", "count", "expected"),
    [
        (
            "fr",
            1,
            "1 demande en attente, sur toutes les pages, pas seulement les demandes cochées",
        ),
        ("fr", 2, "Les 2 demandes en attente, sur toutes les pages, pas seulement celles cochées"),
        ("nl", 1, "1 wachtende aanmelding, op elke pagina, niet alleen de aangevinkte"),
        ("nl", 2, "Alle 2 wachtende aanmeldingen, op elke pagina, niet alleen de aangevinkte"),
        ("de", 1, "Die 1 wartende Anfrage, auf allen Seiten, nicht nur die markierten"),
        ("de", 2, "Alle 2 wartenden Anfragen, auf allen Seiten, nicht nur die markierten"),
    ],
)
def test_every_waiting_request_is_counted_as_the_language_writes_it(
    world, language, count, expected
):
    waiting(make_connection(world.org_a, name="Home"), count)
    assert expected in requests_page(world, language)


def test_french_one_matching_request_is_in_the_singular(world):
    crm = make_connection(world.org_a, name="Crm", customer_id="CRM-1001")
    waiting(crm, 1)
    page = requests_page(world, "fr", customer_id="crm-1001", customer_id_match="contains")
    assert (
        "1 demande en attente correspondant au filtre, sur toutes les pages, "
        "pas seulement les demandes cochées"
    ) in page
    assert "La demande en attente (1)" not in page
