from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from evdms.accounts.demo import DEMO_PASSWORD, seed_accounts
from evdms.accounts.demo_grants import seed_grants
from evdms.charging.demo import seed_chargers
from evdms.connections.demo import seed_connections
from evdms.enrolment.demo import demo_driver_logins, seed_drivers
from evdms.installations.demo import installation_logins, seed_installations, seed_installers
from evdms.invoicing.demo import seed_invoicing
from evdms.public_charging.demo import seed_tokens
from evdms.public_charging.demo_sessions import seed_public_sessions
from evdms.reimbursements.demo import seed_reimbursements


class Command(BaseCommand):
    help = "Load the demo data (idempotent: creates what is missing, changes nothing else)."

    def handle(self, *args: Any, **options: Any) -> None:
        logins = seed_accounts()
        seed_connections()
        logins += seed_grants()  # on the connections: after them
        # Before the drivers join: their installation jobs are assigned as they connect.
        seed_installers()
        seed_drivers()
        seed_chargers()
        seed_installations()
        seed_reimbursements()
        seed_tokens()
        seed_public_sessions()  # the demo CPO's CDRs: after the drivers joined
        seed_invoicing()  # the monthly runs of the last months: after all they bill
        logins += demo_driver_logins() + installation_logins()
        self.stdout.write(
            self.style.SUCCESS(f"Demo data ready. Log-ins (password {DEMO_PASSWORD}):")
        )
        for line in logins:
            self.stdout.write(f"  {line}")
