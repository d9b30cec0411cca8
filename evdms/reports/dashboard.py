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
from dataclasses import dataclass, field, replace
from datetime import date
from decimal import ROUND_HALF_UP, Decimal

from django.db.models import Count, Q
from django.utils import timezone

from evdms.accounts.permissions import Actor, Permission
from evdms.accounts.scope import reach
from evdms.charging.access import chargers_for
from evdms.connections.access import connections_for
from evdms.enrolment.models import MembershipStatus
from evdms.reports.models import DriverFigures, MonthlyFigures, MonthlyKind

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
    public_cost: dict[str, Decimal] = field(default_factory=dict)  # business, incl. VAT


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
    # The drivers kept per connection and status by the database (DriverFigures, see
    # monthly.py): at most two rows a connection in view, whatever the number of drivers
    # (counting 100,000 memberships took 30 of the page's 130 ms on PostgreSQL).
    for connection_id, status, drivers in DriverFigures.objects.filter(
        connection_id__in=list(connections),
        status__in=[MembershipStatus.CONNECTED, MembershipStatus.PENDING],
    ).values_list("connection_id", "status", "drivers"):
        figures = connections.get(connection_id)
        if figures is not None:
            if status == MembershipStatus.CONNECTED:
                figures.connected = drivers
            else:
                figures.pending = drivers
    chargers = chargers_for(actor, Permission.VIEW_DASHBOARD).aggregate(
        total=Count("pk"), online=Count("pk", filter=Q(online=True))
    )
    # Energy and money from the monthly figures (evdms/reports/monthly.py): one query of
    # at most connections × 12 months × 2 kinds × currencies rows, whatever the number
    # of sessions and statements.
    month_index = {m: i for i, m in enumerate(months)}
    energy = [0] * len(months)
    public_energy = [0] * len(months)
    reimbursed: dict[str, list[Decimal]] = defaultdict(lambda: [Decimal(0)] * len(months))
    public_cost: dict[str, list[Decimal]] = defaultdict(lambda: [Decimal(0)] * len(months))
    rows_of_figures = MonthlyFigures.objects.filter(
        connection_id__in=ids, month__gte=months[0], month__lte=months[-1]
    ).values_list(
        "connection_id", "month", "kind", "currency", "energy_wh", "statements", "cost_e4"
    )
    for connection_id, month, kind, currency, wh, statements, cost_e4 in rows_of_figures:
        index = month_index[month]
        figures = connections[connection_id]
        cost = Decimal(cost_e4).scaleb(-4)
        if kind == MonthlyKind.PUBLIC:
            public_energy[index] += wh
            figures.public_energy_wh += wh
            if cost:
                public_cost[currency][index] += cost
                per = figures.public_cost
                per[currency] = per.get(currency, Decimal(0)) + cost
        else:
            energy[index] += wh
            figures.energy_wh += wh
            if statements:
                reimbursed[currency][index] += cost
                per = figures.reimbursed
                per[currency] = per.get(currency, Decimal(0)) + cost
    return Dashboard(
        connected=sum(c.connected for c in connections.values()),
        pending=sum(c.pending for c in connections.values()),
        chargers_online=chargers["online"],
        chargers=chargers["total"],
        months=months,
        energy_wh=energy,
        # Statements are whole cents already; public prices are summed exactly and
        # rounded once, here, half-up to the cent.
        reimbursed={c: [_cents(v) for v in amounts] for c, amounts in sorted(reimbursed.items())},
        per_connection=[
            replace(c, public_cost={k: _cents(v) for k, v in sorted(c.public_cost.items())})
            for c in connections.values()
        ],
        public_energy_wh=public_energy,
        public_cost={c: [_cents(v) for v in amounts] for c, amounts in sorted(public_cost.items())},
    )


def _cents(amount: Decimal) -> Decimal:
    return amount.quantize(Decimal("0.01"), ROUND_HALF_UP)
