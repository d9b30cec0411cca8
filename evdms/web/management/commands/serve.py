"""Start the whole platform for development: web server, task worker, OCPP gateway and
scheduler together.

Ctrl-C (or SIGTERM) stops every process; if one of them dies, the others are stopped
too, so a half-running platform never hides a crash.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand

from evdms.accounts.demo import DEMO_ADMINS, DEMO_PASSWORD
from evdms.accounts.demo_grants import LIMITED_ADMIN


class Command(BaseCommand):
    help = "Run the web server, task worker, OCPP gateway and scheduler together (development)."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--host", default=os.environ.get("EVDMS_HOST", "127.0.0.1"))
        parser.add_argument("--port", type=int, default=int(os.environ.get("EVDMS_PORT", "8000")))

    def handle(self, *args: Any, host: str, port: int, **options: Any) -> None:
        manage = [sys.executable, str(settings.BASE_DIR / "manage.py")]
        commands = {
            # gunicorn with the checkout's gunicorn.conf.py, as in production and the
            # benchmarks (not runserver, whose thread per request opens a database
            # connection per request). Static files: whitenoise, from the apps' folders.
            "web": [
                sys.executable,
                "-m",
                "gunicorn",
                "--config",
                str(settings.BASE_DIR / "gunicorn.conf.py"),
                "--chdir",
                str(settings.BASE_DIR),
                "--bind",
                f"{host}:{port}",
            ],
            # Quiet: the worker would print two lines per task and bury the address
            # above; our tasks log their own failures.
            "worker": [*manage, "db_worker", "--interval", "0.5", "--verbosity", "0"],
            "ocpp": [*manage, "run_ocpp_gateway"],
            # Enqueues the monthly statement run on the 1st (once, whatever the count).
            "scheduler": [*manage, "run_scheduler"],
        }
        processes = {name: subprocess.Popen(cmd) for name, cmd in commands.items()}  # noqa: S603
        url = f"http://{host}:{port}/"
        self.stdout.write("")
        self.stdout.write(self.style.SUCCESS(f"evdms is running at {url}"))
        self.stdout.write(f"Demo log-ins (password: {DEMO_PASSWORD}):")
        for email, _name, slug, role in DEMO_ADMINS:
            self.stdout.write(f"  {email:32} {role.label}, {slug}")
        limited, _ = LIMITED_ADMIN
        self.stdout.write(
            f"  {limited:32} Connections Officer, voltlease, limited to two connections"
        )
        self.stdout.write(
            f"  {'operator@platform.example':32} platform operator, /platform-admin/ "
            "(password only here)"
        )
        self.stdout.write("  driver01@example.com             a driver (driver01 … driver20)")
        self.stdout.write(
            "Two-factor authentication: optional in development, under Security (top right);"
        )
        self.stdout.write(
            "  required of operators in production (EVDMS_OPERATOR_TWO_FACTOR=true to try it)."
        )
        self.stdout.write(f"E-mails sent by the platform: {url}dev/outbox/")
        self.stdout.write(
            f"OCPP gateway for chargers: ws://{settings.OCPP_HOST}:{settings.OCPP_PORT}/ocpp/<identity>"
        )
        self.stdout.write("Scheduler: last month's statements are made on the 1st of each month.")
        self.stdout.write("Press Ctrl-C to stop.\n")

        stopping = False

        def stop(*_: Any) -> None:
            nonlocal stopping
            stopping = True

        signal.signal(signal.SIGINT, stop)
        signal.signal(signal.SIGTERM, stop)
        try:
            while not stopping:
                for name, process in processes.items():
                    if process.poll() is not None:
                        self.stderr.write(
                            f"{name} stopped (exit {process.returncode}); stopping all"
                        )
                        stopping = True
                time.sleep(0.3)
        finally:
            for process in processes.values():
                if process.poll() is None:
                    process.terminate()
            deadline = time.monotonic() + 10
            for process in processes.values():
                try:
                    process.wait(timeout=max(0.1, deadline - time.monotonic()))
                except subprocess.TimeoutExpired:
                    process.kill()
            self.stdout.write("evdms stopped.")
