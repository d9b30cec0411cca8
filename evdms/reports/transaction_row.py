"""One row of the Detailed transaction report, defined once.

``TRANSACTION_COLUMNS`` lists the report's columns in order. Each says its heading, the
query fields (``FIELDS``) its value is made from and how, what kind of cell it is (which
decides how a file writes it) and the same cell in PostgreSQL's SQL, for the CSV the
database writes itself. The page, the API (``Transaction`` is its item), the CSV and
XLSX files and the database's CSV all take their columns from here, and
tests/test_transaction_row.py holds each of them to it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, tzinfo
from decimal import ROUND_HALF_UP, Decimal
from enum import StrEnum
from typing import Any

from django.utils import timezone
from django.utils.translation import gettext_noop, pgettext_lazy

from evdms.reimbursements.models import statement_reference
from evdms.reimbursements.services.statements import CENT
from evdms.ui import formatting


class TransactionType:
    HOME = "home"
    PUBLIC = "public"
    # English in the files and the API; the page shows ``PAGE_LABELS``.
    CHOICES: tuple[tuple[str, str], ...] = (("home", "Home"), ("public", "Public"))
    LABELS: Mapping[str, str] = dict(CHOICES)


HOME = TransactionType.LABELS[TransactionType.HOME]
PUBLIC = TransactionType.LABELS[TransactionType.PUBLIC]
PERSONAL = "personal"
PURPOSE_LABELS: Mapping[str, str] = {"business": "Business", PERSONAL: "Personal"}
# Our own words of the LABEL cells as the page shows them, in the reader's language.
PAGE_LABELS: Mapping[str, Any] = {
    "Home": pgettext_lazy("transaction type", "Home"),
    "Public": pgettext_lazy("transaction type", "Public"),
    "Business": pgettext_lazy("purpose", "Business"),
    "Personal": pgettext_lazy("purpose", "Personal"),
}

# What the report's query reads for one row (``values_list`` of these, in this order).
FIELDS = (
    "pk",
    "started_at",
    "ended_at",
    "energy_wh",
    "driver__full_name",
    "driver__email",
    "verification_1",
    "verification_2",
    "connection__name",
    "connection__customer_id",
    "connection__organisation__name",
    "charger__identity",
    "connection__currency",
    "statement_line__driver_price",
    "statement_line__amount",
    "statement_line__statement_id",
    "statement_line__statement__month",
    # Public sessions (a partner's record): blank or null for home sessions.
    "kind",
    "location_name",
    "operator",
    "cost_excl_vat",
    "cost_incl_vat",
    "purpose",
    "currency",
)


class Cell(StrEnum):
    """What a column holds; every writer writes a kind of cell the same way."""

    TEXT = "text"  # typed by people (names, answers, IDs): where the formula guard matters
    LABEL = "label"  # our own words and references
    TIME = "time"  # aware UTC; local time, to the minute, in the files
    ENERGY = "energy"  # integer Wh; kWh with three decimals in the files
    DURATION = "duration"  # whole seconds or None; H:MM:SS in the files
    MONEY = "money"  # Decimal to the cent, or None until the session is on a statement


def duration_text(seconds: int | None) -> str:
    if seconds is None:
        return ""
    hours, rest = divmod(seconds, 3600)
    return f"{hours}:{rest // 60:02d}:{rest % 60:02d}"


def energy_text(wh: int) -> str:
    """Integer Wh as kWh text with three decimals, exact (no float)."""
    return f"{wh // 1000}.{wh % 1000:03d}"


def duration_seconds(started: datetime, ended: datetime | None) -> int | None:
    return int((ended - started).total_seconds()) if ended else None


def cost_of(wh: int, driver_price: Decimal | None, amount: Decimal | None) -> Decimal | None:
    """What the energy cost the driver at their declared home price, half-up to the cent;
    unknown until the session is on a statement."""
    if driver_price is None or amount is None:
        return None
    return (Decimal(wh) / 1000 * driver_price).quantize(CENT, ROUND_HALF_UP)


def reimbursed_of(driver_price: Decimal | None, amount: Decimal | None) -> Decimal | None:
    """What was reimbursed, half-up to the cent; unknown until on a statement."""
    if driver_price is None or amount is None:
        return None
    return amount.quantize(CENT, ROUND_HALF_UP)


def reference_of(statement_id: int | None, month: date | None) -> str:
    return "" if statement_id is None or month is None else statement_reference(statement_id, month)


def driver_name(full_name: str, email: str) -> str:
    return full_name or email


def blank_if_none(value: str | None) -> str:
    # A verification answer is missing when the driver has no membership of the
    # session's connection any more.
    return value or ""


def type_label(kind: str) -> str:
    return PUBLIC if kind == TransactionType.PUBLIC else HOME


def purpose_label(purpose: str) -> str:
    return PURPOSE_LABELS.get(purpose, "")


# A personal public session is the driver's to pay: the organisation sees that it
# happened (date, driver, energy, "Personal"), not where, with whom or at what price.
# The same rule as the API's (evdms/public_charging/selectors_sessions.py).
def charger_or_location(identity: str | None, location: str, purpose: str) -> str:
    if identity:
        return identity
    return "" if purpose == PERSONAL else location


def unless_personal(text: str, purpose: str) -> str:
    return "" if purpose == PERSONAL else text


def public_cost(amount: Decimal | None, purpose: str | None) -> Decimal | None:
    """The operator's price, half-up to the cent; none for a personal session (see
    above) or a session not priced."""
    if amount is None or purpose == PERSONAL:
        return None
    return amount.quantize(CENT, ROUND_HALF_UP)


def currency_of(own: str | None, connection: str | None) -> str:
    """A public session's own currency (the operator's), else the connection's."""
    return own or connection or ""


