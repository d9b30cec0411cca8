"""The dashboard's monthly figures (``MonthlyFigures``), kept by database triggers.

Why triggers and not a call in each service: sessions are written by the OCPP handlers,
the meter-value batcher (raw SQL), the OCPI session and CDR paths, credits, the drivers'
Business/Personal choice, reviews, the invoice run, the demo and the benchmarks' bulk
loads; statements by the monthly run. A trigger sees every one of those writes, with the
row as it was (OLD) and as it is (NEW), in the writer's own transaction, so the figures
can never drift from the sources whichever path changes them, and no other area has to
know the dashboard exists. Each trigger adds the new row's share to its month's figures
and takes the old row's off, with an upsert on the figures' key.

- The month is the local month (``settings.TIME_ZONE``) of the session's start. The zone
  is written into the triggers; ``install(...)`` (after every ``migrate``, see
  ``apps.py``) compares the installed triggers with the wanted ones and, when they
  differ or are missing (a changed EVDMS_TIME_ZONE; SQLite drops a table's triggers when
  a migration remakes the table), installs them again and rebuilds the figures.
- On SQLite the triggers call ``django_datetime_trunc``, the function Django registers on
  each of its connections for ``TruncMonth``: write sessions through Django only (the
  ``sqlite3`` shell may read, not write them).
- ``rebuild(...)`` (``manage.py rebuild_monthly_figures``) recomputes every row from the
  sessions and statements, with writers held off meanwhile.

The same triggers keep ``DriverFigures``, the drivers of each connection by membership
status: counting 100,000 memberships took 30 of the dashboard's 130 ms on PostgreSQL
(an index-only scan and a hash of every row), reading 200 kept counts takes one.
"""

# SQL here is put together from this module's constants and the checked zone name only,
# never from input.
# ruff: noqa: S608
from __future__ import annotations

import logging
import re
import zoneinfo

from django.conf import settings
from django.db import transaction
from django.db.backends.base.base import BaseDatabaseWrapper

log = logging.getLogger(__name__)

FIGURES = "reports_monthlyfigures"
SESSIONS = "charging_chargingsession"
STATEMENTS = "reimbursements_statement"
DRIVERS = "reports_driverfigures"
MEMBERSHIPS = "enrolment_membership"
MEMBERSHIP_COLUMNS = ("connection_id", "status")
COLUMNS = "connection_id, month, kind, currency, sessions, energy_wh, statements, cost_e4"
KEY = "connection_id, month, kind, currency"
# A session counts once completed, under a connection, with a start (the dashboard's
# figures have always been completed sessions only: active ones have no final energy,
# credited ones count nowhere).
SESSION_COLUMNS = (
    "status",
    "connection_id",
    "started_at",
    "kind",
    "currency",
    "energy_wh",
    "purpose",
    "cost_incl_vat",
)
STATEMENT_COLUMNS = ("connection_id", "month", "currency", "total")
TRIGGERS = (
    "evdms_monthly_session_insert",
    "evdms_monthly_session_update_old",
    "evdms_monthly_session_update_new",
    "evdms_monthly_session_delete",
    "evdms_monthly_statement_insert",
    "evdms_monthly_statement_update_old",
    "evdms_monthly_statement_update_new",
    "evdms_monthly_statement_delete",
    "evdms_monthly_membership_insert",
    "evdms_monthly_membership_update_old",
    "evdms_monthly_membership_update_new",
    "evdms_monthly_membership_delete",
)
PG_FUNCTIONS = ("evdms_monthly_session", "evdms_monthly_statement", "evdms_monthly_membership")


def _zone() -> str:
    name = settings.TIME_ZONE
    zoneinfo.ZoneInfo(name)  # a zone the database can be told about, or an error now
    if not re.fullmatch(r"[A-Za-z0-9_/+\-]+", name):  # it goes into SQL as a literal
        raise ValueError(f"Unexpected time zone name {name!r}")
    return name


