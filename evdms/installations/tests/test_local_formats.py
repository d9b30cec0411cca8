"""Issue #19, local formats and translations on the installation pages: a list sorted by
status follows the workflow in every language; a status keeps the case its language
writes it in; an export says how long ago it was asked for as the language says it."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone, translation

from evdms.accounts.models import User
from evdms.installations.models import JobStatus
from evdms.installations.services.jobs import job_contact_record
from evdms.installations.services.transitions import Party, WrongStep, job_transition
from evdms.installations.tests.report_fixtures import (  # noqa: F401
    Jobs,
    driver,
    jobs_fixture,
)
from evdms.reports.models import ReportExport
from evdms.testing.fixtures import client_for, make_connection
from evdms.testing.installations import make_installer, make_job

pytestmark = pytest.mark.django_db


def in_language(admin, language: str):
    User.objects.filter(pk=admin.user_id).update(language=language)
    return client_for(admin)


def report_drivers(html: str) -> list[str]:
    return re.findall(r'<td>([^<]+)<br><span class="muted">[^<]+@example\.com</span>', html)


def test_the_report_sorted_by_status_follows_the_workflow_in_german(jobs: Jobs):
    """Fay's job is assigned, Dan's quoted, Eve's completed: that order, first step
    first, not the codes' (assigned, completed, quoted) nor the German labels'
    (Abgeschlossen, Angebot erstellt, Zugewiesen)."""
    client = in_language(jobs.world.nadia, "de")
    html = client.get(reverse("installations:report"), {"sort": "status"}).content.decode()
    assert "Zugewiesen" in html and "Angebot erstellt" in html and "Abgeschlossen" in html
    assert report_drivers(html) == ["=Fay Formula", "Dan Driver", "Eve Electric"]
    backwards = client.get(reverse("installations:report"), {"sort": "-status"}).content.decode()
    assert report_drivers(backwards) == ["Eve Electric", "Dan Driver", "=Fay Formula"]


def test_the_installers_job_list_sorted_by_status_follows_the_workflow(world):
    sparkfit = make_installer()
    connection = make_connection(world.org_a, name="Home")
    make_job(
        connection, driver("cora@example.com", "Cora Completed"), sparkfit.company, "completed"
    )
    make_job(
        connection, driver("carl@example.com", "Carl Contacted"), sparkfit.company, "contacted"
    )
    client = in_language(sparkfit.technician, "de")
    html = client.get(reverse("installations:portal-jobs"), {"sort": "status"}).content.decode()
    assert "Kontaktiert" in html and "Abgeschlossen" in html
    assert html.index("Carl Contacted") < html.index("Cora Completed")  # contacted comes first


def test_a_refused_step_names_the_status_as_german_writes_it(world):
    sparkfit = make_installer()
    connection = make_connection(world.org_a, name="Home")
    job = make_job(connection, driver("dan@example.com", "Dan"), sparkfit.company, "quote_approved")
    with translation.override("de"), pytest.raises(WrongStep) as refused:
        job_transition(job_id=job.pk, to=JobStatus.INSTALLED, party=Party.INSTALLER)
    with translation.override("de"):
        message = refused.value.message_dict["status"][0]
    assert message == (
        "Dieser Auftrag hat den Status „Angebot genehmigt“; "
        "er kann jetzt nicht auf „Installiert“ gesetzt werden."
    )


def test_a_refused_contact_names_the_status_as_german_writes_it(world):
    sparkfit = make_installer()
    connection = make_connection(world.org_a, name="Home")
    job = make_job(connection, driver("dan@example.com", "Dan"), sparkfit.company, "completed")
    actor = world.actor(sparkfit.technician)
    with translation.override("de"), pytest.raises(WrongStep) as refused:
        job_contact_record(
            actor=actor, job=job, at=timezone.now(), channel="phone", outcome="reached", note=""
        )
    assert "„Abgeschlossen“" in refused.value.messages[0]


@pytest.mark.parametrize(
    ("language", "expected"),
    [
        ("de", "3 Zeilen, 2,0 KB, angefordert von Nadia Manager vor 2 Tagen; aufbewahrt bis"),
        ("nl", "3 rijen, 2,0 KB, aangevraagd door Nadia Manager, 2 dagen geleden; bewaard tot"),
        ("fr", "3 lignes, 2,0 Kio, demandé par Nadia Manager il y a 2 jours ; conservé jusqu"),
        ("en-gb", "3 rows, 2.0 KB, asked by Nadia Manager 2 days ago; kept until"),
    ],
)
def test_an_export_says_how_long_ago_it_was_asked_for_in_the_language(
    jobs: Jobs, language, expected
):
    export = ReportExport.objects.create(
        organisation=jobs.world.org_a,
        role="network_manager",
        report="installations",
        format="csv",
        status="done",
        rows_total=3,
        size=2048,
        requested_by_label="Nadia Manager",
        created_at=timezone.now() - timedelta(days=2, hours=3),
        expires_at=timezone.now() + timedelta(days=5),
    )
    client = in_language(jobs.world.nadia, language)
    response = client.get(reverse("installations:export_status", args=[export.pk]))
    assert response.status_code == 200
    text = " ".join(response.content.decode().split()).replace("\xa0", " ")
    assert expected in text, text