# What a personal purpose hides, in SQL (for PostgreSQL's COPY).
_NOT_PERSONAL = "t.purpose IS DISTINCT FROM 'personal'"


def _no_parameters() -> tuple[Any, ...]:
    return ()


@dataclass(frozen=True)
class Column:
    """One column of the report, for every writer."""

    key: str  # the page's and the API's sort key
    heading: str  # in every file (English); translated on the page
    field: str  # the attribute of ``Transaction`` (the API item's field) it shows
    cell: Cell
    reads: tuple[str, ...]  # the ``FIELDS`` its value is made from
    make: Callable[..., Any] | None = None  # those values → its value; None: the one, as is
    # The CSV cell in PostgreSQL's SQL, over the report's query as ``t`` and ``COPY_JOINS``,
    # with ``sql_parameters`` for its %s. Empty text is NULL, as the Python writer leaves
    # both unquoted. TEXT cells get the formula guard from the writer.
    sql: str = "NULL"
    sql_parameters: Callable[[], tuple[Any, ...]] = _no_parameters
    sort: str | None = None  # ORM ordering; None: not sortable
    # The field without which the value is what ``make`` gives for no values at all (a
    # session not on a statement has no cost): a writer need not make it row by row.
    blank_without: str | None = None
    width: int = 12  # the spreadsheet column's width
    on_page: bool = True
    page_detail: str | None = None  # a ``Transaction`` attribute the page shows under it
    page_blank: str = ""  # why the page's cell is blank (its title), when it can be

    @property
    def numeric(self) -> bool:
        return self.cell in (Cell.ENERGY, Cell.DURATION, Cell.MONEY)

    def value(self, row: Mapping[str, Any]) -> Any:
        """This column's value from one row of the query (field → value, as Django or the
        writer's own conversion gives it: aware times, Decimals, dates)."""
        if self.make is None:
            return row[self.reads[0]]
        return self.make(*(row[name] for name in self.reads))


def _text(key: str, heading: str, field: str, width: int, **options: Any) -> Column:
    """A column of text people typed, stored in ``field`` of the query."""
    return Column(
        key,
        heading,
        key,
        Cell.TEXT,
        (field,),
        sql=f"NULLIF(t.{field}, '')",
        sort=options.pop("sort", field),
        width=width,
        **options,
    )


# What the columns' SQL reads besides the query ``t``: ``d.s``, the duration in seconds.
COPY_JOINS = "LATERAL (SELECT floor(extract(epoch FROM t.ended_at - t.started_at))::bigint AS s) d"

