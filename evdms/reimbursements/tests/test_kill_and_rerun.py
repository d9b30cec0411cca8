"""A worker killed (SIGKILL) in the middle of a statement run or a payout export leaves
nothing half-done, and running again gives exactly what an uninterrupted run gives.

Real processes on a real SQLite file: pytest-django's test database lives in memory, so
a file database is migrated and filled once by a subprocess, then copied for each case.
The command stops at a named checkpoint (``checkpoints.checkpoint``, a no-op hook that the
test-only runner ``evdms.testing.stop_at`` replaces) and prints where; the test then kills
it with SIGKILL and reads the file with sqlite3.
"""

from __future__ import annotations

import os
import shutil
import signal
import sqlite3
import subprocess
import sys
from datetime import UTC, date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]
DRIVERS = 10
MONTH = "2026-10"


def build_world() -> None:
    """Run in a subprocess against the file database: ten drivers of one connection
    whose maximum is lowered mid-month, four sessions each (one a late September one);
    the ninth has no home price and the tenth no bank details (held statements)."""
    from unittest import mock

    from django.core.management import call_command

    from evdms.accounts.models import Role, User
    from evdms.accounts.permissions import Actor
    from evdms.charging.models import ChargingSession
    from evdms.charging.services import charger_register
    from evdms.connections.services import connection_update
    from evdms.reimbursements.models import HomePrice
    from evdms.reimbursements.services import bank_account_set
    from evdms.testing.fixtures import make_connection, make_membership, make_organisation

    call_command("migrate", verbosity=0)
    org = make_organisation("kill", "Kill Lease")
    with mock.patch("django.utils.timezone.now", return_value=datetime(2026, 1, 1, tzinfo=UTC)):
        connection = make_connection(org, max_price_per_kwh="0.30")
    with mock.patch(
        "django.utils.timezone.now", return_value=datetime(2026, 10, 15, 12, tzinfo=UTC)
    ):
        connection_update(
            actor=Actor(organisation=org, role=Role.NETWORK_MANAGER),
            connection=connection,
            changes={"max_price_per_kwh": "0.2650"},
            confirm_benefit_change=True,
        )
    for n in range(DRIVERS):
        driver = User.objects.create_user(f"driver{n}@example.com", "a long passphrase here")
        make_membership(connection, driver)
        charger, _ = charger_register(
            actor=None,
            organisation=org,
            identity=f"K-{n}",
            serial="S",
            driver=driver,
        )
        if n != DRIVERS - 2:
            HomePrice.objects.create(
                driver=driver,
                price_per_kwh=Decimal("0.2100") + Decimal(n) / 100,
                valid_from=date(2026, 1, 1),
            )
        if n != DRIVERS - 1:
            bank_account_set(driver=driver, holder=f"Driver {n}", iban="NL91ABNA0417164300")
        for i in range(4):
            started = datetime(2026, 9 if i == 0 else 10, 1 + i * 8, 18, tzinfo=UTC)
            ChargingSession.objects.create(
                charger=charger,
                organisation_id=charger.organisation_id,
                driver=driver,
                connection=connection,
                transaction_id=f"{n}-{i}",
                started_at=started,
                ended_at=started + timedelta(hours=2),
                energy_wh=3_333 * (n + 1) + 7 * i,
                status="completed",
            )


def env_for(db: Path, **extra: str) -> dict[str, str]:
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("EVDMS_", "DATABASE_URL", "DJANGO_"))
    }
    env.update(
        DATABASE_URL=f"sqlite:///{db}",
        EVDMS_ENV="test",  # e-mail to memory, tasks run in-process
        EVDMS_VAR_DIR=str(db.parent),
        DJANGO_SETTINGS_MODULE="evdms.settings",
        **extra,
    )
    return env


def python(db: Path, *args: str, **extra: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, *args],
        cwd=ROOT,
        env=env_for(db, **extra),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


