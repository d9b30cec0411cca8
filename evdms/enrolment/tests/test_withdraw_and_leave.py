"""A driver ends their own place: a pending request is withdrawn, a connection is left.
Each is recorded in the organisation's history under the driver's name, and only the
driver's own membership in the right state can be ended."""

from __future__ import annotations

import pytest

from evdms.audit.models import AuditEvent
from evdms.enrolment import services
from evdms.enrolment.models import MembershipStatus
from evdms.enrolment.tests.test_join import driver
from evdms.testing.fixtures import make_connection, make_membership

pytestmark = pytest.mark.django_db


def _history(membership):
    return list(
        AuditEvent.objects.filter(
            target_type="enrolment.membership", target_id=str(membership.pk)
        ).values_list("action", "actor_label", "organisation", "changes")
    )


def test_withdrawing_a_pending_request_ends_it_and_is_recorded(world, mailoutbox):
    dan = driver()
    membership = make_membership(make_connection(world.org_a), dan, status="pending")
    services.membership_withdraw(driver=dan, membership=membership)
    membership.refresh_from_db()
    assert membership.status == MembershipStatus.WITHDRAWN and membership.ended_at is not None
    assert membership.ended_reason == ""
    assert _history(membership) == [
        (
            "membership.withdraw",
            "dan@example.com",
            world.org_a.pk,
            {"status": ["pending", "withdrawn"]},
        )
    ]
    assert mailoutbox == []


def test_leaving_a_connection_ends_it_and_is_recorded(world, mailoutbox):
    dan = driver()
    membership = make_membership(make_connection(world.org_a), dan, status="connected")
    services.membership_leave(driver=dan, membership=membership)
    membership.refresh_from_db()
    assert membership.status == MembershipStatus.REMOVED and membership.ended_at is not None
    assert membership.ended_reason == "Left"
    assert _history(membership) == [
        (
            "membership.leave",
            "dan@example.com",
            world.org_a.pk,
            {"status": ["connected", "removed"]},
        )
    ]
    assert mailoutbox == []


@pytest.mark.parametrize(
    ("service", "status"),
    [
        (services.membership_withdraw, "connected"),
        (services.membership_withdraw, "withdrawn"),
        (services.membership_leave, "pending"),
        (services.membership_leave, "removed"),
    ],
)
def test_a_membership_in_another_state_is_already_decided(world, service, status):
    dan = driver()
    membership = make_membership(make_connection(world.org_a), dan, status=status)
    with pytest.raises(services.AlreadyDecided):
        service(driver=dan, membership=membership)
    membership.refresh_from_db()
    assert membership.status == status and membership.ended_at is None
    assert _history(membership) == []


@pytest.mark.parametrize(
    ("service", "status"),
    [(services.membership_withdraw, "pending"), (services.membership_leave, "connected")],
)
def test_nobody_ends_another_drivers_membership(world, service, status):
    membership = make_membership(make_connection(world.org_a), driver(), status=status)
    with pytest.raises(services.AlreadyDecided):
        service(driver=driver("eve@example.com"), membership=membership)
    membership.refresh_from_db()
    assert membership.status == status and membership.ended_at is None
    assert _history(membership) == []