TRANSACTION_COLUMNS: tuple[Column, ...] = (
    Column(
        "started",
        gettext_noop("Date/time"),
        "started_at",
        Cell.TIME,
        ("started_at",),
        sql="to_char(t.started_at AT TIME ZONE %s, 'YYYY-MM-DD HH24:MI')",
        sql_parameters=lambda: (timezone.get_current_timezone_name(),),
        sort="started_at",
        width=17,
    ),
    Column(
        "driver",
        gettext_noop("Driver"),
        "driver_name",
        Cell.TEXT,
        ("driver__full_name", "driver__email"),
        driver_name,
        page_detail="driver_email",
        sql="COALESCE(NULLIF(t.driver__full_name, ''), t.driver__email)",
        sort="driver__full_name",
        width=22,
    ),
    # On the page the e-mail is under the driver's name, not a column of its own.
    _text(
        "driver_email", gettext_noop("Driver e-mail"), "driver__email", 28, sort=None, on_page=False
    ),
    _text(
        "verification_1",
        gettext_noop("Driver verification 1"),
        "verification_1",
        18,
        make=blank_if_none,
        sort="verification_1",
    ),
    _text(
        "verification_2",
        gettext_noop("Driver verification 2"),
        "verification_2",
        18,
        make=blank_if_none,
        sort="verification_2",
    ),
    _text("connection", gettext_noop("Connection"), "connection__name", 24),
    _text("customer_id", gettext_noop("Customer ID"), "connection__customer_id", 14),
    _text("organisation", gettext_noop("Organisation"), "connection__organisation__name", 20),
    Column(
        "type",
        gettext_noop("Type"),
        "type",
        Cell.LABEL,
        ("kind",),
        type_label,
        sql="CASE WHEN t.kind = %s THEN %s ELSE %s END",
        sql_parameters=lambda: (TransactionType.PUBLIC, PUBLIC, HOME),
        sort="kind",
        width=8,
    ),
    Column(
        "charger",
        gettext_noop("Charger or location"),
        "charger",
        Cell.TEXT,
        ("charger__identity", "location_name", "purpose"),
        charger_or_location,
        sql=f"""COALESCE(NULLIF(t.charger__identity, ''),
        CASE WHEN {_NOT_PERSONAL} THEN NULLIF(t.location_name, '') END)""",
        sort="charger__identity",
        width=20,
    ),
    Column(
        "operator",
        gettext_noop("Operator"),
        "operator",
        Cell.TEXT,
        ("operator", "purpose"),
        unless_personal,
        sql=f"CASE WHEN {_NOT_PERSONAL} THEN NULLIF(t.operator, '') END",
        sort="operator",
        width=16,
    ),
    Column(
        "energy",
        gettext_noop("Energy (kWh)"),
        "energy_wh",
        Cell.ENERGY,
        ("energy_wh",),
        sql="(t.energy_wh / 1000)::text || '.' || lpad((t.energy_wh %% 1000)::text, 3, '0')",
        sort="energy_wh",
    ),
    Column(
        "duration",
        gettext_noop("Duration"),
        "duration_seconds",
        Cell.DURATION,
        ("started_at", "ended_at"),
        duration_seconds,
        blank_without="ended_at",
        sql="""CASE WHEN t.ended_at IS NULL THEN NULL ELSE
        (d.s / 3600)::text || ':' || lpad(((d.s %% 3600) / 60)::text, 2, '0')
        || ':' || lpad((d.s %% 60)::text, 2, '0') END""",
        sort="duration_order",
        width=10,
    ),
    Column(
        "cost",
        gettext_noop("Cost"),
        "cost",
        Cell.MONEY,
        ("energy_wh", "statement_line__driver_price", "statement_line__amount"),
        cost_of,
        blank_without="statement_line__statement_id",
        page_blank=gettext_noop(
            "Home sessions: known once the session is on a reimbursement statement"
        ),
        sql="round(t.energy_wh::numeric / 1000 * t.statement_line__driver_price, 2)",
        sort="statement_line__cost",
        width=10,
    ),
    Column(
        "reimbursed",
        gettext_noop("Reimbursed amount"),
        "reimbursed",
        Cell.MONEY,
        ("statement_line__driver_price", "statement_line__amount"),
        reimbursed_of,
        blank_without="statement_line__statement_id",
        page_blank=gettext_noop("Home sessions: not on a reimbursement statement yet"),
        sql="round(t.statement_line__amount, 2)",
        sort="statement_line__amount",
    ),
    # The operator's price of a public session (home sessions have none).
    Column(
        "cost_excl_vat",
        gettext_noop("Cost excl. VAT"),
        "cost_excl_vat",
        Cell.MONEY,
        ("cost_excl_vat", "purpose"),
        public_cost,
        blank_without="cost_excl_vat",
        page_blank=gettext_noop("Public sessions only"),
        sql=f"CASE WHEN {_NOT_PERSONAL} THEN round(t.cost_excl_vat, 2) END",
        sort="cost_excl_vat",
    ),
    Column(
        "cost_incl_vat",
        gettext_noop("Cost incl. VAT"),
        "cost_incl_vat",
        Cell.MONEY,
        ("cost_incl_vat", "purpose"),
        public_cost,
        blank_without="cost_incl_vat",
        page_blank=gettext_noop("Public sessions only"),
        sql=f"CASE WHEN {_NOT_PERSONAL} THEN round(t.cost_incl_vat, 2) END",
        sort="cost_incl_vat",
    ),
    # Public sessions only: home sessions have none.
    Column(
        "purpose",
        gettext_noop("Purpose"),
        "purpose",
        Cell.LABEL,
        ("purpose",),
        purpose_label,
        sql="CASE t.purpose WHEN 'business' THEN 'Business' WHEN 'personal' THEN 'Personal' END",
        sort="purpose",
        width=10,
    ),
    Column(
        "currency",
        gettext_noop("Currency"),
        "currency",
        Cell.TEXT,
        ("currency", "connection__currency"),
        currency_of,
        sql="COALESCE(NULLIF(t.currency, ''), NULLIF(t.connection__currency, ''))",
        sort="connection__currency",
        width=9,
    ),
    Column(
        "reference",
        gettext_noop("Statement / invoice"),
        "reference",
        Cell.LABEL,
        ("statement_line__statement_id", "statement_line__statement__month"),
        reference_of,
        blank_without="statement_line__statement_id",
        sql="""CASE WHEN t.statement_line__statement_id IS NULL THEN NULL ELSE
        'ST-' || to_char(t.statement_line__statement__month, 'YYYYMM') || '-'
        || lpad(t.statement_line__statement_id::text,
                greatest(7, length(t.statement_line__statement_id::text)), '0') END""",
        sort="statement_line__statement_id",
        width=18,
    ),
)
HEADINGS = [column.heading for column in TRANSACTION_COLUMNS]


