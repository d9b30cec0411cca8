"""Connection Alerts: the admins who may decide a connection request are e-mailed about
it, at once or in a daily digest, and nobody else is."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from django.utils import timezone

from evdms.accounts.models import Admin, ConnectionAlerts, Grant, Role, User
from evdms.enrolment import services
from evdms.enrolment.models import ConnectionAlertDigest, Membership
from evdms.enrolment.services.alerts import connection_alert_digests_send
from evdms.reimbursements import scheduler
from evdms.testing.fixtures import make_admin, make_connection, make_membership, make_organisation

pytestmark = pytest.mark.django_db

REQUESTS_PAGE = "http://127.0.0.1:8000/requests/"


def driver(email: str, name: str) -> User:
    user = User.objects.create_user(email, "a long driver passphrase", full_name=name)
    user.email_confirmed_at = timezone.now()
    user.save()
    return user


def alerted(admin: Admin, alerts: str) -> Admin:
    admin.connection_alerts = alerts
    admin.save(update_fields=["connection_alerts"])
    return admin


def limited(admin: Admin, *connections) -> Admin:
    admin.all_connections = False
    admin.save(update_fields=["all_connections"])
    admin.connections.set(connections)
    return admin


@pytest.fixture
def scene(world):
    """Voltlease's Home and Fleet connections (manual approval); Rival Lease may invite and
    approve drivers of Home only (a grant on that connection); Sunny Co may only view
    Voltlease's transactions."""
    home = make_connection(world.org_a, name="Home", provide_home_charger="no")
    fleet = make_connection(world.org_a, name="Fleet", provide_home_charger="no")
    rival = make_connection(world.org_b, name="Rival Home", provide_home_charger="no")
    grant = Grant.objects.create(
        grantor=world.org_a, grantee=world.org_b, can_manage_drivers=True, all_connections=False
    )
    grant.connections.set([home])
    sunny = make_organisation("sunny", "Sunny Co")
    Grant.objects.create(grantor=world.org_a, grantee=sunny, can_view_transactions=True)
    sam = make_admin(sunny, "sam@sunny.example", Role.NETWORK_MANAGER, full_name="Sam Sunny")
    lina = make_admin(
        world.org_a, "lina@voltlease.example", Role.CONNECTIONS_OFFICER, full_name="Lina Fleet"
    )
    olaf = make_admin(
        world.org_a, "olaf@voltlease.example", Role.CONNECTIONS_OFFICER, full_name="Olaf Off"
    )
    limited(lina, fleet)
    return {
        "world": world,
        "home": home,
        "fleet": fleet,
        "rival": rival,
        "sam": sam,
        "lina": lina,
        "olaf": olaf,
    }


def ask(connection, user: User) -> Membership:
    return services.membership_request(driver=user, connection=connection, answers={})


def alerts_to(mailoutbox) -> list[str]:
    return sorted(m.to[0] for m in mailoutbox if "asks to join" in m.subject)


# --- immediately --------------------------------------------------------------------


def test_a_pending_request_alerts_at_once_the_admins_who_may_decide_it_only(
    scene, mailoutbox, django_capture_on_commit_callbacks
):
    world = scene["world"]
    for admin in (world.otto, world.ana, world.bob, scene["sam"], scene["lina"]):
        alerted(admin, ConnectionAlerts.IMMEDIATE)
    # Olaf could decide it but keeps alerts off; so does Nadia (the default).
    with django_capture_on_commit_callbacks(execute=True):
        ask(scene["home"], driver("dan@example.com", "Dan O'Brien & Sons"))

    # Otto (all connections) and Bob (a grant to approve drivers of Home); not Lina
    # (limited to Fleet), not Ana (an Analyst), not Sam (a grant to view transactions).
    assert alerts_to(mailoutbox) == ["bob@rival.example", "otto@voltlease.example"]
    to_otto = next(m for m in mailoutbox if m.to == ["otto@voltlease.example"])
    assert to_otto.subject == "Dan O'Brien & Sons asks to join Home"
    assert "Dan O'Brien & Sons <dan@example.com> asks to join Home." in to_otto.body
    assert REQUESTS_PAGE in to_otto.body
    assert "&amp;" not in to_otto.body and "&#x27;" not in to_otto.body
    to_bob = next(m for m in mailoutbox if m.to == ["bob@rival.example"])
    assert "asks to join Home of Voltlease." in to_bob.body


def test_a_request_on_a_connection_of_a_limited_admin_alerts_them(
    scene, mailoutbox, django_capture_on_commit_callbacks
):
    world = scene["world"]
    for admin in (world.otto, world.bob, scene["lina"]):
        alerted(admin, ConnectionAlerts.IMMEDIATE)
    with django_capture_on_commit_callbacks(execute=True):
        ask(scene["fleet"], driver("erin@example.com", "Erin Driver"))

    # Bob's grant is on Home only.
    assert alerts_to(mailoutbox) == ["lina@voltlease.example", "otto@voltlease.example"]


