from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from evdms.ocpi.models import PartnerRole
from evdms.ocpi.services import ConnectError, partner_connect


class Command(BaseCommand):
    help = (
        "Register with an OCPI partner (a CPO or hub) that gave us its versions URL and a "
        "token A: fetch its 2.2.1 endpoints, send our credentials, keep its token."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--name", required=True)
        parser.add_argument("--versions-url", required=True)
        parser.add_argument("--token", required=True, help="the token A the partner gave us")
        parser.add_argument("--role", choices=PartnerRole.values, default=PartnerRole.CPO)

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            partner = partner_connect(
                name=options["name"],
                versions_url=options["versions_url"],
                token_a=options["token"],
                role=options["role"],
            )
        except ConnectError as exc:
            raise CommandError(f"Not registered with {options['name']}: {exc}") from None
        parties = ", ".join(f"{c}*{p}" for c, p in partner.parties())
        self.stdout.write(f"Registered with {partner.name} ({parties}), OCPI {partner.version}.")
