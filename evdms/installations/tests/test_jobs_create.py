"""Jobs start through the real enrolment services: a driver joins and is approved (by
an admin or automatically), and Revise Benefits moves an open job with the driver."""

from __future__ import annotations

import pytest
from django.utils import timezone

from evdms.accounts.models import User
from evdms.audit.models import AuditEvent
from evdms.enrolment import services as enrolment
from evdms.enrolment.models import Membership
from evdms.installations.models import InstallationJob, JobStatus, JobTransition
from evdms.installations.services.jobs import (
    installer_for_address,
    job_assign,
    job_create_for_membership,
)
from evdms.installations.services.transitions import Party, job_transition
from evdms.notifications.models import OutboundEmail
from evdms.testing.fixtures import make_connection
from evdms.testing.installations import make_installer, make_job

pytestmark = pytest.mark.django_db

ADDRESS = {
    "phone": "+31 6 1234 5678",
    "address": "Damrak 1",
    "postcode": "1012 AB",
    "city": "Amsterdam",
    "country": "nl",
}


def driver(email: str = "dora@example.com") -> User:
    return User.objects.create_user(
        email, "a long passphrase 1", full_name="Dora Driver", email_confirmed_at=timezone.now()
    )


def joined(connection, who: User | None = None, answers=None) -> Membership:
    return enrolment.membership_request(
        driver=who or driver(), connection=connection, answers=answers or ADDRESS
    )


def templates_to() -> dict[str, list[str]]:
    return {
        e.template: e.to for e in OutboundEmail.objects.filter(template__startswith="installation")
    }


def test_manual_approval_creates_an_assigned_job_with_the_address_and_emails(world):
    installer = make_installer()
    connection = make_connection(world.org_a)
    membership = joined(connection)
    assert not InstallationJob.objects.exists()  # pending: nothing yet
    enrolment.membership_approve(actor=world.actor(world.otto), membership=membership)
    job = InstallationJob.objects.get()
    assert (job.driver, job.connection, job.organisation, job.installer) == (
        membership.driver,
        connection,
        world.org_a,
        installer.company,
    )
    assert job.status == JobStatus.ASSIGNED and job.assigned_at is not None
    assert (job.address, job.postcode, job.city, job.country, job.phone) == (
        "Damrak 1",
        "1012 AB",
        "Amsterdam",
        "NL",
        "+31 6 1234 5678",
    )
    assert templates_to() == {
        "installation_job_created": ["support@voltlease.example"],
        "installation_driver_contact": ["dora@example.com"],
        "installation_new_job": ["manager@sparkfit.example"],
    }
    assert JobTransition.objects.get(job=job).to_status == "assigned"
    assert AuditEvent.objects.filter(
        action="installation.create", organisation=world.org_a
    ).exists()


def test_auto_approval_creates_the_job_at_once(world):
    make_installer()
    connection = make_connection(world.org_a, approval_type="auto")
    membership = joined(connection)
    assert membership.status == "connected"
    assert InstallationJob.objects.get().membership == membership


def test_no_job_without_a_home_charger_installed_by_a_certified_installer(world):
    make_installer()
    connection = make_connection(world.org_a, provide_home_charger="no", approval_type="auto")
    joined(connection, answers={})
    assert not InstallationJob.objects.exists()
    assert not OutboundEmail.objects.filter(template__startswith="installation").exists()


def test_once_per_driver_and_connection(world):
    make_installer()
    connection = make_connection(world.org_a, approval_type="auto")
    membership = joined(connection)
    assert job_create_for_membership(membership=membership) is None
    assert InstallationJob.objects.count() == 1


def test_no_installer_serving_the_address_leaves_the_job_for_the_operator(world):
    make_installer(regions=(("BE", ""),))
    connection = make_connection(world.org_a, approval_type="auto")
    joined(connection)
    job = InstallationJob.objects.get()
    assert job.installer is None and job.assigned_at is None
    assert set(templates_to()) == {"installation_job_created"}
    operator = User.objects.create_user("op@platform.example", "a long passphrase 1", is_staff=True)
    other = make_installer("wattworks", "Wattworks", regions=(("NL", ""),))
    assigned = job_assign(job=job, installer=None, by_user=operator)
    assert assigned.installer == other.company and assigned.assigned_at is not None
    assert templates_to()["installation_new_job"] == ["manager@wattworks.example"]
    assert AuditEvent.objects.filter(
        action="installation.assign", actor_label=operator.email
    ).exists()


def test_only_an_operator_assigns_and_only_to_a_certified_installer(world):
    from django.core.exceptions import PermissionDenied, ValidationError

    lapsed = make_installer("oldco", "Old Co", certified_for_days=-1)
    job = make_job(make_connection(world.org_a), driver(), None)
    with pytest.raises(PermissionDenied):
        job_assign(job=job, installer=lapsed.company, by_user=world.nadia.user)
    operator = User.objects.create_user("op@platform.example", "a long passphrase 1", is_staff=True)
    with pytest.raises(ValidationError) as refused:
        job_assign(job=job, installer=lapsed.company, by_user=operator)
    assert "not certified" in refused.value.message_dict["installer"][0]


