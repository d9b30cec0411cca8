"""Pushing our tokens to every registered partner's Tokens Receiver (the spec's push
model): an outbox of ``TokenPush`` rows, one per (partner, token, revision), sent by the
worker.

- ``token_changed`` (sent by the token services after their commit) records a push for
  each REGISTERED partner whose version details list a ``tokens`` RECEIVER endpoint, and
  enqueues a send for each of those partners on commit.
- ``token_pushes_send(partner_id)`` sends, per token, only the newest pending revision
  (``PUT {url}/{cc}/{pid}/{uid}?type=TYPE`` with the token's current object; an invalid
  token is sent with ``valid=false``, never deleted) and marks older pending ones
  SUPERSEDED, so a partner never hears an older state after a newer one.
- A failure keeps the push: ``attempts`` + 1, ``next_attempt_at`` after an exponential
  back-off (30 s doubling, capped at 1 h) and ``last_error`` for the operator. After
  ``HOLD_AFTER`` failures in a row in one run the partner is taken as down and its other
  due pushes wait the same back-off instead of each timing out.
- The safety net (``token_pushes_due``, every 10 minutes from the scheduler) sends what
  is due: retries, and pushes whose task was lost. Retries are therefore not earlier than
  the next tick after their ``next_attempt_at``: re-enqueuing each failed run with
  ``run_after`` would start one retry chain per change while a partner is down.
- Idempotent: a push is claimed with a conditional update (a short lease on
  ``next_attempt_at``) before it is sent, so a second run, or a second worker, never
  sends it again; a claimed push whose worker died is due again when the lease ends.

Ordering holds with one sender per partner at a time (one worker, or runs that do not
overlap): with two workers sending two revisions of one token to one partner at the
same moment, the PUTs could cross; the lease keeps a revision from being sent twice but
does not serialise a partner's sends (that would hold a lock over an HTTP call).

A partner that registers later gets no backlog: the spec's pull model is for that
("wants to request the full list as a start-up of their system"), and it pulls our
list (``GET tokens``); from its registration on it receives every change.
"""

from __future__ import annotations

import logging
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from functools import partial
from typing import Any
from urllib.parse import quote

from django.conf import settings
from django.db import transaction
from django.db.models import Min
from django.utils import timezone
from django_tasks import task

from evdms.ocpi import client
from evdms.ocpi.models import Partner, PartnerStatus, PushState, TokenPush
from evdms.ocpi.tokens import token_object
from evdms.public_charging.models import Token

logger = logging.getLogger("evdms.ocpi")

FIRST_RETRY = timedelta(seconds=30)
MAX_RETRY = timedelta(hours=1)
# Longer than a partner's timeout: a push being sent is not taken up by another run.
LEASE = timedelta(minutes=2)
# Failures in a row, in one run, after which a partner is taken as down.
HOLD_AFTER = 3
# Tokens sent per run; a run that filled its batch enqueues the next one.
BATCH = 200


def retry_delay(attempts: int) -> timedelta:
    """The wait after the ``attempts``-th failed attempt: 30 s, 1 min, 2 min, … 1 h."""
    delay: timedelta = FIRST_RETRY * (2 ** min(max(attempts - 1, 0), 20))
    return min(delay, MAX_RETRY)


def tokens_receiver_url(partner: Partner) -> str | None:
    url = partner.endpoint_url("tokens", "RECEIVER")
    return url.rstrip("/") if url else None


def token_receivers() -> list[Partner]:
    """Registered partners with a Tokens Receiver endpoint (a handful: a Python filter
    over the JSON list of endpoints is enough)."""
    partners = Partner.objects.filter(status=PartnerStatus.REGISTERED)
    return [p for p in partners if tokens_receiver_url(p)]


def token_push_record(token: Token) -> list[TokenPush]:
    """Record ``token``'s current revision for every partner to hear, and enqueue the
    sends on commit. Recording the same revision twice records nothing more."""
    partners = token_receivers()
    if not partners:
        return []
    now = timezone.now()
    with transaction.atomic():
        pushes = TokenPush.objects.bulk_create(
            [
                TokenPush(
                    partner=p,
                    token=token,
                    revision=token.revision,
                    next_attempt_at=now,
                    created_at=now,
                )
                for p in partners
            ],
            ignore_conflicts=True,
        )
        for partner in partners:
            transaction.on_commit(partial(enqueue_send, partner.pk))
    return pushes


def on_token_changed(sender: Any, token: Token, **kwargs: Any) -> None:
    """The ``token_changed`` receiver (connected in ``OcpiConfig.ready``). It runs after
    the token's change committed: a failure here must not turn the driver's or admin's
    finished request into an error page, so it is logged (partners can still pull)."""
    try:
        token_push_record(token)
    except Exception:
        logger.exception("Could not record the pushes of token %s", token.pk)


def enqueue_send(partner_id: int) -> Any:
    return ocpi_token_pushes_send.enqueue(partner_id=partner_id)


@dataclass
class SendRun:
    sent: int = 0
    failed: int = 0
    superseded: int = 0
    held_back: int = 0
    more: bool = False  # the batch was full: more may be due
    # The last failure's back-off and error (what held-back pushes wait for).
    retry_at: datetime | None = None
    error: str = ""


