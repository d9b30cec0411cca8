from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand
from django.db import transaction

from evdms.reimbursements import crypto
from evdms.reimbursements.models import BankAccount


class Command(BaseCommand):
    help = "Re-encrypt every bank account with the first key of EVDMS_FIELD_ENCRYPTION_KEYS."

    def handle(self, *args: Any, **options: Any) -> None:
        done = 0
        with transaction.atomic():
            for account in BankAccount.objects.select_for_update().iterator(chunk_size=500):
                account.holder_encrypted = crypto.rotate(account.holder_encrypted)
                account.iban_encrypted = crypto.rotate(account.iban_encrypted)
                account.save(update_fields=["holder_encrypted", "iban_encrypted"])
                done += 1
        self.stdout.write(f"Re-encrypted {done} bank account(s) with the newest key.")
