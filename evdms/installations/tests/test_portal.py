"""The installer portal as its admins use it: the company's jobs, one job with a form per
step it can take now, the documents; and what nobody else sees of it."""

from __future__ import annotations

import io
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone
from PIL import Image

from evdms.accounts.models import User
from evdms.installations.models import (
    ContactAttempt,
    InstallationJob,
    JobDocument,
    JobStatus,
    Quote,
)
from evdms.testing.fixtures import client_for, make_connection
from evdms.testing.installations import Installer, make_installer, make_job

pytestmark = pytest.mark.django_db


def png_bytes(size: tuple[int, int] = (40, 30)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, (200, 30, 30)).save(buffer, "PNG")
    return buffer.getvalue()


def pdf_bytes() -> bytes:
    from pypdf import PdfWriter

    writer = PdfWriter()
    writer.add_blank_page(width=595, height=842)
    buffer = io.BytesIO()
    writer.write(buffer)
    return buffer.getvalue()


def upload(name: str, content: bytes, content_type: str):
    from django.core.files.uploadedfile import SimpleUploadedFile

    return SimpleUploadedFile(name, content, content_type=content_type)


@pytest.fixture
def sparkfit(world) -> Installer:
    return make_installer()


@pytest.fixture
def connection(world):
    return make_connection(
        world.org_a,
        name="Home chargers",
        installation_payment_model="employee_programme",
    )


def driver(email: str, name: str) -> User:
    return User.objects.create_user(email, "a driver's passphrase 1", full_name=name)


@pytest.fixture
def job(sparkfit, connection) -> InstallationJob:
    return make_job(connection, driver("dora@example.com", "Dora Driver"), sparkfit.company)


def job_url(job: InstallationJob, step: str = "") -> str:
    if step:
        return reverse(f"installations:portal-job-{step}", args=[job.pk])
    return reverse("installations:portal-job", args=[job.pk])


def set_status(job: InstallationJob, status: str) -> None:
    InstallationJob.objects.filter(pk=job.pk).update(status=status)
    job.refresh_from_db()


# --- the list -------------------------------------------------------------------------


def test_the_jobs_list_shows_the_companys_jobs_only_and_filters_and_searches(
    world, sparkfit, connection, job
):
    other = make_installer("rivalfit", "Rival Fit")
    make_job(connection, driver("eve@example.com", "Eve Elsewhere"), other.company)
    second = make_job(
        connection, driver("sam@example.com", "Sam Second"), sparkfit.company, postcode="3511 AA"
    )
    set_status(second, JobStatus.SURVEYED)

    tess = client_for(sparkfit.technician)
    page = tess.get(reverse("installations:portal-jobs")).content.decode()
    assert "Dora Driver" in page and "Sam Second" in page
    assert "Eve Elsewhere" not in page
    assert "Amsterdam" in page and "1012 AB" in page and "Voltlease" in page
    assert "Assigned" in page and "Surveyed" in page

    surveyed = tess.get(reverse("installations:portal-jobs"), {"status": "surveyed"})
    assert "Sam Second" in surveyed.content.decode()
    assert "Dora Driver" not in surveyed.content.decode()
    by_postcode = tess.get(reverse("installations:portal-jobs"), {"q": "3511AA"}).content.decode()
    assert "Sam Second" in by_postcode and "Dora Driver" not in by_postcode
    by_name = tess.get(reverse("installations:portal-jobs"), {"q": "dora"}).content.decode()
    assert "Dora Driver" in by_name and "Sam Second" not in by_name
    unknown = tess.get(reverse("installations:portal-jobs"), {"status": "nonsense", "sort": "x"})
    assert unknown.status_code == 200
    assert "Unknown status" in unknown.content.decode()
    by_status = tess.get(reverse("installations:portal-jobs"), {"sort": "status"}).content.decode()
    assert by_status.index("Dora Driver") < by_status.index("Sam Second")  # assigned < surveyed


def test_the_navigation_of_installer_roles(world, sparkfit):
    manager = client_for(sparkfit.manager).get(reverse("installations:portal-jobs"))
    nav = [item["label"] for item in manager.context["nav_items"]]
    assert "Jobs" in nav and "Admins" in nav and "Settings" in nav
    assert "Connections" not in nav and "Chargers" not in nav
    technician = client_for(sparkfit.technician).get(reverse("installations:portal-jobs"))
    nav = [item["label"] for item in technician.context["nav_items"]]
    assert "Jobs" in nav and "Admins" not in nav and "Settings" not in nav


# --- who sees a job -------------------------------------------------------------------


def test_another_installers_job_is_404_and_an_organisation_admin_cannot_open_the_portal(world, job):
    rival = make_installer("rivalfit", "Rival Fit")
    assert client_for(rival.manager).get(job_url(job)).status_code == 404
    assert (
        client_for(rival.manager).post(job_url(job, "cancel"), {"reason": "x"}).status_code == 404
    )
    assert client_for(world.nadia).get(reverse("installations:portal-jobs")).status_code == 403
    assert client_for(world.nadia).get(job_url(job)).status_code == 403
    job.refresh_from_db()
    assert job.status == JobStatus.ASSIGNED


