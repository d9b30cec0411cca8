"""Running the same work in several threads at once, as two workers or two admins would."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from django.db import OperationalError, connections


def at_once(*works: Callable[[], object]) -> None:
    """Start each of ``works`` in a thread of its own, together, and wait for all.

    In-memory SQLite shared between threads reports "locked" instead of waiting as a file
    database with a busy timeout does, so the work is tried again the way a worker would.
    """
    barrier = threading.Barrier(len(works))

    def run(work: Callable[[], object]) -> None:
        barrier.wait()
        try:
            for _ in range(500):
                try:
                    work()
                except OperationalError:
                    time.sleep(0.01)
                    continue
                break
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(work,)) for work in works]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
