"""Two real gateway processes (``manage.py run_ocpp_gateway``) sharing one PostgreSQL
database, as behind a TCP load balancer: a charger moves between them while its old
socket is still open."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.db import connection

from evdms.charging import services
from evdms.charging.models import Charger, ChargingSession, MeterReading
from evdms.charging.simulator import open_connection
from evdms.charging.tests.conftest import free_port
from evdms.charging.tests.test_gateway_epoch import (
    PASSWORD,
    SUPERSEDED,
    ask,
    closed_as_superseded,
    meter_values,
    send,
    start,
)
from evdms.testing.aio import run_async

ROOT = Path(__file__).resolve().parents[3]
# The scale-out path is PostgreSQL; the same runs on SQLite too, whose test database is
# a file (WAL, IMMEDIATE transactions) that other processes open as well.
pytestmark = pytest.mark.django_db(transaction=True)


def _database_url() -> str:
    db = connection.settings_dict
    if connection.vendor == "sqlite":
        return f"sqlite:///{db['NAME']}"
    password = f":{db['PASSWORD']}" if db.get("PASSWORD") else ""
    port = f":{db['PORT']}" if db.get("PORT") else ""
    return f"postgres://{db['USER']}{password}@{db['HOST'] or '127.0.0.1'}{port}/{db['NAME']}"


def _wait_listening(
    port: int, process: subprocess.Popen[bytes], log: Path, timeout: float = 60
) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"gateway exited: {log.read_text()[-2000:]}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return
        except OSError:
            time.sleep(0.2)
    raise AssertionError(f"gateway on port {port} did not listen within {timeout} s")


@pytest.fixture
def two_gateways(transactional_db: None, tmp_path: Path) -> Iterator[tuple[str, str]]:
    env = {**os.environ, "DATABASE_URL": _database_url()}
    ports = [free_port(), free_port()]
    # Files, not pipes: a pipe nobody reads fills up and blocks the gateway's logging.
    logs = [tmp_path / f"gateway-{port}.log" for port in ports]
    processes = []
    try:
        for port, log in zip(ports, logs, strict=True):
            with log.open("wb") as output:  # the child keeps its own descriptor
                command = ["manage.py", "run_ocpp_gateway", "--host", "127.0.0.1"]
                processes.append(
                    subprocess.Popen(
                        [sys.executable, *command, "--port", str(port)],
                        cwd=ROOT,
                        env=env,
                        stdout=output,
                        stderr=subprocess.STDOUT,
                    )
                )
        for port, process, log in zip(ports, processes, logs, strict=True):
            _wait_listening(port, process, log)
        yield f"ws://127.0.0.1:{ports[0]}/ocpp", f"ws://127.0.0.1:{ports[1]}/ocpp"
    finally:
        # Their database connections must be gone before the test database is dropped.
        for process in processes:
            process.terminate()
        for process in processes:
            try:
                process.wait(15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(5)


@pytest.fixture
def charger(world) -> Charger:
    made, _ = services.charger_register(
        actor=None, organisation=world.org_a, identity="HOME-1", serial="SN1", password=PASSWORD
    )
    return made


def test_a_charger_moving_between_two_gateway_processes_is_stored_once(two_gateways, charger):
    a, b = two_gateways

    async def scenario() -> int:
        on_b = await open_connection(b, "HOME-1", PASSWORD, "1.6")
        transaction_id = await start(on_b)
        await ask(on_b, "MeterValues", meter_values(transaction_id, 10, 2000))
        # B now remembers 2000 as the session's last reading (its fast path).
        on_a = await open_connection(a, "HOME-1", PASSWORD, "1.6")
        await ask(on_a, "MeterValues", meter_values(transaction_id, 15, 5000))
        await send(on_b, "MeterValues", meter_values(transaction_id, 17, 9000))
        assert await closed_as_superseded(on_b) == SUPERSEDED
        # Back to B while the socket on A is still open: B must not plan on its memory.
        again_on_b = await open_connection(b, "HOME-1", PASSWORD, "1.6")
        await ask(again_on_b, "MeterValues", meter_values(transaction_id, 20, 4000))
        await ask(again_on_b, "MeterValues", meter_values(transaction_id, 30, 6000))
        await send(on_a, "MeterValues", meter_values(transaction_id, 25, 7000))
        assert await closed_as_superseded(on_a) == SUPERSEDED
        await ask(again_on_b, "MeterValues", meter_values(transaction_id, 40, 6500))
        await again_on_b.close()
        return transaction_id

    transaction_id = run_async(scenario())
    stored = Counter(
        MeterReading.objects.filter(session_id=transaction_id).values_list("value_wh", flat=True)
    )
    # Each acknowledged reading once; none a superseded connection sent.
    assert stored == Counter([2000, 5000, 4000, 6000, 6500])
    session = ChargingSession.objects.get(pk=transaction_id)
    assert "meter went down: 5000 → 4000 Wh" in session.flags
    assert session.energy_wh == 5500
