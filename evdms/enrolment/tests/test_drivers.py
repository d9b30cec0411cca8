"""The Drivers page, a driver's page, removal and Revise Benefits, as admins see them."""

from __future__ import annotations

import csv
import io
import re

import pytest
from django.db import connection as db_connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from evdms.accounts.models import User
from evdms.connections.models import Connection
from evdms.enrolment.models import Membership, MembershipStatus
from evdms.testing.fixtures import VALID_CONNECTION, client_for, make_connection, make_membership

pytestmark = pytest.mark.django_db


def person(email: str, name: str = "") -> User:
    return User.objects.create_user(
        email, "a long passphrase 1", full_name=name or email.split("@")[0].title()
    )


@pytest.fixture
def roster(world):
    home = make_connection(world.org_a, name="Home", verification_1_label="Employee ID")
    public = make_connection(world.org_a, name="Public", provide_home_charger="no")
    rival = make_connection(world.org_b, name="Rival")
    alice = make_membership(home, person("alice@example.com", "Alice Archer"))
    alice.verification_1 = "E-100"
    alice.save()
    make_membership(home, person("bert@example.com", "Bert Baker"), "pending")
    make_membership(public, person("cleo@example.com", "Cleo Cook"), "denied")
    make_membership(rival, person("rita@example.com", "Rita Rival"))
    return {"home": home, "public": public, "alice": alice}


def names(response) -> list[str]:
    return re.findall(r'href="/drivers/\d+/">([^<]+)</a>', response.content.decode())


def test_the_drivers_page_lists_own_drivers_with_filters_and_sorting(world, roster):
    nadia = client_for(world.nadia)
    url = reverse("enrolment:drivers")
    assert names(nadia.get(url + "?sort=name")) == ["Alice Archer", "Bert Baker", "Cleo Cook"]
    assert names(nadia.get(url + "?sort=-name")) == ["Cleo Cook", "Bert Baker", "Alice Archer"]
    assert names(nadia.get(url + "?status=pending")) == ["Bert Baker"]
    assert names(nadia.get(url + f"?connection={roster['public'].pk}")) == ["Cleo Cook"]
    assert names(nadia.get(url + "?q=e-100")) == ["Alice Archer"]  # by verification answer
    odd = nadia.get(url + "?status=royal&sort=secret&connection=x&page=99999")
    assert odd.status_code == 200
    assert "Unknown status" in odd.content.decode() and "Cannot sort by" in odd.content.decode()


def test_drivers_export_as_csv(world, roster):
    response = client_for(world.nadia).get(reverse("enrolment:drivers") + "?export=csv&sort=name")
    body = b"".join(response.streaming_content)  # type: ignore[attr-defined]
    rows = list(csv.reader(io.StringIO(body.decode("utf-8-sig"))))
    assert rows[0] == [
        "Name",
        "E-mail",
        "Connection",
        "Status",
        "Requested",
        "Connection date",
        "Driver verification 1",
        "Driver verification 2",
        "Home charger requested",
        "Currency",
        "Home charger installed",
    ]
    assert [r[0] for r in rows[1:]] == ["Alice Archer", "Bert Baker", "Cleo Cook"]
    assert (
        rows[1][3] == "Connected"
        and rows[1][6] == "E-100"
        and rows[1][8] == "Yes"
        and rows[1][9] == "EUR"
    )


def test_the_drivers_page_uses_a_fixed_number_of_queries(world, roster):
    nadia = client_for(world.nadia)
    nadia.get(reverse("enrolment:drivers"))
    with CaptureQueriesContext(db_connection) as few:
        nadia.get(reverse("enrolment:drivers"))
    for i in range(30):
        make_membership(roster["public"], person(f"extra{i}@example.com"), "denied")
    with CaptureQueriesContext(db_connection) as many:
        nadia.get(reverse("enrolment:drivers"))
    assert len(many) == len(few)


