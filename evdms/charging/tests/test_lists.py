"""Search, filters, order and CSV export on the Chargers and Home charging pages, as
admins meet them, and who sees what there."""

from __future__ import annotations

import csv
import io
import re
from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection as db_connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from evdms.accounts.models import User
from evdms.charging.models import Charger
from evdms.testing.fixtures import (
    client_for,
    make_connection,
    make_grant,
    make_home_session,
    make_membership,
)

pytestmark = pytest.mark.django_db


def person(email: str, name: str = "") -> User:
    return User.objects.create_user(
        email, "a long passphrase 1", full_name=name or email.split("@")[0].title()
    )


def charger(org, identity: str, *, driver=None, online=False, serial="", **fields) -> Charger:
    return Charger.objects.create(
        organisation=org,
        identity=identity,
        serial=serial or f"SN-{identity}",
        password_hash="-",
        driver=driver,
        online=online,
        **fields,
    )


def download(response) -> list[list[str]]:
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    body = b"".join(response.streaming_content)
    return list(csv.reader(io.StringIO(body.decode("utf-8-sig"))))


# --- Chargers ------------------------------------------------------------------------


@pytest.fixture
def chargers(world):
    home = make_connection(world.org_a, name="Home")
    alice = person("alice@example.com", "Alice Archer")
    make_membership(home, alice)
    charger(world.org_a, "VL-ALPHA", driver=alice, online=True, vendor="Alfen")
    charger(world.org_a, "VL-BRAVO", vendor="Easee", last_heartbeat_at=timezone.now())
    charger(world.org_a, "VL-CHARLIE", serial="ZZ-9")
    charger(world.org_b, "RIVAL-1", online=True)
    return {"home": home, "alice": alice}


def identities(response) -> list[str]:
    return re.findall(r'href="/chargers/\d+/">([^<]+)</a>', response.content.decode())


def test_the_chargers_page_searches_filters_and_sorts(world, chargers):
    otto = client_for(world.otto)  # a Connections Officer: view installations
    url = reverse("charging:chargers")
    assert identities(otto.get(url)) == ["VL-ALPHA", "VL-BRAVO", "VL-CHARLIE"]
    assert identities(otto.get(url + "?sort=-identity")) == ["VL-CHARLIE", "VL-BRAVO", "VL-ALPHA"]
    assert identities(otto.get(url + "?q=easee")) == ["VL-BRAVO"]  # by vendor
    assert identities(otto.get(url + "?q=alice")) == ["VL-ALPHA"]  # by driver's name
    assert identities(otto.get(url + "?q=zz-9")) == ["VL-CHARLIE"]  # by serial
    assert identities(otto.get(url + "?state=online")) == ["VL-ALPHA"]
    assert identities(otto.get(url + "?linked=unlinked&sort=serial")) == ["VL-BRAVO", "VL-CHARLIE"]
    # Never heard from last, whichever way.
    assert identities(otto.get(url + "?sort=-heartbeat"))[0] == "VL-BRAVO"
    assert identities(otto.get(url + "?sort=heartbeat"))[0] == "VL-BRAVO"


def test_the_chargers_page_tells_what_it_ignored(world, chargers):
    page = client_for(world.otto).get(
        reverse("charging:chargers") + "?state=melted&linked=maybe&sort=password_hash&page=x"
    )
    assert page.status_code == 200
    text = page.content.decode()
    assert "Unknown state" in text and "Unknown choice" in text and "Cannot sort by" in text
    assert identities(page) == ["VL-ALPHA", "VL-BRAVO", "VL-CHARLIE"]


def test_the_sort_links_keep_the_filter_and_say_the_order(world, chargers):
    page = client_for(world.otto).get(reverse("charging:chargers") + "?q=VL&sort=-serial")
    text = page.content.decode()
    assert 'href="?q=VL&amp;sort=serial"' in text  # the other way round, filter kept
    assert 'aria-sort="descending"' in text
    assert 'href="/chargers/?q=VL&amp;sort=-serial&amp;export=csv"' in text


def test_the_chargers_export_has_what_the_filter_shows(world, chargers):
    rows = download(
        client_for(world.otto).get(reverse("charging:chargers") + "?linked=linked&export=csv")
    )
    assert rows[0][:6] == ["Identity", "Serial", "Vendor", "Model", "Driver", "Online"]
    assert [r[0] for r in rows[1:]] == ["VL-ALPHA"]
    assert rows[1][4] == "alice@example.com" and rows[1][5] == "Yes"


