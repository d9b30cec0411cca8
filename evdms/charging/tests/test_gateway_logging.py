"""What the gateway logs when a charger's connection ends: a hang-up is routine and
stays out of the warnings; an unexpected error is a warning naming the charger."""

from __future__ import annotations

import logging
import time
from unittest import mock

import pytest
from websockets.exceptions import ConnectionClosed

from evdms.charging.models import Charger
from evdms.charging.ocpp.handlers_v16 import CentralSystem16
from evdms.charging.services import charger_register
from evdms.charging.simulator import open_connection, run_charger
from evdms.testing.aio import run_async

PASSWORD = "a-charger-password-1234"
GATEWAY_LOGGER = "evdms.charging.ocpp.gateway"
pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def charger(world) -> Charger:
    charger, _ = charger_register(
        actor=None,
        organisation=world.org_a,
        identity="LOG-1",
        serial="SN1",
        password=PASSWORD,
    )
    return charger


def _gateway_warnings(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.name == GATEWAY_LOGGER and r.levelno >= logging.WARNING]


def _offline(charger: Charger) -> None:
    # The gateway notices the closed socket a moment after the charger left.
    for _ in range(100):
        charger.refresh_from_db()
        if not charger.online:
            return
        time.sleep(0.05)
    pytest.fail("the gateway never saw the charger leave")


def test_an_unexpected_error_is_a_warning_naming_the_charger(gateway, charger, caplog):
    caplog.set_level(logging.DEBUG, logger=GATEWAY_LOGGER)

    async def connect_and_wait() -> None:
        connection = await open_connection(gateway, "LOG-1", PASSWORD, "1.6")
        with pytest.raises(ConnectionClosed):
            await connection.recv()

    with mock.patch.object(CentralSystem16, "start", side_effect=RuntimeError("lost the database")):
        run_async(connect_and_wait())
    _offline(charger)
    (warning,) = _gateway_warnings(caplog)
    assert warning.levelno == logging.WARNING
    assert "LOG-1" in warning.getMessage()
    assert warning.exc_info is not None and "lost the database" in str(warning.exc_info[1])


def test_a_charger_hanging_up_is_no_warning(gateway, charger, caplog):
    caplog.set_level(logging.DEBUG, logger=GATEWAY_LOGGER)
    run_async(run_charger(gateway, "LOG-1", PASSWORD, "1.6", []))  # boot, then hang up
    _offline(charger)
    assert _gateway_warnings(caplog) == []
    assert any("LOG-1" in r.getMessage() for r in caplog.records if r.name == GATEWAY_LOGGER)
