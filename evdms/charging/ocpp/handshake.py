"""Chargers' password hashes read for the handshake, many in one query.

After a gateway restart every charger of the fleet opens its websocket within seconds.
A look-up each would be a hand-off each to the one database thread and back, and with
the event loop busy with handshakes every hand-off waits its turn for the GIL: 2,000
chargers took 18 s to boot where a bare server took 8. So handshakes that arrive while
a query runs wait for the next one, which reads them all; a handshake on a quiet gateway
is read at once, as before.
"""

from __future__ import annotations

import asyncio
import weakref

from asgiref.sync import sync_to_async

from evdms.charging import credentials

MAX_BATCH = 500  # identities per query: within every database's limit of parameters


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
_per_loop: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, PasswordHashes] = (
    weakref.WeakKeyDictionary()
)


def password_hashes() -> PasswordHashes:
    loop = asyncio.get_running_loop()
    hashes = _per_loop.get(loop)
    if hashes is None:
        hashes = _per_loop[loop] = PasswordHashes()
    return hashes
