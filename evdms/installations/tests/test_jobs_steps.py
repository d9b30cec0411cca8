"""The installer's steps: each only from its status, by its role, on its own company's
jobs; with its e-mails; race-safe."""

from __future__ import annotations

import datetime

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.utils import timezone

from evdms.accounts.models import User
from evdms.audit.models import AuditEvent
from evdms.charging.models import Charger
from evdms.charging.services import charger_register
from evdms.installations.models import (
    ContactAttempt,
    InstallationJob,
    JobStatus,
    JobTransition,
    Quote,
)
from evdms.installations.services.jobs import (
    add_months,
    appointment_move_request,
    job_cancel,
    job_commission_for_charger,
    job_contact_record,
    job_installed,
    job_schedule,
    job_survey_record,
)
from evdms.installations.services.transitions import Party, WrongStep, job_transition
from evdms.notifications.models import OutboundEmail
from evdms.testing.concurrency import at_once
from evdms.testing.fixtures import make_connection
from evdms.testing.installations import make_installer, make_job

pytestmark = pytest.mark.django_db


@pytest.fixture
def setup(world):
    installer = make_installer()
    dora = User.objects.create(email="dora@example.com", full_name="Dora Driver")
    connection = make_connection(world.org_a, home_warranty_and_labour="yes")
    job = make_job(connection, dora, installer.company)
    return job, installer, world.actor(installer.technician), world.actor(installer.manager)


def each_once(*works):
    """Run ``works`` at once; the WrongStep messages of those refused."""
    refused: list[str] = []

    def guarded(work):
        def run():
            try:
                work()
            except WrongStep as exc:
                refused.append(exc.message_dict["status"][0])

        return run

    at_once(*(guarded(w) for w in works))
    return refused


def now() -> datetime.datetime:
    return timezone.now()


def to_quote_approved(job) -> None:
    for to in (JobStatus.SURVEYED, JobStatus.QUOTED):
        job_transition(job_id=job.pk, to=to, party=Party.INSTALLER)
    job_transition(job_id=job.pk, to=JobStatus.QUOTE_APPROVED, party=Party.SYSTEM)


def emails(template: str) -> list[list[str]]:
    return [e.to for e in OutboundEmail.objects.filter(template=template)]


def test_contact_attempts_are_kept_and_the_first_that_reached_moves_the_job(setup):
    job, _installer, tech, _ = setup
    job_contact_record(actor=tech, job=job, at=now(), channel="phone", outcome="no_answer")
    job.refresh_from_db()
    assert job.status == JobStatus.ASSIGNED
    job_contact_record(actor=tech, job=job, at=now(), channel="phone", outcome="reached")
    job_contact_record(actor=tech, job=job, at=now(), channel="email", outcome="reached")
    job.refresh_from_db()
    assert job.status == JobStatus.CONTACTED and job.contacted_at is not None
    assert ContactAttempt.objects.filter(job=job).count() == 3
    assert JobTransition.objects.filter(job=job, to_status="contacted").count() == 1
    assert AuditEvent.objects.filter(action="installation.contact").count() == 3


def test_bad_contact_input_is_refused_field_level(setup):
    job, _, tech, _ = setup
    with pytest.raises(ValidationError) as refused:
        job_contact_record(
            actor=tech,
            job=job,
            at=now() + datetime.timedelta(days=1),
            channel="pigeon",
            outcome="maybe",
        )
    assert set(refused.value.message_dict) == {"at", "channel", "outcome"}
    assert not ContactAttempt.objects.exists()


def test_another_installers_job_is_not_found_and_an_organisation_admin_may_not(world, setup):
    job, _, _, _ = setup
    other = make_installer("wattworks", "Wattworks")
    with pytest.raises(Http404):
        job_contact_record(
            actor=world.actor(other.technician),
            job=job,
            at=now(),
            channel="phone",
            outcome="reached",
        )
    with pytest.raises(Http404):
        job_survey_record(actor=world.actor(other.manager), job=job.pk, notes="Looks fine")
    with pytest.raises(PermissionDenied):
        job_contact_record(
            actor=world.actor(world.nadia), job=job, at=now(), channel="phone", outcome="reached"
        )
    job.refresh_from_db()
    assert job.status == JobStatus.ASSIGNED and not ContactAttempt.objects.exists()


