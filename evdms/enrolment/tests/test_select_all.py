"""Select-all on Connection Requests and Drivers, and the Drivers page's "Home charger
installed" column, as admins meet them."""

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
from evdms.enrolment import views
from evdms.enrolment.models import Membership, MembershipStatus
from evdms.testing.fixtures import client_for, make_connection, make_membership
from evdms.testing.installations import make_installer, make_job

pytestmark = pytest.mark.django_db


def person(email: str, name: str = "") -> User:
    return User.objects.create_user(
        email, "a long passphrase 1", full_name=name or email.split("@")[0].title()
    )


def _as_of(page: str) -> str:
    found = re.search(r'name="as_of" value="([^"]+)"', page)
    assert found, "the form carries the moment it was shown"
    return found.group(1)


# --- Drivers: every connected driver matching the filter ------------------------------


@pytest.fixture
def fleet(world):
    home = make_connection(world.org_a, name="Home")
    public = make_connection(world.org_a, name="Public", provide_home_charger="no")
    rival = make_connection(world.org_b, name="Rival")
    at_home = [make_membership(home, person(f"h{i}@example.com")) for i in range(3)]
    pending = make_membership(home, person("pending@example.com"), "pending")
    elsewhere = make_membership(public, person("p@example.com"))
    theirs = make_membership(rival, person("r@example.com"))
    return {
        "home": home,
        "at_home": at_home,
        "pending": pending,
        "elsewhere": elsewhere,
        "theirs": theirs,
    }


def test_the_drivers_page_offers_select_all_on_the_page_and_every_match(world, fleet):
    page = client_for(world.nadia).get(reverse("enrolment:drivers")).content.decode()
    # Shown by the script (hidden without it, where the "every match" box does the work).
    select_all = r'<input type="checkbox" class="select-all" data-select-all="ids"[^>]*hidden'
    assert re.search(select_all, page)
    assert 'aria-label="Select every connected driver on this page"' in page
    assert 'name="all" value="matching"' in page
    assert "Every connected driver matching the filter" in page


def test_removing_every_match_removes_the_filtered_connected_drivers_only(world, fleet):
    nadia = client_for(world.nadia)
    shown = nadia.get(reverse("enrolment:drivers") + f"?connection={fleet['home'].pk}")
    response = nadia.post(
        reverse("enrolment:drivers_remove"),
        {
            "all": "matching",
            "connection": fleet["home"].pk,
            "q": "",
            "status": "",
            "as_of": _as_of(shown.content.decode()),
        },
        follow=True,
    )
    assert "3 drivers removed" in response.content.decode()
    statuses = {
        m.pk: m.status for m in Membership.objects.filter(pk__in=[m.pk for m in fleet["at_home"]])
    }
    assert set(statuses.values()) == {MembershipStatus.REMOVED}
    for untouched in ("pending", "elsewhere", "theirs"):
        fleet[untouched].refresh_from_db()
        assert fleet[untouched].status != MembershipStatus.REMOVED, untouched


def test_every_match_leaves_out_drivers_who_came_after_the_page_was_shown(world, fleet):
    nadia = client_for(world.nadia)
    as_of = _as_of(nadia.get(reverse("enrolment:drivers")).content.decode())
    late = make_membership(fleet["home"], person("late@example.com"))
    late.requested_at = timezone.now() + timedelta(seconds=5)
    late.save(update_fields=["requested_at"])
    nadia.post(
        reverse("enrolment:drivers_remove"),
        {"all": "matching", "connection": fleet["home"].pk, "as_of": as_of},
    )
    late.refresh_from_db()
    assert late.status == MembershipStatus.CONNECTED
    assert Membership.objects.filter(status=MembershipStatus.REMOVED).count() == 3


def test_every_match_above_the_limit_changes_nothing_and_says_why(world, fleet, monkeypatch):
    monkeypatch.setattr(views, "BULK_LIMIT", 2)
    nadia = client_for(world.nadia)
    as_of = _as_of(nadia.get(reverse("enrolment:drivers")).content.decode())
    response = nadia.post(
        reverse("enrolment:drivers_remove"), {"all": "matching", "as_of": as_of}, follow=True
    )
    assert "More than 2 match" in response.content.decode()
    assert not Membership.objects.filter(status=MembershipStatus.REMOVED).exists()


