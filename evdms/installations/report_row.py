"""One row of the Home Charger Installation Report, defined once.

``INSTALLATION_COLUMNS`` lists the report's columns in order, as
``evdms/reports/transaction_row.py`` does for the Detailed transaction report. Each says
its heading, the query fields (``FIELDS``) its value is made from and how, what kind of
cell it is (which decides how a file writes it), the same cell in PostgreSQL's SQL (for
the CSV the database writes itself with COPY) and its sort key. The page, the API
(``InstallationRow`` is its item), the CSV and XLSX files all take their columns from
here, and tests/test_report_row.py holds each of them to it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any

from django.utils import timezone
from django.utils.translation import gettext_noop

from evdms.installations.models import JobStatus

# What the report's query reads for one row (``values_list`` of these, in this order).
# ``quote_*`` are of the job's latest quote that was not withdrawn; ``declaration_id``
# its latest installer declaration (see ``evdms/installations/report.py``).
STEPS: tuple[str, ...] = tuple(f"{status}_at" for status in JobStatus.values)
FIELDS: tuple[str, ...] = (
    "pk",
    "driver__full_name",
    "driver__email",
    "connection__name",
    "connection__customer_id",
    "status",
    "installer__organisation__name",
    "created_at",
    *STEPS,
    "status_changed_at",
    "quote_currency",
    "quote_total",
    "quote_organisation_share",
    "quote_driver_share",
    "charger_serial",
    "mid_certificate",
    "warranty_until",
    "declaration_id",
)

STATUS_LABELS: Mapping[str, str] = {value: str(label) for value, label in JobStatus.choices}


class Cell(StrEnum):
    """What a column holds; every writer writes a kind of cell the same way."""

    TEXT = "text"  # typed by people (names, serials, IDs): the formula guard applies
    LABEL = "label"  # our own words and references
    NUMBER = "number"  # an integer
    DAY = "day"  # an aware UTC time shown as its local day; or a date as it is
    MONEY = "money"  # Decimal to the cent, or None without a quote


def driver_name(full_name: str, email: str) -> str:
    return full_name or email


def status_label(status: str) -> str:
    return STATUS_LABELS.get(status, status)


def days_since(moment: datetime | None, now: datetime | None = None) -> int | None:
    """Whole days from ``moment`` to now (the report's "days in status")."""
    if moment is None:
        return None
    return max(0, ((now or timezone.now()) - moment).days)


def declaration_path(job_id: int, document_id: int | None) -> str:
    """Where the organisation opens the declaration (a path of this site)."""
    if document_id is None:
        return ""
    return f"/installations/jobs/{job_id}/documents/{document_id}/"


CENT = Decimal("0.01")


def cents(value: Decimal | float | None) -> Decimal | None:
    """An amount to the cent (SQLite gives a subquery's decimal as an int or a float)."""
    if value is None:
        return None
    return (value if isinstance(value, Decimal) else Decimal(str(value))).quantize(CENT)


def _no_parameters() -> tuple[Any, ...]:
    return ()


@dataclass(frozen=True)
class Column:
    """One column of the report, for every writer."""

    key: str  # the page's and the API's sort key, and the ``InstallationRow`` field
    heading: str  # on the page and in every file
    cell: Cell
    reads: tuple[str, ...]  # the ``FIELDS`` its value is made from
    make: Callable[..., Any] | None = None  # those values → its value; None: the one, as is
    # The CSV cell in PostgreSQL's SQL over the report's query as ``t``, with
    # ``sql_parameters`` for its %s. NULL is an empty cell. TEXT cells get the formula
    # guard from the writer.
    sql: str = "NULL"
    sql_parameters: Callable[[], tuple[Any, ...]] = _no_parameters
    sort: str | None = None  # ORM ordering; None: not sortable
    width: int = 12  # the spreadsheet column's width
    on_page: bool = True

    @property
    def numeric(self) -> bool:
        return self.cell in (Cell.NUMBER, Cell.MONEY)

    def value(self, row: Mapping[str, Any]) -> Any:
        if self.make is None:
            return row[self.reads[0]]
        return self.make(*(row[name] for name in self.reads))


def _text(key: str, heading: str, field: str, width: int, **options: Any) -> Column:
    return Column(
        key,
        heading,
        Cell.TEXT,
        (field,),
        sql=f"NULLIF(t.{field}, '')",
        sort=options.pop("sort", field),
        width=width,
        **options,
    )


def _zone() -> tuple[Any, ...]:
    return (timezone.get_current_timezone_name(),)


def _day(key: str, heading: str, field: str, **options: Any) -> Column:
    return Column(
        key,
        heading,
        Cell.DAY,
        (field,),
        sql=f"to_char(t.{field} AT TIME ZONE %s, 'YYYY-MM-DD')",
        sql_parameters=_zone,
        width=11,
        **options,
    )


def _money(key: str, heading: str, field: str, **options: Any) -> Column:
    return Column(
        key, heading, Cell.MONEY, (field,), cents, sql=f"t.{field}::text", width=12, **options
    )


def _status_sql() -> str:
    cases = " ".join("WHEN %s THEN %s" for _ in STATUS_LABELS)
    return f"CASE t.status {cases} ELSE t.status END"


def _status_parameters() -> tuple[Any, ...]:
    return tuple(p for item in STATUS_LABELS.items() for p in item)


def _now() -> tuple[Any, ...]:
    return (timezone.now(),)


INSTALLATION_COLUMNS: tuple[Column, ...] = (
    Column("job", gettext_noop("Job"), Cell.NUMBER, ("pk",), sql="t.pk::text", sort="pk", width=8),
    Column(
        "driver",
        gettext_noop("Driver"),
        Cell.TEXT,
        ("driver__full_name", "driver__email"),
        driver_name,
        sql="COALESCE(NULLIF(t.driver__full_name, ''), t.driver__email)",
        sort="driver__full_name",
        width=22,
    ),
    _text(
        "driver_email", gettext_noop("Driver e-mail"), "driver__email", 28, sort=None, on_page=False
    ),
    _text("connection", gettext_noop("Connection"), "connection__name", 24),
    _text("customer_id", gettext_noop("Customer ID"), "connection__customer_id", 14),
    Column(
        "status",
        gettext_noop("Status"),
        Cell.LABEL,
        ("status",),
        status_label,
        sql=_status_sql(),
        sql_parameters=_status_parameters,
        sort="status",
        width=14,
    ),
    _text("installer", gettext_noop("Installer"), "installer__organisation__name", 22),
    _day("created", gettext_noop("Created"), "created_at", sort="created_at"),
    *(
        _day(field, str(label), field, on_page=False)
        for field, label in zip(STEPS, JobStatus.labels, strict=True)
    ),
    Column(
        "days_in_status",
        gettext_noop("Days in status"),
        Cell.NUMBER,
        ("status_changed_at",),
        days_since,
        sql="floor(extract(epoch FROM (%s::timestamptz - t.status_changed_at)) / 86400)::text",
        sql_parameters=_now,
        # More days in status is an earlier change.
        sort="-status_changed_at",
        width=9,
    ),
    _text("currency", gettext_noop("Currency"), "quote_currency", 9, sort=None),
    _money("quote_total", gettext_noop("Quote total"), "quote_total", sort="quote_total"),
    _money("organisation_share", gettext_noop("Organisation’s share"), "quote_organisation_share"),
    _money("driver_share", gettext_noop("Driver’s share"), "quote_driver_share"),
    _text("charger_serial", gettext_noop("Charger serial"), "charger_serial", 18),
    _text("mid_certificate", gettext_noop("MID number"), "mid_certificate", 18, sort=None),
    # A date, not a time: no zone.
    Column(
        "warranty_until",
        gettext_noop("Warranty until"),
        Cell.DAY,
        ("warranty_until",),
        sql="to_char(t.warranty_until, 'YYYY-MM-DD')",
        sort="warranty_until",
        width=11,
    ),
    Column(
        "declaration",
        gettext_noop("Declaration"),
        Cell.LABEL,
        ("pk", "declaration_id"),
        declaration_path,
        sql="""CASE WHEN t.declaration_id IS NULL THEN NULL ELSE
        '/installations/jobs/' || t.pk || '/documents/' || t.declaration_id || '/' END""",
        width=30,
    ),
)
HEADINGS = [column.heading for column in INSTALLATION_COLUMNS]
COLUMNS_BY_KEY: Mapping[str, Column] = {column.key: column for column in INSTALLATION_COLUMNS}


def local_day(value: datetime | date | None) -> date | None:
    """The local day of a time (a date stays as it is)."""
    if value is None or not isinstance(value, datetime):
        return value
    return timezone.localtime(value).date()


@dataclass(frozen=True)
class InstallationRow:
    """One report row as people see it: the page's row and the API's item, with the
    columns' values (``INSTALLATION_COLUMNS``, in their order). Step dates are times
    (aware UTC) in the API and the local day on the page and in the files."""

    job: int
    driver: str
    driver_email: str
    connection: str
    customer_id: str
    status: str
    installer: str
    created: datetime
    assigned_at: datetime | None
    contacted_at: datetime | None
    surveyed_at: datetime | None
    quoted_at: datetime | None
    quote_approved_at: datetime | None
    scheduled_at: datetime | None
    installed_at: datetime | None
    commissioned_at: datetime | None
    completed_at: datetime | None
    cancelled_at: datetime | None
    days_in_status: int | None
    currency: str
    quote_total: Decimal | None
    organisation_share: Decimal | None
    driver_share: Decimal | None
    charger_serial: str
    mid_certificate: str
    warranty_until: date | None
    declaration: str
    status_code: str

    @classmethod
    def from_values(cls, row: tuple[Any, ...]) -> InstallationRow:
        """From one ``values_list`` tuple of ``FIELDS``."""
        values = dict(zip(FIELDS, row, strict=True))
        cells = {column.key: column.value(values) for column in INSTALLATION_COLUMNS}
        cells["installer"] = cells["installer"] or ""
        cells["currency"] = cells["currency"] or ""
        return cls(**cells, status_code=values["status"])

    def page_cells(self) -> list[tuple[Column, Any]]:
        """The page's cells: (column, value); days are local days."""
        cells = []
        for column in INSTALLATION_COLUMNS:
            if column.on_page:
                value = getattr(self, column.key)
                cells.append((column, local_day(value) if column.cell is Cell.DAY else value))
        return cells

    def steps(self) -> list[tuple[str, date | None]]:
        """Each step's label and local day (the job page lists them)."""
        return [
            (str(label), local_day(getattr(self, field)))
            for field, label in zip(STEPS, JobStatus.labels, strict=True)
        ]
