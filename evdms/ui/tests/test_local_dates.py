"""Issue #19: a day and a time read the local way (evdms.formats), in the organisation's
time zone: "3 Dec 2026 14:30" in English, "3. Dez. 2026, 14:30" in German, "3 dec 2026"
in Dutch, "3 déc. 2026" in French."""

from __future__ import annotations

import html
from datetime import UTC, datetime
from types import SimpleNamespace

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.formats import date_format

from evdms.accounts.models import User
from evdms.enrolment.models import Membership
from evdms.notifications.services import email_render
from evdms.testing.fixtures import client_for, make_connection, make_membership

MOMENT = datetime(2026, 12, 3, 13, 30, tzinfo=UTC)  # 14:30 in Amsterdam
MARCH = datetime(2026, 3, 5, 8, 5, tzinfo=UTC)  # 09:05 in Amsterdam

EXPECTED = {
    # language: DATE_FORMAT, DATETIME_FORMAT, YEAR_MONTH_FORMAT, a day in March
    "en-gb": ("3 Dec 2026", "3 Dec 2026 14:30", "December 2026", "5 Mar 2026 09:05"),
    "nl": ("3 dec 2026", "3 dec 2026 14:30", "december 2026", "5 mrt 2026 09:05"),
    "de": ("3. Dez. 2026", "3. Dez. 2026, 14:30", "Dezember 2026", "5. März 2026, 09:05"),
    "fr": ("3 déc. 2026", "3 déc. 2026 14:30", "décembre 2026", "5 mars 2026 09:05"),
}


@pytest.mark.parametrize("language", sorted(EXPECTED))
def test_each_language_has_its_own_date_formats(language):
    day, moment, month, march = EXPECTED[language]
    with translation.override(language), timezone.override("Europe/Amsterdam"):
        assert date_format(timezone.localtime(MOMENT), "DATE_FORMAT") == day
        assert date_format(timezone.localtime(MOMENT), "DATETIME_FORMAT") == moment
        assert date_format(MOMENT, "YEAR_MONTH_FORMAT") == month
        assert date_format(timezone.localtime(MARCH), "DATETIME_FORMAT") == march


def _page(client: Client, url: str) -> str:
    response = client.get(url, HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 200
    return html.unescape(response.content.decode())


def _requests_and_drivers(world) -> None:
    connection = make_connection(world.org_a, name="Home")
    for email, status in (("p@example.com", "pending"), ("c@example.com", "connected")):
        driver = User.objects.create_user(email, "a long passphrase 1", full_name="Pat Driver")
        membership = make_membership(connection, driver, status=status)
        Membership.objects.filter(pk=membership.pk).update(
            requested_at=MOMENT, connected_at=MOMENT if status == "connected" else None
        )


@pytest.mark.django_db
def test_a_german_admins_pages_show_german_dates(world):
    _requests_and_drivers(world)
    User.objects.filter(pk=world.nadia.user_id).update(language="de")
    client = client_for(world.nadia)
    requests = _page(client, reverse("enrolment:requests"))
    assert "3. Dez. 2026, 14:30" in requests
    assert "3 Dec 2026" not in requests
    drivers = _page(client, reverse("enrolment:drivers"))
    assert "3. Dez. 2026" in drivers and "3 Dec 2026" not in drivers


@pytest.mark.django_db
def test_an_english_admins_pages_are_unchanged(world):
    _requests_and_drivers(world)
    client = client_for(world.nadia)
    assert "3 Dec 2026 14:30" in _page(client, reverse("enrolment:requests"))
    assert "3 Dec 2026" in _page(client, reverse("enrolment:drivers"))


@pytest.mark.django_db
def test_a_dutch_drivers_page_has_lower_case_dutch_months(world):
    driver = User.objects.create_user(
        "daan@example.com",
        "daan's long passphrase",
        full_name="Daan Rijder",
        language="nl",
        email_confirmed_at=timezone.now(),
    )
    membership = make_membership(make_connection(world.org_a, name="Thuis"), driver)
    Membership.objects.filter(pk=membership.pk).update(requested_at=MARCH, connected_at=MOMENT)
    client = Client()
    client.force_login(driver, backend="evdms.accounts.backends.EmailBackend")
    page = _page(client, reverse("enrolment:my_connections"))
    assert "5 mrt 2026" in page and "3 dec 2026" in page
    for english in ("Mar 2026", "Dec 2026", "Mrt", "Dec"):
        assert english not in page, english


def _digest(language: str):
    driver = SimpleNamespace(get_full_name="Anna Berg", email="anna@example.com")
    membership = SimpleNamespace(
        organisation_id=1,
        driver=driver,
        connection=SimpleNamespace(name="Home"),
        organisation=SimpleNamespace(name="Voltlease"),
        requested_at=MOMENT,
    )
    return email_render(
        to=["nadia@example.com"],
        template="connection_requests_digest",
        context={
            "admin": SimpleNamespace(organisation_id=1, full_name="Nadia", email="n@example.com"),
            "requests": [membership],
            "count": 1,
            "link": "https://evdms.example/requests/",
        },
        language=language,
    )


def test_a_french_email_has_a_french_date():
    email = _digest("fr")
    for part in (email.text_body, email.html_body):
        assert "3 déc. 2026" in part, part
        assert "Dec 2026" not in part


def test_an_english_email_keeps_its_date():
    email = _digest("en-gb")
    for part in (email.text_body, email.html_body):
        assert "3 Dec 2026" in part, part
