from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from evdms.accounts.models import Organisation, Role
from evdms.accounts.services import api_key_create


class Command(BaseCommand):
    help = "Create an API key for an organisation and print it (shown only this once)."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--organisation", required=True, help="the organisation's slug")
        parser.add_argument("--name", required=True, help="what uses the key")
        parser.add_argument(
            "--role", default=Role.NETWORK_MANAGER, choices=Role.values, help="the key's role"
        )

    def handle(self, *args: Any, organisation: str, name: str, role: str, **options: Any) -> None:
        org = Organisation.objects.filter(slug=organisation).first()
        if org is None:
            raise CommandError(f"No organisation with the slug {organisation!r}.")
        try:
            _, plain = api_key_create(actor=None, organisation=org, name=name, role=role)
        except ValidationError as exc:
            raise CommandError("; ".join(exc.messages)) from exc
        self.stdout.write(plain)
