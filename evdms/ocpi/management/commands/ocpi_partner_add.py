from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from evdms.ocpi import party
from evdms.ocpi.models import PartnerRole
from evdms.ocpi.services import partner_add


class Command(BaseCommand):
    help = (
        "Add an OCPI partner that will register with us: prints our versions URL and the "
        "token A to give it (shown only now)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--name", required=True)
        parser.add_argument("--role", choices=PartnerRole.values, default=PartnerRole.CPO)

    def handle(self, *args: Any, **options: Any) -> None:
        _, token_a = partner_add(name=options["name"], role=options["role"])
        self.stdout.write(f"versions URL: {party.versions_url()}")
        self.stdout.write(f"token A: {token_a}")
