"""Monthly reimbursement statements.

amount per session = energy (kWh, from integer Wh) × min(driver's price, connection's
maximum), the driver's price being the one in force on the session's start date and the
maximum the one in force at the session's start (``connections.MaxPriceChange``). Line
amounts are exact Decimals; the statement total is rounded once, half-up, to the cent.
A session belongs to at most one statement (database constraint); a session that arrives
after its month's statement was made goes into the next month's statement, marked late.

The run streams: drivers are taken in chunks (ordered by id), each chunk's sessions are
read as plain tuples, and the chunk's statements and lines are written by bulk inserts
in one transaction. A run killed at any point therefore leaves only whole statements
(whole chunks), and running again makes exactly the missing ones from the same sessions,
prices and caps. The e-mail with the PDF is not made here (a PDF per statement would be
most of the run's time): once the statements are committed, ``statement_emails.statements_email``
writes each one's outbox row, claimed by ``Statement.emailed_at``, so every driver gets
it exactly once, and a rerun sends whatever a killed run did not.
"""

from __future__ import annotations

from bisect import bisect_right
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from decimal import ROUND_HALF_UP, Decimal
from itertools import groupby
from typing import Any

from django.db import DatabaseError, IntegrityError, transaction
from django.db.models import QuerySet
from django.utils import timezone

from evdms.bulk import insert_rows, plain_rows, statistics_refresh, utc_datetime
from evdms.charging.bounds import LINE_AMOUNT_MAX, MONEY_12_2_MAX, SESSION_WH_STORABLE
from evdms.charging.models import ChargingSession, SessionKind, SessionReview
from evdms.charging.services.sessions import sessions_hold
from evdms.connections.models import Connection
from evdms.connections.selectors import max_price_histories
from evdms.reimbursements import checkpoints
from evdms.reimbursements.models import (
    NO_BANK_DETAILS,
    NO_HOME_PRICE,
    BankAccount,
    CarryOver,
    HomePrice,
    Statement,
    StatementLine,
    StatementStatus,
)
from evdms.reimbursements.statement_emails import statements_email_pending

CENT = Decimal("0.01")
# Drivers per transaction: about 30 sessions each, so some 30,000 lines per bulk insert;
# big enough that per-transaction costs vanish, small enough to keep memory flat.
CHUNK_DRIVERS = 1000
# A chunk that collides with another worker (a statement or a session taken meanwhile) is
# read again and redone; the second time the other worker's statements are skipped.
CHUNK_ATTEMPTS = 3
THOUSAND = Decimal(1000)


@dataclass(frozen=True)
class LineAmount:
    energy_wh: int
    driver_price: Decimal
    cap: Decimal

    @property
    def price_used(self) -> Decimal:
        return min(self.driver_price, self.cap)

    @property
    def amount(self) -> Decimal:
        return Decimal(self.energy_wh) / 1000 * self.price_used


def statement_total(amounts: list[Decimal]) -> Decimal:
    """The one rounding: the exact sum, half-up to the cent."""
    return sum(amounts, Decimal(0)).quantize(CENT, rounding=ROUND_HALF_UP)


def month_bounds(month: date) -> tuple[datetime, datetime]:
    tz = timezone.get_current_timezone()
    start = datetime.combine(month.replace(day=1), time.min, tzinfo=tz)
    following = (month.replace(day=28) + timedelta(days=4)).replace(day=1)
    return start, datetime.combine(following, time.min, tzinfo=tz)


class _Steps:
    """A value that changes at moments (oldest first): the one in force at ``t`` is the
    last whose moment is on or before ``t``; before the first, ``before``. Moments are
    UTC datetimes with the same tzinfo as the sessions', so comparing them is cheap."""

    __slots__ = ("before", "moments", "values")

    def __init__(self, changes: list[tuple[datetime, Any]], before: Any) -> None:
        self.moments = [moment for moment, _ in changes]
        self.values = [value for _, value in changes]
        self.before = before

    def at(self, moment: datetime) -> Any:
        index = bisect_right(self.moments, moment)
        return self.values[index - 1] if index else self.before


def _local_midnight(day: date) -> datetime:
    """When a home price's date begins, in UTC (prices apply from the local day)."""
    local = datetime.combine(day, time.min, tzinfo=timezone.get_current_timezone())
    return local.astimezone(UTC)


