from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from evdms.reimbursements.statements import statements_run


class Command(BaseCommand):
    help = "Make the reimbursement statements of a month (default: last month). Safe to rerun."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--month", help="YYYY-MM")

    def handle(self, *args: Any, month: str | None = None, **options: Any) -> None:
        if month:
            try:
                year, number = (int(part) for part in month.split("-"))
                first = date(year, number, 1)
            except ValueError as exc:
                raise CommandError("Give the month as YYYY-MM, e.g. 2026-10.") from exc
        else:
            today = timezone.localdate()
            first = (today.replace(day=1) - timedelta(days=1)).replace(day=1)
        result = statements_run(first)
        self.stdout.write(
            f"{first:%B %Y}: {result['made']} statement(s) made, {result['held']} held, "
            f"{result['existing']} existed already."
        )