def test_survey_only_after_contact_and_notes_can_be_corrected_while_surveyed(setup):
    job, _, tech, _ = setup
    with pytest.raises(WrongStep):
        job_survey_record(actor=tech, job=job, notes="Fuse box needs work")
    with pytest.raises(ValidationError) as refused:
        job_survey_record(actor=tech, job=job, notes="  ")
    assert "notes" in refused.value.message_dict
    job_contact_record(actor=tech, job=job, at=now(), channel="visit", outcome="reached")
    surveyed = job_survey_record(actor=tech, job=job, notes="Fuse box needs work")
    assert surveyed.status == JobStatus.SURVEYED and surveyed.survey_notes == "Fuse box needs work"
    corrected = job_survey_record(actor=tech, job=job, notes="Fuse box 3x25A, 12 m cable")
    assert corrected.survey_notes == "Fuse box 3x25A, 12 m cable"
    assert JobTransition.objects.filter(job=job, to_status="surveyed").count() == 1


def test_scheduling_needs_an_approved_quote_and_a_future_date_and_emails_the_driver(setup):
    job, _, tech, _ = setup
    job_transition(job_id=job.pk, to=JobStatus.CONTACTED, party=Party.INSTALLER)
    with pytest.raises(WrongStep):
        job_schedule(actor=tech, job=job, appointment_at=now() + datetime.timedelta(days=3))
    to_quote_approved(job)
    with pytest.raises(ValidationError) as refused:
        job_schedule(actor=tech, job=job, appointment_at=now() - datetime.timedelta(hours=1))
    assert "appointment_at" in refused.value.message_dict
    first = now() + datetime.timedelta(days=3)
    scheduled = job_schedule(actor=tech, job=job, appointment_at=first)
    assert scheduled.status == JobStatus.SCHEDULED and scheduled.appointment_at == first
    again = job_schedule(actor=tech, job=job, appointment_at=first + datetime.timedelta(days=1))
    assert again.appointment_at == first + datetime.timedelta(days=1)
    assert emails("installation_appointment") == [["dora@example.com"]] * 2
    subjects = list(
        OutboundEmail.objects.filter(template="installation_appointment")
        .order_by("pk")
        .values_list("subject", flat=True)
    )
    assert subjects == [
        "Appointment for your home charger installation",
        "New date for your home charger installation",
    ]


def test_the_driver_asks_once_to_move_the_appointment(world, setup):
    job, _installer, tech, _ = setup
    job_transition(job_id=job.pk, to=JobStatus.CONTACTED, party=Party.INSTALLER)
    to_quote_approved(job)
    job_schedule(actor=tech, job=job, appointment_at=now() + datetime.timedelta(days=3))
    stranger = User.objects.create(email="eve@example.com")
    with pytest.raises(Http404):
        appointment_move_request(driver=stranger, job=job, note="Monday?")
    moved = appointment_move_request(driver=job.driver, job=job, note="Monday morning suits me")
    assert moved.appointment_move_note == "Monday morning suits me"
    assert emails("installation_move_request") == [["manager@sparkfit.example"]]
    with pytest.raises(ValidationError) as refused:
        appointment_move_request(driver=job.driver, job=job, note="Tuesday then")
    assert "already" in refused.value.message_dict["note"][0]


def scheduled_job(setup):
    job, installer, tech, manager = setup
    job_transition(job_id=job.pk, to=JobStatus.CONTACTED, party=Party.INSTALLER)
    to_quote_approved(job)
    job_schedule(actor=tech, job=job, appointment_at=now() + datetime.timedelta(days=1))
    return job, installer, tech, manager


def charger_of(job: InstallationJob) -> int:
    assert job.charger_id is not None
    return job.charger_id


INSTALL = {
    "identity": "DORA-HOME",
    "serial": "SN-777",
    "vendor": "Alfen",
    "model": "Eve Single",
    "mid_certificate": "MID-2024-0042",
}


