"""The handshake's password check over real websockets: chargers of the ``ocpp`` package's
charge-point side against the gateway. A keyed hash boots, a wrong password is refused with
401, a legacy argon2 hash still works and is replaced by the keyed hash, a slow legacy check
holds up no other charger, and a crowd reconnecting at once all boot."""

from __future__ import annotations

import asyncio
import threading
from typing import Any

import pytest
from asgiref.sync import sync_to_async
from django.contrib.auth.hashers import make_password
from django.test import override_settings
from websockets.exceptions import InvalidStatus

from evdms.accounts.keyed_hash import Match
from evdms.charging import credentials
from evdms.charging.credentials import charger_password_hash, charger_password_match
from evdms.charging.models import Charger
from evdms.charging.services import charger_register
from evdms.charging.simulator import Charger16, Charger201, open_connection
from evdms.testing.aio import run_async

pytestmark = pytest.mark.django_db(transaction=True)

PASSWORD = "Vx7-kQ2m_Rp9-Lw4zT"


async def boot(url: str, identity: str, password: str, protocol: str = "1.6") -> str:
    """Connect, send BootNotification; the status the gateway answered."""
    connection = await open_connection(url, identity, password, protocol)
    charger = (Charger16 if protocol == "1.6" else Charger201)(identity, connection)
    listener = asyncio.create_task(charger.start())
    try:
        reply = await charger.boot()
    finally:
        listener.cancel()
        await connection.close()
    return str(reply.status)


def refused_status(url: str, identity: str, password: str) -> int:
    with pytest.raises(InvalidStatus) as refused:
        run_async(open_connection(url, identity, password, "1.6"))
    return refused.value.response.status_code


@pytest.fixture
def charger(world):
    charger, _ = charger_register(
        actor=None, organisation=world.org_a, identity="CRED-1", serial="S", password=PASSWORD
    )
    return charger


@pytest.mark.parametrize("protocol", ["1.6", "2.0.1"])
def test_a_charger_with_its_password_boots_and_a_wrong_one_is_refused(gateway, charger, protocol):
    assert run_async(boot(gateway, "CRED-1", PASSWORD, protocol)) == "Accepted"
    assert Charger.objects.get().vendor == "evdms-sim"
    assert refused_status(gateway, "CRED-1", PASSWORD[:-1] + "X") == 401
    assert refused_status(gateway, "CRED-1", "") == 401
    assert refused_status(gateway, "NOBODY", PASSWORD) == 401


def test_a_legacy_argon2_hash_works_once_and_is_then_the_keyed_hash(gateway, charger):
    legacy = make_password(PASSWORD)
    assert legacy.startswith("argon2$")
    Charger.objects.filter(pk=charger.pk).update(password_hash=legacy)

    assert refused_status(gateway, "CRED-1", "Wrong-7Kx9-Qm2-Lw4") == 401
    assert Charger.objects.get().password_hash == legacy  # a wrong password changes nothing

    assert run_async(boot(gateway, "CRED-1", PASSWORD)) == "Accepted"
    stored = Charger.objects.get().password_hash
    assert stored.startswith("hmac_sha256$")
    assert charger_password_match(PASSWORD, stored) is Match.YES

    assert run_async(boot(gateway, "CRED-1", PASSWORD)) == "Accepted"
    assert Charger.objects.get().password_hash == stored
    assert refused_status(gateway, "CRED-1", "Wrong-7Kx9-Qm2-Lw4") == 401


def test_a_hash_of_a_retired_secret_key_is_rehashed_on_connect(gateway, charger):
    old_key = "an-old-secret-key-" + "o" * 40
    with override_settings(SECRET_KEY=old_key):
        old_hash = charger_password_hash(PASSWORD)
    Charger.objects.filter(pk=charger.pk).update(password_hash=old_hash)
    assert refused_status(gateway, "CRED-1", PASSWORD) == 401  # the old key is not kept
    with override_settings(SECRET_KEY_FALLBACKS=[old_key]):
        assert run_async(boot(gateway, "CRED-1", PASSWORD)) == "Accepted"
    stored = Charger.objects.get().password_hash
    assert stored != old_hash and charger_password_match(PASSWORD, stored) is Match.YES


def test_a_slow_legacy_check_does_not_hold_up_other_chargers(gateway, world, monkeypatch):
    """The legacy check waits until another charger has booted: were it run on the event
    loop, that charger could not boot while it waits."""
    charger_register(
        actor=None, organisation=world.org_a, identity="FAST-1", serial="S", password=PASSWORD
    )
    slow, _ = charger_register(
        actor=None, organisation=world.org_a, identity="SLOW-1", serial="S", password=PASSWORD
    )
    Charger.objects.filter(pk=slow.pk).update(password_hash=make_password(PASSWORD))
    fast_booted = threading.Event()
    checking = threading.Event()
    released_by_boot: list[bool] = []
    real_check = credentials.legacy_password_match

    def slow_check(password: str, stored: str) -> Match:
        checking.set()
        released_by_boot.append(fast_booted.wait(10))
        return real_check(password, stored)

    monkeypatch.setattr(credentials, "legacy_password_match", slow_check)

    async def scenario() -> list[str]:
        slow_boot = asyncio.create_task(boot(gateway, "SLOW-1", PASSWORD))
        while not checking.is_set():
            await asyncio.sleep(0.01)
        fast = await boot(gateway, "FAST-1", PASSWORD)
        fast_booted.set()
        return [fast, await slow_boot]

    assert run_async(scenario()) == ["Accepted", "Accepted"]
    assert released_by_boot == [True]


def test_two_hundred_chargers_connecting_at_once_all_boot(gateway, world):
    Charger.objects.bulk_create(
        Charger(
            organisation=world.org_a,
            identity=f"CROWD-{i:03d}",
            serial="S",
            password_hash=charger_password_hash(f"{PASSWORD}-{i:03d}"),
        )
        for i in range(200)
    )

    async def crowd() -> tuple[list[str], int]:
        async def one(i: int) -> tuple[str, Any]:
            identity = f"CROWD-{i:03d}"
            connection = await open_connection(gateway, identity, f"{PASSWORD}-{i:03d}", "1.6")
            charger = Charger16(identity, connection)
            listener = asyncio.create_task(charger.start())
            reply = await charger.boot()
            listener.cancel()
            return str(reply.status), connection

        booted = await asyncio.gather(*(one(i) for i in range(200)))
        # Read while all are still connected: their hang-ups are writes of the gateway.
        stored = await sync_to_async(Charger.objects.filter(vendor="evdms-sim").count)()
        await asyncio.gather(*(connection.close() for _, connection in booted))
        return [status for status, _ in booted], stored

    statuses, stored = run_async(crowd())
    assert statuses == ["Accepted"] * 200
    assert stored == 200
