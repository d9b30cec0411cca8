"""The dashboard's figures: a fixed number of queries whatever the data.

Monthly energy and reimbursed amounts are totals per organisation and connection; they
include connections without Home Charging Data Sharing, because a total per month says
less than what reimbursement already shows them (month, driver, kWh, amount).

Public charging is shown beside home charging: its energy per month (business and
personal: the report shows both) and what the organisation pays for it, the operators'
prices incl. VAT of the business sessions (personal ones the drivers pay). Credited
sessions count nowhere.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, time
from decimal import ROUND_HALF_UP, Decimal

from django.db.models import Count, Q, Sum
from django.db.models.functions import TruncMonth
from django.utils import timezone

from evdms.accounts.permissions import Actor, Permission
from evdms.accounts.scope import reach
from evdms.charging.access import chargers_for
from evdms.charging.models import ChargingSession, SessionKind, SessionPurpose, SessionStatus
from evdms.connections.access import connections_for
from evdms.enrolment.access import memberships_for
from evdms.enrolment.models import MembershipStatus
from evdms.reimbursements.models import Statement

MONTHS = 12


def last_months(today: date, count: int = MONTHS) -> list[date]:
    """The first days of the last ``count`` months, oldest first, this month last."""
    months = []
    year, month = today.year, today.month
    for _ in range(count):
        months.append(date(year, month, 1))
        year, month = (year - 1, 12) if month == 1 else (year, month - 1)
    return months[::-1]


@dataclass
class ConnectionFigures:
    id: int
    name: str
    customer_id: str
    connected: int = 0
    pending: int = 0
    energy_wh: int = 0  # home charging
    reimbursed: dict[str, Decimal] = field(default_factory=dict)
    public_energy_wh: int = 0


@dataclass
class Dashboard:
    connected: int
    pending: int
    chargers_online: int
    chargers: int
    months: list[date]
    energy_wh: list[int]  # home charging, per month, oldest first
    reimbursed: dict[str, list[Decimal]]  # currency → per month
    per_connection: list[ConnectionFigures]
    public_energy_wh: list[int] = field(default_factory=list)  # per month, oldest first
    public_cost: dict[str, list[Decimal]] = field(default_factory=dict)  # business, incl. VAT


def dashboard_for(actor: Actor, today: date | None = None) -> Dashboard:
    today = today or timezone.localdate()
    months = last_months(today)
    rows = list(
        connections_for(actor, Permission.VIEW_DASHBOARD)
        .order_by("name")
        .only("pk", "name", "customer_id", "organisation_id")
    )
    connections = {c.pk: ConnectionFigures(c.pk, c.name, c.customer_id) for c in rows}
    # Energy and money are transactions: only for the connections whose transactions the
    # actor may view (its role sees reports; a grant gives *view transactions*). The
    # counts of drivers and chargers come with any right.
    transactions = reach(actor, Permission.VIEW_REPORTS)
    ids = [c.pk for c in rows if transactions.covers(c.organisation_id, c.pk)]
    organisation_ids = sorted({c.organisation_id for c in rows if c.pk in set(ids)})
    for row in (
        memberships_for(actor, Permission.VIEW_DASHBOARD)
        .filter(status__in=[MembershipStatus.CONNECTED, MembershipStatus.PENDING])
        .values("connection_id", "status")
        .annotate(n=Count("pk"))
    ):
        figures = connections.get(row["connection_id"])
        if figures is not None:
            if row["status"] == MembershipStatus.CONNECTED:
                figures.connected = row["n"]
            else:
                figures.pending = row["n"]
    chargers = chargers_for(actor, Permission.VIEW_DASHBOARD).aggregate(
        total=Count("pk"), online=Count("pk", filter=Q(online=True))
    )
    # One query a month, each a range of the (connection, started_at, status, energy_wh)
    # index: the database reads only the index, once per session. (One query with a
    # filtered sum per month reads each session twelve times, and truncating each time
    # to its month costs a function call per row: 20 times slower with a million.)
    bounds = [*(_midnight(m) for m in months), _midnight(_next_month(months[-1]))]
    energy = [0] * len(months)
    for i in range(len(months)):
        for session_row in (
            ChargingSession.objects.filter(
                connection_id__in=ids,
                started_at__gte=bounds[i],
                started_at__lt=bounds[i + 1],
                status=SessionStatus.COMPLETED,
            )
            .values("connection_id")
            .annotate(wh=Sum("energy_wh"))
            .order_by()
        ):
            wh = session_row["wh"] or 0
            energy[i] += wh
            connections[session_row["connection_id"]].energy_wh += wh
    # Public sessions are few beside home ones: one query for the twelve months, by month
    # (local), connection and currency. Their energy is in the totals above (the same
    # connections' index range), so home energy is the total less the public energy.
    public_energy = [0] * len(months)
    public_cost: dict[str, dict[date, Decimal]] = defaultdict(lambda: defaultdict(Decimal))
    month_index = {m: i for i, m in enumerate(months)}
    for public_row in (
        # By organisation first: the (organisation, kind, started_at) index reads the
        # public sessions alone, not every session of the connections.
        ChargingSession.objects.filter(
            organisation_id__in=organisation_ids,
            kind=SessionKind.PUBLIC,
            connection_id__in=ids,
            started_at__gte=bounds[0],
            started_at__lt=bounds[-1],
            status=SessionStatus.COMPLETED,
        )
        .annotate(month=TruncMonth("started_at", tzinfo=timezone.get_current_timezone()))
        .values("month", "connection_id", "currency")
        .annotate(
            wh=Sum("energy_wh"),
            cost=Sum("cost_incl_vat", filter=Q(purpose=SessionPurpose.BUSINESS)),
        )
        .order_by()
    ):
        month = public_row["month"]
        index = month_index.get(month.date() if isinstance(month, datetime) else month)
        if index is None:
            continue
        wh = public_row["wh"] or 0
        public_energy[index] += wh
        energy[index] -= wh
        figures = connections[public_row["connection_id"]]
        figures.public_energy_wh += wh
        figures.energy_wh -= wh
        if public_row["cost"] is not None:
            public_cost[public_row["currency"]][months[index]] += public_row["cost"]
    reimbursed: dict[str, dict[date, Decimal]] = defaultdict(lambda: defaultdict(Decimal))
    for statement_row in (
        Statement.objects.filter(connection_id__in=ids, month__gte=months[0])
        .values("connection_id", "month", "currency")
        .annotate(total=Sum("total"))
    ):
        currency, total = statement_row["currency"], statement_row["total"]
        reimbursed[currency][statement_row["month"]] += total
        per = connections[statement_row["connection_id"]].reimbursed
        per[currency] = per.get(currency, Decimal(0)) + total
    return Dashboard(
        connected=sum(c.connected for c in connections.values()),
        pending=sum(c.pending for c in connections.values()),
        chargers_online=chargers["online"],
        chargers=chargers["total"],
        months=months,
        energy_wh=energy,
        reimbursed={
            currency: [by_month.get(month, Decimal(0)) for month in months]
            for currency, by_month in sorted(reimbursed.items())
        },
        per_connection=list(connections.values()),
        public_energy_wh=public_energy,
        # Rounded once, here, half-up to the cent: the sum of exact prices.
        public_cost={
            currency: [
                by_month.get(month, Decimal(0)).quantize(Decimal("0.01"), ROUND_HALF_UP)
                for month in months
            ]
            for currency, by_month in sorted(public_cost.items())
        },
    )


def _midnight(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=timezone.get_current_timezone())


def _next_month(day: date) -> date:
    return date(day.year + 1, 1, 1) if day.month == 12 else date(day.year, day.month + 1, 1)
