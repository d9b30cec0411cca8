from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand

from evdms.charging.ocpp.gateway import main


class Command(BaseCommand):
    help = "Run the OCPP gateway (ws://HOST:PORT/ocpp/<charger identity>)."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--host", default=settings.OCPP_HOST)
        parser.add_argument("--port", type=int, default=settings.OCPP_PORT)

    def handle(self, *args: Any, host: str, port: int, **options: Any) -> None:
        self.stdout.write(f"OCPP gateway on ws://{host}:{port}/ocpp/<charger identity>")
        main(host, port)
