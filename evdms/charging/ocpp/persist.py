"""Group commit for the gateway: handlers hand their writes to one flusher that runs a
batch in a single database transaction and answers each handler after the commit.

So a charger is acknowledged only once its message is stored (nothing acknowledged is
lost), while the database commits once per batch instead of once per message: with
thousands of chargers the commit, not the statement, is what costs.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

from asgiref.sync import sync_to_async
from django.db import close_old_connections, transaction

FLUSH_AFTER = 0.005  # seconds a first write waits for others to join its batch
MAX_BATCH = 500

Work = tuple[Callable[..., Any], tuple[Any, ...], "asyncio.Future[Any]"]


def _run_batch(items: list[tuple[Callable[..., Any], tuple[Any, ...]]]) -> list[tuple[bool, Any]]:
    """Each item in its own savepoint: one bad message never undoes the others."""
    close_old_connections()
    results: list[tuple[bool, Any]] = []
    with transaction.atomic():
        for fn, args in items:
            try:
                with transaction.atomic():
                    results.append((True, fn(*args)))
            except Exception as exc:
                results.append((False, exc))
    return results


class GroupCommit:
    def __init__(self) -> None:
        self._queue: list[Work] = []
        self._flusher: asyncio.Task[None] | None = None

    async def run(self, fn: Callable[..., Any], *args: Any) -> Any:
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self._queue.append((fn, args, future))
        if self._flusher is None or self._flusher.done():
            self._flusher = asyncio.create_task(self._flush())
        return await future

    async def _flush(self) -> None:
        await asyncio.sleep(FLUSH_AFTER)
        while self._queue:
            batch, self._queue = self._queue[:MAX_BATCH], self._queue[MAX_BATCH:]
            try:
                results = await sync_to_async(_run_batch)([(fn, args) for fn, args, _ in batch])
            except Exception as exc:
                results = [(False, exc)] * len(batch)
            for (_, _, future), (ok, value) in zip(batch, results, strict=True):
                if future.done():
                    continue
                if ok:
                    future.set_result(value)
                else:
                    future.set_exception(value)


_per_loop: dict[int, GroupCommit] = {}


def group_commit() -> GroupCommit:
    loop = asyncio.get_running_loop()
    return _per_loop.setdefault(id(loop), GroupCommit())