def test_no_alert_for_a_request_approved_automatically_or_for_a_disabled_admin(
    scene, mailoutbox, django_capture_on_commit_callbacks
):
    world = scene["world"]
    alerted(world.otto, ConnectionAlerts.IMMEDIATE)
    alerted(scene["olaf"], ConnectionAlerts.IMMEDIATE)
    scene["olaf"].status = "disabled"
    scene["olaf"].save(update_fields=["status"])
    auto = make_connection(
        world.org_a, name="Auto", provide_home_charger="no", approval_type="auto"
    )
    with django_capture_on_commit_callbacks(execute=True):
        ask(auto, driver("fay@example.com", "Fay Driver"))
    assert alerts_to(mailoutbox) == []

    with django_capture_on_commit_callbacks(execute=True):
        ask(scene["home"], driver("gus@example.com", "Gus Driver"))
    assert alerts_to(mailoutbox) == ["otto@voltlease.example"]


def test_a_revoked_grant_alerts_no_more(scene, mailoutbox, django_capture_on_commit_callbacks):
    world = scene["world"]
    alerted(world.bob, ConnectionAlerts.IMMEDIATE)
    Grant.objects.filter(grantee=world.org_b).update(revoked_at=timezone.now())
    with django_capture_on_commit_callbacks(execute=True):
        ask(scene["home"], driver("dan@example.com", "Dan Driver"))
    assert alerts_to(mailoutbox) == []


# --- daily digest -------------------------------------------------------------------


def digests(mailoutbox) -> dict[str, str]:
    return {m.to[0]: m.body for m in mailoutbox if "waiting for a decision" in m.subject}


@pytest.fixture
def waiting(scene):
    """Pending: Dan on Home, Erin on Fleet (Voltlease), Rita on Rival Home (Rival Lease);
    Carl is connected to Home already."""
    make_membership(scene["home"], driver("dan@example.com", "Dan O'Brien"), "pending")
    make_membership(scene["fleet"], driver("erin@example.com", "Erin Driver"), "pending")
    make_membership(scene["rival"], driver("rita@example.com", "Rita Rival"), "pending")
    make_membership(scene["home"], driver("carl@example.com", "Carl Connected"), "connected")
    return scene


def test_the_daily_digest_lists_the_requests_each_admin_may_decide(
    waiting, mailoutbox, django_capture_on_commit_callbacks
):
    world = waiting["world"]
    for admin in (world.otto, world.ana, world.bob, waiting["sam"], waiting["lina"]):
        alerted(admin, ConnectionAlerts.DAILY)
    alerted(world.nadia, ConnectionAlerts.IMMEDIATE)  # at once, not in a digest

    with django_capture_on_commit_callbacks(execute=True):
        sent = connection_alert_digests_send(day=date(2026, 11, 20))

    assert sent == 3
    got = digests(mailoutbox)
    assert sorted(got) == ["bob@rival.example", "lina@voltlease.example", "otto@voltlease.example"]
    assert "2 connection requests you may decide are waiting" in got["otto@voltlease.example"]
    assert "Dan O'Brien <dan@example.com>, Home, asked on" in got["otto@voltlease.example"]
    assert "Erin Driver" in got["otto@voltlease.example"]
    assert "Rita" not in got["otto@voltlease.example"]
    assert "Carl" not in got["otto@voltlease.example"]
    assert "Erin Driver" in got["lina@voltlease.example"]
    assert "Dan" not in got["lina@voltlease.example"]
    # Bob: his own organisation's request, and Home of Voltlease through the grant.
    assert "Rita Rival <rita@example.com>, Rival Home, asked on" in got["bob@rival.example"]
    assert "Dan O'Brien <dan@example.com>, Home of Voltlease, asked on" in got["bob@rival.example"]
    assert "Erin" not in got["bob@rival.example"]
    assert REQUESTS_PAGE in got["bob@rival.example"]


def test_the_digest_is_sent_once_a_day_and_not_when_nothing_waits(
    waiting, mailoutbox, django_capture_on_commit_callbacks
):
    world = waiting["world"]
    alerted(world.otto, ConnectionAlerts.DAILY)
    quiet = make_connection(world.org_a, name="Quiet", provide_home_charger="no")
    lena = make_admin(world.org_a, "lena@voltlease.example", Role.CONNECTIONS_OFFICER)
    alerted(limited(lena, quiet), ConnectionAlerts.DAILY)

    with django_capture_on_commit_callbacks(execute=True):
        assert connection_alert_digests_send(day=date(2026, 11, 20)) == 1
        assert connection_alert_digests_send(day=date(2026, 11, 20)) == 0
    assert list(digests(mailoutbox)) == ["otto@voltlease.example"]
    assert len(mailoutbox) == 1
    assert ConnectionAlertDigest.objects.get().requests == 2

    with django_capture_on_commit_callbacks(execute=True):
        assert connection_alert_digests_send(day=date(2026, 11, 21)) == 1
    assert len(mailoutbox) == 2


def test_the_scheduler_sends_the_digests_once_a_day(
    waiting, mailoutbox, django_capture_on_commit_callbacks, monkeypatch
):
    alerted(waiting["world"].otto, ConnectionAlerts.DAILY)
    jobs = [job for job in scheduler.JOBS if job.name == "connection_alert_digests"]
    monkeypatch.setattr(scheduler, "JOBS", jobs)

    morning = datetime(2026, 11, 20, 6, tzinfo=UTC)
    with django_capture_on_commit_callbacks(execute=True):
        runs = scheduler.scheduler_tick(morning)
        assert scheduler.scheduler_tick(morning.replace(hour=9)) == []
    assert [(r.job, r.period) for r in runs] == [("connection_alert_digests", "2026-11-20")]
    assert list(digests(mailoutbox)) == ["otto@voltlease.example"]
    assert len(mailoutbox) == 1
