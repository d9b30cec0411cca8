from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from evdms.accounts.models import Organisation, User
from evdms.charging.services import charger_register


class Command(BaseCommand):
    help = "Register a home charger (for provisioning scripts). Prints its password."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("identity")
        parser.add_argument("--serial", required=True)
        parser.add_argument("--password", help="at least 16 characters; generated when left out")
        parser.add_argument("--driver", help="the driver's e-mail address")
        parser.add_argument("--organisation", help="organisation slug (default: the driver's)")
        parser.add_argument("--vendor", default="")
        parser.add_argument("--model", default="")

    def handle(self, *args: Any, **o: Any) -> None:
        driver = None
        if o["driver"]:
            driver = User.objects.filter(email=o["driver"].strip().lower()).first()
            if driver is None:
                raise CommandError(f"No user {o['driver']!r}")
        organisation = None
        if o["organisation"]:
            organisation = Organisation.objects.filter(slug=o["organisation"]).first()
        elif driver is not None:
            membership = (
                driver.memberships.filter(status="connected").select_related("organisation").first()
            )
            organisation = membership.organisation if membership else None
        if organisation is None:
            raise CommandError("Give --organisation <slug> (or a --driver with a connection).")
        try:
            _, password = charger_register(
                actor=None,
                organisation=organisation,
                identity=o["identity"],
                serial=o["serial"],
                password=o["password"],
                vendor=o["vendor"],
                model=o["model"],
                driver=driver,
            )
        except ValidationError as exc:
            raise CommandError("; ".join(exc.messages)) from exc
        self.stdout.write(password)
