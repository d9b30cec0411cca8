from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from evdms.accounts.models import Organisation, Role
from evdms.accounts.permissions import Actor
from evdms.charging.services import NOT_YOUR_DRIVER, charger_register
from evdms.enrolment.access import find_driver_for
from evdms.enrolment.models import Membership, MembershipStatus


class Command(BaseCommand):
    help = "Register a home charger (for provisioning scripts). Prints its password."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("identity")
        parser.add_argument("--serial", required=True)
        parser.add_argument(
            "--password", help="16 to 40 random characters; generated when left out (recommended)"
        )
        parser.add_argument("--driver", help="the driver's e-mail address")
        parser.add_argument(
            "--organisation",
            help="organisation slug; acting for it as its pages do: the driver must be a "
            "driver of it or of an organisation that granted it rights, and the charger "
            "belongs to the driver's organisation (default: that of the driver's connection)",
        )
        parser.add_argument("--vendor", default="")
        parser.add_argument("--model", default="")

    def handle(self, *args: Any, **o: Any) -> None:
        organisation = None
        if o["organisation"]:
            organisation = Organisation.objects.filter(slug=o["organisation"]).first()
            if organisation is None:
                raise CommandError(f"No organisation with the slug {o['organisation']!r}.")
        membership = None
        if o["driver"] and organisation is not None:
            membership = find_driver_for(
                Actor(organisation=organisation, role=Role.NETWORK_MANAGER),
                o["driver"],
            )
            if membership is None:
                raise CommandError(f"{NOT_YOUR_DRIVER} ({organisation.name}: {o['driver']!r})")
        elif o["driver"]:
            membership = self._the_drivers_organisation(o["driver"])
        if membership is not None:
            organisation = membership.organisation
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
                driver=membership.driver if membership else None,
            )
        except ValidationError as exc:
            raise CommandError("; ".join(exc.messages)) from exc
        self.stdout.write(password)

    def _the_drivers_organisation(self, email: str) -> Membership:
        # Run by a platform operator, who may look a driver up anywhere; but the charger
        # goes to one organisation, so a driver of several must be told which.
        memberships = list(
            Membership.objects.filter(
                driver__email=email.strip().lower(), status=MembershipStatus.CONNECTED
            ).select_related("driver", "organisation")
        )
        if not memberships:
            raise CommandError(f"No connected driver {email!r}; or give --organisation <slug>.")
        if len(memberships) > 1:
            raise CommandError(
                f"{email!r} is a driver of several organisations: give --organisation <slug>."
            )
        return memberships[0]
