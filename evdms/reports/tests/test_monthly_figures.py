"""The dashboard's monthly figures (evdms/reports/monthly.py): whatever is written to
sessions and statements, and however, the figures kept by the triggers are exactly what
a rebuild from the sources gives, and what counting the sources in Python gives."""

from __future__ import annotations

import itertools
from collections import defaultdict
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.db import connection
from django.test import override_settings
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from evdms.charging.models import Charger, ChargingSession
from evdms.charging.services.sessions import public_session_credit, session_finish, session_start
from evdms.public_charging.services.purpose import session_purpose_set
from evdms.reimbursements.models import Statement
from evdms.reports import monthly
from evdms.reports.dashboard import dashboard_for
from evdms.reports.models import MonthlyFigures
from evdms.reports.tests.conftest import AMSTERDAM, Fleet, on_statement
from evdms.reports.tests.test_public_rows import _members_since_long_ago, public

pytestmark = pytest.mark.django_db
_keys = itertools.count(1)

Key = tuple[int, date, str, str]
Figures = dict[Key, tuple[int, int, int, int]]


def stored() -> Figures:
    """The figures as kept, without rows that came to nothing (what was added and taken
    off again)."""
    return {
        (f.connection_id, f.month, f.kind, f.currency): (
            f.sessions,
            f.energy_wh,
            f.statements,
            f.cost_e4,
        )
        for f in MonthlyFigures.objects.all()
        if (f.sessions, f.energy_wh, f.statements, f.cost_e4) != (0, 0, 0, 0)
    }


def from_sources() -> Figures:
    """The same figures counted here, from the rows, with Python's own time zones."""
    out: dict[Key, list[int]] = defaultdict(lambda: [0, 0, 0, 0])
    for s in ChargingSession.objects.filter(
        status="completed", connection__isnull=False, started_at__isnull=False
    ):
        assert s.connection_id is not None and s.started_at is not None
        month = timezone.localtime(s.started_at, AMSTERDAM).date().replace(day=1)
        row = out[(s.connection_id, month, s.kind, s.currency)]
        row[0] += 1
        row[1] += s.energy_wh
        if s.kind == "public" and s.purpose == "business" and s.cost_incl_vat is not None:
            row[3] += int(s.cost_incl_vat * 10_000)
    for statement in Statement.objects.all():
        row = out[(statement.connection_id, statement.month, "home", statement.currency)]
        row[2] += 1
        row[3] += int(statement.total * 10_000)
    return {key: (a, b, c, d) for key, (a, b, c, d) in out.items()}


# Times on and around the local month boundaries (Amsterdam is UTC+2 until the last
# Sunday of October, UTC+1 after it), where a UTC month and a local one differ.
TIMES = [
    datetime(2026, 9, 30, 23, 59, tzinfo=AMSTERDAM),
    datetime(2026, 10, 1, 0, 0, tzinfo=AMSTERDAM),
    datetime(2026, 9, 30, 22, 30, tzinfo=UTC),  # 00:30 on 1 October, local
    datetime(2026, 10, 15, 12, 0, tzinfo=AMSTERDAM),
    datetime(2026, 10, 25, 2, 30, tzinfo=UTC),  # the night the clocks go back
    datetime(2026, 10, 31, 23, 30, tzinfo=AMSTERDAM),
    datetime(2026, 10, 31, 23, 30, tzinfo=UTC),  # 00:30 on 1 November, local
    datetime(2026, 12, 31, 23, 30, tzinfo=AMSTERDAM),
    datetime(2027, 1, 1, 0, 10, tzinfo=AMSTERDAM),
]
MONTHS = [date(2026, 9, 1), date(2026, 10, 1), date(2026, 11, 1)]

FIELDS = {
    "connection": st.integers(0, 3),  # Acme, Globex, Rival (another organisation), none
    "kind": st.sampled_from(["home", "public"]),
    "status": st.sampled_from(["active", "completed", "credited"]),
    "started_at": st.sampled_from([*TIMES, None]),
    "energy_wh": st.integers(0, 250_000),
    "purpose": st.sampled_from(["", "business", "personal"]),
    "cost_incl_vat": st.one_of(st.none(), st.decimals(min_value=0, max_value=99_999, places=4)),
    "currency": st.sampled_from(["", "EUR", "GBP"]),
}
# Several fields at once, or exactly one (a change of one field alone must count too).
session_fields = st.one_of(
    st.fixed_dictionaries({}, optional=FIELDS),
    st.sampled_from(sorted(FIELDS)).flatmap(
        lambda name: st.fixed_dictionaries({name: FIELDS[name]})
    ),
)
operations = st.lists(
    st.one_of(
        st.tuples(st.just("create"), session_fields),
        st.tuples(st.just("create"), st.just({})),
        st.tuples(st.just("save"), st.integers(0, 30), session_fields),
        st.tuples(st.just("update"), st.integers(0, 30), session_fields),
        st.tuples(st.just("save"), st.integers(0, 30), session_fields),
        st.tuples(st.just("delete"), st.integers(0, 30)),
        st.tuples(st.just("complete all of"), st.integers(0, 3)),
        st.tuples(
            st.just("statement"),
            st.integers(0, 2),
            st.integers(0, 2),
            st.sampled_from(MONTHS),
            st.sampled_from(["EUR", "GBP"]),
            st.decimals(min_value=0, max_value=9_999_999, places=2),
        ),
        st.tuples(
            st.just("statement total"),
            st.integers(0, 10),
            st.decimals(min_value=0, max_value=9_999, places=2),
        ),
        st.tuples(st.just("statement delete"), st.integers(0, 10)),
    ),
    min_size=1,
    max_size=30,
)