def test_a_charger_name_starting_like_a_formula_is_exported_as_text(world):
    charger(world.org_a, "=HYPERLINK(1)")
    rows = download(client_for(world.nadia).get(reverse("charging:chargers") + "?export=csv"))
    assert rows[1][0] == "'=HYPERLINK(1)"


def test_another_organisation_s_chargers_are_in_no_list_and_no_file(world, chargers):
    bob = client_for(world.bob)
    assert identities(bob.get(reverse("charging:chargers"))) == ["RIVAL-1"]
    rows = download(bob.get(reverse("charging:chargers") + "?q=VL&export=csv"))
    assert rows[1:] == []


def test_a_limited_admin_lists_the_chargers_of_their_connections_drivers_only(world, chargers):
    otto = world.otto
    otto.all_connections = False
    otto.save(update_fields=["all_connections"])
    otto.connections.set([chargers["home"]])
    client = client_for(otto)
    assert identities(client.get(reverse("charging:chargers"))) == ["VL-ALPHA"]
    rows = download(client.get(reverse("charging:chargers") + "?export=csv"))
    assert [r[0] for r in rows[1:]] == ["VL-ALPHA"]


def test_the_chargers_page_uses_a_fixed_number_of_queries(world, chargers):
    nadia = client_for(world.nadia)
    nadia.get(reverse("charging:chargers") + "?q=VL")
    with CaptureQueriesContext(db_connection) as few:
        nadia.get(reverse("charging:chargers") + "?q=VL")
    for i in range(20):
        driver = person(f"d{i}@example.com")
        make_membership(chargers["home"], driver)
        charger(world.org_a, f"VL-X{i:02d}", driver=driver)
    with CaptureQueriesContext(db_connection) as many:
        nadia.get(reverse("charging:chargers") + "?q=VL")
    assert len(many) == len(few)


# --- Home charging -------------------------------------------------------------------


@pytest.fixture
def sessions(world):
    shares = make_connection(world.org_a, name="Shares", home_charging_data_sharing="yes")
    private = make_connection(world.org_a, name="Private", home_charging_data_sharing="no")
    alice = person("alice@example.com", "Alice Archer")
    bert = person("bert@example.com", "Bert Baker")
    cleo = person("cleo@example.com", "Cleo Cook")
    make_membership(shares, alice)
    make_membership(shares, bert)
    make_membership(private, cleo)
    a1 = make_home_session(shares, alice, 7_250, hours_ago=30)
    a2 = make_home_session(shares, alice, 12_000, hours_ago=3)
    b1 = make_home_session(shares, bert, 3_100, hours_ago=5)
    make_home_session(private, cleo, 9_999, hours_ago=4)
    rival = make_connection(world.org_b, name="Rival", home_charging_data_sharing="yes")
    rita = person("rita@example.com")
    make_membership(rival, rita)
    make_home_session(rival, rita, 1_000)
    return {"shares": shares, "private": private, "a1": a1, "a2": a2, "b1": b1}


def energies(response) -> list[str]:
    """The Energy (kWh) cells of the sessions table, in order."""
    text = response.content.decode()
    table = text.split('id="sessions"', 1)[1].split("</table>", 1)[0]
    return re.findall(r"<td>(\d+\.\d{3})</td>", table)


def test_the_home_charging_page_searches_filters_and_sorts_sessions(world, sessions):
    ana = client_for(world.ana)  # an Analyst: views reports
    url = reverse("charging:sessions")
    assert energies(ana.get(url)) == ["12.000", "3.100", "7.250"]  # newest first
    assert energies(ana.get(url + "?sort=energy")) == ["3.100", "7.250", "12.000"]
    assert energies(ana.get(url + "?sort=-energy")) == ["12.000", "7.250", "3.100"]
    assert energies(ana.get(url + "?q=bert")) == ["3.100"]
    assert energies(ana.get(url + "?q=HOME-")) == ["12.000", "3.100", "7.250"]  # charger
    yesterday = (timezone.localtime() - timedelta(hours=30)).date().isoformat()
    assert energies(ana.get(url + f"?start={yesterday}&end={yesterday}")) == ["7.250"]
    assert energies(ana.get(url + f"?connection={sessions['shares'].pk}&status=completed")) == [
        "12.000",
        "3.100",
        "7.250",
    ]
    # A connection without data sharing is not offered and shows no session one by one.
    page = ana.get(url + f"?connection={sessions['private'].pk}")
    assert energies(page) == []
    assert f'<option value="{sessions["private"].pk}"' not in page.content.decode()


