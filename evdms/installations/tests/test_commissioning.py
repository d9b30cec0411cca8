"""A job becomes commissioned by itself when its charger first connects to the real OCPP
gateway (BootNotification accepted), for OCPP 1.6J and 2.0.1; other chargers' boots
cost one query and commission nothing."""

from __future__ import annotations

import datetime

import pytest
from django.db import connection as db_connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from evdms.accounts.models import User
from evdms.charging.models import Charger
from evdms.charging.services import charger_booted, charger_register
from evdms.charging.simulator import run_charger
from evdms.charging.tests.conftest import gateway  # noqa: F401 (the fixture)
from evdms.installations.models import InstallationJob, JobStatus, JobTransition
from evdms.installations.services.jobs import job_installed, job_schedule
from evdms.installations.services.transitions import Party, job_transition
from evdms.testing.aio import run_async
from evdms.testing.fixtures import make_connection
from evdms.testing.installations import make_installer, make_job

pytestmark = pytest.mark.django_db(transaction=True)


def installed_job(world, identity: str = "DORA-HOME"):
    installer = make_installer()
    dora = User.objects.create(email="dora@example.com", full_name="Dora Driver")
    connection = make_connection(world.org_a, home_warranty_and_labour="yes")
    job = make_job(connection, dora, installer.company)
    for to in (JobStatus.CONTACTED, JobStatus.SURVEYED, JobStatus.QUOTED):
        job_transition(job_id=job.pk, to=to, party=Party.INSTALLER)
    job_transition(job_id=job.pk, to=JobStatus.QUOTE_APPROVED, party=Party.SYSTEM)
    tech = world.actor(installer.technician)
    job_schedule(actor=tech, job=job, appointment_at=timezone.now() + datetime.timedelta(days=1))
    job, password = job_installed(
        actor=tech,
        job=job,
        identity=identity,
        serial="SN-777",
        vendor="Alfen",
        model="Eve Single",
        mid_certificate="MID-1",
    )
    return job, password


@pytest.mark.parametrize("protocol", ["1.6", "2.0.1"])
def test_the_chargers_first_boot_commissions_the_job(world, gateway, protocol):  # noqa: F811
    job, password = installed_job(world)
    run_async(run_charger(gateway, "DORA-HOME", password, protocol, []))
    job = InstallationJob.objects.get(pk=job.pk)
    assert job.status == JobStatus.COMMISSIONED and job.commissioned_at is not None
    assert job.warranty_until is not None and job.warranty_months == 24
    row = JobTransition.objects.get(job=job, to_status="commissioned")
    assert (row.from_status, row.by_label, row.by) == ("installed", "charger:DORA-HOME", None)
    # Booting again (a restart) leaves it as it is.
    run_async(run_charger(gateway, "DORA-HOME", password, protocol, []))
    assert JobTransition.objects.filter(job=job, to_status="commissioned").count() == 1
    assert Charger.objects.get(identity="DORA-HOME").vendor == "evdms-sim"


def test_a_charger_without_an_installed_job_boots_with_one_query_more(world):
    charger, _ = charger_register(
        actor=None, organisation=world.org_a, identity="PLAIN", serial="S-1"
    )
    with CaptureQueriesContext(db_connection) as queries:
        assert charger_booted(charger.pk, None, vendor="V", model="M") is True
    statements = [q["sql"] for q in queries.captured_queries]
    assert len(statements) == 2, statements  # the charger's UPDATE, the job look-up
    assert "installations_installationjob" in statements[1]
    assert not InstallationJob.objects.exists()


def test_a_failing_commissioning_never_refuses_the_boot(world, monkeypatch, caplog):
    job, _ = installed_job(world)

    def broken(**kwargs):
        raise RuntimeError("database hiccup")

    monkeypatch.setattr("evdms.installations.services.jobs.job_transition", broken)
    assert job.charger_id is not None
    assert charger_booted(job.charger_id, None, vendor="V") is True
    assert InstallationJob.objects.get(pk=job.pk).status == JobStatus.INSTALLED
    assert Charger.objects.get(pk=job.charger_id).vendor == "V"  # the boot itself is kept
    assert "Commissioning the job of charger" in caplog.text
