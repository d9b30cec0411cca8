"""Issue #19: a finished export of the transaction report says how long ago it was
asked for as each language says it ("vor 2 Tagen", not "vor 2 Tage")."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from evdms.accounts.models import Role, User
from evdms.reports.models import ReportExport
from evdms.testing.fixtures import client_for

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("language", "expected"),
    [
        ("de", "1 Zeile, 10 Bytes, angefordert von Ana Analyst vor 2 Tagen; aufbewahrt bis"),
        ("nl", "1 rij, 10 bytes, aangevraagd door Ana Analyst, 2 dagen geleden; bewaard tot"),
        ("fr", "1 ligne, 10 octets, demandé par Ana Analyst il y a 2 jours ; conservé jusqu"),
        ("en-gb", "1 row, 10 bytes, asked by Ana Analyst 2 days ago; kept until"),
    ],
)
def test_an_export_says_how_long_ago_it_was_asked_for_in_the_language(world, language, expected):
    created = timezone.now() - timedelta(days=2, hours=3)
    text = _export_text(world, language, status="done", rows_total=1, size=10, created_at=created)
    assert expected in text, text


def _export_text(world, language: str, **fields) -> str:
    """What Ana, reading ``language``, sees of an export of the transaction report."""
    export = ReportExport.objects.create(
        organisation=world.org_a,
        role=Role.ANALYST,
        format="csv",
        requested_by_label="Ana Analyst",
        expires_at=timezone.now() + timedelta(days=5),
        **fields,
    )
    User.objects.filter(pk=world.ana.user_id).update(language=language)
    response = client_for(world.ana).get(reverse("reports:export_status", args=[export.pk]))
    assert response.status_code == 200
    return " ".join(response.content.decode().split()).replace("\xa0", " ").replace("\u202f", " ")


@pytest.mark.parametrize(
    ("language", "status", "expected"),
    [
        ("de", "queued", "CSV-Export wartet… 1.200 von 25.000 Zeilen"),
        ("de", "running", "CSV-Export wird erstellt… 1.200 von 25.000 Zeilen"),
        ("nl", "running", "Export CSV wordt gemaakt… 1.200 van 25.000 rijen"),
        ("fr", "queued", "Export CSV : en attente… 1 200 sur 25 000 lignes"),
        ("en-gb", "running", "CSV export: being made… 1,200 of 25,000 rows"),
    ],
)
def test_an_export_being_made_says_so_in_a_sentence_of_its_language(
    world, language, status, expected
):
    text = _export_text(world, language, status=status, rows_done=1200, rows_total=25_000)
    assert expected in text, text
