"""Recompute the dashboard's monthly figures from the sessions and statements, and
install their triggers again (evdms/reports/monthly.py says when that is needed)."""

from __future__ import annotations

import time
from typing import Any

from django.core.management.base import BaseCommand, CommandError
from django.db import DEFAULT_DB_ALIAS, connections

from evdms.reports import monthly


class Command(BaseCommand):
    help = "Rebuild the dashboard's monthly figures from the sessions and statements."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--database", default=DEFAULT_DB_ALIAS)

    def handle(self, *args: Any, **options: Any) -> None:
        connection = connections[options["database"]]
        if not monthly.table_exists(connection):
            raise CommandError("The monthly figures' table is missing: run migrate first.")
        started = time.perf_counter()
        monthly.install(connection, force=True)
        rows = monthly.figures_rows(connection)
        self.stdout.write(
            f"Rebuilt {rows:,} monthly figure rows in {time.perf_counter() - started:.1f} s."
        )