COMMAND = ("make_statements", "--month", MONTH, "--chunk-size", "3")


def make_statements(db: Path) -> subprocess.Popen[str]:
    return python(db, "manage.py", *COMMAND)


def make_statements_stopping(db: Path, checkpoint: str, after: str) -> subprocess.Popen[str]:
    """The same run, stopped the ``after``-th time it reaches ``checkpoint``."""
    return python(db, "-m", "evdms.testing.stop_at", checkpoint, after, *COMMAND)


def finish(process: subprocess.Popen[str]) -> str:
    out, _ = process.communicate(timeout=300)
    assert process.returncode == 0, out
    return out


def kill_at_checkpoint(process: subprocess.Popen[str]) -> None:
    """Wait for the run to reach its checkpoint, then SIGKILL it there."""
    assert process.stdout is not None
    seen = []
    for line in process.stdout:  # ends when the process ends: then it never stopped
        seen.append(line)
        if line.startswith("stopped at "):
            break
    else:
        pytest.fail("the run ended without reaching its checkpoint:\n" + "".join(seen))
    process.send_signal(signal.SIGKILL)
    process.wait(timeout=60)
    assert process.returncode == -signal.SIGKILL


@pytest.fixture(scope="module")
def prepared(tmp_path_factory) -> Path:
    db = tmp_path_factory.mktemp("kill") / "prepared.sqlite3"
    code = (
        "import django; django.setup(); "
        "from evdms.reimbursements.tests.test_kill_and_rerun import build_world; build_world()"
    )
    finish(python(db, "-c", code))
    return db


def copy_of(prepared: Path, tmp_path: Path, name: str) -> Path:
    db = tmp_path / f"{name}.sqlite3"
    shutil.copyfile(prepared, db)
    return db


def statements_in(db: Path) -> list[tuple]:
    """The statements as the driver and the payer see them (references aside)."""
    with sqlite3.connect(db) as conn:
        rows = conn.execute(
            """SELECT u.email, s.month, CAST(s.total AS TEXT), s.status, s.held_reason, s.id
               FROM reimbursements_statement s JOIN accounts_user u ON u.id = s.driver_id
               ORDER BY u.email"""
        ).fetchall()
        result = []
        for email, month, total, status, reason, pk in rows:
            lines = conn.execute(
                """SELECT c.transaction_id, l.energy_wh, CAST(l.price_used AS TEXT),
                          CAST(l.cap AS TEXT), CAST(l.amount AS TEXT), l.late
                   FROM reimbursements_statementline l
                   JOIN charging_chargingsession c ON c.id = l.session_id
                   WHERE l.statement_id = ? ORDER BY c.transaction_id""",
                (pk,),
            ).fetchall()
            result.append((email, month, Decimal(total), status, reason, tuple(lines)))
    return result


def assert_whole(statements: list[tuple]) -> None:
    """Each statement has all four of its driver's sessions and the rounded sum of
    their amounts as total: nothing half-written."""
    for email, _month, total, _status, _reason, lines in statements:
        assert len(lines) == 4, email
        exact = sum((Decimal(line[4]) for line in lines), Decimal(0))
        assert total == exact.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP), email


def letters_in(db: Path) -> list[str]:
    with sqlite3.connect(db) as conn:
        return sorted(
            to
            for (to,) in conn.execute(
                "SELECT json_extract(\"to\", '$[0]') FROM notifications_outboundemail "
                "WHERE template = 'reimbursement_statement'"
            )
        )


def sessions_reimbursed_twice(db: Path) -> int:
    with sqlite3.connect(db) as conn:
        (twice,) = conn.execute(
            "SELECT COUNT(*) FROM (SELECT session_id FROM reimbursements_statementline "
            "GROUP BY session_id HAVING COUNT(*) > 1)"
        ).fetchone()
    return twice