def test_the_home_charging_page_tells_what_it_ignored(world, sessions):
    page = client_for(world.ana).get(
        reverse("charging:sessions")
        + "?connection=x&status=boiling&start=2026-02-30&end=soon&sort=id_tag"
    )
    assert page.status_code == 200
    text = page.content.decode()
    for said in ("Unknown connection", "Unknown status", "is not a date", "Cannot sort by"):
        assert said in text, said
    assert energies(page) == ["12.000", "3.100", "7.250"]


def test_swapped_dates_are_swapped_back(world, sessions):
    today = timezone.localtime().date()
    start, end = today.isoformat(), (today - timedelta(days=5)).isoformat()
    page = client_for(world.ana).get(reverse("charging:sessions") + f"?start={start}&end={end}")
    assert "the dates were swapped" in page.content.decode()


def test_the_sessions_export_has_what_the_filter_shows(world, sessions):
    rows = download(
        client_for(world.ana).get(reverse("charging:sessions") + "?q=alice&sort=energy&export=csv")
    )
    assert rows[0] == [
        "Start",
        "End",
        "Duration (minutes)",
        "Energy (kWh)",
        "Driver",
        "Connection",
        "Charger",
        "Status",
        "Review",
    ]
    assert [r[3] for r in rows[1:]] == ["7.250", "12.000"]
    a1 = sessions["a1"]
    assert rows[1][0] == timezone.localtime(a1.started_at).strftime("%Y-%m-%d %H:%M")
    assert rows[1][2] == "60" and rows[1][4] == "alice@example.com" and rows[1][5] == "Shares"


def test_a_connections_officer_sees_no_session_energy_on_the_page_or_in_a_file(world, sessions):
    otto = client_for(world.otto)
    page = otto.get(reverse("charging:sessions") + "?q=alice")
    assert page.status_code == 200
    text = page.content.decode()
    assert "Your role does not show charging sessions" in text
    assert "12.000" not in text and "Export (CSV)" not in text
    assert otto.get(reverse("charging:sessions") + "?export=csv").status_code == 403


def test_a_grant_without_view_transactions_shows_no_sessions_of_the_grantor(world, sessions):
    make_grant(world.org_a, world.org_b, rights=("manage_drivers", "view_installations"))
    bob = client_for(world.bob)
    rows = download(bob.get(reverse("charging:sessions") + "?export=csv"))
    assert [r[4] for r in rows[1:]] == ["rita@example.com"]  # Rival's own only
    make_grant(world.org_a, world.org_b, rights=("view_transactions",))
    rows = download(client_for(world.bob).get(reverse("charging:sessions") + "?export=csv"))
    assert sorted(r[4] for r in rows[1:]) == [
        "alice@example.com",
        "alice@example.com",
        "bert@example.com",
        "rita@example.com",
    ]


def test_the_home_charging_page_uses_a_fixed_number_of_queries(world, sessions):
    ana = client_for(world.ana)
    ana.get(reverse("charging:sessions") + "?q=example")
    with CaptureQueriesContext(db_connection) as few:
        ana.get(reverse("charging:sessions") + "?q=example")
    for i in range(15):
        driver = person(f"d{i}@example.com")
        make_membership(sessions["shares"], driver)
        make_home_session(sessions["shares"], driver, 1_000 + i)
    with CaptureQueriesContext(db_connection) as many:
        ana.get(reverse("charging:sessions") + "?q=example")
    assert len(many) == len(few)


def test_a_day_filter_counts_in_local_time(world, sessions, settings):
    """A session started at 23:30 UTC on 1 March is on 2 March in Amsterdam."""
    late = sessions["b1"]
    late.started_at = datetime(2026, 3, 1, 23, 30, tzinfo=UTC)
    late.ended_at = late.started_at + timedelta(hours=1)
    late.save(update_fields=["started_at", "ended_at"])
    ana = client_for(world.ana)
    url = reverse("charging:sessions")
    assert energies(ana.get(url + "?start=2026-03-02&end=2026-03-02")) == ["3.100"]
    assert energies(ana.get(url + "?start=2026-03-01&end=2026-03-01")) == []
