from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from evdms.accounts.models import Organisation, Role
from evdms.accounts.permissions import Actor
from evdms.charging.models import Charger
from evdms.charging.services import NOT_YOUR_DRIVER, charger_register
from evdms.charging.simulator import SimulatedSession, run_charger
from evdms.enrolment.access import find_driver_for


class Command(BaseCommand):
    help = "Run simulated home chargers against the OCPP gateway."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--count", type=int, default=1)
        parser.add_argument("--protocol", choices=["1.6", "2.0.1"], default="1.6")
        parser.add_argument("--sessions", type=int, default=1, help="sessions per charger")
        parser.add_argument("--url", default=f"ws://{settings.OCPP_HOST}:{settings.OCPP_PORT}/ocpp")
        parser.add_argument("--prefix", default="SIM")
        parser.add_argument(
            "--register",
            metavar="ORGANISATION_SLUG",
            help="register the simulated chargers in this organisation first",
        )
        parser.add_argument("--driver", help="e-mail of the driver to link registered chargers to")
        parser.add_argument(
            "--password",
            help="the chargers' password: needed for chargers registered before; chargers "
            "registered now get a generated one each when left out",
        )

    def handle(self, *args: Any, **o: Any) -> None:
        identities = [
            f"{o['prefix']}-{o['protocol'].replace('.', '')}-{i:04d}" for i in range(o["count"])
        ]
        passwords = dict.fromkeys(identities, o["password"])
        if o["register"]:
            organisation = Organisation.objects.filter(slug=o["register"]).first()
            if organisation is None:
                raise CommandError(f"No organisation {o['register']!r}")
            driver = None
            if o["driver"]:
                membership = find_driver_for(
                    Actor(organisation=organisation, role=Role.NETWORK_MANAGER),
                    o["driver"],
                )
                if membership is None:
                    raise CommandError(f"{NOT_YOUR_DRIVER} ({organisation.name}: {o['driver']!r})")
                # As on the Chargers page: the charger belongs to the driver's organisation.
                organisation, driver = membership.organisation, membership.driver
            registered = set(
                Charger.objects.filter(identity__in=identities).values_list("identity", flat=True)
            )
            for identity in identities:
                if identity not in registered:
                    try:
                        _, passwords[identity] = charger_register(
                            actor=None,
                            organisation=organisation,
                            identity=identity,
                            serial=f"SN-{identity}",
                            password=o["password"],
                            driver=driver,
                        )
                    except ValidationError as exc:
                        raise CommandError("; ".join(exc.messages)) from exc
        # A password is shown once, when it is made: one generated on an earlier run is
        # not known any more.
        unknown = [identity for identity, password in passwords.items() if not password]
        if unknown:
            raise CommandError(
                f"{unknown[0]} is registered already (of {len(unknown)}): give its --password, "
                "or another --prefix to register new ones."
            )
        start = timezone.now() - timedelta(hours=2)

        async def everything() -> list[Any]:
            ran: list[Any] = await asyncio.gather(
                *[
                    run_charger(
                        o["url"],
                        identity,
                        passwords[identity],
                        o["protocol"],
                        [
                            SimulatedSession(start + timedelta(hours=3 * k), 1_000_000 + k * 10_000)
                            for k in range(o["sessions"])
                        ],
                    )
                    for identity in identities
                ]
            )
            return ran

        results = asyncio.run(everything())
        self.stdout.write(
            f"{len(identities)} charger(s) ran {sum(len(r) for r in results)} session(s)."
        )
