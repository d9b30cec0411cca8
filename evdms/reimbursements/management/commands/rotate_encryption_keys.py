from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from evdms.ocpi.services import partner_tokens_reencrypt
from evdms.reimbursements.services import bank_accounts_reencrypt


class Command(BaseCommand):
    help = (
        "Re-encrypt every secret kept encrypted (bank accounts, OCPI partners' tokens) with "
        "the first key of EVDMS_FIELD_ENCRYPTION_KEYS."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        done = bank_accounts_reencrypt()
        self.stdout.write(f"Re-encrypted {done} bank account(s) with the newest key.")
        tokens = partner_tokens_reencrypt()
        self.stdout.write(f"Re-encrypted {tokens} OCPI partner token(s) with the newest key.")
