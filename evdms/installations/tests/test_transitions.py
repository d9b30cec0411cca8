"""The status machine: each step only from its status, only by its party, once."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from evdms.accounts.models import User
from evdms.audit.models import AuditEvent
from evdms.installations.models import JobStatus, JobTransition
from evdms.installations.services.transitions import Party, WrongStep, job_transition
from evdms.testing.fixtures import World, make_connection
from evdms.testing.installations import make_installer, make_job

pytestmark = pytest.mark.django_db


@pytest.fixture
def job(world: World):
    installer = make_installer()
    driver = User.objects.create(email="dora@example.com", full_name="Dora Driver")
    return make_job(make_connection(world.org_a), driver, installer.company), installer


def test_a_step_moves_the_job_stamps_it_and_keeps_history(world, job):
    job, installer = job
    actor = world.actor(installer.technician)
    moved = job_transition(
        job_id=job.pk, to=JobStatus.CONTACTED, party=Party.INSTALLER, actor=actor
    )
    assert moved.status == JobStatus.CONTACTED
    assert moved.contacted_at is not None and moved.status_changed_at == moved.contacted_at
    row = JobTransition.objects.get(job=job)
    assert (row.from_status, row.to_status, row.by_label) == (
        "assigned",
        "contacted",
        installer.technician.email,
    )
    event = AuditEvent.objects.get(action="installation.transition")
    assert event.organisation == world.org_a  # the job's organisation sees its history
    assert event.changes["status"] == ["assigned", "contacted"]


def test_a_step_from_the_wrong_status_is_refused_field_level(world, job):
    job, _ = job
    with pytest.raises(WrongStep) as refused:
        job_transition(job_id=job.pk, to=JobStatus.INSTALLED, party=Party.INSTALLER)
    assert "cannot be moved to “Installed”" in refused.value.message_dict["status"][0]
    job.refresh_from_db()
    assert job.status == JobStatus.ASSIGNED and not JobTransition.objects.exists()


def test_the_wrong_party_is_refused(job):
    job, _ = job
    with pytest.raises(WrongStep):
        job_transition(job_id=job.pk, to=JobStatus.CONTACTED, party=Party.DRIVER)
    job_transition(job_id=job.pk, to=JobStatus.CONTACTED, party=Party.INSTALLER)
    job_transition(job_id=job.pk, to=JobStatus.SURVEYED, party=Party.INSTALLER)
    job_transition(job_id=job.pk, to=JobStatus.QUOTED, party=Party.INSTALLER)
    job_transition(job_id=job.pk, to=JobStatus.QUOTE_APPROVED, party=Party.SYSTEM)
    job_transition(job_id=job.pk, to=JobStatus.SCHEDULED, party=Party.INSTALLER)
    job_transition(job_id=job.pk, to=JobStatus.INSTALLED, party=Party.INSTALLER)
    # Only the charger's first connection commissions.
    with pytest.raises(WrongStep):
        job_transition(job_id=job.pk, to=JobStatus.COMMISSIONED, party=Party.INSTALLER)


def test_the_same_step_twice_is_taken_once(job):
    job, _ = job
    job_transition(job_id=job.pk, to=JobStatus.CONTACTED, party=Party.INSTALLER)
    with pytest.raises(WrongStep):
        job_transition(job_id=job.pk, to=JobStatus.CONTACTED, party=Party.INSTALLER)
    assert JobTransition.objects.count() == 1


def test_cancelling_needs_a_reason_and_ends_the_job(job):
    job, _ = job
    with pytest.raises(ValidationError) as refused:
        job_transition(job_id=job.pk, to=JobStatus.CANCELLED, party=Party.ORGANISATION, note=" ")
    assert "reason" in refused.value.message_dict
    cancelled = job_transition(
        job_id=job.pk, to=JobStatus.CANCELLED, party=Party.ORGANISATION, note="Driver moved abroad"
    )
    assert cancelled.cancel_reason == "Driver moved abroad" and cancelled.cancelled_at
    with pytest.raises(WrongStep):
        job_transition(job_id=job.pk, to=JobStatus.CANCELLED, party=Party.OPERATOR, note="again")


def test_a_redone_step_keeps_its_first_date(job):
    job, _ = job
    for to in (JobStatus.CONTACTED, JobStatus.SURVEYED, JobStatus.QUOTED):
        job_transition(job_id=job.pk, to=to, party=Party.INSTALLER)
    first = type(job).objects.get(pk=job.pk).surveyed_at
    job_transition(job_id=job.pk, to=JobStatus.SURVEYED, party=Party.ORGANISATION, note="Too dear")
    again = type(job).objects.get(pk=job.pk)
    assert again.status == JobStatus.SURVEYED and again.surveyed_at == first
    assert again.status_changed_at > first
