"""How an ended membership is told apart (issue #18): a driver who left is shown
"Left", one moved by Revise Benefits "Moved to <connection>", on the driver's My
connections and on the admins' Drivers and driver pages; the moved driver gets an
e-mail about the new benefits."""

from __future__ import annotations

import re

import pytest
from django.db import connection as db_connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from evdms.accounts.permissions import Actor
from evdms.enrolment import services
from evdms.enrolment.models import Membership
from evdms.enrolment.tests.test_join import driver, driver_client
from evdms.notifications.models import OutboundEmail
from evdms.testing.fixtures import VALID_CONNECTION, client_for, make_connection, make_membership

pytestmark = pytest.mark.django_db


def badges(html: str) -> list[str]:
    return re.findall(r'<span class="badge badge-[a-z_]+">([^<]+)</span>', html)


@pytest.fixture
def moved(world):
    """Dan, moved by Revise Benefits from "Home 2026" to "Home 2027"."""
    dan = driver()
    home = make_connection(world.org_a, name="Home 2026", max_price_per_kwh="0.30")
    old = make_membership(home, dan)
    actor = Actor(organisation=world.org_a, role="network_manager", user=world.nadia.user)
    new, count = services.connection_revise_benefits(
        actor=actor,
        old=home,
        data={**VALID_CONNECTION, "name": "Home 2027", "max_price_per_kwh": "0.35"},
        membership_ids=[old.pk],
        disable_old=False,
    )
    assert count == 1
    return {"dan": dan, "old": old, "new": Membership.objects.get(connection=new)}


def test_the_moved_driver_sees_where_they_moved_not_removed(moved):
    html = driver_client(moved["dan"]).get(reverse("enrolment:my_connections")).content.decode()
    assert badges(html) == ["Connected", "Moved to Home 2027"]
    assert "Removed" not in html


def test_admins_see_the_move_on_the_drivers_page_and_the_drivers_page(world, moved):
    nadia = client_for(world.nadia)
    listing = nadia.get(reverse("enrolment:drivers")).content.decode()
    assert sorted(badges(listing)) == ["Connected", "Moved to Home 2027"]
    detail = nadia.get(reverse("enrolment:driver_detail", args=[moved["new"].pk])).content.decode()
    assert sorted(badges(detail)) == ["Connected", "Moved to Home 2027"]


def test_a_driver_who_left_is_shown_as_left(world):
    dan = driver()
    membership = make_membership(make_connection(world.org_a, name="Home"), dan)
    services.membership_leave(driver=dan, membership=membership)
    mine = driver_client(dan).get(reverse("enrolment:my_connections")).content.decode()
    assert badges(mine) == ["Left"]
    admin = client_for(world.nadia).get(reverse("enrolment:drivers")).content.decode()
    assert badges(admin) == ["Left"]


def test_a_driver_removed_by_the_organisation_is_still_removed(world):
    dan = driver()
    membership = make_membership(make_connection(world.org_a, name="Home"), dan)
    actor = Actor(organisation=world.org_a, role="network_manager", user=world.nadia.user)
    services.membership_remove(actor=actor, membership=membership)
    mine = driver_client(dan).get(reverse("enrolment:my_connections")).content.decode()
    assert badges(mine) == ["Removed"]


def test_the_drivers_page_reads_the_moves_in_a_fixed_number_of_queries(world, moved):
    nadia = client_for(world.nadia)
    url = reverse("enrolment:drivers")
    nadia.get(url)
    with CaptureQueriesContext(db_connection) as one:
        nadia.get(url)
    for n in range(3):
        other = driver(f"more{n}@example.com")
        old = make_membership(moved["new"].connection, other)
        actor = Actor(organisation=world.org_a, role="network_manager", user=world.nadia.user)
        services.connection_revise_benefits(
            actor=actor,
            old=old.connection,
            data={**VALID_CONNECTION, "name": f"Home 20{30 + n}"},
            membership_ids=[old.pk],
            disable_old=False,
        )
    with CaptureQueriesContext(db_connection) as many:
        nadia.get(url)
    assert len(many) == len(one)


def test_the_moved_driver_gets_an_email_about_the_new_benefits(moved):
    email = OutboundEmail.objects.get(template="driver_moved")
    assert email.to == ["dan@example.com"]
    assert email.subject.startswith("Your benefits with ")
    for part in (email.text_body, email.html_body):
        assert '"Home 2026"' in part or "&quot;Home 2026&quot;" in part
        assert "Home charging reimbursed (up to €0.35 per kWh)" in part
        assert "nothing is asked of you" in part
        assert re.search(r"\d{1,2} \w+ 20\d\d \d\d:\d\d \w+ \(Europe/Amsterdam\)", part)