@pytest.fixture(scope="module")
def uninterrupted(prepared, tmp_path_factory) -> list[tuple]:
    db = copy_of(prepared, tmp_path_factory.mktemp("reference"), "reference")
    finish(make_statements(db))
    statements = statements_in(db)
    assert len(statements) == DRIVERS
    assert_whole(statements)
    assert [s[3] for s in statements].count("held") == 2
    assert letters_in(db) == sorted(f"driver{n}@example.com" for n in range(DRIVERS))
    return statements


@pytest.mark.parametrize(
    ("checkpoint", "after", "committed_before_kill"),
    [
        ("chunk-written", "2", 3),  # inside the second chunk's transaction, before commit
        ("chunk-committed", "2", 6),  # two chunks committed, their e-mails not yet made
        ("statement-emailed", "4", DRIVERS),  # all statements made, four e-mails written
    ],
)
def test_a_run_killed_mid_way_and_run_again_gives_the_uninterrupted_result_once(
    prepared, uninterrupted, tmp_path, checkpoint, after, committed_before_kill
):
    db = copy_of(prepared, tmp_path, checkpoint)
    kill_at_checkpoint(make_statements_stopping(db, checkpoint, after))
    partial = statements_in(db)
    assert len(partial) == committed_before_kill  # whole chunks only
    assert_whole(partial)
    assert set(partial) <= set(uninterrupted)

    out = finish(make_statements(db))
    assert "statement(s) made" in out
    assert statements_in(db) == uninterrupted
    assert sessions_reimbursed_twice(db) == 0
    # Every driver e-mailed exactly once, whether the kill came before, between or
    # during the e-mails.
    assert letters_in(db) == sorted(f"driver{n}@example.com" for n in range(DRIVERS))

    finish(make_statements(db))  # and a third run changes nothing
    assert statements_in(db) == uninterrupted
    assert len(letters_in(db)) == DRIVERS


def test_a_payout_export_killed_mid_way_leaves_the_batch_unexported_and_can_be_redone(
    prepared, uninterrupted, tmp_path
):
    db = copy_of(prepared, tmp_path, "export")
    finish(make_statements(db))
    # The export is stopped after it wrote the file to the batch, inside its transaction
    # (at the audit record, the last write), and killed there.
    code = """
import django, sys, time
django.setup()
from datetime import date
from unittest import mock
from evdms.reimbursements.services import payouts
from evdms.reimbursements.models import PayoutBatch
if sys.argv[1] == "kill":
    payouts.payout_batch_create(execution_date=date(2026, 11, 5))
    def stop(**kwargs):
        print("stopped at audit", flush=True)
        time.sleep(600)
    mock.patch.object(payouts, "audit_record", stop).start()
batch = PayoutBatch.objects.get()
payouts.payout_batch_export(batch=batch)
"""
    kill_at_checkpoint(python(db, "-c", code, "kill"))
    with sqlite3.connect(db) as conn:
        # The batch was made (its own transaction); the export left no trace.
        assert conn.execute(
            "SELECT status, sepa_xml, message_id FROM reimbursements_payoutbatch"
        ).fetchall() == [("draft", "", "")]
        assert conn.execute(
            "SELECT COUNT(*) FROM audit_auditevent WHERE action = 'payout_batch.export'"
        ).fetchone() == (0,)
    finish(python(db, "-c", code, "again"))
    with sqlite3.connect(db) as conn:
        status, xml = conn.execute(
            "SELECT status, sepa_xml FROM reimbursements_payoutbatch"
        ).fetchone()
        paid = conn.execute(
            "SELECT COUNT(*), CAST(SUM(amount) AS TEXT) FROM reimbursements_payoutline"
        ).fetchone()
    ready = [s for s in uninterrupted if s[3] == "ready"]
    assert status == "exported" and xml.count("<CdtTrfTxInf>") == len(ready) == paid[0]
    assert Decimal(paid[1]).quantize(Decimal("0.01")) == sum(s[2] for s in ready)
