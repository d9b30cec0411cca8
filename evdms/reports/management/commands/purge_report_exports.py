"""Delete report exports past their keeping time (also done whenever one is asked for)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from evdms.reports.services import report_exports_purge


class Command(BaseCommand):
    help = "Delete report exports whose keeping time is over."

    def handle(self, *args: Any, **options: Any) -> None:
        self.stdout.write(f"Deleted {report_exports_purge()} expired export(s).")