def test_removing_drivers_ends_benefits_now_and_tells_them(
    world, roster, mailoutbox, django_capture_on_commit_callbacks
):
    nadia = client_for(world.nadia)
    alice = roster["alice"]
    with django_capture_on_commit_callbacks(execute=True):
        nadia.post(reverse("enrolment:drivers_remove"), {"ids": [alice.pk]})
    alice.refresh_from_db()
    assert alice.status == MembershipStatus.REMOVED
    assert (timezone.now() - alice.ended_at).total_seconds() < 60
    assert mailoutbox[-1].to == ["alice@example.com"]
    assert "ended on" in mailoutbox[-1].body
    page = nadia.get(reverse("enrolment:driver_detail", args=[alice.pk])).content.decode()
    assert "Driver removed" in page and "nadia@voltlease.example" in page
    assert "membership.remove" not in page  # the action by its name, not its code


def test_bulk_removal_skips_those_not_connected(world, roster):
    others = [make_membership(roster["public"], person(f"p{i}@example.com")) for i in range(2)]
    pending = Membership.objects.get(status="pending")
    response = client_for(world.otto).post(
        reverse("enrolment:drivers_remove"),
        {"ids": [o.pk for o in others] + [pending.pk]},
        follow=True,
    )
    assert "2 drivers removed" in response.content.decode()
    assert "1 were not connected" in response.content.decode()
    pending.refresh_from_db()
    assert pending.status == MembershipStatus.PENDING


def test_revise_benefits_moves_chosen_drivers_keeping_history(world, roster):
    home = roster["home"]
    alice = roster["alice"]
    stays = make_membership(home, person("stay@example.com", "Stella Stay"))
    nadia = client_for(world.nadia)
    page = nadia.get(reverse("enrolment:revise", args=[home.pk])).content.decode()
    assert "Home (revised)" in page and "Stella Stay" in page
    data = {
        **VALID_CONNECTION,
        "name": "Home 2027",
        "max_price_per_kwh": "0.35",
        "enabled": "on",
        "move": [alice.pk],
        "disable_old": "yes",
    }
    response = nadia.post(reverse("enrolment:revise", args=[home.pk]), data)
    assert response.status_code == 302
    new = Connection.objects.get(name="Home 2027")
    assert str(new.max_price_per_kwh) == "0.3500" and new.organisation == home.organisation
    alice.refresh_from_db()
    assert alice.status == MembershipStatus.REMOVED and alice.ended_reason == "Moved to Home 2027"
    moved = Membership.objects.get(connection=new)
    assert moved.driver == alice.driver and moved.moved_from == alice
    assert moved.status == MembershipStatus.CONNECTED and moved.verification_1 == "E-100"
    stays.refresh_from_db()
    assert stays.status == MembershipStatus.CONNECTED and stays.connection == home
    home.refresh_from_db()
    assert home.enabled is False
    history = nadia.get(reverse("enrolment:driver_detail", args=[moved.pk])).content.decode()
    assert (
        "Home 2027" in history
        and "Moved to Home 2027" in history
        and "Driver moved to revised benefits" in history
    )


def test_revise_benefits_with_bad_input_moves_nobody(world, roster):
    response = client_for(world.nadia).post(
        reverse("enrolment:revise", args=[roster["home"].pk]),
        {**VALID_CONNECTION, "name": "", "move": [roster["alice"].pk]},
    )
    assert response.status_code == 422
    roster["alice"].refresh_from_db()
    assert roster["alice"].status == MembershipStatus.CONNECTED
    assert not Connection.objects.filter(name="").exists()


