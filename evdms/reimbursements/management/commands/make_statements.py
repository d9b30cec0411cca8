from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from evdms.reimbursements.services.statements import CHUNK_DRIVERS, statements_run


class Command(BaseCommand):
    help = "Make the reimbursement statements of a month (default: last month). Safe to rerun."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--month", help="YYYY-MM")
        parser.add_argument(
            "--chunk-size",
            type=int,
            default=CHUNK_DRIVERS,
            help="drivers per transaction (default %(default)s)",
        )

    def handle(
        self,
        *args: Any,
        month: str | None = None,
        chunk_size: int = CHUNK_DRIVERS,
        **options: Any,
    ) -> None:
        if chunk_size < 1:
            raise CommandError("--chunk-size must be at least 1.")
        if month:
            try:
                year, number = (int(part) for part in month.split("-"))
                first = date(year, number, 1)
            except ValueError as exc:
                raise CommandError("Give the month as YYYY-MM, e.g. 2026-10.") from exc
        else:
            today = timezone.localdate()
            first = (today.replace(day=1) - timedelta(days=1)).replace(day=1)
        result = statements_run(first, chunk_size=chunk_size)
        self.stdout.write(
            f"{first:%B %Y}: {result['made']} statement(s) made, {result['held']} held, "
            f"{result['existing']} existed already."
        )
