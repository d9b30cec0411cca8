from __future__ import annotations

from collections.abc import Iterator
from datetime import date, timedelta
from decimal import Decimal
from typing import Any, NamedTuple

from django.core.exceptions import ValidationError
from django.db.models import QuerySet, Sum
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext

from evdms.accounts.models import Organisation, User
from evdms.accounts.permissions import Actor
from evdms.enrolment.models import Membership, MembershipStatus
from evdms.reimbursements.access import statements_of
from evdms.reimbursements.models import (
    BankAccount,
    HomePrice,
    Statement,
    StatementLine,
    StatementStatus,
)


def reimbursing_memberships(driver: User) -> QuerySet[Membership]:
    """The driver's current connections that reimburse home charging."""
    return Membership.objects.filter(
        driver=driver,
        status=MembershipStatus.CONNECTED,
        connection__reimburse_home_charging=True,
    ).select_related("connection")


def reimbursing_organisation(driver: User) -> Organisation | None:
    """The organisation that reimburses the driver (the latest they were connected to,
    a driver has one or two at most), else the one they last asked to join: whose
    default language and time zone a message about their reimbursement is in."""
    membership = (
        reimbursing_memberships(driver).order_by("-connected_at", "-pk").first()
        or Membership.objects.filter(driver=driver).order_by("-requested_at", "-pk").first()
    )
    return membership.organisation if membership is not None else None


def current_bank_account(driver: User) -> BankAccount | None:
    return BankAccount.objects.filter(driver=driver, retired_at=None).first()


def price_history(driver: User) -> QuerySet[HomePrice]:
    return HomePrice.objects.filter(driver=driver).order_by("-valid_from", "-created_at")


def price_in_force(driver: User, on: date) -> HomePrice | None:
    """The price that applies on a day: the latest entered for the latest date ≤ that day."""
    return (
        HomePrice.objects.filter(driver=driver, valid_from__lte=on)
        .order_by("-valid_from", "-created_at")
        .first()
    )


def price_upcoming(driver: User, today: date) -> list[HomePrice]:
    """Prices entered ahead of time, soonest first: the latest entered for each day after
    ``today`` (an earlier entry for the same day was replaced by it)."""
    rows = HomePrice.objects.filter(driver=driver, valid_from__gt=today).order_by(
        "valid_from", "-created_at"
    )
    upcoming: dict[date, HomePrice] = {}
    for row in rows[:50]:
        upcoming.setdefault(row.valid_from, row)
    return list(upcoming.values())


class EarliestPriceDay(NamedTuple):
    day: date
    why: str  # for the field's message: "Use a date from <day> on: <why>."


def price_earliest_day(driver: User) -> EarliestPriceDay:
    """The first day a new price may apply from: not before the driver first joined a
    connection (their account was made, if they have none yet), and not inside a month
    whose statement the driver already has (that month is closed: its statement stays as
    it was made, so a price back-dated into it would be shown but never used)."""
    first_connected = (
        Membership.objects.filter(driver=driver, connected_at__isnull=False)
        .order_by("connected_at")
        .values_list("connected_at", flat=True)
        .first()
    )
    joined = timezone.localdate(first_connected or driver.date_joined)
    last_month = (
        Statement.objects.filter(driver=driver).order_by("-month").values_list("month", flat=True)
    ).first()
    if last_month is not None:
        after_closed = (last_month.replace(day=28) + timedelta(days=4)).replace(day=1)
        if after_closed > joined:
            return EarliestPriceDay(
                after_closed,
                gettext("your statement for %(month)s is already made")
                % {"month": date_format(last_month, "YEAR_MONTH_FORMAT")},
            )
    return EarliestPriceDay(joined, gettext("you joined then"))


def parse_month(value: str) -> date | None:
    """``YYYY-MM`` as the first of that month; empty gives None; anything else is a
    field error."""
    value = value.strip()
    if not value:
        return None
    try:
        year, number = (int(p) for p in value.split("-"))
        return date(year, number, 1)
    except ValueError as exc:
        raise ValidationError(
            {"month": [gettext("Give the month as YYYY-MM, e.g. 2026-10.")]}
        ) from exc


def statements_for(
    actor: Actor,
    *,
    month: date | None = None,
    connection_id: int | None = None,
    status: str = "",
) -> QuerySet[Statement]:
    """Statements of the drivers of the organisations the actor acts for, with their
    energy, newest month first; one query whatever the number of rows."""
    rows = (
        statements_of(actor)
        .select_related("driver", "connection")
        .annotate(energy=Sum("lines__energy_wh"))
        .order_by("-month", "pk")
    )
    if month is not None:
        rows = rows.filter(month=month)
    if connection_id is not None:
        rows = rows.filter(connection_id=connection_id)
    if status:
        if status not in StatementStatus.values:
            raise ValidationError(
                {"status": [f"Choose one of: {', '.join(StatementStatus.values)}."]}
            )
        rows = rows.filter(status=status)
    return rows


def statement_sessions(statement: Statement) -> QuerySet[StatementLine] | None:
    """The sessions behind a statement, only when its connection shares home charging
    data with the organisation; None means: show the summary only."""
    if not statement.connection.home_charging_data_sharing:
        return None
    return statement.lines.select_related("session__charger").order_by("session__started_at")


def statements_csv_rows(rows: QuerySet[Statement]) -> Iterator[list[Any]]:
    """The CSV of statements for the page and the API alike (streamed in chunks). kWh
    and amounts are numbers, so the formula guard leaves a negative one as it is."""
    yield ["Reference", "Month", "Driver", "Connection", "kWh", "Amount", "Currency", "Status"]
    for s in rows.iterator(chunk_size=1000):
        yield [
            s.reference,
            f"{s.month:%Y-%m}",
            s.driver.email,
            str(s.connection_id),
            (Decimal(getattr(s, "energy", 0) or 0) / 1000).quantize(Decimal("0.001")),
            s.total,
            s.currency,
            s.status,
        ]