def test_every_match_without_the_moment_shown_changes_nothing(world, fleet):
    for as_of in ("", "yesterday", "2026-13-45T10:00:00+00:00", "2026-01-01T10:00:00"):
        response = client_for(world.nadia).post(
            reverse("enrolment:drivers_remove"), {"all": "matching", "as_of": as_of}, follow=True
        )
        assert response.status_code == 200
        assert "nothing was changed" in response.content.decode()
    assert not Membership.objects.filter(status=MembershipStatus.REMOVED).exists()


def test_a_limited_admin_removing_every_match_reaches_only_their_connections(world, fleet):
    otto = world.otto
    otto.all_connections = False
    otto.save(update_fields=["all_connections"])
    otto.connections.set([fleet["home"]])
    client = client_for(otto)
    as_of = _as_of(client.get(reverse("enrolment:drivers")).content.decode())
    client.post(reverse("enrolment:drivers_remove"), {"all": "matching", "as_of": as_of})
    fleet["elsewhere"].refresh_from_db()
    assert fleet["elsewhere"].status == MembershipStatus.CONNECTED
    assert Membership.objects.filter(status=MembershipStatus.REMOVED).count() == 3


# --- Connection Requests: all waiting -------------------------------------------------


def test_approving_all_waiting_requests_decides_those_of_every_page(world, fleet):
    waiting = [
        make_membership(fleet["home"], person(f"w{i}@example.com"), "pending")
        for i in range(views.PAGE_SIZE + 2)
    ]
    rival_pending = make_membership(fleet["theirs"].connection, person("rp@example.com"), "pending")
    nadia = client_for(world.nadia)
    page = nadia.get(reverse("enrolment:requests")).content.decode()
    assert 'aria-label="Select every request on this page"' in page
    assert f"All {len(waiting) + 1} waiting requests" in page  # with fleet's pending one
    response = nadia.post(
        reverse("enrolment:requests_decide"),
        {"all": "matching", "decision": "approve", "as_of": _as_of(page)},
        follow=True,
    )
    assert f"{len(waiting) + 1} requests approved" in response.content.decode()
    assert not Membership.objects.filter(
        organisation=world.org_a, status=MembershipStatus.PENDING
    ).exists()
    rival_pending.refresh_from_db()
    assert rival_pending.status == MembershipStatus.PENDING


def test_all_waiting_leaves_a_request_that_arrived_after_the_page(world, fleet):
    nadia = client_for(world.nadia)
    as_of = _as_of(nadia.get(reverse("enrolment:requests")).content.decode())
    late = make_membership(fleet["home"], person("late@example.com"), "pending")
    late.requested_at = timezone.now() + timedelta(seconds=5)
    late.save(update_fields=["requested_at"])
    nadia.post(
        reverse("enrolment:requests_decide"),
        {"all": "matching", "decision": "deny", "as_of": as_of},
    )
    fleet["pending"].refresh_from_db()
    late.refresh_from_db()
    assert fleet["pending"].status == MembershipStatus.DENIED
    assert late.status == MembershipStatus.PENDING


def test_ticked_requests_are_still_decided_one_by_one(world, fleet):
    other = make_membership(fleet["home"], person("o@example.com"), "pending")
    client_for(world.nadia).post(
        reverse("enrolment:requests_decide"), {"ids": [other.pk], "decision": "approve"}
    )
    other.refresh_from_db()
    fleet["pending"].refresh_from_db()
    assert other.status == MembershipStatus.CONNECTED
    assert fleet["pending"].status == MembershipStatus.PENDING


# --- Drivers: Home charger installed ---------------------------------------------------


def _installed_column(page: str) -> dict[str, str]:
    """E-mail → the Home charger installed cell, row by row."""
    cells = {}
    for row in re.findall(r"<tr>(.*?)</tr>", page, re.S):
        email = re.search(r'<span class="muted[^"]*">([^<]+@[^<]+)</span>', row)
        tds = re.findall(r"<td[^>]*>(.*?)</td>", row, re.S)
        if email and len(tds) >= 9:
            cells[email.group(1)] = tds[8].strip()
    return cells