def _apply(fleet: Fleet, operation: tuple) -> None:
    connections = [fleet.acme, fleet.globex, fleet.rival, None]
    sessions = list(ChargingSession.objects.order_by("pk"))
    statements = list(Statement.objects.order_by("pk"))

    def values(fields: dict) -> dict:
        out = dict(fields)
        if "connection" in out:
            out["connection"] = connections[out["connection"]]
            if out["connection"] is not None:
                out["organisation"] = out["connection"].organisation
        return out

    match operation:
        case ("create", fields):
            ChargingSession.objects.create(
                **{
                    # By default a session that counts everywhere: completed, public,
                    # business, priced, under Acme.
                    "organisation": fleet.world.org_a,
                    "connection": fleet.acme,
                    "public_key": f"NL*TST*{next(_keys)}",
                    "transaction_id": "t",
                    "kind": "public",
                    "status": "completed",
                    "started_at": TIMES[3],
                    "energy_wh": 1_234,
                    "purpose": "business",
                    "cost_incl_vat": Decimal("5.0050"),
                    "currency": "EUR",
                    **values(fields),
                }
            )
        case ("save", index, fields) if sessions:
            session = sessions[index % len(sessions)]
            for name, value in values(fields).items():
                setattr(session, name, value)
            session.save()
        case ("update", index, fields) if sessions:
            session = sessions[index % len(sessions)]
            ChargingSession.objects.filter(pk=session.pk).update(**values(fields))
        case ("delete", index) if sessions:
            sessions[index % len(sessions)].delete()
        case ("complete all of", which):
            ChargingSession.objects.filter(connection=connections[which]).update(status="completed")
        case ("statement", driver, which, month, currency, total):
            driver_user = [fleet.dan, fleet.eve, fleet.rob][driver]
            target = connections[which]
            if not Statement.objects.filter(
                driver=driver_user, connection=target, month=month
            ).exists():
                Statement.objects.create(
                    driver=driver_user,
                    connection=target,
                    month=month,
                    currency=currency,
                    total=total,
                    status="ready",
                )
        case ("statement total", index, total) if statements:
            statement = statements[index % len(statements)]
            statement.total = total
            statement.save(update_fields=["total"])
        case ("statement delete", index) if statements:
            statements[index % len(statements)].delete()


@given(operations)
@settings(
    max_examples=100, suppress_health_check=[HealthCheck.function_scoped_fixture], deadline=None
)
def test_the_figures_kept_on_every_write_are_what_a_rebuild_gives(fleet: Fleet, ops):
    ChargingSession.objects.all().delete()
    Statement.objects.all().delete()
    MonthlyFigures.objects.all().delete()
    for operation in ops:
        _apply(fleet, operation)
    kept = stored()
    assert kept == from_sources()
    monthly.rebuild(connection)
    assert stored() == kept


def test_sessions_written_through_the_services_are_on_the_dashboard(fleet: Fleet):
    """An OCPP session started and finished, partners' records, a purpose changed, a
    credit, a statement: the dashboard's figures follow each."""
    _members_since_long_ago(fleet)
    now = timezone.now()
    charger = Charger.objects.create(
        organisation=fleet.world.org_a,
        identity="CP-DAN",
        serial="SN-1",
        password_hash="-",
        driver=fleet.dan,
    )
    started = now - timedelta(hours=2)
    key = session_start(
        charger_id=charger.pk, connector=1, started_at=started, meter_start_wh=1_000
    )
    actor = fleet.world.actor(fleet.world.nadia)
    today = timezone.localdate(started)
    assert sum(dashboard_for(actor, today=today).energy_wh) == 0  # still charging
    session_finish(
        charger_id=charger.pk,
        key=key,
        ended_at=now - timedelta(hours=1),
        meter_stop_wh=8_500,
        reason="Local",
    )
    business = public(fleet, fleet.dan_membership, started, 2_000, cost="5.005")
    other = public(fleet, fleet.dan_membership, started + timedelta(minutes=1), 3_000, cost="1")
    board = dashboard_for(actor, today=today)
    assert board.energy_wh[-1] == 7_500
    assert board.public_energy_wh[-1] == 5_000
    assert board.public_cost == {"EUR": [Decimal(0)] * 11 + [Decimal("6.01")]}
    session_purpose_set(driver=fleet.dan, session=business, purpose="personal")
    public_session_credit(key=other.public_key, reason="credit CDR")
    on_statement(ChargingSession.objects.get(charger=charger), "0.30", "0.29")
    board = dashboard_for(actor, today=today)
    assert board.public_energy_wh[-1] == 2_000  # the credited one counts nowhere
    assert board.public_cost == {}  # personal now: the driver pays
    assert board.reimbursed == {"EUR": [Decimal(0)] * 11 + [Decimal("2.18")]}
    assert stored() == from_sources()


