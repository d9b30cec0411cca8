"""The organisation's job page and its documents; the dashboards; where ``/`` sends an
installer."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from evdms.installations.models import ContactAttempt, InstallationJob, JobDocument
from evdms.installations.portal_dashboard import working_days_before
from evdms.installations.tests.report_fixtures import (  # noqa: F401
    Jobs,
    a_quote,
    ago,
    driver,
    jobs_fixture,
)
from evdms.testing.fixtures import client_for
from evdms.testing.installations import make_job

pytestmark = pytest.mark.django_db


def job_url(job: InstallationJob) -> str:
    return reverse("installations:job", args=[job.pk])


def test_the_job_page_shows_the_row_history_contacts_documents_and_quotes(jobs: Jobs):
    ContactAttempt.objects.create(
        job=jobs.dan, at=ago(24), channel="phone", outcome="reached", note="Wall is brick"
    )
    JobDocument.objects.create(
        job=jobs.dan,
        kind="survey_photo",
        filename="fuse-box.jpg",
        content_type="image/jpeg",
        content=b"\xff\xd8\xff photo",
        size=10,
        sha256="1" * 64,
    )
    html = client_for(jobs.world.ana).get(job_url(jobs.dan)).content.decode()
    for text in (
        "Installation for Dan Driver",
        "Acme_Home",
        "CRM-1",
        "Sparkfit Installations",
        "Quoted for 20 days",
        "manager@sparkfit.example",
        "Quote 2 after the fuse box check",
        "Phone",
        "Reached the driver",
        "Wall is brick",
        "fuse-box.jpg",
        'Quote 2 <span class="badge badge-awaiting_approval">Awaiting approval</span>',
        'Quote 1 <span class="badge badge-withdrawn">Withdrawn</span>',
        "Standard package",
        "1,210.00",  # amounts grouped, as everywhere (issue #18)
        "Netherlands",  # the country by its name, not "NL"
    ):
        assert text in html, text
    assert "1210.00" not in html
    # Analysts cannot decide: no link to a decision.
    assert "awaits your organisation’s decision" not in html  # Dan's part only is pending


def test_a_quote_awaiting_the_organisation_says_so(jobs: Jobs):
    job = make_job(jobs.acme, driver("gus@example.com", "Gus"), jobs.sparkfit.company, "quoted")
    a_quote(job, organisation_approval="pending", payment_model="customised")
    html = client_for(jobs.world.otto).get(job_url(job)).content.decode()
    assert "Quote 1 awaits your organisation’s decision." in html


def test_the_declaration_is_served_scoped_and_not_sniffed(jobs: Jobs):
    declaration = jobs.eve.documents.get()
    url = reverse("installations:job_document", args=[jobs.eve.pk, declaration.pk])
    response = client_for(jobs.world.otto).get(url)
    assert response.status_code == 200
    assert response.content == b"%PDF-1.4 the declaration"
    assert response["Content-Type"] == "application/pdf"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Content-Disposition"] == 'inline; filename="declaration.pdf"'
    # Another organisation, and another job's path, answer as a missing document does.
    assert client_for(jobs.world.bob).get(url).status_code == 404
    other = reverse("installations:job_document", args=[jobs.dan.pk, declaration.pk])
    assert client_for(jobs.world.otto).get(other).status_code == 404


def test_another_organisations_job_page_is_404(jobs: Jobs):
    nadia = client_for(jobs.world.nadia)
    assert nadia.get(job_url(jobs.rival)).status_code == 404
    assert nadia.get(reverse("installations:job", args=[999999])).status_code == 404
    assert client_for(jobs.world.bob).get(job_url(jobs.rival)).status_code == 200


def test_installers_and_drivers_cannot_open_the_organisations_job_page(jobs: Jobs):
    assert client_for(jobs.sparkfit.manager).get(job_url(jobs.dan)).status_code == 403


# --- dashboards ---------------------------------------------------------------------


def test_the_organisation_dashboard_shows_installations_by_status_and_overdue(jobs: Jobs):
    html = client_for(jobs.world.otto).get(reverse("web:dashboard")).content.decode()
    assert "Home charger installations" in html
    assert '<a href="/installations/?overdue=1">1 overdue</a>' in html
    assert '<a href="/installations/?status=quoted">Quoted</a></td><td class="num">1<' in html
    assert '<a href="/installations/?status=assigned">Assigned</a></td><td class="num">1<' in html
    assert '<td>Installed</td><td class="num">0<' in html
    # Rival Lease's overdue job is not counted here.
    bob = client_for(jobs.world.bob).get(reverse("web:dashboard")).content.decode()
    assert '<a href="/installations/?overdue=1">1 overdue</a>' in bob
    assert "Completed</a>" not in bob


def test_the_installer_portal_home_shows_open_jobs_and_sla(jobs: Jobs):
    # Fay's job was assigned three working days ago and nobody has called yet.
    InstallationJob.objects.filter(pk=jobs.fay.pk).update(
        assigned_at=working_days_before(timezone.now(), 3)
    )
    response = client_for(jobs.sparkfit.technician).get("/installer/")
    assert response.status_code == 200
    html = response.content.decode()
    # Sparkfit's open jobs: Dan's (quoted), Fay's (assigned), Rob's (quoted, Rival Lease's).
    assert '<a href="/installer/jobs/?status=quoted">Quoted</a></td><td class="num">2<' in html
    assert '<a href="/installer/jobs/?status=assigned">Assigned</a></td><td class="num">1<' in html
    assert '<a href="/installer/jobs/?status=assigned">1 job not contacted in time</a>' in html
    assert '<a href="/installer/jobs/?status=quoted">Quoted: 2</a>' in html  # over 14 days
    # Voltwerk sees only its own (Eve's, completed: nothing open).
    other = client_for(jobs.voltwerk.manager).get("/installer/").content.decode()
    assert "every job in time" in other and "status=quoted" not in other


def test_a_job_assigned_a_working_day_ago_is_not_late():
    friday_noon = datetime(2026, 11, 27, 12, tzinfo=UTC)
    assert working_days_before(friday_noon, 2) == friday_noon - timedelta(days=2)
    monday_noon = datetime(2026, 11, 30, 12, tzinfo=UTC)
    assert working_days_before(monday_noon, 2) == monday_noon - timedelta(days=4)


def test_organisation_roles_and_drivers_cannot_open_the_portal(jobs: Jobs):
    assert client_for(jobs.world.nadia).get("/installer/").status_code == 403


def test_home_sends_installers_to_their_portal_and_organisation_admins_to_the_dashboard(
    jobs: Jobs,
):
    for admin in (jobs.sparkfit.manager, jobs.sparkfit.technician):
        response = client_for(admin).get("/")
        assert response.status_code == 302 and response["Location"] == "/installer/"
        assert client_for(admin).get("/", follow=True).status_code == 200
    assert client_for(jobs.world.ana).get("/")["Location"] == reverse("web:dashboard")
