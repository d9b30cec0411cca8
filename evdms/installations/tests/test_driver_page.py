"""The driver's own installation page: where the job stands, the appointment and one
request to move it, photos, the quote's part, the charger, the warranty and the
declaration; nothing of another driver's."""

from __future__ import annotations

import datetime
from datetime import timedelta
from decimal import Decimal

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from evdms.accounts.models import User
from evdms.installations.models import InstallationJob, JobDocument, JobStatus, Quote
from evdms.installations.tests.test_portal import pdf_bytes, png_bytes, upload
from evdms.testing.fixtures import make_connection
from evdms.testing.installations import make_installer, make_job

pytestmark = pytest.mark.django_db

MY = reverse("installations:my-installation")


def logged_in(user: User) -> Client:
    client = Client()
    client.force_login(user, backend="evdms.accounts.backends.EmailBackend")
    return client


@pytest.fixture
def dora(world):
    return User.objects.create_user("dora@example.com", "dora's passphrase 1", full_name="Dora")


@pytest.fixture
def job(world, dora):
    sparkfit = make_installer()
    connection = make_connection(world.org_a, name="Home", installation_payment_model="direct")
    return make_job(connection, dora, sparkfit.company)


def update(job: InstallationJob, **fields) -> None:
    InstallationJob.objects.filter(pk=job.pk).update(**fields)
    job.refresh_from_db()


def test_the_page_says_what_happens_next_and_who_installs(world, dora, job):
    page = logged_in(dora).get(MY).content.decode()
    assert "Sparkfit Installations will contact you to arrange a survey" in page
    assert "Damrak 1" in page
    assert "Add a photo of the wall or your fuse box" in page


def test_a_driver_without_a_job_and_the_link_from_my_connections(world, dora, job):
    eve = User.objects.create_user("eve@example.com", "eve's passphrase 12")
    assert "You have no home charger installation" in logged_in(eve).get(MY).content.decode()
    mine = logged_in(dora).get(reverse("enrolment:my_connections")).content.decode()
    assert MY in mine and "My home charger installation" in mine


def test_the_driver_adds_a_photo_and_sees_it_another_driver_gets_404(world, dora, job):
    client = logged_in(dora)
    wrong = client.post(
        reverse("installations:my-installation-photo", args=[job.pk]),
        {"photo": upload("x.png", b"GIF89a....", "image/png")},
    )
    assert wrong.status_code == 422
    assert "JPEG or PNG" in wrong.content.decode()
    done = client.post(
        reverse("installations:my-installation-photo", args=[job.pk]),
        {"photo": upload("fusebox.png", png_bytes(), "image/png")},
    )
    assert done.status_code == 302
    photo = JobDocument.objects.get()
    assert (photo.kind, photo.uploaded_by) == ("driver_photo", dora)
    url = reverse("installations:my-installation-document", args=[job.pk, photo.pk])
    assert url in client.get(MY).content.decode()
    assert client.get(url)["X-Content-Type-Options"] == "nosniff"
    eve = logged_in(User.objects.create_user("eve@example.com", "eve's passphrase 12"))
    assert eve.get(url).status_code == 404
    assert (
        eve.post(
            reverse("installations:my-installation-photo", args=[job.pk]),
            {"photo": upload("fusebox.png", png_bytes(), "image/png")},
        ).status_code
        == 404
    )


def test_the_driver_asks_once_to_move_the_appointment(world, dora, job, mailoutbox):
    update(
        job,
        status=JobStatus.SCHEDULED,
        appointment_at=timezone.now() + timedelta(days=5),
        scheduled_at=timezone.now(),
    )
    client = logged_in(dora)
    page = client.get(MY).content.decode()
    assert "The installation is planned for" in page and "Ask to move the appointment" in page
    url = reverse("installations:my-installation-move", args=[job.pk])
    assert client.post(url, {"note": ""}).status_code == 422
    assert client.post(url, {"note": "Any Friday morning"}).status_code == 302
    job.refresh_from_db()
    assert job.appointment_move_note == "Any Friday morning"
    page = client.get(MY).content.decode()
    assert "You asked to move it" in page and "Ask to move the appointment" not in page
    again = client.post(url, {"note": "Or Saturday"})
    assert again.status_code == 422
    job.refresh_from_db()
    assert job.appointment_move_note == "Any Friday morning"


def test_the_quote_part_links_to_the_drivers_decision(world, dora, job):
    update(job, status=JobStatus.QUOTED)
    Quote.objects.create(
        job=job,
        number=1,
        payment_model="direct",
        currency="EUR",
        total_excl_vat=Decimal("100.00"),
        total_vat=Decimal("21.00"),
        total_incl_vat=Decimal("121.00"),
        organisation_share=Decimal("0.00"),
        driver_share=Decimal("121.00"),
        organisation_approval="not_needed",
        driver_approval="pending",
    )
    page = logged_in(dora).get(MY).content.decode()
    assert "please look at your part" in page
    assert "€121.00" in page
    assert reverse("installations:driver_quote", args=[job.pk]) in page


def test_installed_charger_warranty_and_declaration(world, dora, job):
    update(
        job,
        status=JobStatus.COMPLETED,
        charger_serial="SN-9",
        charger_vendor="Alfen",
        charger_model="Eve",
        warranty_until=datetime.date(2028, 12, 1),
    )
    declaration = JobDocument.objects.create(
        job=job,
        kind="declaration",
        filename="declaration.pdf",
        content_type="application/pdf",
        content=pdf_bytes(),
        size=len(pdf_bytes()),
        sha256="0" * 64,
    )
    survey = JobDocument.objects.create(
        job=job,
        kind="survey_photo",
        filename="installer.jpg",
        content_type="image/jpeg",
        content=b"x",
        size=1,
        sha256="0" * 64,
    )
    client = logged_in(dora)
    page = client.get(MY).content.decode()
    assert "Your installation is complete" in page
    assert "serial SN-9" in page and "1 December 2028" in page
    url = reverse("installations:my-installation-document", args=[job.pk, declaration.pk])
    assert url in page
    served = client.get(url)
    assert served["Content-Type"] == "application/pdf"
    assert served["Content-Disposition"].startswith("attachment")
    # The installer's own survey photos are not the driver's to open.
    hidden = reverse("installations:my-installation-document", args=[job.pk, survey.pk])
    assert client.get(hidden).status_code == 404