def kwh(wh: int) -> Decimal:
    return Decimal(wh) / 1000


# How the files write each kind of cell, besides the time (which needs the zone): a
# spreadsheet keeps numbers as numbers, CSV has only text (None is an empty cell, a
# Decimal its digits). Kinds not named here are written as they are.
SPREADSHEET_FORM: Mapping[Cell, Callable[[Any], Any]] = {
    Cell.ENERGY: kwh,
    Cell.DURATION: duration_text,
}
CSV_FORM: Mapping[Cell, Callable[[Any], Any]] = {
    Cell.ENERGY: energy_text,
    Cell.DURATION: duration_text,
}


# The page: numbers as on every other page (evdms/ui/formatting.py, grouped), where the
# files keep plain digits a spreadsheet reads.
PAGE_FORM: Mapping[Cell, Callable[[Any], Any]] = {
    Cell.ENERGY: formatting.kwh_from_wh,
    Cell.DURATION: duration_text,
    Cell.MONEY: lambda value: None if value is None else formatting.amount(value),
    # Our own words (Home, Business, …) in the reader's language; references as they are.
    Cell.LABEL: lambda value: str(PAGE_LABELS.get(value, value)) if value else value,
}


def local_minute(moment: datetime, tz: tzinfo) -> datetime:
    """The local time a file shows (spreadsheets have no time zones)."""
    return moment.astimezone(tz).replace(tzinfo=None)


@dataclass(frozen=True)
class Transaction:
    """One report row as people see it: the page's row and the API's item, with the
    columns' values (``TRANSACTION_COLUMNS``, in their order) and the session's id and end.
    Amounts are rounded half-up to the cent for display; a statement's total is rounded
    once from the exact amounts, so the sum of displayed rows can differ from the
    statement by a cent or two."""

    id: int
    started_at: datetime
    ended_at: datetime | None
    driver_name: str
    driver_email: str
    verification_1: str
    verification_2: str
    connection: str
    customer_id: str
    organisation: str
    type: str
    charger: str
    operator: str
    energy_wh: int
    duration_seconds: int | None
    cost: Decimal | None
    reimbursed: Decimal | None
    cost_excl_vat: Decimal | None
    cost_incl_vat: Decimal | None
    purpose: str
    currency: str
    reference: str

    @classmethod
    def from_values(cls, row: tuple[Any, ...]) -> Transaction:
        """From one ``values_list`` tuple of ``FIELDS``."""
        values = dict(zip(FIELDS, row, strict=True))
        return cls(
            id=values["pk"],
            ended_at=values["ended_at"],
            **{column.field: column.value(values) for column in TRANSACTION_COLUMNS},
        )

    @property
    def duration(self) -> str:
        return duration_text(self.duration_seconds)

    def page_cells(self) -> list[tuple[Column, Any, Any]]:
        """The page's cells: (column, value, what it shows under it). Energy, duration
        and money as text for people; the template writes the time and the blanks."""
        cells = []
        for column in TRANSACTION_COLUMNS:
            if column.on_page:
                value = getattr(self, column.field)
                form = PAGE_FORM.get(column.cell)
                detail = getattr(self, column.page_detail) if column.page_detail else None
                cells.append((column, value if form is None else form(value), detail))
        return cells
