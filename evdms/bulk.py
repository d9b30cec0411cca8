"""Plain-row inserts for the monthly runs (statement lines, invoices and their lines):
COPY on PostgreSQL, one prepared statement run for every row (executemany) on SQLite.
Model instances and the ORM's per-value preparation cost more than the rest of a run
with millions of lines.

Inside the caller's transaction, as ``bulk_create`` is; a constraint refusing a row
raises Django's ``IntegrityError`` as ``bulk_create`` does, so callers that retry or
refuse on it behave the same. With ``ignore_conflicts`` (as ``bulk_create``'s) a row a
unique constraint refuses is left out instead: ``INSERT OR IGNORE`` on SQLite, and on
PostgreSQL (where COPY cannot skip a row) multi-row ``INSERT … ON CONFLICT DO NOTHING``.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any, cast

from django.db import connection, models

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

    def prepared(row: Sequence[Any]) -> Sequence[Any]:
        if not prepare:
            return row
        values = list(row)
        for position, field, is_datetime in prepare:
            value = values[position]
            if is_datetime and (
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