# (session id, energy Wh, driver price, cap, price used, exact amount, late)
LineRow = tuple[int, int, Decimal, Decimal, Decimal, Decimal, bool]
# The columns of a statement line, in the order of (statement id, *LineRow).
LINE_FIELDS = (
    "statement",
    "session",
    "energy_wh",
    "driver_price",
    "cap",
    "price_used",
    "amount",
    "late",
)


@dataclass
class _Draft:
    """A statement computed in memory, written with its chunk."""

    driver_id: int
    connection_id: int
    currency: str
    bank_account_id: int | None
    lines: list[LineRow] = field(default_factory=list)
    missing_price: bool = False
    # (failed statement id, its total): payments that failed, added to this statement.
    carried: list[tuple[int, Decimal]] = field(default_factory=list)
    # The exact sum of the lines' amounts, kept as lines are added (not summed again).
    lines_sum: Decimal = Decimal(0)

    def total_with(self, amount: Decimal = Decimal(0)) -> Decimal:
        """The total, with one more line of ``amount``: lines rounded once (as
        ``statement_total``); carried totals are whole cents already."""
        lines = (self.lines_sum + amount).quantize(CENT, rounding=ROUND_HALF_UP)
        return lines + sum((carried for _, carried in self.carried), Decimal(0))

    @property
    def reasons(self) -> list[str]:
        reasons = []
        if self.bank_account_id is None:
            reasons.append(NO_BANK_DETAILS)
        if self.missing_price:
            reasons.append(NO_HOME_PRICE)
        return reasons

    def statement(self, month: date) -> Statement:
        reasons = self.reasons
        return Statement(
            driver_id=self.driver_id,
            connection_id=self.connection_id,
            month=month,
            currency=self.currency,
            total=self.total_with(),
            status=StatementStatus.HELD if reasons else StatementStatus.READY,
            held_reason="; ".join(reasons),
            bank_account_id=self.bank_account_id,
        )


class _Contended(Exception):
    """Another worker changed what the chunk was computed from: read it again."""


@dataclass(frozen=True)
class _Run:
    month: date
    start: datetime  # in UTC
    end: datetime
    caps: dict[int, _Steps]  # per connection: the maximum (None: not reimbursing)
    currencies: dict[int, str]

    def candidates(self) -> QuerySet[ChargingSession]:
        reimbursing = [pk for pk, cap in self.caps.items() if any(cap.values)]
        return ChargingSession.objects.filter(
            kind=SessionKind.HOME,
            status="completed",
            started_at__lt=self.end,
            connection_id__in=reimbursing,
            driver_id__isnull=False,
            statement_line__isnull=True,
            energy_wh__gt=0,
        ).exclude(review__in=[SessionReview.PENDING, SessionReview.REJECTED])

    def failed(self) -> QuerySet[Statement]:
        """Earlier statements whose payment failed and that no statement carries yet."""
        return Statement.objects.filter(
            status=StatementStatus.FAILED, month__lt=self.month, carried_over_to__isnull=True
        )


def statements_run(month: date, *, chunk_size: int = CHUNK_DRIVERS) -> dict[str, int]:
    """Make the statements of ``month`` (any day of it). Safe to run again."""
    month = month.replace(day=1)
    start, end = month_bounds(month)
    run = _Run(
        month=month,
        start=start.astimezone(UTC),
        end=end,
        # Before a connection's first recorded maximum, that first one applies (it is
        # the oldest known), as in connections.selectors.max_price_in_force.
        caps={
            pk: _Steps([(utc_datetime(moment), cap) for moment, cap in history], history[0][1])
            for pk, history in max_price_histories().items()
        },
        currencies=dict(Connection.objects.values_list("pk", "currency")),
    )
    # The drivers to visit, as plain ints (100,000 of them is under 10 MB). order_by()
    # drops the models' default ordering, which DISTINCT would otherwise include.
    driver_ids: list[int] = sorted(
        set(run.candidates().order_by().values_list("driver_id", flat=True).distinct())
        | set(run.failed().order_by().values_list("driver_id", flat=True).distinct())
    )
    counts: Counter[str] = Counter()
    for number, offset in enumerate(range(0, len(driver_ids), chunk_size)):
        # The lines so far, for the chunks' queries: after chunks 1, 2, 4, 8, … so the
        # statistics are never off by more than half. Not before the first: analysed
        # empty, the lines would be planned as none while the next chunks write them,
        # and each chunk's session query scanned them all for every session.
        if number and number & (number - 1) == 0:
            statistics_refresh(StatementLine, Statement)
        chunk = driver_ids[offset : offset + chunk_size]
        counts.update(_chunk_run(run, chunk[0], chunk[-1]))
        checkpoints.checkpoint("chunk-committed")
    statements_email_pending(month)
    result = {"made": counts["made"], "held": counts["held"], "existing": counts["existing"]}
    # Only when it happened: sessions kept out because no statement could hold them, and
    # statements that could not be written (their sessions held for review instead).
    for key in ("sessions held", "not made"):
        if counts[key]:
            result[key.replace(" ", "_")] = counts[key]
    return result


