"""The drivers per connection and status that the dashboard reads (DriverFigures, kept by
the database triggers of evdms/reports/monthly.py): whatever is written to memberships,
and however (a save, a queryset update, a delete, a move to another connection), the
kept counts are what counting the memberships gives, and what a rebuild gives."""

from __future__ import annotations

import itertools
from collections import Counter

import pytest
from django.db import connection
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from evdms.accounts.models import User
from evdms.enrolment.models import Membership, MembershipStatus
from evdms.reports import monthly
from evdms.reports.dashboard import dashboard_for
from evdms.reports.models import DriverFigures
from evdms.reports.tests.conftest import Fleet
from evdms.testing.fixtures import make_membership

pytestmark = pytest.mark.django_db
_drivers = itertools.count(1)
STATUSES = [s.value for s in MembershipStatus]


def kept() -> Counter[tuple[int, str]]:
    """The kept counts, without those that came to nothing."""
    return Counter(
        {
            (f.connection_id, f.status): f.drivers
            for f in DriverFigures.objects.all()
            if f.drivers != 0
        }
    )


def counted() -> Counter[tuple[int, str]]:
    return Counter(Membership.objects.values_list("connection_id", "status"))


operations = st.lists(
    st.one_of(
        st.tuples(st.just("join"), st.integers(0, 3), st.sampled_from(STATUSES)),
        st.tuples(st.just("status"), st.integers(0, 50), st.sampled_from(STATUSES)),
        st.tuples(st.just("move"), st.integers(0, 50), st.integers(0, 3)),
        st.tuples(st.just("all of a connection"), st.integers(0, 3), st.sampled_from(STATUSES)),
        st.tuples(st.just("leave the platform"), st.integers(0, 50)),
    ),
    max_size=25,
)


def _apply(fleet: Fleet, operation: tuple) -> None:
    connections = [fleet.acme, fleet.globex, fleet.private, fleet.rival]
    memberships = list(Membership.objects.order_by("pk"))
    match operation:
        case ("join", index, status):
            n = next(_drivers)
            driver = User.objects.create(email=f"figures{n}@example.com", full_name=f"D {n}")
            make_membership(connections[index], driver, status)
        case ("status", index, status) if memberships:
            membership = memberships[index % len(memberships)]
            membership.status = status
            membership.save(update_fields=["status"])
        case ("move", index, to) if memberships:
            # Within its organisation, as Revise Benefits moves drivers.
            membership = memberships[index % len(memberships)]
            same = [c for c in connections if c.organisation_id == membership.organisation_id]
            membership.connection = same[to % len(same)]
            membership.save(update_fields=["connection"])
        case ("all of a connection", index, status):
            Membership.objects.filter(connection=connections[index]).update(status=status)
        case ("leave the platform", index) if memberships:
            memberships[index % len(memberships)].delete()


@given(operations)
@settings(
    max_examples=100, suppress_health_check=[HealthCheck.function_scoped_fixture], deadline=None
)
def test_the_drivers_kept_on_every_write_are_what_counting_gives(fleet: Fleet, ops):
    for operation in ops:
        _apply(fleet, operation)
    assert kept() == counted()
    monthly.rebuild(connection)
    assert kept() == counted()


def test_the_dashboard_counts_from_the_kept_figures(fleet: Fleet):
    """What the dashboard shows is the kept count (a wrong kept count shows: the page
    does not count memberships itself)."""
    actor = fleet.world.actor(fleet.world.nadia)
    before = dashboard_for(actor)
    assert (before.connected, before.pending) == (2, 0)  # Dan and Eve; Rob is Rival's
    make_membership(fleet.private, User.objects.create(email="p@example.com"), "pending")
    after = dashboard_for(actor)
    assert (after.connected, after.pending) == (2, 1)
    DriverFigures.objects.filter(connection=fleet.acme, status="connected").update(drivers=40)
    assert dashboard_for(actor).connected == 41


def test_a_rebuild_mends_lost_or_wrong_counts(fleet: Fleet):
    DriverFigures.objects.filter(connection=fleet.acme).update(drivers=7)
    DriverFigures.objects.filter(connection=fleet.globex).delete()
    assert kept() != counted()
    monthly.rebuild(connection)
    assert (
        kept()
        == counted()
        == Counter(
            {
                (fleet.acme.pk, "connected"): 1,
                (fleet.globex.pk, "connected"): 1,
                (fleet.rival.pk, "connected"): 1,
            }
        )
    )


def test_a_flush_leaves_no_driver_figures_behind(fleet: Fleet):
    """A flush deletes the figures, then the memberships, whose triggers write what they
    take off: the next migrate's install clears that."""
    DriverFigures.objects.all().delete()
    Membership.objects.all().delete()
    assert kept() != Counter()  # what the deletes took off
    assert monthly.install(connection) is False  # the triggers are as wanted
    assert kept() == Counter() == counted()
