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
most of the run's time): once the statements are committed, ``tasks.statements_email``
writes each one's outbox row, claimed by ``Statement.emailed_at``, so every driver gets
it exactly once, and a rerun sends whatever a killed run did not.
"""

from __future__ import annotations

from bisect import bisect_right
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import ROUND_HALF_UP, Decimal
from itertools import groupby
from typing import Any, cast

from django.db import IntegrityError, connection, transaction
from django.db.models import QuerySet
from django.utils import timezone

from evdms.charging.models import ChargingSession
from evdms.connections.models import Connection
from evdms.connections.selectors import CapHistory, max_price_histories, max_price_in_force
from evdms.reimbursements.models import (
    BankAccount,
    HomePrice,
    Statement,
    StatementLine,
    StatementStatus,
)

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


# (valid_from, price) oldest first, one entry per date (the latest entered for that date).
PriceHistory = list[tuple[date, Decimal]]


def _price_on(prices: PriceHistory, day: date) -> Decimal | None:
    """The price in force on ``day``: the one with the latest date on or before it."""
    index = bisect_right(prices, day, key=lambda entry: entry[0])
    return prices[index - 1][1] if index else None


# (session id, energy Wh, driver price, cap, price used, exact amount, late)
LineRow = tuple[int, int, Decimal, Decimal, Decimal, Decimal, bool]


@dataclass
class _Draft:
    """A statement computed in memory, written with its chunk."""

    driver_id: int
    connection_id: int
    currency: str
    bank_account_id: int | None
    lines: list[LineRow] = field(default_factory=list)
    missing_price: bool = False

    @property
    def reasons(self) -> list[str]:
        reasons = []
        if self.bank_account_id is None:
            reasons.append("no bank details")
        if self.missing_price:
            reasons.append("no home price for some sessions")
        return reasons

    def statement(self, month: date) -> Statement:
        reasons = self.reasons
        return Statement(
            driver_id=self.driver_id,
            connection_id=self.connection_id,
            month=month,
            currency=self.currency,
            total=statement_total([line[5] for line in self.lines]),
            status=StatementStatus.HELD if reasons else StatementStatus.READY,
            held_reason="; ".join(reasons),
            bank_account_id=self.bank_account_id,
        )


class _Contended(Exception):
    """Another worker changed what the chunk was computed from: read it again."""


@dataclass(frozen=True)
class _Run:
    month: date
    start: datetime
    end: datetime
    caps: CapHistory
    currencies: dict[int, str]

    def candidates(self) -> QuerySet[ChargingSession]:
        reimbursing = [pk for pk, history in self.caps.items() if any(p for _, p in history)]
        return ChargingSession.objects.filter(
            status="completed",
            started_at__lt=self.end,
            connection_id__in=reimbursing,
            driver_id__isnull=False,
            statement_line__isnull=True,
            energy_wh__gt=0,
        )


def statements_run(month: date, *, chunk_size: int = CHUNK_DRIVERS) -> dict[str, int]:
    """Make the statements of ``month`` (any day of it). Safe to run again."""
    month = month.replace(day=1)
    start, end = month_bounds(month)
    caps = max_price_histories()
    run = _Run(
        month=month,
        start=start,
        end=end,
        caps=caps,
        currencies=dict(Connection.objects.values_list("pk", "currency")),
    )
    # The drivers to visit, as plain ints (100,000 of them is under 10 MB).
    driver_ids: list[int] = list(
        run.candidates().order_by("driver_id").values_list("driver_id", flat=True).distinct()
    )
    counts: Counter[str] = Counter()
    for offset in range(0, len(driver_ids), chunk_size):
        chunk = driver_ids[offset : offset + chunk_size]
        counts.update(_chunk_run(run, chunk[0], chunk[-1]))
        _checkpoint("chunk-committed")
    from evdms.reimbursements.tasks import statements_email_pending

    statements_email_pending(month)
    return {"made": counts["made"], "held": counts["held"], "existing": counts["existing"]}


def _chunk_run(run: _Run, first_driver: int, last_driver: int) -> Counter[str]:
    for attempt in range(CHUNK_ATTEMPTS):
        drafts, counts = _chunk_plan(run, first_driver, last_driver)
        try:
            with transaction.atomic():
                _chunk_write(run, drafts)
                _checkpoint("chunk-written")
        except (IntegrityError, _Contended):
            if attempt == CHUNK_ATTEMPTS - 1:
                raise
            continue
        return counts
    raise AssertionError("unreachable")


def _chunk_plan(
    run: _Run, first_driver: int, last_driver: int
) -> tuple[list[_Draft], Counter[str]]:
    """The chunk's statements, computed from plain rows (no model instances)."""
    in_chunk = {"driver_id__gte": first_driver, "driver_id__lte": last_driver}
    existing = set(
        Statement.objects.filter(month=run.month, **in_chunk).values_list(
            "driver_id", "connection_id"
        )
    )
    prices: dict[int, PriceHistory] = {}
    # Ordered so that, for one date, the latest entered comes last and wins.
    for driver_id, valid_from, entered in (
        HomePrice.objects.filter(**in_chunk)
        .order_by("driver_id", "valid_from", "created_at", "pk")
        .values_list("driver_id", "valid_from", "price_per_kwh")
    ):
        history = prices.setdefault(driver_id, [])
        if history and history[-1][0] == valid_from:
            history[-1] = (valid_from, entered)
        else:
            history.append((valid_from, entered))
    accounts = dict(
        BankAccount.objects.filter(retired_at=None, **in_chunk).values_list("driver_id", "pk")
    )
    # started_at is never None here (the filter compares it).
    rows = cast(
        Iterator[tuple[int, int, int, datetime, int]],
        iter(
            run.candidates()
            .filter(**in_chunk)
            .order_by("driver_id", "connection_id", "started_at", "pk")
            .values_list("pk", "driver_id", "connection_id", "started_at", "energy_wh")
        ),
    )
    drafts: list[_Draft] = []
    counts: Counter[str] = Counter()
    local = timezone.get_current_timezone()
    for (driver_id, connection_id), group in groupby(rows, key=lambda row: (row[1], row[2])):
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
        driver_prices = prices.get(driver_id, [])
        cap_history = run.caps[connection_id]
        for session_id, _driver, _connection, started_at, energy_wh in group:
            cap = max_price_in_force(cap_history, started_at)
            if cap is None:
                continue  # the connection did not reimburse when the session started
            price = _price_on(driver_prices, started_at.astimezone(local).date())
            if price is None:
                draft.missing_price = True  # held until the driver gives a price
                price = Decimal(0)
            used = min(price, cap)
            # Exact: kWh has 3 decimals, the price 4; rounding waits for the total.
            amount = Decimal(energy_wh) / THOUSAND * used
            draft.lines.append(
                (session_id, energy_wh, price, cap, used, amount, started_at < run.start)
            )
        if draft.lines:
            drafts.append(draft)
            counts["held" if draft.reasons else "made"] += 1
    return drafts, counts


