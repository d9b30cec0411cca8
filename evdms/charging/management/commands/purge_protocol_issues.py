"""Delete protocol issues past their keeping time (also done daily by run_scheduler)."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand

from evdms.charging.services.protocol_issues import protocol_issues_purge


class Command(BaseCommand):
    help = "Delete protocol issues older than EVDMS_PROTOCOL_ISSUE_DAYS."

    def handle(self, *args: Any, **options: Any) -> None:
        deleted = protocol_issues_purge()
        self.stdout.write(
            f"Deleted {deleted} protocol issue(s) older than {settings.PROTOCOL_ISSUE_DAYS} days."
        )
