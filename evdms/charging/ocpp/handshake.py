"""Chargers' password hashes read for the handshake, many in one query; legacy argon2
checks limited to one per core.

After a gateway restart every charger of the fleet opens its websocket within seconds.
A look-up each would be a hand-off each to the one database thread and back, and with
the event loop busy with handshakes every hand-off waits its turn for the GIL: 2,000
chargers took 18 s to boot where a bare server took 8. So handshakes that arrive while
a query runs wait for the next one, which reads them all; a handshake on a quiet gateway
is read at once, as before.
"""

from __future__ import annotations

import asyncio
import os
import weakref

from asgiref.sync import sync_to_async

from evdms.charging import credentials

MAX_BATCH = 500  # identities per query: within every database's limit of parameters
# Argon2 checks at once. The first storm after upgrading has every charger on a legacy
# hash (about 0.15 s of CPU each, on eight threads): more at once only made each take
# longer, so that many outlived their handshake's timeout, wasted, and starved the event
# loop. A handshake that times out while waiting for its turn costs nothing.
LEGACY_CHECKS_AT_ONCE = os.cpu_count() or 1


class PasswordHashes:
    def __init__(self) -> None:
        self._waiting: dict[str, list[asyncio.Future[tuple[int, str] | None]]] = {}
        self._reader: asyncio.Task[None] | None = None

    async def get(self, identity: str) -> tuple[int, str] | None:
        """The charger's id and stored hash; None if no charger has this identity."""
        future: asyncio.Future[tuple[int, str] | None] = asyncio.get_running_loop().create_future()
        self._waiting.setdefault(identity, []).append(future)
        if self._reader is None or self._reader.done():
            self._reader = asyncio.create_task(self._read())
        try:
            return await future
        finally:
            del future  # a failure raised here holds this frame: it must not hold the failure

    async def _read(self) -> None:
        while self._waiting:
            identities = list(self._waiting)[:MAX_BATCH]
            batch = {identity: self._waiting.pop(identity) for identity in identities}
            try:
                found = await sync_to_async(credentials.charger_password_hashes)(identities)
            except Exception as exc:
                for futures in batch.values():
                    for future in futures:
                        if not future.done():
                            future.set_exception(exc)
                continue
            for identity, futures in batch.items():
                for future in futures:
                    if not future.done():  # its handshake may have timed out meanwhile
                        future.set_result(found.get(identity))


# One per event loop, as ``persist.group_commit``: tests run a gateway per loop.
_per_loop: weakref.WeakKeyDictionary[
    asyncio.AbstractEventLoop, tuple[PasswordHashes, asyncio.Semaphore]
] = weakref.WeakKeyDictionary()


def _of_this_loop() -> tuple[PasswordHashes, asyncio.Semaphore]:
    loop = asyncio.get_running_loop()
    mine = _per_loop.get(loop)
    if mine is None:
        mine = _per_loop[loop] = (PasswordHashes(), asyncio.Semaphore(LEGACY_CHECKS_AT_ONCE))
    return mine


def password_hashes() -> PasswordHashes:
    return _of_this_loop()[0]


def legacy_checks() -> asyncio.Semaphore:
    return _of_this_loop()[1]
