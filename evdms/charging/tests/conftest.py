from __future__ import annotations

import asyncio
import socket
import threading
from collections.abc import Iterator

import pytest
from asgiref.sync import sync_to_async
from django.db import connections

from evdms.charging.ocpp.gateway import start_gateway


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def gateway(transactional_db: None) -> Iterator[str]:
    """The real gateway, on its own event loop in a thread, on a free loopback port."""
    port = free_port()
    loop = asyncio.new_event_loop()
    ready = threading.Event()
    holder: dict[str, object] = {}

    def run() -> None:
        asyncio.set_event_loop(loop)
        holder["server"] = loop.run_until_complete(start_gateway("127.0.0.1", port))
        ready.set()
        loop.run_forever()

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    assert ready.wait(10)
    yield f"ws://127.0.0.1:{port}/ocpp"
    server = holder["server"]
    asyncio.run_coroutine_threadsafe(_close(server), loop).result(10)
    loop.call_soon_threadsafe(loop.stop)
    thread.join(10)


async def _close(server: object) -> None:
    server.close()  # type: ignore[attr-defined]
    await server.wait_closed()  # type: ignore[attr-defined]
    # The gateway's database work ran in a worker thread: close its connection, so the
    # test database can be dropped afterwards (PostgreSQL refuses while it is open).
    await sync_to_async(connections.close_all)()