# Why the run holds a session instead of putting it in a statement.
BEYOND_LINE = "its amount is beyond what a statement line holds"
BEYOND_TOTAL = "it would take its statement beyond the largest total a statement holds"


def _chunk_run(run: _Run, first_driver: int, last_driver: int) -> Counter[str]:
    for _attempt in range(CHUNK_ATTEMPTS):
        drafts, held, counts = _chunk_plan(run, first_driver, last_driver)
        try:
            with transaction.atomic():
                _chunk_write(run, drafts)
                _hold(held)
                checkpoints.checkpoint("chunk-written")
        except (IntegrityError, _Contended):  # most likely another worker: again
            continue
        except DatabaseError:  # a value the database refuses: find the statement
            break
        return counts
    # Not another worker then, but something in one statement. Each is written on its
    # own, so one that cannot be written is held, and the rest are made.
    drafts, held, counts = _chunk_plan(run, first_driver, last_driver)
    _hold(held)
    for draft in drafts:
        try:
            with transaction.atomic():
                _chunk_write(run, [draft])
        except (DatabaseError, _Contended) as exc:
            counts["held" if draft.reasons else "made"] -= 1
            if Statement.objects.filter(
                month=run.month, driver_id=draft.driver_id, connection_id=draft.connection_id
            ).exists():
                counts["existing"] += 1  # another worker made it meanwhile after all
                continue
            counts["not made"] += 1
            _hold(
                [
                    (line[0], f"its statement could not be made: {type(exc).__name__}")
                    for line in draft.lines
                ]
            )
    return counts


def _hold(held: list[tuple[int, str]]) -> None:
    for reason in sorted({reason for _, reason in held}):
        sessions_hold(
            session_ids=[pk for pk, why in held if why == reason],
            reason=f"not reimbursed: {reason}",
        )


def _add_line(draft: _Draft, line: LineRow, held: list[tuple[int, str]]) -> None:
    """The line, if it and its statement's total fit their columns (checked here as well
    as by the database, so one absurd session is held and its statement still made)."""
    energy_wh, amount = line[1], line[5]
    if not 0 <= energy_wh <= SESSION_WH_STORABLE or not 0 <= amount <= LINE_AMOUNT_MAX:
        held.append((line[0], BEYOND_LINE))
        return
    # Below the bound exactly, the total rounded to the cent is not above it either (the
    # bound is whole cents): the rounded total is made only near it (per line it cost a
    # tenth of the run).
    near_bound = draft.carried or draft.lines_sum + amount >= MONEY_12_2_MAX
    if near_bound and draft.total_with(amount) > MONEY_12_2_MAX:
        held.append((line[0], BEYOND_TOTAL))
        return
    draft.lines.append(line)
    draft.lines_sum += amount