@pytest.fixture
def customers(world):
    """Alice in a connection of Customer ID CRM-1001, Bert (pending) in CRM-2001, Cleo in
    one without; Rita in Rival Lease's connection of the same Customer ID CRM-1001."""
    crm1 = make_connection(world.org_a, name="Crm one", customer_id="CRM-1001")
    crm2 = make_connection(world.org_a, name="Crm two", customer_id="CRM-2001")
    plain = make_connection(world.org_a, name="Plain")
    rival = make_connection(world.org_b, name="Rival crm", customer_id="CRM-1001")
    make_membership(crm1, person("alice@example.com", "Alice Archer"))
    make_membership(crm2, person("bert@example.com", "Bert Baker"), "pending")
    make_membership(plain, person("cleo@example.com", "Cleo Cook"))
    make_membership(rival, person("rita@example.com", "Rita Rival"), "pending")


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"customer_id": "CRM-1001"}, ["Alice Archer"]),
        ({"customer_id": "crm-1001"}, ["Alice Archer"]),  # case does not matter
        ({"customer_id": "1001"}, []),  # "is" wants the whole ID
        ({"customer_id": "1001", "customer_id_match": "contains"}, ["Alice Archer"]),
        ({"customer_id": "crm-", "customer_id_match": "contains"}, ["Alice Archer", "Bert Baker"]),
        ({"customer_id": "CRM-9"}, []),
    ],
)
def test_the_drivers_page_filters_by_customer_id_ignoring_case(world, customers, params, expected):
    response = client_for(world.nadia).get(reverse("enrolment:drivers"), {**params, "sort": "name"})
    assert names(response) == expected
    html = response.content.decode()
    assert f'value="{params["customer_id"]}"' in html  # the filter stays filled in


def test_the_requests_page_filters_by_customer_id(world, customers):
    nadia = client_for(world.nadia)
    url = reverse("enrolment:requests")
    assert names(nadia.get(url)) == ["Bert Baker"]
    assert names(nadia.get(url, {"customer_id": "crm-2001"})) == ["Bert Baker"]
    assert names(nadia.get(url, {"customer_id": "2001", "customer_id_match": "contains"})) == [
        "Bert Baker"
    ]
    empty = nadia.get(url, {"customer_id": "crm-1001"})  # Rita's is Rival Lease's
    assert names(empty) == []
    assert "No waiting request has a connection with that Customer ID." in empty.content.decode()
    odd = nadia.get(url, {"customer_id": "x", "customer_id_match": "sounds-like"})
    assert odd.status_code == 200 and "Unknown Customer ID match" in odd.content.decode()


def test_the_drivers_api_filters_by_customer_id(world, customers, api_key_for, client):
    headers = api_key_for(world.org_a)
    body = client.get(
        "/api/v1/drivers?customer_id=1001&customer_id_match=contains", headers=headers
    ).json()
    assert [i["driver"]["email"] for i in body["items"]] == ["alice@example.com"]
    bad = client.get("/api/v1/drivers?customer_id=x&customer_id_match=fuzzy", headers=headers)
    assert bad.status_code == 422


def test_the_customer_id_filter_costs_the_same_queries_for_many_drivers(world, customers):
    nadia = client_for(world.nadia)
    url = reverse("enrolment:drivers")
    params = {"customer_id": "crm", "customer_id_match": "contains"}
    nadia.get(url, params)
    with CaptureQueriesContext(db_connection) as few:
        nadia.get(url, params)
    crm1 = Connection.objects.get(name="Crm one")
    for n in range(30):
        make_membership(crm1, person(f"d{n}@example.com"))
    with CaptureQueriesContext(db_connection) as many:
        response = nadia.get(url, params)
    assert len(many) == len(few) and len(names(response)) == 32


def test_the_driver_page_names_the_installation_country(world, roster):
    alice = roster["alice"]
    Membership.objects.filter(pk=alice.pk).update(
        address="Keizersgracht 1", postcode="1015 CJ", city="Amsterdam", country="NL"
    )
    page = client_for(world.nadia).get(reverse("enrolment:driver_detail", args=[alice.pk]))
    html = page.content.decode()
    assert "1015 CJ Amsterdam Netherlands" in html and "Amsterdam NL" not in html