class _Dialect:
    """The few SQL pieces that differ between SQLite and PostgreSQL."""

    def __init__(self, vendor: str, zone: str) -> None:
        self.vendor, self.zone = vendor, zone

    def month(self, row: str) -> str:
        if self.vendor == "postgresql":
            return f"(date_trunc('month', {row}started_at AT TIME ZONE '{self.zone}'))::date"
        trunc = f"django_datetime_trunc('month', {row}started_at, '{self.zone}', 'UTC')"
        return f"substr({trunc}, 1, 10)"

    def e4(self, value: str) -> str:
        """An amount of at most four decimals as whole ten-thousandths, exactly (SQLite
        keeps decimals as floats: 5.005 × 10,000 is 50049.999…, rounded to 50050)."""
        if self.vendor == "postgresql":
            return f"({value} * 10000)::bigint"
        return f"CAST(ROUND({value} * 10000) AS INTEGER)"

    def session_cost(self, row: str) -> str:
        # What the organisation pays for a session: the price of a business public one.
        return (
            f"CASE WHEN {row}kind = 'public' AND {row}purpose = 'business' "
            f"AND {row}cost_incl_vat IS NOT NULL THEN {self.e4(row + 'cost_incl_vat')} ELSE 0 END"
        )

    def counted(self, row: str) -> str:
        return (
            f"{row}status = 'completed' AND {row}connection_id IS NOT NULL "
            f"AND {row}started_at IS NOT NULL"
        )

    def changed(self, columns: tuple[str, ...]) -> str:
        differ = "IS DISTINCT FROM" if self.vendor == "postgresql" else "IS NOT"
        return " OR ".join(f"OLD.{c} {differ} NEW.{c}" for c in columns)

    def session_values(self, row: str, sign: str) -> str:
        return (
            f"{row}connection_id, {self.month(row)}, {row}kind, {row}currency, "
            f"{sign}1, {sign}{row}energy_wh, 0, {sign}({self.session_cost(row)})"
        )

    def statement_values(self, row: str, sign: str) -> str:
        return (
            f"{row}connection_id, {row}month, 'home', {row}currency, "
            f"0, 0, {sign}1, {sign}{self.e4(row + 'total')}"
        )

    def upsert(self, values: str) -> str:
        return (
            f"INSERT INTO {FIGURES} ({COLUMNS}) VALUES ({values}) "
            f"ON CONFLICT ({KEY}) DO UPDATE SET "
            + ", ".join(
                f"{c} = {FIGURES}.{c} + excluded.{c}"
                for c in ("sessions", "energy_wh", "statements", "cost_e4")
            )
        )

    def drivers_upsert(self, row: str, sign: str) -> str:
        """One membership more (or less) in its connection's count for its status."""
        return (
            f"INSERT INTO {DRIVERS} (connection_id, status, drivers) "
            f"VALUES ({row}connection_id, {row}status, {sign}1) "
            f"ON CONFLICT (connection_id, status) DO UPDATE SET "
            f"drivers = {DRIVERS}.drivers + excluded.drivers"
        )