def _chunk_plan(
    run: _Run, first_driver: int, last_driver: int
) -> tuple[list[_Draft], list[tuple[int, str]], Counter[str]]:
    """The chunk's statements, computed from plain rows (no model instances)."""
    in_chunk = {"driver_id__gte": first_driver, "driver_id__lte": last_driver}
    existing = set(
        Statement.objects.filter(month=run.month, **in_chunk).values_list(
            "driver_id", "connection_id"
        )
    )
    # Per driver, (moment the price applies from, price); for one date the latest
    # entered comes last and wins.
    changes: dict[int, list[tuple[datetime, Decimal]]] = {}
    for driver_id, valid_from, entered in (
        HomePrice.objects.filter(**in_chunk)
        .order_by("driver_id", "valid_from", "created_at", "pk")
        .values_list("driver_id", "valid_from", "price_per_kwh")
    ):
        history = changes.setdefault(driver_id, [])
        moment = _local_midnight(valid_from)
        if history and history[-1][0] == moment:
            history[-1] = (moment, entered)
        else:
            history.append((moment, entered))
    no_price = _Steps([], None)
    prices = {driver_id: _Steps(history, None) for driver_id, history in changes.items()}
    accounts = dict(
        BankAccount.objects.filter(retired_at=None, **in_chunk).values_list("driver_id", "pk")
    )
    drafts: list[_Draft] = []
    held: list[tuple[int, str]] = []  # (session id, why it is not in a statement)
    counts: Counter[str] = Counter()
    sessions = (
        run.candidates()
        .filter(**in_chunk)
        .order_by("driver_id", "connection_id", "started_at", "pk")
        .values_list("pk", "driver_id", "connection_id", "started_at", "energy_wh")
    )
    for (driver_id, connection_id), group in groupby(
        plain_rows(sessions), key=lambda row: (row[1], row[2])
    ):
        if (driver_id, connection_id) in existing:
            # Made by an earlier run and never changed: its late sessions wait a month.
            counts["existing"] += 1
            continue
        draft = _Draft(
            driver_id=driver_id,
            connection_id=connection_id,
            currency=run.currencies[connection_id],
            bank_account_id=accounts.get(driver_id),
        )
        price_steps = prices.get(driver_id, no_price)
        cap_steps = run.caps[connection_id]
        for session_id, _driver, _connection, started, energy_wh in group:
            started_at = utc_datetime(started)
            cap = cap_steps.at(started_at)
            if cap is None:
                continue  # the connection did not reimburse when the session started
            price = price_steps.at(started_at)
            if price is None:
                draft.missing_price = True  # held until the driver gives a price
                price = Decimal(0)
            used = min(price, cap)
            # Exact: kWh has 3 decimals, the price 4; rounding waits for the total.
            amount = Decimal(energy_wh) / THOUSAND * used
            _add_line(
                draft,
                (session_id, energy_wh, price, cap, used, amount, started_at < run.start),
                held,
            )
        if draft.lines:
            drafts.append(draft)
    # A failed payment goes into the next statement made for the same driver and
    # connection, one of sessions or, when there are none, one of its own, so the money
    # does not wait for the driver to charge at home again.
    by_key = {(d.driver_id, d.connection_id): d for d in drafts}
    for failed_id, driver_id, connection_id, total in (
        run.failed()
        .filter(**in_chunk)
        .order_by("driver_id", "connection_id", "month", "pk")
        .values_list("pk", "driver_id", "connection_id", "total")
    ):
        if (driver_id, connection_id) in existing:
            continue  # this month's statement was made before the payment failed: next one
        if (driver_id, connection_id) not in by_key:
            by_key[(driver_id, connection_id)] = _Draft(
                driver_id=driver_id,
                connection_id=connection_id,
                currency=run.currencies[connection_id],
                bank_account_id=accounts.get(driver_id),
            )
        draft = by_key[(driver_id, connection_id)]
        draft.carried.append((failed_id, total))
        if draft.total_with() > MONEY_12_2_MAX:  # it waits for a later statement
            draft.carried.pop()
    drafts = [by_key[key] for key in sorted(by_key) if by_key[key].lines or by_key[key].carried]
    for draft in drafts:
        counts["held" if draft.reasons else "made"] += 1
    counts["sessions held"] += len(held)
    return drafts, held, counts


def _chunk_write(run: _Run, drafts: list[_Draft]) -> None:
    """Bulk inserts, inside the caller's transaction: all of the chunk or none of it.
    The database constraints (one statement per driver, connection and month; one line
    per session) turn a collision with another worker into an IntegrityError."""
    if not drafts:
        return
    statements = Statement.objects.bulk_create([d.statement(run.month) for d in drafts])
    # Lines as plain rows: model instances for 3,000,000 lines cost more than the whole
    # rest of the run. Decimals go to the driver as they are, as the ORM does.
    rows = (
        (statement.pk, *line)
        for statement, draft in zip(statements, drafts, strict=True)
        for line in draft.lines
    )
    # A constraint clash (another worker's chunk) is Django's IntegrityError, on COPY too.
    insert_rows(StatementLine, LINE_FIELDS, rows)
    carry_overs = [
        CarryOver(failed_statement_id=failed_id, statement=statement, amount=amount)
        for statement, draft in zip(statements, drafts, strict=True)
        for failed_id, amount in draft.carried
    ]
    if carry_overs:
        CarryOver.objects.bulk_create(carry_overs)
        # The failed statements show as carried over. The count check: if the payouts
        # side changed one meanwhile (e.g. paid it after all), redo the chunk from fresh.
        failed_ids = [c.failed_statement_id for c in carry_overs]
        moved = Statement.objects.filter(pk__in=failed_ids, status=StatementStatus.FAILED).update(
            status=StatementStatus.CARRIED_OVER
        )
        if moved != len(failed_ids):
            raise _Contended