def test_the_job_page_shows_the_driver_the_connection_and_the_steps_possible(world, sparkfit, job):
    InstallationJob.objects.filter(pk=job.pk).update(phone="+31 6 1234 5678")
    page = client_for(sparkfit.manager).get(job_url(job)).content.decode()
    assert "Dora Driver" in page and "dora@example.com" in page and "+31 6 1234 5678" in page
    assert "Damrak 1" in page and "1012 AB" in page
    assert "Employee Programme" in page
    assert "Record a contact attempt" in page
    assert "Cancel the job" in page
    assert "Submit the quote" not in page  # not surveyed yet


# --- the steps ------------------------------------------------------------------------


def test_a_contact_attempt_is_recorded_and_a_wrong_one_keeps_what_was_typed(world, sparkfit, job):
    tess = client_for(sparkfit.technician)
    wrong = tess.post(
        job_url(job, "contact"),
        {"at": "", "channel": "phone", "outcome": "reached", "note": "Called at lunch"},
    )
    assert wrong.status_code == 422
    assert "Called at lunch" in wrong.content.decode()
    assert "This field is required" in wrong.content.decode()
    assert not ContactAttempt.objects.exists()

    at = (timezone.localtime() - timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M")
    done = tess.post(
        job_url(job, "contact"), {"at": at, "channel": "phone", "outcome": "reached", "note": ""}
    )
    assert done.status_code == 302
    attempt = ContactAttempt.objects.get()
    assert (attempt.channel, attempt.outcome, attempt.job) == ("phone", "reached", job)
    job.refresh_from_db()
    assert job.status == JobStatus.CONTACTED
    page = tess.get(job_url(job)).content.decode()
    assert "Reached the driver" in page
    assert "Assigned → Contacted" in page


def test_the_survey_and_a_photo_which_is_served_as_stored(world, sparkfit, job):
    set_status(job, JobStatus.CONTACTED)
    tess = client_for(sparkfit.technician)
    assert tess.post(job_url(job, "survey"), {"notes": ""}).status_code == 422
    assert tess.post(job_url(job, "survey"), {"notes": "Wall by the door"}).status_code == 302
    job.refresh_from_db()
    assert (job.status, job.survey_notes) == (JobStatus.SURVEYED, "Wall by the door")

    fake = tess.post(
        job_url(job, "photo"), {"photo": upload("wall.jpg", b"not an image", "image/jpeg")}
    )
    assert fake.status_code == 422
    assert "JPEG or PNG" in fake.content.decode()
    assert not JobDocument.objects.exists()

    assert (
        tess.post(
            job_url(job, "photo"), {"photo": upload("wall.png", png_bytes(), "image/png")}
        ).status_code
        == 302
    )
    photo = JobDocument.objects.get()
    page = tess.get(job_url(job)).content.decode()
    url = reverse("installations:portal-job-document", args=[job.pk, photo.pk])
    assert f'src="{url}"' in page
    served = tess.get(url)
    assert served.status_code == 200
    assert served["Content-Type"] == photo.content_type == "image/jpeg"
    assert served["X-Content-Type-Options"] == "nosniff"
    assert served["Content-Disposition"].startswith("inline")
    rival = make_installer("rivalfit", "Rival Fit")
    assert client_for(rival.manager).get(url).status_code == 404


def quote_post(rows: list[dict[str, str]], action: str = "submit", notes: str = "") -> dict:
    data = {"action": action, "notes": notes}
    for index, row in enumerate(rows):
        for name, value in row.items():
            data[f"lines-{index}-{name}"] = value
    return data


STANDARD = {
    "kind": "standard_package",
    "description": "Wallbox and 10 m cable",
    "quantity": "1",
    "unit_price": "900.00",
    "vat_rate": "21",
}


def test_the_quote_form_adds_and_removes_lines_and_shows_errors_next_to_the_line(
    world, sparkfit, job
):
    set_status(job, JobStatus.SURVEYED)
    ivan = client_for(sparkfit.manager)
    added = ivan.post(job_url(job, "quote"), quote_post([STANDARD], action="add", notes="n1"))
    assert added.status_code == 200
    html = added.content.decode()
    assert 'name="lines-1-kind"' in html and "Wallbox and 10 m cable" in html and "n1" in html

    extra = {
        "kind": "extra",
        "description": "Groundwork",
        "quantity": "2",
        "unit_price": "-5",
        "vat_rate": "21",
    }
    wrong = ivan.post(job_url(job, "quote"), quote_post([STANDARD, extra]))
    assert wrong.status_code == 422
    html = wrong.content.decode()
    assert "Groundwork" in html and "Wallbox and 10 m cable" in html
    # The message sits in the second line's unit price field.
    field = html[html.index('id="lines-1-unit_price"') :]
    assert field.index("cannot be negative") < field.index('id="lines-1-vat_rate"')
    assert not Quote.objects.exists()

    not_a_number = ivan.post(job_url(job, "quote"), quote_post([{**STANDARD, "quantity": "one"}]))
    assert not_a_number.status_code == 422
    assert 'value="one"' in not_a_number.content.decode()

    removed = ivan.post(job_url(job, "quote"), quote_post([STANDARD, extra], action="remove-1"))
    assert "Groundwork" not in removed.content.decode()

    done = ivan.post(job_url(job, "quote"), quote_post([STANDARD, {**extra, "unit_price": "50"}]))
    assert done.status_code == 302
    quote = Quote.objects.get()
    assert quote.lines.count() == 2
    assert str(quote.total_incl_vat) == "1210.00"  # (900 + 100) × 1.21
    job.refresh_from_db()
    assert job.status == JobStatus.QUOTED
    page = ivan.get(job_url(job)).content.decode()
    assert "Quote 1" in page and "1,210.00" in page


def test_a_technician_cannot_quote_or_cancel(world, sparkfit, job):
    set_status(job, JobStatus.SURVEYED)
    tess = client_for(sparkfit.technician)
    page = tess.get(job_url(job)).content.decode()
    assert "Cancel the job" not in page and "Submit the quote" not in page
    assert tess.post(job_url(job, "cancel"), {"reason": "Driver moved"}).status_code == 403
    assert tess.post(job_url(job, "quote"), quote_post([STANDARD])).status_code == 403
    job.refresh_from_db()
    assert job.status == JobStatus.SURVEYED


def test_a_manager_cancels_with_a_reason(world, sparkfit, job):
    ivan = client_for(sparkfit.manager)
    assert ivan.post(job_url(job, "cancel"), {"reason": ""}).status_code == 422
    assert ivan.post(job_url(job, "cancel"), {"reason": "Driver moved abroad"}).status_code == 302
    job.refresh_from_db()
    assert (job.status, job.cancel_reason) == (JobStatus.CANCELLED, "Driver moved abroad")
    assert "Driver moved abroad" in ivan.get(job_url(job)).content.decode()


def test_appointment_then_installed_shows_the_charger_password_once(world, sparkfit, job):
    set_status(job, JobStatus.QUOTE_APPROVED)
    tess = client_for(sparkfit.technician)
    past = (timezone.localtime() - timedelta(days=1)).strftime("%Y-%m-%dT%H:%M")
    assert tess.post(job_url(job, "appointment"), {"appointment_at": past}).status_code == 422
    when = (timezone.localtime() + timedelta(days=7)).strftime("%Y-%m-%dT%H:%M")
    assert tess.post(job_url(job, "appointment"), {"appointment_at": when}).status_code == 302
    job.refresh_from_db()
    assert job.status == JobStatus.SCHEDULED and job.appointment_at is not None

    details = {
        "identity": "SPARK-0001",
        "serial": "SN-123",
        "vendor": "Alfen",
        "model": "Eve Single",
        "mid_certificate": "MID-42",
    }
    missing = tess.post(job_url(job, "installed"), {**details, "serial": ""})
    assert missing.status_code == 422
    assert "SPARK-0001" in missing.content.decode()
    installed = tess.post(job_url(job, "installed"), details)
    assert installed.status_code == 200
    html = installed.content.decode()
    assert "ws://" in html and "/ocpp/SPARK-0001" in html
    assert "Charger password" in html
    assert installed["Cache-Control"] == "no-store"
    job.refresh_from_db()
    assert job.status == JobStatus.INSTALLED and job.charger is not None
    assert "Charger password" not in tess.get(job_url(job)).content.decode()


def test_the_declaration_completes_a_commissioned_job(world, sparkfit, job):
    set_status(job, JobStatus.COMMISSIONED)
    ivan = client_for(sparkfit.manager)
    fake = ivan.post(
        job_url(job, "declaration"),
        {"declaration": upload("d.pdf", b"%PDF-1.4 nothing", "application/pdf")},
    )
    assert fake.status_code == 422
    assert not JobDocument.objects.exists()
    done = ivan.post(
        job_url(job, "declaration"),
        {"declaration": upload("declaration.pdf", pdf_bytes(), "application/pdf")},
    )
    assert done.status_code == 302
    job.refresh_from_db()
    assert job.status == JobStatus.COMPLETED
    document = JobDocument.objects.get(kind="declaration")
    served = ivan.get(reverse("installations:portal-job-document", args=[job.pk, document.pk]))
    assert served["Content-Type"] == "application/pdf"
    assert served["Content-Disposition"].startswith("attachment")
    assert served["X-Content-Type-Options"] == "nosniff"
    assert served.content == bytes(document.content)


def test_the_jobs_list_answers_in_as_many_queries_with_five_jobs_as_with_one(
    world, sparkfit, connection, job
):
    from django.db import connection as db
    from django.test.utils import CaptureQueriesContext

    tess = client_for(sparkfit.technician)
    url = reverse("installations:portal-jobs")
    tess.get(url)
    with CaptureQueriesContext(db) as one:
        tess.get(url)
    for n in range(4):
        make_job(connection, driver(f"d{n}@example.com", f"Driver {n}"), sparkfit.company)
    with CaptureQueriesContext(db) as five:
        page = tess.get(url).content.decode()
    assert "Driver 3" in page
    assert len(five) == len(one)