def test_installed_registers_the_charger_linked_to_the_driver(world, setup):
    job, _, tech, _ = scheduled_job(setup)
    installed, password = job_installed(actor=tech, job=job, **INSTALL)
    assert installed.status == JobStatus.INSTALLED and len(password) >= 20
    charger = Charger.objects.get(identity="DORA-HOME")
    assert (charger.driver, charger.organisation, charger.serial) == (
        job.driver,
        world.org_a,
        "SN-777",
    )
    assert installed.charger == charger and installed.mid_certificate == "MID-2024-0042"
    assert (installed.charger_vendor, installed.charger_model) == ("Alfen", "Eve Single")
    assert emails("installation_installed") == [["dora@example.com"]]


def test_a_serial_of_another_charger_is_refused_on_the_serial_field(world, setup):
    job, _, tech, _ = scheduled_job(setup)
    charger_register(actor=None, organisation=world.org_b, identity="OTHER", serial="SN-777")
    with pytest.raises(ValidationError) as refused:
        job_installed(actor=tech, job=job, **INSTALL)
    assert "serial" in refused.value.message_dict
    with pytest.raises(ValidationError) as refused:
        job_installed(actor=tech, job=job, **{**INSTALL, "serial": "SN-1", "identity": "OTHER"})
    assert "identity" in refused.value.message_dict
    with pytest.raises(ValidationError) as refused:
        job_installed(actor=tech, job=job, **{**INSTALL, "serial": "SN-2", "mid_certificate": ""})
    assert "mid_certificate" in refused.value.message_dict
    job.refresh_from_db()
    assert job.status == JobStatus.SCHEDULED and job.charger is None
    assert Charger.objects.count() == 1  # nothing half-written


def test_installed_only_from_scheduled(setup):
    job, _, tech, _ = setup
    with pytest.raises(WrongStep):
        job_installed(actor=tech, job=job, **INSTALL)
    assert not Charger.objects.exists()


def test_commissioning_sets_the_warranty_from_the_connection_or_the_installer(world, setup):
    job, _installer, tech, _ = scheduled_job(setup)
    installed, _ = job_installed(actor=tech, job=job, **INSTALL)
    assert job_commission_for_charger(charger_id=charger_of(installed) + 1000) is None
    commissioned = job_commission_for_charger(charger_id=charger_of(installed))
    assert commissioned is not None and commissioned.status == JobStatus.COMMISSIONED
    today = timezone.localdate()
    assert commissioned.warranty_months == 24  # the installer's terms
    assert commissioned.warranty_until == add_months(today, 24)
    row = JobTransition.objects.get(job=job, to_status="commissioned")
    assert row.by_label == "charger:DORA-HOME"
    # A second boot does nothing.
    assert job_commission_for_charger(charger_id=charger_of(installed)) is None


def test_connection_warranty_length_wins(world):
    installer = make_installer()
    connection = make_connection(world.org_a, home_warranty_and_labour="yes")
    # Not in the connection form yet (the quotes piece adds it).
    type(connection).objects.filter(pk=connection.pk).update(installation_warranty_months=36)
    job = make_job(
        connection,
        User.objects.create(email="d@example.com"),
        installer.company,
        status="installed",
    )
    charger, _ = charger_register(actor=None, organisation=world.org_a, identity="C1", serial="S1")
    InstallationJob.objects.filter(pk=job.pk).update(charger=charger)
    commissioned = job_commission_for_charger(charger_id=charger.pk)
    assert commissioned is not None and commissioned.warranty_months == 36


def test_add_months_keeps_the_day_or_the_months_last():
    assert add_months(datetime.date(2024, 1, 31), 1) == datetime.date(2024, 2, 29)
    assert add_months(datetime.date(2024, 11, 15), 24) == datetime.date(2026, 11, 15)
    assert add_months(datetime.date(2024, 12, 1), 1) == datetime.date(2025, 1, 1)


def test_cancelling_needs_a_manager_and_a_reason_and_withdraws_the_quote(world, setup):
    job, _installer, tech, manager = setup
    Quote.objects.create(
        job=job,
        number=1,
        payment_model="direct",
        currency="EUR",
        total_excl_vat=0,
        total_vat=0,
        total_incl_vat=0,
        organisation_share=0,
        driver_share=0,
    )
    with pytest.raises(PermissionDenied):
        job_cancel(job=job, party=Party.INSTALLER, reason="No access", actor=tech)
    with pytest.raises(ValidationError) as refused:
        job_cancel(job=job, party=Party.INSTALLER, reason=" ", actor=manager)
    assert "reason" in refused.value.message_dict
    cancelled = job_cancel(job=job, party=Party.INSTALLER, reason="Driver declined", actor=manager)
    assert cancelled.status == JobStatus.CANCELLED and cancelled.cancel_reason == "Driver declined"
    assert Quote.objects.get().status == "withdrawn"
    assert emails("installation_cancelled") == [["dora@example.com"]]
    with pytest.raises(WrongStep):
        job_cancel(job=job, party=Party.INSTALLER, reason="again", actor=manager)


