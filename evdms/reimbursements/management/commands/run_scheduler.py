from __future__ import annotations

import signal
import time
from typing import Any

from django.core.management.base import BaseCommand
from django.db import OperationalError

from evdms.reimbursements.scheduler import scheduler_tick


class Command(BaseCommand):
    help = (
        "Enqueue periodic jobs when due (the monthly statements on the 1st). Run one or "
        "several: each period is enqueued once."
    )

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--interval", type=float, default=60.0, help="seconds between checks")
        parser.add_argument("--once", action="store_true", help="check once and stop")

    def handle(self, *args: Any, interval: float, once: bool, **options: Any) -> None:
        stopping = False

        def stop(*_: Any) -> None:
            nonlocal stopping
            stopping = True

        if not once:
            signal.signal(signal.SIGINT, stop)
            signal.signal(signal.SIGTERM, stop)
        while True:
            try:
                for run in scheduler_tick():
                    self.stdout.write(f"Enqueued {run.job} for {run.period}.")
            except OperationalError as exc:  # database busy or away: try at the next check
                self.stderr.write(f"Scheduler check failed, retrying: {exc}")
            if once:
                return
            # Short sleeps, so Ctrl-C or SIGTERM from `serve` stops it at once.
            deadline = time.monotonic() + interval
            while not stopping and time.monotonic() < deadline:
                time.sleep(0.2)
            if stopping:
                return
