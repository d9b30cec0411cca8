"""Monthly reimbursement statements.

amount per session = energy (kWh, from integer Wh) × min(driver's price, connection's
maximum), the driver's price being the one in force on the session's start date and the
maximum the one in force at the session's start (``connections.MaxPriceChange``). Line
amounts are exact Decimals; the statement total is rounded once, half-up, to the cent.
A session belongs to at most one statement (database constraint); a session that arrives
after its month's statement was made goes into the next month's statement, marked late.
Each statement is written in its own transaction, so a run killed half-way leaves only
whole statements, and running again makes exactly the missing ones.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from evdms.charging.models import ChargingSession
from evdms.connections.selectors import CapHistory, max_price_histories, max_price_in_force
from evdms.reimbursements.models import (
    BankAccount,
    HomePrice,
    Statement,
    StatementLine,
    StatementStatus,
)

CENT = Decimal("0.01")


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


def _price_on(prices: list[HomePrice], day: date) -> Decimal | None:
    """The latest price whose date is on or before ``day`` (prices newest first)."""
    for price in prices:
        if price.valid_from <= day:
            return price.price_per_kwh
    return None


def statements_run(month: date) -> dict[str, int]:
    """Make the statements of ``month`` (any day of it). Safe to run again."""
    month = month.replace(day=1)
    start, end = month_bounds(month)
    caps = max_price_histories()
    # A connection reimburses the sessions started while it had a maximum (now or then).
    reimbursing = [pk for pk, history in caps.items() if any(p for _, p in history)]
    candidates = (
        ChargingSession.objects.filter(
            status="completed",
            started_at__lt=end,
            connection_id__in=reimbursing,
            statement_line__isnull=True,
            energy_wh__gt=0,
        )
        .select_related("connection")
        .order_by("started_at", "pk")
    )
    groups: dict[tuple[int, int], list[ChargingSession]] = defaultdict(list)
    for session in candidates.iterator(chunk_size=2000):
        if session.driver_id is None or session.connection_id is None:
            continue
        assert session.started_at is not None
        if max_price_in_force(caps[session.connection_id], session.started_at) is None:
            continue  # the connection did not reimburse when the session started
        groups[(session.driver_id, session.connection_id)].append(session)
    made = held = skipped = 0
    driver_ids = {d for d, _ in groups}
    prices: dict[int, list[HomePrice]] = defaultdict(list)
    for price in HomePrice.objects.filter(driver_id__in=driver_ids).order_by(
        "-valid_from", "-created_at"
    ):
        prices[price.driver_id].append(price)
    accounts = {
        a.driver_id: a
        for a in BankAccount.objects.filter(driver_id__in=driver_ids, retired_at=None)
    }
    for (driver_id, _connection_id), sessions in groups.items():
        result = _make_statement(
            month, start, driver_id, sessions, prices[driver_id], accounts.get(driver_id), caps
        )
        made += result == "made"
        held += result == "held"
        skipped += result == "exists"
    return {"made": made, "held": held, "existing": skipped}


def _make_statement(
    month: date,
    month_start: datetime,
    driver_id: int,
    sessions: list[ChargingSession],
    prices: list[HomePrice],
    account: BankAccount | None,
    caps: CapHistory,
) -> str:
    connection = sessions[0].connection
    assert connection is not None
    if Statement.objects.filter(driver_id=driver_id, connection=connection, month=month).exists():
        return "exists"  # made by an earlier run: never changed, late sessions wait a month
    lines = []
    missing_price = False
    for session in sessions:
        day = timezone.localtime(session.started_at).date()
        price = _price_on(prices, day)
        if price is None:
            missing_price = True
            price = Decimal(0)
        cap = max_price_in_force(caps[connection.pk], session.started_at)  # type: ignore[arg-type]
        assert cap is not None  # sessions without a maximum were left out above
        amount = LineAmount(session.energy_wh, price, cap)
        lines.append((session, amount, session.started_at < month_start))  # type: ignore[operator]
    reasons = []
    if account is None:
        reasons.append("no bank details")
    if missing_price:
        reasons.append("no home price for some sessions")
    status = StatementStatus.HELD if reasons else StatementStatus.READY
    try:
        with transaction.atomic():
            statement = Statement.objects.create(
                driver_id=driver_id,
                connection=connection,
                month=month,
                currency=connection.currency,
                total=statement_total([a.amount for _, a, _ in lines]),
                status=status,
                held_reason="; ".join(reasons),
                bank_account=account,
            )
            StatementLine.objects.bulk_create(
                [
                    StatementLine(
                        statement=statement,
                        session=session,
                        energy_wh=a.energy_wh,
                        driver_price=a.driver_price,
                        cap=a.cap,
                        price_used=a.price_used,
                        amount=a.amount,
                        late=late,
                    )
                    for session, a, late in lines
                ]
            )
            # The driver gets the statement (PDF) once it is committed; the e-mail row is
            # in the same transaction, so a killed run never sends for a lost statement.
            statement_email(statement)
    except IntegrityError:  # another worker made it, or took a session, at the same time
        return "exists"
    return "held" if reasons else "made"


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