def _sqlite_triggers(d: _Dialect) -> dict[str, str]:
    def trigger(name: str, event: str, table: str, when: str, values: str) -> str:
        return statement_trigger(name, event, table, when, d.upsert(values))

    def statement_trigger(name: str, event: str, table: str, when: str, sql: str) -> str:
        return f"CREATE TRIGGER {name} AFTER {event} ON {table} WHEN {when} BEGIN {sql}; END"

    session_changed = d.changed(SESSION_COLUMNS)
    statement_changed = d.changed(STATEMENT_COLUMNS)
    membership_changed = d.changed(MEMBERSHIP_COLUMNS)
    return {
        "evdms_monthly_session_insert": trigger(
            "evdms_monthly_session_insert",
            "INSERT",
            SESSIONS,
            d.counted("NEW."),
            d.session_values("NEW.", ""),
        ),
        "evdms_monthly_session_update_old": trigger(
            "evdms_monthly_session_update_old",
            "UPDATE",
            SESSIONS,
            f"{d.counted('OLD.')} AND ({session_changed})",
            d.session_values("OLD.", "-"),
        ),
        "evdms_monthly_session_update_new": trigger(
            "evdms_monthly_session_update_new",
            "UPDATE",
            SESSIONS,
            f"{d.counted('NEW.')} AND ({session_changed})",
            d.session_values("NEW.", ""),
        ),
        "evdms_monthly_session_delete": trigger(
            "evdms_monthly_session_delete",
            "DELETE",
            SESSIONS,
            d.counted("OLD."),
            d.session_values("OLD.", "-"),
        ),
        "evdms_monthly_statement_insert": trigger(
            "evdms_monthly_statement_insert",
            "INSERT",
            STATEMENTS,
            "1",
            d.statement_values("NEW.", ""),
        ),
        "evdms_monthly_statement_update_old": trigger(
            "evdms_monthly_statement_update_old",
            "UPDATE",
            STATEMENTS,
            statement_changed,
            d.statement_values("OLD.", "-"),
        ),
        "evdms_monthly_statement_update_new": trigger(
            "evdms_monthly_statement_update_new",
            "UPDATE",
            STATEMENTS,
            statement_changed,
            d.statement_values("NEW.", ""),
        ),
        "evdms_monthly_statement_delete": trigger(
            "evdms_monthly_statement_delete",
            "DELETE",
            STATEMENTS,
            "1",
            d.statement_values("OLD.", "-"),
        ),
        "evdms_monthly_membership_insert": statement_trigger(
            "evdms_monthly_membership_insert",
            "INSERT",
            MEMBERSHIPS,
            "1",
            d.drivers_upsert("NEW.", ""),
        ),
        "evdms_monthly_membership_update_old": statement_trigger(
            "evdms_monthly_membership_update_old",
            "UPDATE",
            MEMBERSHIPS,
            membership_changed,
            d.drivers_upsert("OLD.", "-"),
        ),
        "evdms_monthly_membership_update_new": statement_trigger(
            "evdms_monthly_membership_update_new",
            "UPDATE",
            MEMBERSHIPS,
            membership_changed,
            d.drivers_upsert("NEW.", ""),
        ),
        "evdms_monthly_membership_delete": statement_trigger(
            "evdms_monthly_membership_delete",
            "DELETE",
            MEMBERSHIPS,
            "1",
            d.drivers_upsert("OLD.", "-"),
        ),
    }


def _postgresql_sql(d: _Dialect) -> dict[str, str]:
    """Two trigger functions (they take the old row off and add the new one) and, per
    table, one trigger for inserts and deletes and one for updates of what counts."""

    def function(name: str, counted_old: str, counted_new: str, old: str, new: str) -> str:
        return statements_function(name, counted_old, counted_new, d.upsert(old), d.upsert(new))

    def statements_function(
        name: str, counted_old: str, counted_new: str, old: str, new: str
    ) -> str:
        return (
            f"CREATE OR REPLACE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql AS $$\n"
            "BEGIN\n"
            f"  IF TG_OP <> 'INSERT' AND {counted_old} THEN {old}; END IF;\n"
            f"  IF TG_OP <> 'DELETE' AND {counted_new} THEN {new}; END IF;\n"
            "  RETURN NULL;\n"
            "END\n$$"
        )

    def triggers(table: str, fn: str, prefix: str, columns: tuple[str, ...]) -> dict[str, str]:
        return {
            f"{prefix}_insert": (
                f"CREATE TRIGGER {prefix}_insert AFTER INSERT OR DELETE ON {table} "
                f"FOR EACH ROW EXECUTE FUNCTION {fn}()"
            ),
            f"{prefix}_update": (
                f"CREATE TRIGGER {prefix}_update AFTER UPDATE ON {table} FOR EACH ROW "
                f"WHEN ({d.changed(columns)}) EXECUTE FUNCTION {fn}()"
            ),
        }

    return {
        "evdms_monthly_session": function(
            "evdms_monthly_session",
            d.counted("OLD."),
            d.counted("NEW."),
            d.session_values("OLD.", "-"),
            d.session_values("NEW.", ""),
        ),
        "evdms_monthly_statement": function(
            "evdms_monthly_statement",
            "TRUE",
            "TRUE",
            d.statement_values("OLD.", "-"),
            d.statement_values("NEW.", ""),
        ),
        **triggers(SESSIONS, "evdms_monthly_session", "evdms_monthly_session", SESSION_COLUMNS),
        **triggers(
            STATEMENTS, "evdms_monthly_statement", "evdms_monthly_statement", STATEMENT_COLUMNS
        ),
        "evdms_monthly_membership": statements_function(
            "evdms_monthly_membership",
            "TRUE",
            "TRUE",
            d.drivers_upsert("OLD.", "-"),
            d.drivers_upsert("NEW.", ""),
        ),
        **triggers(
            MEMBERSHIPS, "evdms_monthly_membership", "evdms_monthly_membership", MEMBERSHIP_COLUMNS
        ),
    }


