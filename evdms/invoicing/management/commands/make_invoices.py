from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from evdms.invoicing.services.run import CHUNK_ORGANISATIONS, invoices_run


def parse_month(value: str) -> date:
    """YYYY-MM → its first day; a clear error otherwise."""
    try:
        year, number = value.split("-")
        if len(year) != 4 or len(number) != 2:
            raise ValueError(value)
        return date(int(year), int(number), 1)
    except ValueError as exc:
        raise CommandError(f"Give the month as YYYY-MM, e.g. 2026-10 (not {value!r}).") from exc


class Command(BaseCommand):
    help = (
        "Issue the Bundle, Services and Transactions invoices of a month (default: last "
        "month). Safe to rerun: only what is missing is issued."
    )

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--month", help="YYYY-MM")
        parser.add_argument(
            "--chunk-size",
            type=int,
            default=CHUNK_ORGANISATIONS,
            help="organisations read together (default %(default)s); each is invoiced "
            "in a transaction of its own",
        )

    def handle(
        self,
        *args: Any,
        month: str | None = None,
        chunk_size: int = CHUNK_ORGANISATIONS,
        **options: Any,
    ) -> None:
        if chunk_size < 1:
            raise CommandError("--chunk-size must be at least 1.")
        today = timezone.localdate()
        if month:
            first = parse_month(month)
            # An issued invoice never changes: a month typed wrong in the future would
            # e-mail invoices for what has not happened and close it to new fee schedules.
            if first >= today.replace(day=1):
                raise CommandError(
                    f"{first:%B %Y} is not over yet: only a month that has ended is invoiced."
                )
        else:
            first = (today.replace(day=1) - timedelta(days=1)).replace(day=1)
        result = invoices_run(first, chunk_size=chunk_size)
        self.stdout.write(
            f"{first:%B %Y}: {result.issued} invoice(s) issued to {result.organisations} "
            f"organisation(s), {result.skipped} invoiced already, {result.refused} refused."
        )
        if result.left_out:
            self.stdout.write(f"{result.left_out} source(s) in another currency left out.")
        if result.refused:
            raise CommandError(
                f"{result.refused} organisation(s) refused (see the log): "
                + ", ".join(str(pk) for pk in result.refused_ids)
            )