def _chunk_write(run: _Run, drafts: list[_Draft]) -> None:
    """Bulk inserts, inside the caller's transaction: all of the chunk or none of it.
    The database constraints (one statement per driver, connection and month; one line
    per session) turn a collision with another worker into an IntegrityError."""
    if not drafts:
        return
    statements = Statement.objects.bulk_create([d.statement(run.month) for d in drafts])
    # Lines by plain executemany: model instances for 3,000,000 lines cost more than the
    # whole rest of the run. Decimals go to the driver as they are, as the ORM does.
    table = connection.ops.quote_name(StatementLine._meta.db_table)
    sql = (
        f"INSERT INTO {table} (statement_id, session_id, energy_wh, driver_price, cap, "  # noqa: S608
        "price_used, amount, late) VALUES (%s, %s, %s, %s, %s, %s, %s, %s)"
    )
    with connection.cursor() as cursor:
        cursor.executemany(
            sql,
            [
                (statement.pk, *line)
                for statement, draft in zip(statements, drafts, strict=True)
                for line in draft.lines
            ],
        )


def _checkpoint(name: str) -> None:
    """A place where the kill-and-rerun test stops the run (no-op otherwise)."""
    from django.conf import settings

    if settings.TESTING:
        import os

        if os.environ.get("EVDMS_TEST_STATEMENTS_STOP_AT") == name:
            _stop_here(name)


def _stop_here(name: str) -> None:  # pragma: no cover - runs in the test's subprocess
    import os
    import sys

    count = int(os.environ.get("EVDMS_TEST_STATEMENTS_STOP_AFTER", "1")) - 1
    os.environ["EVDMS_TEST_STATEMENTS_STOP_AFTER"] = str(count)
    if count <= 0:
        print(f"stopped at {name}", flush=True)
        sys.stdout.flush()
        import time as clock

        clock.sleep(600)  # the test kills the process here


def statement_email(statement: Statement) -> None:
    from evdms.notifications.services import email_send
    from evdms.reimbursements.statement_pdf import statement_pdf

    email_send(
        to=[statement.driver.email],
        template="reimbursement_statement",
        context={"statement": statement},
        organisation=statement.connection.organisation,
        attachments=[(f"{statement.reference}.pdf", statement_pdf(statement), "application/pdf")],
    )


def statement_summary(statement: Statement) -> dict[str, Any]:
    lines = list(statement.lines.all())
    return {
        "reference": statement.reference,
        "total": statement.total,
        "lines": len(lines),
        "energy_wh": sum(line.energy_wh for line in lines),
    }
