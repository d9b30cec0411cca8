"""The Detailed transaction report: one row per charging session, shared by the page,
the exports and the API.

Who sees what:
- only the organisations the actor acts for (its own and those that granted it rights),
  through the connection the session was attributed to at its start;
- home sessions only of connections with Home Charging Data Sharing (without it the
  organisation sees only what reimbursement needs, on the Statements page);
- public sessions (a roaming partner's record) of every connection in view; of a
  personal one only the date, driver, energy and "Personal" (no place, operator or
  price: the driver pays it), see ``transaction_row.charger_or_location``;
- completed sessions only: a session still charging is not a transaction yet (it is on
  the Home charging page), and a credited one (its operator cancelled it with a credit
  record) is in no report and no total (the driver's page shows it as credited).

The query is built so that the row count never changes the number of queries: the
connections in view are read first (a short list), then one query reads the page.
Driver verification answers come from the driver's membership of the session's
connection (the latest one, when a driver left and came back).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any

from django.db.models import F, OuterRef, Q, QuerySet, Subquery, TextField
from django.db.models.functions import Cast
from django.utils import timezone
from django.utils.translation import gettext as _

from evdms.accounts.permissions import Actor, Permission
from evdms.charging.models import ChargingSession, SessionKind, SessionStatus
from evdms.connections.access import connections_for
from evdms.connections.models import Connection
from evdms.connections.selectors import customer_id_filter
from evdms.enrolment.models import Membership
from evdms.reports.transaction_row import (
    FIELDS,
    TRANSACTION_COLUMNS,
    Transaction,
    TransactionType,
)

PAGE_SIZE = 50
# The report's rows: ``values_list`` tuples of ``FIELDS`` (evdms/reports/transaction_row.py).
ReportRows = QuerySet[ChargingSession, tuple[Any, ...]]
MAX_SEARCH = 100


# Column key → (heading, ORM ordering) of the page's columns, from the row's definition.
COLUMNS: dict[str, tuple[str, str | None]] = {
    column.key: (column.heading, column.sort) for column in TRANSACTION_COLUMNS if column.on_page
}
DEFAULT_SORT = "-started"


@dataclass
class TransactionQuery:
    """The report's filters and order, parsed from a query string. Bad values are dropped
    with a message saying so; the report never fails on them."""

    customer_id: str = ""
    connection: int | None = None
    driver: str = ""
    start: date | None = None  # first day, inclusive (the organisation's time zone)
    end: date | None = None  # last day, inclusive
    type: str = ""
    sort: str = DEFAULT_SORT
    errors: dict[str, str] = field(default_factory=dict)  # field → what was wrong

    def as_params(self) -> dict[str, str]:
        """The query string that gives this query back (for links, exports, the worker)."""
        params = {
            "customer_id": self.customer_id,
            "connection": str(self.connection or ""),
            "driver": self.driver,
            "start": self.start.isoformat() if self.start else "",
            "end": self.end.isoformat() if self.end else "",
            "type": self.type,
            "sort": "" if self.sort == DEFAULT_SORT else self.sort,
        }
        return {k: v for k, v in params.items() if v}


def _connections(actor: Actor) -> QuerySet[Connection]:
    # Explicitly this report's permission: the worker's exports call these too.
    return connections_for(actor, Permission.VIEW_REPORTS)


def _day(params: Mapping[str, str], name: str, errors: dict[str, str]) -> date | None:
    value = params.get(name, "").strip()
    if not value:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        message = (
            _("The from date “%(value)s” is not a date (YYYY-MM-DD): ignored.")
            if name == "start"
            else _("The to date “%(value)s” is not a date (YYYY-MM-DD): ignored.")
        )
        errors[name] = message % {"value": value[:20]}
        return None


def parse_transaction_query(params: Mapping[str, str]) -> TransactionQuery:
    errors: dict[str, str] = {}
    connection: int | None = None
    raw_connection = params.get("connection", "").strip()
    if raw_connection:
        if raw_connection.isdigit() and len(raw_connection) < 19:
            connection = int(raw_connection)
        else:
            errors["connection"] = _("Unknown connection: showing every connection.")
    start = _day(params, "start", errors)
    end = _day(params, "end", errors)
    if start and end and end < start:
        errors["end"] = _("The period ends before it starts: the dates were swapped.")
        start, end = end, start
    kind = params.get("type", "").strip()
    if kind and kind not in TransactionType.LABELS:
        errors["type"] = _("Unknown type “%(value)s”: showing every type.") % {"value": kind[:20]}
        kind = ""
    sort = params.get("sort", "").strip() or DEFAULT_SORT
    if sort.lstrip("-") not in COLUMNS or COLUMNS[sort.lstrip("-")][1] is None:
        errors["sort"] = _("Cannot sort by “%(value)s”; sorted by date/time, newest first.") % {
            "value": sort[:30]
        }
        sort = DEFAULT_SORT
    return TransactionQuery(
        customer_id=params.get("customer_id", "").strip()[:100],
        connection=connection,
        driver=params.get("driver", "").strip()[:MAX_SEARCH],
        start=start,
        end=end,
        type=kind,
        sort=sort,
        errors=errors,
    )


def customer_ids_in_view(actor: Actor) -> list[str]:
    return list(
        _connections(actor)
        .exclude(customer_id="")
        .order_by("customer_id")
        .values_list("customer_id", flat=True)
        .distinct()
    )


def check_in_view(actor: Actor, query: TransactionQuery) -> TransactionQuery:
    """Say so when a filter names something the actor has none of. A connection of
    another organisation reads exactly like a missing one."""
    if query.connection and not _connections(actor).filter(pk=query.connection).exists():
        query.errors["connection"] = _("Unknown connection: showing every connection.")
        query.connection = None
    known = {c.lower() for c in customer_ids_in_view(actor)} if query.customer_id else set()
    if query.customer_id and query.customer_id.lower() not in known:
        query.errors["customer_id"] = (
            f"No connection has the Customer ID “{query.customer_id}”: nothing to show."
        )
    return query


def _local_midnight(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=timezone.get_current_timezone())


def _with_verification(rows: QuerySet[ChargingSession]) -> QuerySet[ChargingSession]:
    membership = Membership.objects.filter(
        driver_id=OuterRef("driver_id"), connection_id=OuterRef("connection_id")
    ).order_by("-requested_at", "-pk")
    return rows.annotate(
        verification_1=Subquery(membership.values("verification_1")[:1]),
        verification_2=Subquery(membership.values("verification_2")[:1]),
    )


def _sessions(actor: Actor, query: TransactionQuery) -> QuerySet[ChargingSession]:
    """The sessions the report shows, filtered, with no more joins than the filters and
    the order need (counting and paging read only these)."""
    # The connections in view, with the report's own rules, as plain id lists: one short
    # query, and the session query then uses its (connection, started_at) index. Home
    # sessions show for connections that share home charging data; public sessions for
    # every connection in view (the organisation pays them, or sees that they happened).
    in_view = _connections(actor)
    if query.customer_id:
        in_view = in_view.filter(customer_id_filter(query.customer_id))
    if query.connection:
        in_view = in_view.filter(pk=query.connection)
    connections = list(in_view.values_list("pk", "home_charging_data_sharing", "organisation_id"))
    connection_ids = [pk for pk, _, _ in connections]
    sharing = [pk for pk, shares, _ in connections if shares]
    if query.type == TransactionType.HOME:
        which = Q(connection_id__in=sharing, kind=SessionKind.HOME)
    elif query.type == TransactionType.PUBLIC:
        # By organisation too: the (organisation, kind, started_at) index then reads the
        # public sessions alone, not every session of the connections.
        which = Q(
            organisation_id__in=sorted({org for _, _, org in connections}),
            kind=SessionKind.PUBLIC,
            connection_id__in=connection_ids,
        )
    elif len(sharing) == len(connection_ids):
        which = Q(connection_id__in=connection_ids)  # every session of these: the index alone
    else:
        others = [pk for pk, shares, _ in connections if not shares]
        which = Q(connection_id__in=sharing) | Q(connection_id__in=others, kind=SessionKind.PUBLIC)
    # Completed only: a live session is not a transaction yet, and a credited one (its
    # operator cancelled it) counts nowhere; the driver's page shows both.
    rows = ChargingSession.objects.filter(
        which,
        status=SessionStatus.COMPLETED,
        started_at__isnull=False,
    )
    if query.start:
        rows = rows.filter(started_at__gte=_local_midnight(query.start))
    if query.end:
        rows = rows.filter(started_at__lt=_local_midnight(query.end + timedelta(days=1)))
    if query.sort.lstrip("-").startswith("verification"):
        rows = _with_verification(rows)
    if query.driver:
        # The drivers are found first, among the memberships of the connections in view
        # (by name, e-mail or verification answer), and their sessions then through the
        # (driver, started_at) index: matching text on every session would read them all.
        q = query.driver
        drivers = Membership.objects.filter(connection_id__in=connection_ids).filter(
            Q(driver__full_name__icontains=q)
            | Q(driver__email__icontains=q)
            | Q(verification_1__icontains=q)
            | Q(verification_2__icontains=q)
        )
        rows = rows.filter(driver_id__in=Subquery(drivers.order_by().values("driver_id")))
    return rows


# Sort keys whose value can be missing (no membership, not on a statement yet): missing
# ones go last both ways. The others are never null, so their index can serve the order.
NULLABLE_SORTS = {
    "verification_1",
    "verification_2",
    "cost",
    "reimbursed",
    "reference",
    "charger",  # public sessions have no charger of ours
    "cost_excl_vat",
    "cost_incl_vat",
}


def _ordered(rows: QuerySet[ChargingSession], query: TransactionQuery) -> QuerySet[ChargingSession]:
    key = query.sort.lstrip("-")
    order = COLUMNS[key][1] or "started_at"
    if key == "duration":
        rows = rows.annotate(duration_order=F("ended_at") - F("started_at"))
    if key == "cost":
        rows = rows.annotate(
            statement_line__cost=F("statement_line__energy_wh") * F("statement_line__driver_price")
        )
    descending = query.sort.startswith("-")
    if key in NULLABLE_SORTS:
        field = F(order)
        ordering = field.desc(nulls_last=True) if descending else field.asc(nulls_last=True)
        return rows.order_by(ordering, "-pk" if descending else "pk")
    return rows.order_by(f"-{order}" if descending else order, "-pk" if descending else "pk")


def transactions_for(actor: Actor, query: TransactionQuery) -> ReportRows:
    """Every row of the report (``values_list`` tuples of ``FIELDS``), filtered and
    ordered: what the exports read."""
    rows = _ordered(_sessions(actor, query), query)
    if "verification_1" not in rows.query.annotations:
        rows = _with_verification(rows)
    return rows.values_list(*FIELDS)


def with_times_as_text(rows: ReportRows) -> ReportRows:
    """The same rows with start and end read as the database stores them (SQLite: UTC
    text), which the CSV writer parses for less than the driver's own conversion."""
    text = {"started_at": "started_text", "ended_at": "ended_text"}
    return rows.annotate(
        started_text=Cast("started_at", TextField()), ended_text=Cast("ended_at", TextField())
    ).values_list(*(text.get(f, f) for f in FIELDS))


