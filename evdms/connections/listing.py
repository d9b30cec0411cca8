"""The Connections list: columns, show/hide, filters (contains / does not contain / is,
match all or any), sorting, paging and CSV export, all done in the database with a fixed
number of queries whatever the number of rows."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db.models import Case, CharField, Q, QuerySet, Value, When
from django.db.models.functions import Cast, Concat
from django.utils import translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from evdms.connections.models import ApprovalType, Connection, ConnectionType
from evdms.connections.selectors import with_connected_drivers
from evdms.ui.spreadsheets import CsvWriter


@dataclass(frozen=True)
class Column:
    key: str
    label: Any  # lazily translated: the page's language on the page, English in the CSV
    lookup: str | None  # the annotated or real field filtered and sorted on; None: neither
    default_visible: bool = True


COLUMNS = [
    Column("actions", gettext_lazy("Action"), None),
    Column("approval_type", gettext_lazy("Approval type"), "approval_text"),
    Column("benefits", gettext_lazy("Benefits"), "benefits_text"),
    Column("connected_drivers", gettext_lazy("Connected drivers"), "connected_drivers_text"),
    Column("name", gettext_lazy("Connection name"), "name"),
    Column("connection_type", gettext_lazy("Connection type"), "type_text"),
    Column("status", gettext_lazy("Status"), "status_text"),
    Column("org_id", gettext_lazy("Org ID"), "org_id_text"),
    Column("org_name", gettext_lazy("Org name"), "organisation__name"),
    Column("verification_1_label", gettext_lazy("Verify drivers by"), "verification_1_label"),
    Column("verification_2_label", gettext_lazy("Additional info"), "verification_2_label", False),
    Column("customer_id", gettext_lazy("Customer ID"), "customer_id", False),
]
COLUMN_BY_KEY = {c.key: c for c in COLUMNS}
FILTERABLE = [c for c in COLUMNS if c.lookup]
DEFAULT_VISIBLE = [c.key for c in COLUMNS if c.default_visible]
OPERATORS = {
    "contains": gettext_lazy("contains"),
    "not_contains": gettext_lazy("does not contain"),
    "is": gettext_lazy("is"),
}
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
            _if(Q(provide_home_charger=True), _("Home charger") + "; "),
            _if(Q(reimburse_home_charging=True), _("Home charging reimbursed") + "; "),
            _if(Q(pay_for_public_charging=True), _("Public charging paid") + "; "),
            output_field=CharField(),
        ),
        org_id_text=Cast("organisation_id", CharField()),
        connected_drivers_text=Cast("connected_drivers", CharField()),
        status_text=Case(
            When(enabled=True, then=Value(_("Enabled"))),
            default=Value(_("Disabled")),
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
            errors.append(
                _("Unknown column “%(column)s” in a filter: it was ignored.") % {"column": column}
            )
            continue
        if operator not in OPERATORS:
            errors.append(
                _("Unknown condition “%(condition)s” in a filter: it was ignored.")
                % {"condition": operator}
            )
            continue
        filters.append(Filter(column, operator, value[:200]))
    match = params.get("match", "all")
    if match not in ("all", "any"):
        errors.append(_("Match must be all or any; all was used."))
        match = "all"
    sort = params.get("sort", "name")
    key = sort.lstrip("-")
    if key not in COLUMN_BY_KEY or not COLUMN_BY_KEY[key].lookup:
        if sort:
            errors.append(
                _("Cannot sort by “%(sort)s”; sorted by connection name.") % {"sort": sort}
            )
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
        return "; ".join(connection.benefits()) or _("None")
    if key == "connected_drivers":
        return str(getattr(connection, "connected_drivers", 0))
    if key == "connection_type":
        return connection.get_connection_type_display()
    if key == "status":
        return _("Enabled") if connection.enabled else _("Disabled")
    if key == "org_id":
        return str(connection.organisation_id)
    if key == "org_name":
        return connection.organisation.name
    return str(getattr(connection, key) or "")


def csv_rows(queryset: QuerySet[Connection], columns: list[str], invite_url: Any) -> Iterator[str]:
    """The CSV export, streamed row by row (the Action column exports the invite link).
    In English whatever the page's language, as every export: files are read by programs
    and exchanged between people of different languages. Each row is written in English
    and the language handed back before it is yielded (the stream is read later, maybe
    in another language)."""
    writer = CsvWriter()
    with translation.override(settings.LANGUAGE_CODE):
        labels = ["Invite link" if k == "actions" else str(COLUMN_BY_KEY[k].label) for k in columns]
        header = writer.writerow(labels)
    yield "\ufeff" + header  # BOM: spreadsheet programs read UTF-8 then
    for connection in queryset.iterator(chunk_size=500):
        with translation.override(settings.LANGUAGE_CODE):
            row = writer.writerow([cell(connection, k, invite_url(connection)) for k in columns])
        yield row


def search(queryset: QuerySet[Connection], text: str) -> QuerySet[Connection]:
    return queryset.filter(
        Q(name__icontains=text)
        | Q(name_for_drivers__icontains=text)
        | Q(customer_id__icontains=text)
    )