PG_TRIGGERS = {
    "evdms_monthly_session_insert": SESSIONS,
    "evdms_monthly_session_update": SESSIONS,
    "evdms_monthly_statement_insert": STATEMENTS,
    "evdms_monthly_statement_update": STATEMENTS,
    "evdms_monthly_membership_insert": MEMBERSHIPS,
    "evdms_monthly_membership_update": MEMBERSHIPS,
}


def wanted_sql(vendor: str) -> dict[str, str]:
    d = _Dialect(vendor, _zone())
    return _postgresql_sql(d) if vendor == "postgresql" else _sqlite_triggers(d)


def _installed(connection: BaseDatabaseWrapper) -> dict[str, str]:
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                "SELECT proname, prosrc FROM pg_proc WHERE proname = ANY(%s)", [list(PG_FUNCTIONS)]
            )
            found = {name: source for name, source in cursor.fetchall()}
            cursor.execute(
                "SELECT tgname, pg_get_triggerdef(oid) FROM pg_trigger WHERE tgname = ANY(%s)",
                [list(PG_TRIGGERS)],
            )
            return found | {name: definition for name, definition in cursor.fetchall()}
        cursor.execute(
            "SELECT name, sql FROM sqlite_master WHERE type = 'trigger' AND name LIKE %s",
            ["evdms_monthly_%"],
        )
        return {name: sql for name, sql in cursor.fetchall()}


def _matches(connection: BaseDatabaseWrapper) -> bool:
    """Whether the installed triggers are the wanted ones (same names, same SQL)."""
    installed, wanted = _installed(connection), wanted_sql(connection.vendor)
    if connection.vendor != "postgresql":
        return installed == wanted
    if set(installed) != set(wanted):
        return False
    # PostgreSQL keeps a function's body as written and prints a trigger back in its own
    # words: compare the bodies, and that each trigger is there.
    for name in PG_FUNCTIONS:
        body = wanted[name].split("$$")[1]
        if installed[name] != body:
            return False
    return True


def table_exists(connection: BaseDatabaseWrapper) -> bool:
    """Whether the kept tables are there (both: migration 0003 made the monthly figures,
    0004 the drivers' ones, and the triggers of either need both)."""
    with connection.cursor() as cursor:
        return {FIGURES, DRIVERS} <= set(connection.introspection.table_names(cursor))


def drop_triggers(connection: BaseDatabaseWrapper) -> None:
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            for name, table in PG_TRIGGERS.items():
                cursor.execute(f"DROP TRIGGER IF EXISTS {name} ON {table}")
            for name in PG_FUNCTIONS:
                cursor.execute(f"DROP FUNCTION IF EXISTS {name}()")
        else:
            for name in TRIGGERS:
                cursor.execute(f"DROP TRIGGER IF EXISTS {name}")


