from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from evdms.reimbursements.services import bank_accounts_reencrypt


class Command(BaseCommand):
    help = "Re-encrypt every bank account with the first key of EVDMS_FIELD_ENCRYPTION_KEYS."

    def handle(self, *args: Any, **options: Any) -> None:
        done = bank_accounts_reencrypt()
        self.stdout.write(f"Re-encrypted {done} bank account(s) with the newest key.")
