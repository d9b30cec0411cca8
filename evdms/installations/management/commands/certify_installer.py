from __future__ import annotations

import datetime
from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from evdms.accounts.models import Organisation
from evdms.installations.services.installers import (
    installer_certify,
    installer_company_for,
    parse_region,
)


class Command(BaseCommand):
    help = (
        "Certify an installer company (an organisation of kind installer) until a date, "
        "with the regions it serves and its capacity."
    )

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--organisation", required=True, help="the organisation's slug")
        parser.add_argument("--until", required=True, help="certified until YYYY-MM-DD")
        parser.add_argument(
            "--region",
            action="append",
            default=None,
            metavar="CC[:PREFIX]",
            help="a region it serves: a country, or a country and postcode prefix (NL:10); "
            "repeat for several; given, they replace the regions it had",
        )
        parser.add_argument("--capacity", type=int, help="the open jobs it takes at once")

    def handle(
        self,
        *args: Any,
        organisation: str,
        until: str,
        region: list[str] | None,
        capacity: int | None,
        **options: Any,
    ) -> None:
        org = Organisation.objects.filter(slug=organisation).first()
        if org is None:
            raise CommandError(f"No organisation with the slug {organisation!r}.")
        try:
            day = datetime.date.fromisoformat(until)
        except ValueError as exc:
            raise CommandError(f"--until: {until!r} is not a date YYYY-MM-DD.") from exc
        try:
            regions = None if region is None else [parse_region(r) for r in region]
            company = installer_company_for(organisation=org)
            company = installer_certify(
                company=company, until=day, by_user=None, regions=regions, capacity=capacity
            )
        except ValidationError as exc:
            raise CommandError("; ".join(exc.messages)) from exc
        served = ", ".join(str(r) for r in company.regions.all()) or "no regions yet"
        self.stdout.write(
            f"{org.name} is certified until {day.isoformat()} (capacity {company.capacity}; "
            f"serves {served})."
        )