def token_pushes_send(partner_id: int, *, now: datetime | None = None) -> SendRun:
    """Send the partner's due pushes, newest revision per token (see the module)."""
    now = now or timezone.now()
    run = SendRun()
    partner = Partner.objects.filter(pk=partner_id, status=PartnerStatus.REGISTERED).first()
    url = tokens_receiver_url(partner) if partner else None
    if partner is None or url is None:
        # Unregistered, suspended or without a Receiver: kept pending, not sent; the
        # safety net does not pick them up either (it takes registered partners only).
        return run
    due = TokenPush.objects.filter(partner=partner, state=PushState.PENDING)
    token_ids = list(
        due.filter(next_attempt_at__lte=now)
        .values("token_id")
        .annotate(first=Min("created_at"))
        .order_by("first", "token_id")
        .values_list("token_id", flat=True)[:BATCH]
    )
    run.more = len(token_ids) == BATCH
    failures_in_a_row = 0
    for token_id in token_ids:
        outcome = _send_one(partner, url, token_id, now, run)
        if outcome is None:
            continue
        if outcome:
            failures_in_a_row = 0
            continue
        failures_in_a_row += 1
        if failures_in_a_row >= HOLD_AFTER:
            run.held_back = _hold_back(partner, now, run)
            run.more = False
            break
    if run.more:
        transaction.on_commit(partial(enqueue_send, partner.pk))
    return run


def _send_one(
    partner: Partner, url: str, token_id: int, now: datetime, run: SendRun
) -> bool | None:
    """Send one token's newest pending push: True sent, False failed, None nothing to do
    (claimed by another run, backed off, or already heard)."""
    pushes = TokenPush.objects.filter(partner=partner, token_id=token_id)
    newest = pushes.filter(state=PushState.PENDING).order_by("-revision").first()
    if newest is None or newest.next_attempt_at > now:
        return None
    run.superseded += pushes.filter(state=PushState.PENDING, revision__lt=newest.revision).update(
        state=PushState.SUPERSEDED
    )
    if pushes.filter(state=PushState.SENT, revision__gte=newest.revision).exists():
        # A late signal for a revision the partner already has (or a newer one).
        run.superseded += pushes.filter(pk=newest.pk, state=PushState.PENDING).update(
            state=PushState.SUPERSEDED
        )
        return None
    claimed = pushes.filter(
        pk=newest.pk, state=PushState.PENDING, next_attempt_at=newest.next_attempt_at
    ).update(next_attempt_at=now + LEASE)
    if claimed != 1:
        return None  # another run took it
    token = Token.objects.get(pk=token_id)
    body = token_object(token)
    target = (
        f"{url}/{quote(settings.OCPI_COUNTRY_CODE)}/{quote(settings.OCPI_PARTY_ID)}/"
        f"{quote(token.uid, safe='')}?type={token.type}"
    )
    attempts = newest.attempts + 1
    try:
        client.call("PUT", target, partner.token_b, body)
    except client.PeerError as exc:
        run.retry_at, run.error = now + retry_delay(attempts), str(exc)[:255]
        pushes.filter(pk=newest.pk, state=PushState.PENDING).update(
            attempts=attempts, next_attempt_at=run.retry_at, last_error=run.error
        )
        run.failed += 1
        return False
    pushes.filter(pk=newest.pk, state=PushState.PENDING).update(
        state=PushState.SENT, attempts=attempts, sent_at=timezone.now(), last_error=""
    )
    run.sent += 1
    return True


def _hold_back(partner: Partner, now: datetime, run: SendRun) -> int:
    """The partner looks down: its other due pushes wait as long as the last failure's,
    each keeping its own attempt count (they were not tried)."""
    assert run.retry_at is not None
    return TokenPush.objects.filter(
        partner=partner, state=PushState.PENDING, next_attempt_at__lte=now
    ).update(next_attempt_at=run.retry_at, last_error=f"Held back, partner down: {run.error}"[:255])


def token_pushes_due(now: datetime | None = None) -> list[int]:
    """The safety net: enqueue a send for each registered partner with due pushes."""
    now = now or timezone.now()
    partner_ids = list(
        TokenPush.objects.filter(
            state=PushState.PENDING,
            next_attempt_at__lte=now,
            partner__status=PartnerStatus.REGISTERED,
        )
        .values_list("partner_id", flat=True)
        .distinct()
        .order_by("partner_id")
    )
    for partner_id in partner_ids:
        enqueue_send(partner_id)
    return partner_ids


# --- the worker's tasks (``evdms.ocpi.tasks`` names them too) ---------------------------
# Defined here, beside the sends they run and the enqueueing above, so that this module
# and the tasks module do not import each other.


@task()
def ocpi_token_pushes_send(*, partner_id: int) -> dict[str, Any]:
    """Send one partner's due token pushes; safe to run any number of times."""
    run = token_pushes_send(partner_id)
    result = asdict(run)
    result["retry_at"] = run.retry_at.isoformat() if run.retry_at else None
    return result


@task()
def ocpi_token_pushes_due() -> list[int]:
    """The safety net (every 10 minutes, from the scheduler): enqueue a send for each
    partner with pushes due (retries after a failure, or a lost task)."""
    return token_pushes_due()