def test_the_organisation_cancels_its_own_jobs_only(world, setup):
    job, _installer, _, _ = setup
    with pytest.raises(Http404):
        job_cancel(job=job, party=Party.ORGANISATION, reason="x", actor=world.actor(world.bob))
    with pytest.raises(PermissionDenied):
        job_cancel(job=job, party=Party.ORGANISATION, reason="x", actor=world.actor(world.ana))
    job_cancel(
        job=job, party=Party.ORGANISATION, reason="Lease ended", actor=world.actor(world.otto)
    )
    assert sorted(emails("installation_cancelled")) == [
        ["dora@example.com"],
        ["manager@sparkfit.example"],
    ]


def test_the_operator_cancels_and_the_driver_may_not(world, setup):
    job, *_ = setup
    with pytest.raises(PermissionDenied):
        job_cancel(job=job, party=Party.DRIVER, reason="x", by_user=job.driver)
    with pytest.raises(PermissionDenied):
        job_cancel(job=job, party=Party.OPERATOR, reason="x", by_user=job.driver)
    operator = User.objects.create(email="op@platform.example", is_staff=True)
    assert (
        job_cancel(job=job, party=Party.OPERATOR, reason="Duplicate", by_user=operator).status
        == JobStatus.CANCELLED
    )


@pytest.mark.django_db(transaction=True)
def test_two_reached_contacts_at_once_move_the_job_once(world, setup):
    job, _, tech, _ = setup
    at_once(
        lambda: job_contact_record(
            actor=tech, job=job.pk, at=now(), channel="phone", outcome="reached"
        ),
        lambda: job_contact_record(
            actor=tech, job=job.pk, at=now(), channel="sms", outcome="reached"
        ),
    )
    assert ContactAttempt.objects.filter(job=job).count() == 2
    assert JobTransition.objects.filter(job=job, to_status="contacted").count() == 1


@pytest.mark.django_db(transaction=True)
def test_two_commissionings_at_once_commission_once(world, setup):
    job, _installer, tech, _ = scheduled_job(setup)
    installed, _ = job_installed(actor=tech, job=job, **INSTALL)
    at_once(
        lambda: job_commission_for_charger(charger_id=charger_of(installed)),
        lambda: job_commission_for_charger(charger_id=charger_of(installed)),
    )
    assert JobTransition.objects.filter(job=job, to_status="commissioned").count() == 1


@pytest.mark.django_db(transaction=True)
def test_installed_twice_at_once_registers_one_charger(world, setup):
    job, _installer, tech, _ = scheduled_job(setup)
    refused = each_once(
        lambda: job_installed(actor=tech, job=job.pk, **INSTALL),
        lambda: job_installed(
            actor=tech, job=job.pk, **{**INSTALL, "identity": "DORA-2", "serial": "SN-778"}
        ),
    )
    assert len(refused) == 1 and "installed" in refused[0]
    assert Charger.objects.count() == 1
    assert JobTransition.objects.filter(job=job, to_status="installed").count() == 1
    assert InstallationJob.objects.get(pk=job.pk).charger == Charger.objects.get()


def test_no_warranty_without_home_warranty_and_labour(world):
    installer = make_installer()
    connection = make_connection(world.org_a)  # home warranty and labour: no
    job = make_job(
        connection, User.objects.create(email="d@example.com"), installer.company, "installed"
    )
    charger, _ = charger_register(actor=None, organisation=world.org_a, identity="C1", serial="S1")
    InstallationJob.objects.filter(pk=job.pk).update(charger=charger)
    commissioned = job_commission_for_charger(charger_id=charger.pk)
    assert commissioned is not None and commissioned.status == JobStatus.COMMISSIONED
    assert commissioned.warranty_until is None and commissioned.warranty_months is None
