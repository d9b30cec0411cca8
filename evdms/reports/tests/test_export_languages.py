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
    export = ReportExport.objects.create(
        organisation=world.org_a,
        role=Role.ANALYST,
        format="csv",
        status="done",
        rows_total=1,
        size=10,
        requested_by_label="Ana Analyst",
        created_at=timezone.now() - timedelta(days=2, hours=3),
        expires_at=timezone.now() + timedelta(days=5),
    )
    User.objects.filter(pk=world.ana.user_id).update(language=language)
    response = client_for(world.ana).get(reverse("reports:export_status", args=[export.pk]))
    assert response.status_code == 200
    text = " ".join(response.content.decode().split()).replace("\xa0", " ")
    assert expected in text, text