def transactions_count(actor: Actor, query: TransactionQuery) -> int:
    return _sessions(actor, query).count()


def transactions_slice(
    actor: Actor, query: TransactionQuery, offset: int, limit: int
) -> list[tuple[Any, ...]]:
    """One page of rows: the page's sessions are found first from the sessions alone,
    then only those are read with their joins and verification answers, so a page costs
    the same whatever the number of rows before it is made of."""
    ids = list(
        _ordered(_sessions(actor, query), query).values_list("pk", flat=True)[
            offset : offset + limit
        ]
    )
    found = {
        row[0]: row
        for row in _with_verification(ChargingSession.objects.filter(pk__in=ids)).values_list(
            *FIELDS
        )
    }
    return [found[pk] for pk in ids]


class TransactionRows:
    """The report as a lazy sequence for Django's Paginator: it counts, then reads the
    one slice it shows."""

    def __init__(self, actor: Actor, query: TransactionQuery) -> None:
        self.actor, self.query = actor, query

    def count(self) -> int:
        return transactions_count(self.actor, self.query)

    def __len__(self) -> int:
        return self.count()

    def __getitem__(self, index: slice) -> list[tuple[Any, ...]]:
        start = index.start or 0
        return transactions_slice(self.actor, self.query, start, (index.stop or start) - start)


def transactions_page(rows: Iterable[tuple[Any, ...]]) -> Iterator[Transaction]:
    return (Transaction.from_values(row) for row in rows)
