"""Plain rows for the monthly runs: inserts (statement lines, invoices and their lines)
by COPY on PostgreSQL and one prepared statement run for every row (executemany) on
SQLite; reads straight from the driver, with the few values that need it read here.
Model instances and the ORM's per-value preparation and converters cost more than the
rest of a run with millions of lines.

Inside the caller's transaction, as ``bulk_create`` is; a constraint refusing a row
raises Django's ``IntegrityError`` as ``bulk_create`` does, so callers that retry or
refuse on it behave the same. With ``ignore_conflicts`` (as ``bulk_create``'s) a row a
unique constraint refuses is left out instead: ``INSERT OR IGNORE`` on SQLite, and on
PostgreSQL (where COPY cannot skip a row) multi-row ``INSERT … ON CONFLICT DO NOTHING``.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from datetime import UTC, datetime
from decimal import Context, Decimal
from typing import Any, cast

from django.db import connection, models
from django.db.models import QuerySet

# Fields whose values go to the driver as they are, exactly as the ORM passes them:
# text, whole numbers, Decimals (the ORM does not convert these either) and ids.
# Anything else (datetimes above all: naive UTC text on SQLite) is prepared by the
# field itself, as the ORM would.
_AS_THEY_ARE = (
    models.CharField,
    models.TextField,
    models.IntegerField,  # and its Positive/Big/Small kinds
    models.DecimalField,
    models.BooleanField,  # a Python bool: both drivers take it as it is
    models.ForeignKey,  # and OneToOneField
)


# PostgreSQL's limit of parameters in one statement.
_PG_MAX_PARAMETERS = 65_535


def insert_rows(
    model: type[models.Model],
    fields: Sequence[str],
    rows: Iterable[Sequence[Any]],
    *,
    ignore_conflicts: bool = False,
) -> None:
    """Insert ``rows`` (values in the order of ``fields``, by field name) into the
    model's table. No primary keys come back; no signals are sent (as bulk_create)."""
    opts = model._meta
    # Concrete columns only (a relation's reverse side has none).
    concrete = [cast("models.Field[Any, Any]", opts.get_field(name)) for name in fields]
    prepare = [
        (position, field, isinstance(field, models.DateTimeField))
        for position, field in enumerate(concrete)
        if not isinstance(field, _AS_THEY_ARE)
    ]

    adapt_datetime = connection.ops.adapt_datetimefield_value
    # SQLite stores Django's datetimes as naive text in the connection's time zone: for
    # a datetime in UTC already, when that zone is UTC, the text is made here directly
    # (what adapt_datetimefield_value makes, at a fifth of its cost).
    utc_text = connection.vendor == "sqlite" and connection.timezone is UTC

    def prepared(row: Sequence[Any]) -> Sequence[Any]:
        if not prepare:
            return row
        values = list(row)
        for position, field, is_datetime in prepare:
            value = values[position]
            if utc_text and is_datetime and type(value) is datetime and value.tzinfo is UTC:
                values[position] = value.replace(tzinfo=None).isoformat(" ")
            elif is_datetime and (
                value is None or (type(value) is datetime and value.utcoffset() is not None)
            ):
                # What the field does with no value or an aware datetime, without its
                # steps for other values (they cost a tenth of the run on SQLite).
                values[position] = adapt_datetime(value)
            else:
                values[position] = field.get_db_prep_save(value, connection)
        return values

    quote = connection.ops.quote_name
    table = quote(opts.db_table)
    columns = ", ".join(quote(field.column or field.name) for field in concrete)
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql" and ignore_conflicts:
            row_marks = "(" + ", ".join(["%s"] * len(concrete)) + ")"
            per_statement = _PG_MAX_PARAMETERS // len(concrete)
            pending = [prepared(row) for row in rows]
            for at in range(0, len(pending), per_statement):
                chunk = pending[at : at + per_statement]
                cursor.execute(
                    f"INSERT INTO {table} ({columns}) VALUES "  # noqa: S608
                    f"{', '.join([row_marks] * len(chunk))} ON CONFLICT DO NOTHING",
                    [value for row in chunk for value in row],
                )
        elif connection.vendor == "postgresql":
            # COPY: one stream instead of a round of messages per row. The driver's
            # cursor is used directly, so its errors are turned into Django's here.
            with (
                connection.wrap_database_errors,
                cursor.cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy,
            ):
                for row in rows:
                    copy.write_row(prepared(row))
        else:  # SQLite (and any other): one prepared statement, run in C for every row
            marks = ", ".join(["%s"] * len(concrete))
            insert = "INSERT OR IGNORE" if ignore_conflicts else "INSERT"
            cursor.executemany(
                f"{insert} INTO {table} ({columns}) VALUES ({marks})",
                [prepared(row) for row in rows],
            )


def plain_rows(queryset: QuerySet[Any, Any]) -> Iterator[tuple[Any, ...]]:
    """The rows of a ``values_list`` queryset straight from the driver, without Django's
    per-value converters (datetimes and decimals on SQLite above all): read the values
    that need it with ``utc_datetime`` and ``decimal_value``. Locks
    (``select_for_update``) are in the SQL as the queryset has them."""
    sql, params = queryset.query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        while rows := cursor.fetchmany(5000):
            yield from rows


def utc_datetime(value: datetime | str) -> datetime:
    """A datetime column read by plain SQL, in UTC: SQLite gives Django's UTC as a naive
    datetime (or text), PostgreSQL an aware datetime."""
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value.astimezone(UTC)


# SQLite keeps 15 significant digits of a decimal column (NUMERIC: a float when it has
# a fraction); what the ORM's converter makes of it, made the same way.
_FIFTEEN_DIGITS = Context(prec=15).create_decimal_from_float


def decimal_value(value: Decimal | float | int | str, places: int) -> Decimal:
    """A decimal column with ``places`` decimals read by plain SQL (not NULL), as the
    ORM reads it."""
    if type(value) is Decimal:  # PostgreSQL: exact already
        return value
    if isinstance(value, float):
        return _FIFTEEN_DIGITS(value).quantize(Decimal(1).scaleb(-places))
    return Decimal(value).quantize(Decimal(1).scaleb(-places))


def statistics_refresh(*models_: type[models.Model]) -> None:
    """PostgreSQL: the planner's statistics of these tables read anew (ANALYZE, a sample
    of each). A monthly run writes millions of rows into tables its own queries join
    (a line per session); planned with the statistics from before, when those tables
    were empty, a chunk's query scanned every line written so far for each source, and
    the run grew with the square of its size. SQLite keeps no statistics of its own
    unless asked to (ANALYZE), and none is asked for here."""
    if connection.vendor != "postgresql":
        return
    tables = ", ".join(connection.ops.quote_name(model._meta.db_table) for model in models_)
    with connection.cursor() as cursor:
        cursor.execute(f"ANALYZE {tables}")