def test_the_command_rebuilds_figures_lost_or_wrong(fleet: Fleet, capsys):
    fleet.session(fleet.dan, fleet.acme, TIMES[3], 4_000)
    MonthlyFigures.objects.update(energy_wh=1)
    call_command("rebuild_monthly_figures")
    assert (
        stored()
        == from_sources()
        == {(fleet.acme.pk, date(2026, 10, 1), "home", ""): (1, 4_000, 0, 0)}
    )
    assert "Rebuilt 1 monthly figure rows" in capsys.readouterr().out


def test_after_migrate_triggers_that_went_missing_come_back_with_the_figures(fleet: Fleet):
    """SQLite drops a table's triggers when a migration remakes the table."""
    assert monthly.install(connection) is False  # as wanted: nothing to do
    monthly.drop_triggers(connection)
    fleet.session(fleet.dan, fleet.acme, TIMES[3], 4_000)
    assert stored() == {}
    assert monthly.install(connection) is True
    assert stored() == from_sources() != {}
    fleet.session(fleet.dan, fleet.acme, TIMES[4], 1_000)  # kept again
    assert stored() == from_sources()


def test_another_time_zone_puts_the_sessions_in_its_own_months(fleet: Fleet):
    session = fleet.session(fleet.dan, fleet.acme, TIMES[2], 4_000)  # 00:30 on 1 October
    key = (fleet.acme.pk, date(2026, 10, 1), "home", "")
    assert stored() == {key: (1, 4_000, 0, 0)}
    with override_settings(TIME_ZONE="UTC"):
        assert monthly.install(connection) is True  # other triggers wanted: rebuilt
        assert stored() == {(fleet.acme.pk, date(2026, 9, 1), "home", ""): (1, 4_000, 0, 0)}
        session.energy_wh = 5_000
        session.save(update_fields=["energy_wh"])
        assert stored() == {(fleet.acme.pk, date(2026, 9, 1), "home", ""): (1, 5_000, 0, 0)}
    assert monthly.install(connection) is True
    assert stored() == {key: (1, 5_000, 0, 0)}


CHANGES = [
    ("status", "credited"),
    ("connection", 1),
    ("started_at", TIMES[0]),
    ("kind", "home"),
    ("currency", "GBP"),
    ("energy_wh", 99),
    ("purpose", "personal"),
    ("cost_incl_vat", Decimal("0.0001")),
]


@pytest.mark.parametrize("how", ["save", "update"])
@pytest.mark.parametrize(("name", "value"), CHANGES)
def test_a_change_of_any_one_field_that_counts_moves_the_figures(fleet: Fleet, how, name, value):
    _apply(fleet, ("create", {}))  # completed, public, business, priced, Acme's
    before = stored()
    _apply(fleet, (how, 0, {name: value}))
    assert stored() != before
    assert stored() == from_sources()


@pytest.mark.parametrize(
    ("name", "value"),
    [("connection", 1), ("month", date(2026, 11, 1)), ("currency", "GBP"), ("total", 1)],
)
def test_a_change_of_any_one_field_of_a_statement_moves_the_figures(fleet: Fleet, name, value):
    _apply(fleet, ("statement", 0, 0, date(2026, 10, 1), "EUR", Decimal("12.34")))
    before = stored()
    statement = Statement.objects.get()
    setattr(statement, name, [fleet.acme, fleet.globex][value] if name == "connection" else value)
    statement.save()
    assert stored() != before
    assert stored() == from_sources()


def test_a_flush_leaves_no_figures_behind(fleet: Fleet):
    """SQLite's flush (between transactional tests) deletes the figures, then the
    sessions, whose triggers write what they take off: the next migrate clears that."""
    fleet.session(fleet.dan, fleet.acme, TIMES[3], 4_000)
    on_statement(fleet.session(fleet.eve, fleet.globex, TIMES[3], 1_000), "1", "1")
    MonthlyFigures.objects.all().delete()
    from evdms.reimbursements.models import StatementLine

    StatementLine.objects.all().delete()
    Statement.objects.all().delete()
    ChargingSession.objects.all().delete()
    assert stored() != {}  # what the deletes took off
    assert monthly.install(connection) is False  # the triggers are as wanted
    assert stored() == {} == from_sources()
