from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from evdms.accounts.models import Organisation, Role, managing_role
from evdms.accounts.services import api_key_create, role_refusal


class Command(BaseCommand):
    help = "Create an API key for an organisation and print it (shown only this once)."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--organisation", help="the organisation's slug")
        parser.add_argument(
            "--operator",
            metavar="EMAIL",
            help="instead of an organisation key: a platform operator's key (payout "
            "operations), acting as this operator",
        )
        parser.add_argument("--name", required=True, help="what uses the key")
        parser.add_argument(
            "--role",
            choices=Role.values,
            help="the key's role; one of the organisation's kind (an installer company: "
            "installer_manager or installer_technician). Default: the managing role "
            "(network_manager, installer_manager)",
        )
        parser.add_argument(
            "--connection",
            type=int,
            action="append",
            default=[],
            metavar="ID",
            help="limit the key to this connection (repeat for more); without it the key "
            "acts on all connections, present and future. A Network Manager key always has all",
        )

    def handle(
        self,
        *args: Any,
        organisation: str | None,
        operator: str | None,
        name: str,
        role: str | None,
        connection: list[int],
        **options: Any,
    ) -> None:
        if bool(organisation) == bool(operator):
            raise CommandError("Give either --organisation SLUG or --operator EMAIL.")
        if operator and connection:
            raise CommandError("An operator's key is not limited to connections.")
        if operator:
            self._operator_key(operator, name)
            return
        org = Organisation.objects.filter(slug=organisation).first()
        if org is None:
            raise CommandError(f"No organisation with the slug {organisation!r}.")
        role = role or managing_role(org.kind)
        refusal = role_refusal(org, role)
        if refusal:
            raise CommandError(f"{org.name} is {org.get_kind_display().lower()}: {refusal}")
        if connection and role == Role.NETWORK_MANAGER:
            raise CommandError(
                "A Network Manager key always has all connections: give another --role, "
                "or leave out --connection."
            )
        try:
            _, plain = api_key_create(
                actor=None,
                organisation=org,
                name=name,
                role=role,
                all_connections=not connection,
                connection_ids=connection,
            )
        except ValidationError as exc:
            raise CommandError("; ".join(exc.messages)) from exc
        self.stdout.write(plain)

    def _operator_key(self, email: str, name: str) -> None:
        from evdms.accounts.models import User
        from evdms.accounts.services.operator_keys import operator_api_key_create

        user = User.objects.filter(email=email.strip().lower()).first()
        if user is None:
            raise CommandError(f"No user with the e-mail address {email!r}.")
        try:
            _, plain = operator_api_key_create(operator=user, name=name)
        except ValidationError as exc:
            raise CommandError("; ".join(exc.messages)) from exc
        self.stdout.write(plain)
