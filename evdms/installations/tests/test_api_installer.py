"""The installer API with real keys: an installer company's key lists and works its own
jobs; another installer's job is 404, an organisation's key gets 403 here, and an
installer's key nothing of the organisation API."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from evdms.accounts.models import Role
from evdms.installations.models import ContactAttempt, InstallationJob, JobStatus, Quote
from evdms.installations.tests.test_portal import pdf_bytes
from evdms.testing.fixtures import make_connection
from evdms.testing.installations import make_installer, make_job

pytestmark = pytest.mark.django_db

API = "/api/v1/installer"


@pytest.fixture
def sparkfit(world):
    return make_installer()


@pytest.fixture
def job(world, sparkfit):
    from evdms.accounts.models import User

    connection = make_connection(
        world.org_a, name="Home", installation_payment_model="employee_programme"
    )
    dora = User.objects.create_user("dora@example.com", "dora's passphrase 1", full_name="Dora")
    return make_job(connection, dora, sparkfit.company)


def post(client: Client, url: str, body: dict, headers: dict):
    return client.post(url, body, content_type="application/json", headers=headers)


def set_status(job: InstallationJob, status: str) -> None:
    InstallationJob.objects.filter(pk=job.pk).update(status=status)


def test_the_list_and_one_job_with_its_history(world, sparkfit, job, api_key_for, client):
    key = api_key_for(sparkfit.organisation, Role.INSTALLER_TECHNICIAN)
    rival = make_installer("rivalfit", "Rival Fit")
    make_job(job.connection, world.nadia.user, rival.company)
    listing = client.get(f"{API}/jobs", headers=key)
    assert listing.status_code == 200
    body = listing.json()
    assert body["count"] == 1
    item = body["items"][0]
    assert item["id"] == job.pk and item["status"] == "assigned"
    assert item["driver"] == {"name": "Dora", "email": "dora@example.com", "phone": ""}
    assert item["connection"]["payment_model"] == "employee_programme"
    assert item["connection"]["organisation"] == "Voltlease"
    assert client.get(f"{API}/jobs?status=surveyed", headers=key).json()["count"] == 0
    bad = client.get(f"{API}/jobs?status=nonsense", headers=key)
    assert bad.status_code == 422
    assert bad.json()["detail"][0]["loc"] == ["query", "status"]

    post(
        client,
        f"{API}/jobs/{job.pk}/contacts",
        {
            "at": (timezone.now() - timedelta(hours=1)).isoformat(),
            "channel": "phone",
            "outcome": "reached",
        },
        key,
    )
    detail = client.get(f"{API}/jobs/{job.pk}", headers=key).json()
    assert detail["status"] == "contacted"
    assert [(h["from_status"], h["to_status"]) for h in detail["history"]] == [
        ("assigned", "contacted")
    ]
    assert detail["contacts"][0]["outcome"] == "reached"


def test_another_installers_job_is_404_like_a_missing_one(
    world, sparkfit, job, api_key_for, client
):
    rival = make_installer("rivalfit", "Rival Fit")
    key = api_key_for(rival.organisation, Role.INSTALLER_MANAGER)
    foreign = client.get(f"{API}/jobs/{job.pk}", headers=key)
    missing = client.get(f"{API}/jobs/999999", headers=key)
    assert foreign.status_code == missing.status_code == 404
    assert foreign.json() == missing.json()
    cancel = post(client, f"{API}/jobs/{job.pk}/cancel", {"reason": "x"}, key)
    assert cancel.status_code == 404
    assert client.get(f"{API}/jobs", headers=key).json()["count"] == 0


def test_an_organisation_key_gets_403_and_an_installer_key_nothing_of_the_organisation_api(
    world, sparkfit, job, api_key_for, client
):
    organisation_key = api_key_for(world.org_a, Role.NETWORK_MANAGER)
    assert client.get(f"{API}/jobs", headers=organisation_key).status_code == 403
    assert client.get(f"{API}/jobs/{job.pk}", headers=organisation_key).status_code == 403
    installer_key = api_key_for(sparkfit.organisation, Role.INSTALLER_MANAGER)
    for path in ("/api/v1/connections", "/api/v1/drivers", "/api/v1/chargers", "/api/v1/me"):
        assert client.get(path, headers=installer_key).status_code == 403, path


def test_a_technician_key_cannot_cancel_or_quote(world, sparkfit, job, api_key_for, client):
    key = api_key_for(sparkfit.organisation, Role.INSTALLER_TECHNICIAN)
    assert post(client, f"{API}/jobs/{job.pk}/cancel", {"reason": "x"}, key).status_code == 403
    assert post(client, f"{API}/jobs/{job.pk}/quote", {"lines": []}, key).status_code == 403
    job.refresh_from_db()
    assert job.status == JobStatus.ASSIGNED


def test_survey_quote_with_line_errors_and_a_wrong_step(world, sparkfit, job, api_key_for, client):
    key = api_key_for(sparkfit.organisation, Role.INSTALLER_MANAGER)
    early = post(client, f"{API}/jobs/{job.pk}/survey", {"notes": "Wall"}, key)
    assert early.status_code == 422
    assert early.json()["detail"][0]["loc"] == ["body", "status"]
    set_status(job, JobStatus.CONTACTED)
    assert post(client, f"{API}/jobs/{job.pk}/survey", {"notes": "Wall"}, key).status_code == 200
    line = {
        "kind": "standard_package",
        "description": "Wallbox",
        "quantity": "1",
        "unit_price": "800.00",
        "vat_rate": "21",
    }
    wrong = post(
        client,
        f"{API}/jobs/{job.pk}/quote",
        {"lines": [line, {**line, "kind": "extra", "unit_price": "-1"}]},
        key,
    )
    assert wrong.status_code == 422
    assert wrong.json()["detail"][0]["loc"] == ["body", "lines", 1, "unit_price"]
    assert not Quote.objects.exists()
    done = post(client, f"{API}/jobs/{job.pk}/quote", {"lines": [line], "notes": "ok"}, key)
    assert done.status_code == 201, done.content
    quote = done.json()["quotes"][0]
    assert quote["total_incl_vat"] == "968.00"
    assert quote["driver_share"] == "968.00"  # Employee Programme: the driver pays all


def test_appointment_installed_declaration_and_cancel(world, sparkfit, job, api_key_for, client):
    key = api_key_for(sparkfit.organisation, Role.INSTALLER_MANAGER)
    set_status(job, JobStatus.QUOTE_APPROVED)
    naive = post(
        client, f"{API}/jobs/{job.pk}/appointment", {"appointment_at": "2030-01-01T09:00"}, key
    )
    assert naive.status_code == 422
    when = (timezone.now() + timedelta(days=3)).isoformat()
    scheduled = post(client, f"{API}/jobs/{job.pk}/appointment", {"appointment_at": when}, key)
    assert scheduled.status_code == 200
    assert scheduled.json()["status"] == "scheduled"

    details = {
        "identity": "SPARK-7",
        "serial": "SN-7",
        "vendor": "Alfen",
        "model": "Eve",
        "mid_certificate": "MID-7",
    }
    installed = post(client, f"{API}/jobs/{job.pk}/installed", details, key)
    assert installed.status_code == 200, installed.content
    body = installed.json()
    assert body["status"] == "installed" and body["charger_serial"] == "SN-7"
    assert body["gateway_url"].endswith("/ocpp/SPARK-7") and len(body["charger_password"]) >= 16
    assert "charger_password" not in client.get(f"{API}/jobs/{job.pk}", headers=key).json()

    early = client.post(f"{API}/jobs/{job.pk}/declaration", {"file": _pdf()}, headers=key)
    assert early.status_code == 422
    set_status(job, JobStatus.COMMISSIONED)
    fake = client.post(
        f"{API}/jobs/{job.pk}/declaration", {"file": _pdf(b"%PDF-1.4 junk")}, headers=key
    )
    assert fake.status_code == 422
    assert fake.json()["detail"][0]["loc"] == ["body", "declaration"]
    done = client.post(f"{API}/jobs/{job.pk}/declaration", {"file": _pdf()}, headers=key)
    assert done.status_code == 201, done.content
    assert done.json()["status"] == "completed"
    assert [d["kind"] for d in done.json()["documents"]] == ["declaration"]

    other = make_job(job.connection, world.otto.user, sparkfit.company)
    no_reason = post(client, f"{API}/jobs/{other.pk}/cancel", {"reason": " "}, key)
    assert no_reason.status_code == 422
    cancelled = post(client, f"{API}/jobs/{other.pk}/cancel", {"reason": "Moved"}, key)
    assert cancelled.status_code == 200
    assert cancelled.json()["status"] == "cancelled"
    assert cancelled.json()["cancel_reason"] == "Moved"


def test_a_bad_contact_is_a_field_level_422(world, sparkfit, job, api_key_for, client):
    key = api_key_for(sparkfit.organisation, Role.INSTALLER_TECHNICIAN)
    bad = post(
        client,
        f"{API}/jobs/{job.pk}/contacts",
        {"at": timezone.now().isoformat(), "channel": "pigeon", "outcome": "reached"},
        key,
    )
    assert bad.status_code == 422
    assert ["body", "channel"] in [e["loc"] for e in bad.json()["detail"]]
    assert not ContactAttempt.objects.exists()


def _pdf(content: bytes | None = None):
    from django.core.files.uploadedfile import SimpleUploadedFile

    return SimpleUploadedFile("declaration.pdf", content or pdf_bytes(), "application/pdf")