def test_assignment_by_region_prefix_then_load_then_capacity(world):
    country_wide = make_installer("countrywide", "Country Wide", regions=(("NL", ""),))
    amsterdam = make_installer("amsterdam", "Amsterdam Fit", regions=(("NL", "10"),), capacity=1)
    lapsed = make_installer("lapsed", "Lapsed", regions=(("NL", "1012"),), certified_for_days=-1)
    assert installer_for_address(country="NL", postcode="1012 AB") == amsterdam.company
    assert installer_for_address(country="nl", postcode="3511 AA") == country_wide.company
    assert installer_for_address(country="BE", postcode="1000") is None
    # Amsterdam is full (capacity 1): the country-wide one takes the next.
    make_job(make_connection(world.org_a), driver("a@example.com"), amsterdam.company)
    assert installer_for_address(country="NL", postcode="1012 AB") == country_wide.company
    # Two country-wide installers: the least loaded (open jobs / capacity), then the oldest.
    second = make_installer("second", "Second", regions=(("NL", ""),), capacity=40)
    connection = make_connection(world.org_a, name="Other")
    make_job(connection, driver("b@example.com"), country_wide.company)
    assert installer_for_address(country="NL", postcode="3511 AA") == second.company
    assert lapsed.company.is_certified() is False


def test_revise_benefits_moves_an_open_job_with_the_driver(world):
    make_installer()
    old = make_connection(world.org_a, approval_type="auto")
    membership = joined(old)
    job = InstallationJob.objects.get()
    job_transition(job_id=job.pk, to=JobStatus.CONTACTED, party=Party.INSTALLER)
    data = {**_connection_data(), "name": "Voltlease_Home_2025"}
    new, moved = enrolment.connection_revise_benefits(
        actor=world.actor(world.nadia),
        old=old,
        data=data,
        membership_ids=[membership.pk],
        disable_old=True,
    )
    assert moved == 1
    job.refresh_from_db()
    assert job.connection == new and job.membership.connection == new
    assert job.status == JobStatus.CONTACTED  # the work done so far is kept
    assert InstallationJob.objects.count() == 1
    assert AuditEvent.objects.filter(action="installation.move").exists()


def test_revise_benefits_without_installation_cancels_the_open_job(world):
    make_installer()
    old = make_connection(world.org_a, approval_type="auto")
    membership = joined(old)
    data = {
        **_connection_data(),
        "name": "No_Charger",
        "provide_home_charger": "no",
        "installation_handled_by": "",
        "installation_payment_model": "",
    }
    enrolment.connection_revise_benefits(
        actor=world.actor(world.nadia),
        old=old,
        data=data,
        membership_ids=[membership.pk],
        disable_old=False,
    )
    job = InstallationJob.objects.get()
    assert job.status == JobStatus.CANCELLED
    assert "provides no home charger installation" in job.cancel_reason


def test_revise_benefits_to_an_installation_connection_starts_a_job(world):
    make_installer()
    old = make_connection(
        world.org_a,
        approval_type="auto",
        provide_home_charger="no",
        installation_handled_by="",
        installation_payment_model="",
    )
    membership = joined(old, answers={})
    Membership.objects.filter(pk=membership.pk).update(**{k: v for k, v in ADDRESS.items()})
    new, _ = enrolment.connection_revise_benefits(
        actor=world.actor(world.nadia),
        old=old,
        data={**_connection_data(), "name": "With_Charger"},
        membership_ids=[membership.pk],
        disable_old=False,
    )
    job = InstallationJob.objects.get()
    assert job.connection == new and job.postcode == "1012 AB"


def _connection_data() -> dict[str, object]:
    from evdms.testing.fixtures import VALID_CONNECTION

    return dict(VALID_CONNECTION)


def test_revise_benefits_leaves_a_completed_job_where_it_is(world):
    make_installer()
    old = make_connection(world.org_a, approval_type="auto")
    membership = joined(old)
    InstallationJob.objects.update(status=JobStatus.COMPLETED)
    enrolment.connection_revise_benefits(
        actor=world.actor(world.nadia),
        old=old,
        data={**_connection_data(), "name": "Voltlease_Home_2025"},
        membership_ids=[membership.pk],
        disable_old=False,
    )
    job = InstallationJob.objects.get()  # no second installation for the same driver
    assert job.connection == old and job.status == JobStatus.COMPLETED


def test_bulk_approval_starts_a_job_per_driver(world):
    make_installer()
    connection = make_connection(world.org_a)
    memberships = [joined(connection, driver(f"d{i}@example.com")) for i in range(3)]
    done, skipped = enrolment.bulk(
        enrolment.membership_approve, actor=world.actor(world.otto), memberships=memberships
    )
    assert (done, skipped) == (3, 0)
    assert InstallationJob.objects.filter(installer__isnull=False).count() == 3


def test_leaving_or_being_removed_cancels_the_open_job(world):
    installer = make_installer()
    connection = make_connection(world.org_a, approval_type="auto")
    leaving = joined(connection)
    enrolment.membership_leave(driver=leaving.driver, membership=leaving)
    job = InstallationJob.objects.get(driver=leaving.driver)
    assert job.status == JobStatus.CANCELLED and "The driver left" in job.cancel_reason
    assert JobTransition.objects.get(job=job, to_status="cancelled").by_label == "dora@example.com"
    removed = joined(connection, driver("eli@example.com"))
    enrolment.membership_remove(actor=world.actor(world.otto), membership=removed)
    job = InstallationJob.objects.get(driver=removed.driver)
    assert job.status == JobStatus.CANCELLED and "removed the driver" in job.cancel_reason
    cancelled_to = [
        e.to for e in OutboundEmail.objects.filter(template="installation_cancelled").order_by("pk")
    ]
    assert cancelled_to == [
        ["dora@example.com"],
        [installer.manager.email],
        ["eli@example.com"],
        [installer.manager.email],
    ]