def install_triggers(connection: BaseDatabaseWrapper) -> None:
    wanted = wanted_sql(connection.vendor)
    drop_triggers(connection)
    with connection.cursor() as cursor:
        names = [*PG_FUNCTIONS, *PG_TRIGGERS] if connection.vendor == "postgresql" else TRIGGERS
        for name in names:
            cursor.execute(wanted[name])


def rebuild(connection: BaseDatabaseWrapper) -> int:
    """Every row of the figures anew from the sessions and statements; the number of
    rows. Writers of sessions and statements wait meanwhile (PostgreSQL: a SHARE lock;
    SQLite: the one writer is this transaction), so no write falls between the read and
    the figures."""
    d = _Dialect(connection.vendor, _zone())
    with transaction.atomic(using=connection.alias), connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(f"LOCK TABLE {SESSIONS}, {STATEMENTS}, {MEMBERSHIPS} IN SHARE MODE")
            cursor.execute(f"LOCK TABLE {FIGURES}, {DRIVERS} IN EXCLUSIVE MODE")
        cursor.execute(f"DELETE FROM {DRIVERS}")
        cursor.execute(
            f"INSERT INTO {DRIVERS} (connection_id, status, drivers) "
            f"SELECT connection_id, status, COUNT(*) FROM {MEMBERSHIPS} "
            "GROUP BY connection_id, status"
        )
        cursor.execute(f"DELETE FROM {FIGURES}")
        cursor.execute(
            f"INSERT INTO {FIGURES} ({COLUMNS}) "
            "SELECT connection_id, month, kind, currency, SUM(sessions), SUM(energy_wh), "
            "SUM(statements), SUM(cost_e4) FROM ("
            f"SELECT connection_id, {d.month('')} AS month, kind, currency, 1 AS sessions, "
            f"energy_wh, 0 AS statements, {d.session_cost('')} AS cost_e4 "
            f"FROM {SESSIONS} WHERE {d.counted('')} "
            "UNION ALL "
            f"SELECT connection_id, month, 'home', currency, 0, 0, 1, {d.e4('total')} "
            f"FROM {STATEMENTS}"
            ") AS source GROUP BY connection_id, month, kind, currency"
        )
    return figures_rows(connection)


def install(connection: BaseDatabaseWrapper, *, force: bool = False) -> bool:
    """Install the triggers and rebuild the figures unless the wanted triggers are
    there already; whether it did."""
    if not table_exists(connection):
        return False  # before the figures' migration (or after going back past it)
    if not force and _matches(connection):
        _clear_after_flush(connection)
        return False
    with transaction.atomic(using=connection.alias):
        install_triggers(connection)
        rows = rebuild(connection)
    log.info("Monthly figures: triggers installed, %s rows rebuilt", rows)
    return True


def figures_rows(connection: BaseDatabaseWrapper) -> int:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT COUNT(*) FROM {FIGURES}")
        return int(cursor.fetchone()[0])


def _clear_after_flush(connection: BaseDatabaseWrapper) -> None:
    """No figures without sources. A flush (the test databases' between transactional
    tests) empties the tables one by one with DELETE on SQLite, and the sessions'
    triggers then write what they took off into figures already emptied."""
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT EXISTS(SELECT 1 FROM {FIGURES}) AND NOT EXISTS(SELECT 1 FROM {SESSIONS}) "
            f"AND NOT EXISTS(SELECT 1 FROM {STATEMENTS})"
        )
        if cursor.fetchone()[0]:
            cursor.execute(f"DELETE FROM {FIGURES}")
        cursor.execute(
            f"SELECT EXISTS(SELECT 1 FROM {DRIVERS}) AND NOT EXISTS(SELECT 1 FROM {MEMBERSHIPS})"
        )
        if cursor.fetchone()[0]:
            cursor.execute(f"DELETE FROM {DRIVERS}")
