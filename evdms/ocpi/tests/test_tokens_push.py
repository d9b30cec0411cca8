"""Token pushes to a registered partner's Tokens Receiver: a change reaches the
simulator over real HTTP (the test backend runs the task at once, on commit), only the
newest of quick changes is sent, a partner that is down loses nothing, and running the
sender again sends nothing twice."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import transaction
from django.utils import timezone

from evdms.ocpi import pushes, schema
from evdms.ocpi.models import Partner, PartnerStatus, PushState, TokenPush
from evdms.ocpi.simulator import SimulatedCpo
from evdms.ocpi.tests.conftest import http
from evdms.ocpi.tests.test_tokens_object import make_token, register
from evdms.ocpi.tokens import token_object
from evdms.public_charging.models import Token, TokenBlock
from evdms.public_charging.signals import token_changed
from evdms.reimbursements.models import ScheduledRun
from evdms.reimbursements.scheduler import scheduler_tick

pytestmark = pytest.mark.django_db(transaction=True)


def change(token: Token, **fields: object) -> Token:
    """What the token services do: change, bump the revision, signal after commit."""
    for name, value in fields.items():
        setattr(token, name, value)
    token.revision += 1
    token.last_updated = timezone.now()
    token.save()
    transaction.on_commit(lambda: token_changed.send(sender=Token, token=token))
    return token


def puts_to(cpo: SimulatedCpo) -> list[str]:
    return [path for method, path, _ in cpo.requests if method == "PUT"]


def test_a_new_token_and_its_invalidation_reach_the_simulator(platform, cpo):
    register(cpo)
    card = make_token()
    token_changed.send(sender=Token, token=card)

    assert cpo.state.received_tokens == {card.uid: token_object(card)}
    assert puts_to(cpo) == [f"/ocpi/cpo/2.2.1/tokens/NL/EVD/{card.uid}"]
    assert schema.check(schema.TOKEN, cpo.state.received_tokens[card.uid]) == []
    push = TokenPush.objects.get()
    assert (push.state, push.revision, push.attempts) == (PushState.SENT, 1, 1)
    assert push.sent_at is not None and push.last_error == ""

    # The driver is removed: the token is invalid, sent with valid=false (never deleted).
    change(card, valid=False)
    received = cpo.state.received_tokens[card.uid]
    assert (
        received["valid"] is False
        and received["last_updated"] == token_object(card)["last_updated"]
    )
    assert [m for m, p, _ in cpo.requests if "/tokens/" in p] == ["PUT", "PUT"]
    assert list(TokenPush.objects.order_by("revision").values_list("revision", "state")) == [
        (1, PushState.SENT),
        (2, PushState.SENT),
    ]


def test_the_type_is_in_the_url_and_the_simulator_checks_the_object(platform, cpo):
    register(cpo)
    app = make_token(type="APP_USER")
    token_changed.send(sender=Token, token=app)
    _, path, headers = next(r for r in cpo.requests if r[0] == "PUT")
    assert path.endswith(f"/NL/EVD/{app.uid}")
    assert cpo.state.token_puts[-1]["type"] == "APP_USER"
    assert headers["authorization"].startswith("Token ")
    # The simulator answers a GET with what it holds, for the type asked (RFID if none).
    url = f"{cpo.base_url}/2.2.1/tokens/NL/EVD/{app.uid}"
    token_b = Partner.objects.get().token_b
    assert http("GET", f"{url}?type=APP_USER", token_b).body["data"] == token_object(app)
    assert http("GET", url, token_b).body["status_code"] == 2004


def test_two_quick_changes_send_only_the_newest(platform, cpo):
    register(cpo)
    card = make_token()
    with transaction.atomic():  # both commit before the sender runs
        token_changed.send(sender=Token, token=card)
        change(card, blocked=TokenBlock.LOST, valid=False)
        # The signal of revision 1 arrives after revision 2 was recorded: both pending.
        pushes.token_push_record(card)
    assert len(cpo.state.token_puts) == 1
    assert cpo.state.token_puts[0]["valid"] is False
    states = dict(TokenPush.objects.values_list("revision", "state"))
    assert states == {1: PushState.SUPERSEDED, 2: PushState.SENT}


def test_running_the_sender_again_sends_nothing_twice(platform, cpo):
    register(cpo)
    card = make_token()
    token_changed.send(sender=Token, token=card)
    token_changed.send(sender=Token, token=card)  # the same revision signalled again
    partner = Partner.objects.get()
    assert pushes.token_pushes_send(partner.pk).sent == 0
    assert pushes.token_pushes_send(partner.pk, now=timezone.now() + timedelta(hours=2)).sent == 0
    assert len(cpo.state.token_puts) == 1 and TokenPush.objects.count() == 1
    # A late signal of a revision the partner already has is not sent either.
    TokenPush.objects.create(partner=partner, token=card, revision=0)
    assert pushes.token_pushes_send(partner.pk).sent == 0
    assert TokenPush.objects.get(revision=0).state == PushState.SUPERSEDED


@pytest.mark.parametrize("down", ["503", "unreachable"])
def test_a_partner_that_is_down_loses_nothing(platform, cpo, down):
    register(cpo)
    partner = Partner.objects.get()
    card = make_token()
    cpo.down = down
    before = timezone.now()
    token_changed.send(sender=Token, token=card)

    push = TokenPush.objects.get()
    assert (push.state, push.attempts) == (PushState.PENDING, 1)
    assert "503" in push.last_error if down == "503" else "could not be reached" in push.last_error
    assert before + timedelta(seconds=30) <= push.next_attempt_at
    assert push.next_attempt_at <= timezone.now() + timedelta(seconds=30)
    # Not due yet: the safety net leaves it.
    assert pushes.token_pushes_due() == []
    # Still down at the retry: the back-off doubles.
    retry = push.next_attempt_at
    assert pushes.token_pushes_send(partner.pk, now=retry).failed == 1
    push.refresh_from_db()
    assert push.attempts == 2 and push.next_attempt_at == retry + timedelta(seconds=60)

    cpo.down = ""
    change(card, valid=False)  # a change while down: sent now, the old one superseded
    assert cpo.state.received_tokens[card.uid]["valid"] is False
    assert dict(TokenPush.objects.values_list("revision", "state")) == {
        1: PushState.SUPERSEDED,
        2: PushState.SENT,
    }


def test_the_safety_net_resends_what_is_due_once_the_partner_is_back(platform, cpo):
    register(cpo)
    card = make_token()
    cpo.down = "503"
    token_changed.send(sender=Token, token=card)
    assert cpo.state.token_puts == []
    cpo.down = ""
    later = timezone.now() + timedelta(seconds=31)
    assert pushes.token_pushes_due(later) == [Partner.objects.get().pk]
    # The task the safety net enqueued ran at its own "now" (not yet due): run the send
    # as the worker would once the back-off is over.
    pushes.token_pushes_send(Partner.objects.get().pk, now=later)
    assert cpo.state.received_tokens[card.uid]["uid"] == card.uid
    push = TokenPush.objects.get()
    assert (push.state, push.attempts) == (PushState.SENT, 2)


def test_after_three_failures_the_other_pushes_wait(platform, cpo):
    register(cpo)
    cards = [make_token() for _ in range(5)]
    cpo.down = "503"
    with transaction.atomic():
        for card in cards:
            token_changed.send(sender=Token, token=card)
    # Three tried (and failed), the other two not tried at all.
    rows = list(TokenPush.objects.order_by("pk").values_list("attempts", "last_error"))
    assert [a for a, _ in rows] == [1, 1, 1, 0, 0]
    assert all(e.startswith("Held back, partner down") for _, e in rows[3:])
    assert len(set(TokenPush.objects.values_list("next_attempt_at", flat=True))) == 1


def test_the_back_off_doubles_from_30_seconds_to_an_hour():
    assert [pushes.retry_delay(n).total_seconds() for n in range(1, 10)] == [
        30,
        60,
        120,
        240,
        480,
        960,
        1920,
        3600,
        3600,
    ]
    assert pushes.retry_delay(500) == timedelta(hours=1)


def test_only_registered_partners_with_a_tokens_receiver_get_pushes(platform, cpo):
    Partner.objects.create(name="Pending", status=PartnerStatus.PENDING)
    Partner.objects.create(
        name="No receiver",
        status=PartnerStatus.REGISTERED,
        endpoints=[{"identifier": "tokens", "role": "SENDER", "url": "http://x.example/t"}],
    )
    card = make_token()
    token_changed.send(sender=Token, token=card)
    assert TokenPush.objects.count() == 0

    # A partner registering later gets no backlog; it pulls the list, then hears changes.
    register(cpo)
    assert cpo.state.token_puts == []
    assert [t["uid"] for t in cpo.pull_tokens()] == [card.uid]
    change(card, visual_number="EVD-NEW")
    assert cpo.state.received_tokens[card.uid]["visual_number"] == "EVD-NEW"

    # Suspended: its pushes wait, and are not due for the safety net.
    Partner.objects.filter(name=cpo.name).update(status=PartnerStatus.SUSPENDED)
    assert pushes.token_pushes_send(Partner.objects.get(name=cpo.name).pk).sent == 0


def test_the_scheduler_runs_the_safety_net_every_ten_minutes(platform, cpo, monkeypatch):
    register(cpo)
    card = make_token()
    cpo.down = "503"
    token_changed.send(sender=Token, token=card)
    cpo.down = ""
    now = timezone.now() + timedelta(minutes=1)
    # The task runs with the real clock: make the push due now.
    TokenPush.objects.update(next_attempt_at=timezone.now() - timedelta(seconds=1))
    jobs = [r.job for r in scheduler_tick(now)]
    assert "ocpi_token_pushes" in jobs
    assert cpo.state.received_tokens[card.uid]["uid"] == card.uid
    assert "ocpi_token_pushes" not in [r.job for r in scheduler_tick(now)]
    periods = set(
        ScheduledRun.objects.filter(job="ocpi_token_pushes").values_list("period", flat=True)
    )
    assert len(periods) == 1 and len(next(iter(periods))) == 16


def test_operators_see_the_outbox_and_can_send_again_now(platform, cpo, admin_client):
    register(cpo)
    card = make_token(visual_number="EVD-777")
    cpo.down = "503"
    token_changed.send(sender=Token, token=card)
    listing = admin_client.get("/platform-admin/ocpi/tokenpush/?state=pending").content.decode()
    assert "EVD-777" in listing and "Waiting to be sent" in listing and "HTTP 503" in listing
    push = TokenPush.objects.get()
    detail = admin_client.get(f"/platform-admin/ocpi/tokenpush/{push.pk}/change/")
    assert detail.status_code == 200 and 'name="revision"' not in detail.content.decode()

    cpo.down = ""
    admin_client.post(
        "/platform-admin/ocpi/tokenpush/",
        {"action": "send_again_now", "_selected_action": [push.pk]},
    )
    push.refresh_from_db()
    assert push.state == PushState.SENT and cpo.state.received_tokens[card.uid]["uid"] == card.uid


def test_a_failure_to_record_pushes_does_not_break_the_change(platform, cpo, monkeypatch, caplog):
    register(cpo)
    card = make_token()

    def broken(token: Token) -> None:
        raise RuntimeError("database gone")

    monkeypatch.setattr(pushes, "token_push_record", broken)
    token_changed.send(sender=Token, token=card)  # does not raise
    assert "Could not record the pushes" in caplog.text
    assert TokenPush.objects.count() == 0