def test_the_drivers_page_says_whether_the_home_charger_is_installed(world):
    home = make_connection(world.org_a, name="Home")
    installer = make_installer()
    done = make_job(home, person("done@example.com"), installer.company, status="commissioned")
    done.installed_at = datetime(2026, 3, 12, 9, 30, tzinfo=UTC)
    done.save(update_fields=["installed_at"])
    make_job(home, person("busy@example.com"), installer.company, status="scheduled")
    gone = make_job(home, person("gone@example.com"), installer.company, status="installed")
    gone.installed_at = datetime(2026, 2, 1, tzinfo=UTC)  # installed, then cancelled
    gone.status, gone.cancel_reason = "cancelled", "Driver moved"
    gone.save(update_fields=["installed_at", "status", "cancel_reason"])
    make_membership(home, person("none@example.com"))
    page = client_for(world.nadia).get(reverse("enrolment:drivers")).content.decode()
    assert "Home charger installed" in page
    assert _installed_column(page) == {
        "done@example.com": "Installed 12 Mar 2026",
        "busy@example.com": "Job in progress",
        "gone@example.com": "—",
        "none@example.com": "—",
    }


def test_a_job_of_another_connection_is_not_this_rows_charger(world):
    home = make_connection(world.org_a, name="Home")
    other = make_connection(world.org_b, name="Rival's")  # the same driver leases there too
    driver = person("two@example.com")
    make_job(other, driver, make_installer().company, status="scheduled")
    make_membership(home, driver)
    rows = client_for(world.nadia).get(reverse("enrolment:drivers") + f"?connection={home.pk}")
    assert _installed_column(rows.content.decode()) == {"two@example.com": "—"}


def test_the_drivers_export_has_the_installation_date(world):
    home = make_connection(world.org_a, name="Home")
    job = make_job(home, person("done@example.com"), make_installer().company, status="installed")
    job.installed_at = datetime(2026, 3, 12, 9, 30, tzinfo=UTC)
    job.save(update_fields=["installed_at"])
    response = client_for(world.nadia).get(reverse("enrolment:drivers") + "?export=csv")
    body = b"".join(response.streaming_content)  # type: ignore[attr-defined]
    rows = list(csv.reader(io.StringIO(body.decode("utf-8-sig"))))
    assert rows[0][-1] == "Home charger installed"
    assert rows[1][-1] == "2026-03-12"


def test_the_drivers_page_reads_installations_in_a_fixed_number_of_queries(world):
    home = make_connection(world.org_a, name="Home")
    installer = make_installer()
    nadia = client_for(world.nadia)
    make_job(home, person("first@example.com"), installer.company, status="installed")
    nadia.get(reverse("enrolment:drivers"))
    with CaptureQueriesContext(db_connection) as few:
        nadia.get(reverse("enrolment:drivers"))
    for i in range(20):
        make_job(home, person(f"d{i}@example.com"), installer.company, status="scheduled")
        make_membership(home, person(f"m{i}@example.com"))
    with CaptureQueriesContext(db_connection) as many:
        page = nadia.get(reverse("enrolment:drivers")).content.decode()
    assert page.count("Job in progress") == 20
    assert len(many) == len(few)


def test_all_waiting_under_a_customer_id_filter_decides_only_the_filtered_ones(world, fleet):
    """ "All matching" is what the filtered page showed, not every waiting request."""
    crm = make_connection(world.org_a, name="Crm", customer_id="CRM-1001")
    filtered = make_membership(crm, person("crm@example.com"), "pending")
    query = "customer_id=crm-1001&customer_id_match=contains"
    nadia = client_for(world.nadia)
    page = nadia.get(f"{reverse('enrolment:requests')}?{query}").content.decode()
    assert "All 1 waiting request matching the filter" in page
    assert f'action="{reverse("enrolment:requests_decide")}?{query.replace("&", "&amp;")}"' in page
    response = nadia.post(
        f"{reverse('enrolment:requests_decide')}?{query}",
        {"all": "matching", "decision": "approve", "as_of": _as_of(page)},
    )
    assert response.status_code == 302 and response["Location"].endswith(f"?{query}")
    filtered.refresh_from_db()
    fleet["pending"].refresh_from_db()
    assert filtered.status == MembershipStatus.CONNECTED
    assert fleet["pending"].status == MembershipStatus.PENDING
