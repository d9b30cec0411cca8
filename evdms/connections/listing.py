"""The Connections list: columns, show/hide, filters (contains / does not contain / is,
match all or any), sorting, paging and CSV export, all done in the database with a fixed
number of queries whatever the number of rows."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from django.db.models import Case, CharField, Q, QuerySet, Value, When
from django.db.models.functions import Cast, Concat

from evdms.connections.models import ApprovalType, Connection, ConnectionType
from evdms.connections.selectors import with_connected_drivers
from evdms.ui.spreadsheets import CsvWriter


@dataclass(frozen=True)
class Column:
    key: str
    label: str
    lookup: str | None  # the annotated or real field filtered and sorted on; None: neither
    default_visible: bool = True


COLUMNS = [
    Column("actions", "Action", None),
    Column("approval_type", "Approval type", "approval_text"),
    Column("benefits", "Benefits", "benefits_text"),
    Column("connected_drivers", "Connected drivers", "connected_drivers_text"),
    Column("name", "Connection name", "name"),
    Column("connection_type", "Connection type", "type_text"),
    Column("status", "Status", "status_text"),
    Column("org_id", "Org ID", "org_id_text"),
    Column("org_name", "Org name", "organisation__name"),
    Column("verification_1_label", "Verify drivers by", "verification_1_label"),
    Column("verification_2_label", "Additional info", "verification_2_label", False),
    Column("customer_id", "Customer ID", "customer_id", False),
]
COLUMN_BY_KEY = {c.key: c for c in COLUMNS}
FILTERABLE = [c for c in COLUMNS if c.lookup]
DEFAULT_VISIBLE = [c.key for c in COLUMNS if c.default_visible]
OPERATORS = {"contains": "contains", "not_contains": "does not contain", "is": "is"}
PAGE_SIZE = 25
MAX_FILTERS = 5


def _label_case(field: str, choices: Any) -> Case:
    return Case(
        *[When(**{field: value}, then=Value(str(label))) for value, label in choices.choices],
        default=Value(""),
        output_field=CharField(),
    )


def _if(condition: Q, text: str) -> Case:
    return Case(When(condition, then=Value(text)), default=Value(""), output_field=CharField())


def annotated(queryset: QuerySet[Connection]) -> QuerySet[Connection]:
    """The list's texts computed in SQL, so filters and sorting run in the database."""
    return with_connected_drivers(queryset).annotate(
        approval_text=_label_case("approval_type", ApprovalType),
        type_text=_label_case("connection_type", ConnectionType),
        benefits_text=Concat(
            _if(Q(provide_home_charger=True), "Home charger; "),
            _if(Q(reimburse_home_charging=True), "Home charging reimbursed; "),
            _if(Q(pay_for_public_charging=True), "Public charging paid; "),
            output_field=CharField(),
        ),
        org_id_text=Cast("organisation_id", CharField()),
        connected_drivers_text=Cast("connected_drivers", CharField()),
        status_text=Case(
            When(enabled=True, then=Value("Enabled")),
            default=Value("Disabled"),
            output_field=CharField(),
        ),
    )


@dataclass
class Filter:
    column: str
    operator: str
    value: str


@dataclass
class ListQuery:
    filters: list[Filter]
    match: str  # "all" or "any"
    sort: str  # a column key, "-" for descending
    errors: list[str]


def parse_query(params: Mapping[str, str]) -> ListQuery:
    """Read filters and sorting from the query string; unknown values are reported, not fatal."""
    filters: list[Filter] = []
    errors: list[str] = []
    for i in range(MAX_FILTERS):
        column = params.get(f"f{i}_col", "")
        operator = params.get(f"f{i}_op", "contains")
        value = params.get(f"f{i}_val", "").strip()
        if not value:
            continue
        if column not in COLUMN_BY_KEY or not COLUMN_BY_KEY[column].lookup:
            errors.append(f"Unknown column “{column}” in a filter: it was ignored.")
            continue
        if operator not in OPERATORS:
            errors.append(f"Unknown condition “{operator}” in a filter: it was ignored.")
            continue
        filters.append(Filter(column, operator, value[:200]))
    match = params.get("match", "all")
    if match not in ("all", "any"):
        errors.append("Match must be all or any; all was used.")
        match = "all"
    sort = params.get("sort", "name")
    key = sort.lstrip("-")
    if key not in COLUMN_BY_KEY or not COLUMN_BY_KEY[key].lookup:
        if sort:
            errors.append(f"Cannot sort by “{sort}”; sorted by connection name.")
        sort = "name"
    return ListQuery(filters, match, sort, errors)


def apply(queryset: QuerySet[Connection], query: ListQuery) -> QuerySet[Connection]:
    queryset = annotated(queryset)
    conditions = []
    for f in query.filters:
        lookup = COLUMN_BY_KEY[f.column].lookup
        if f.operator == "contains":
            conditions.append(Q(**{f"{lookup}__icontains": f.value}))
        elif f.operator == "not_contains":
            conditions.append(~Q(**{f"{lookup}__icontains": f.value}))
        else:
            conditions.append(Q(**{f"{lookup}__iexact": f.value}))
    if conditions:
        combined = conditions[0]
        for condition in conditions[1:]:
            combined = combined & condition if query.match == "all" else combined | condition
        queryset = queryset.filter(combined)
    key = query.sort.lstrip("-")
    lookup = COLUMN_BY_KEY[key].lookup or "name"
    if key == "connected_drivers":
        lookup = "connected_drivers"
    elif key == "org_id":
        lookup = "organisation_id"
    descending = query.sort.startswith("-")
    return queryset.order_by(f"-{lookup}" if descending else lookup, "pk")


def cell(connection: Connection, key: str, invite_url: str | None = "") -> str:
    """A column's value as text (for the CSV export and the table)."""
    if key == "actions":
        return invite_url or ""
    if key == "approval_type":
        return connection.get_approval_type_display()
    if key == "benefits":
        return "; ".join(connection.benefits()) or "None"
    if key == "connected_drivers":
        return str(getattr(connection, "connected_drivers", 0))
    if key == "connection_type":
        return connection.get_connection_type_display()
    if key == "status":
        return "Enabled" if connection.enabled else "Disabled"
    if key == "org_id":
        return str(connection.organisation_id)
    if key == "org_name":
        return connection.organisation.name
    return str(getattr(connection, key) or "")


def csv_rows(queryset: QuerySet[Connection], columns: list[str], invite_url: Any) -> Iterator[str]:
    """The CSV export, streamed row by row (the Action column exports the invite link)."""
    writer = CsvWriter()
    labels = ["Invite link" if k == "actions" else COLUMN_BY_KEY[k].label for k in columns]
    yield "\ufeff" + writer.writerow(labels)  # BOM: spreadsheet programs read UTF-8 then
    for connection in queryset.iterator(chunk_size=500):
        yield writer.writerow([cell(connection, k, invite_url(connection)) for k in columns])


def search(queryset: QuerySet[Connection], text: str) -> QuerySet[Connection]:
    return queryset.filter(
        Q(name__icontains=text)
        | Q(name_for_drivers__icontains=text)
        | Q(customer_id__icontains=text)
    )
