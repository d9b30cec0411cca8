"""Payout batches: ready statements into one SEPA credit transfer file, each paid once."""

from __future__ import annotations

from datetime import date

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Sum

from evdms.audit.services import audit_record
from evdms.reimbursements.models import PayoutBatch, PayoutLine, Statement, StatementStatus
from evdms.reimbursements.sepa import Payment, credit_transfer_xml


@transaction.atomic
def payout_batch_create(*, execution_date: date) -> PayoutBatch:
    """A draft batch of every ready euro statement not paid yet."""
    ready = list(
        Statement.objects.select_for_update(of=("self",))
        .filter(status=StatementStatus.READY, currency="EUR", payout__isnull=True, total__gt=0)
        .order_by("pk")
    )
    if not ready:
        raise ValidationError("No statement is ready to be paid.")
    batch = PayoutBatch.objects.create(execution_date=execution_date)
    PayoutLine.objects.bulk_create(
        [
            PayoutLine(batch=batch, statement=s, end_to_end_id=s.reference, amount=s.total)
            for s in ready
        ]
    )
    claimed = Statement.objects.filter(
        pk__in=[s.pk for s in ready], status=StatementStatus.READY
    ).update(status=StatementStatus.IN_BATCH)
    if claimed != len(ready):  # someone else changed one meanwhile: start again
        raise ValidationError("Statements changed while the batch was made; try again.")
    batch.total = batch.lines.aggregate(total=Sum("amount"))["total"]
    batch.save(update_fields=["total"])
    audit_record(
        actor=None,
        action="payout_batch.create",
        target=batch,
        changes={"statements": [None, len(ready)]},
    )
    return batch


@transaction.atomic
def payout_batch_export(*, batch: PayoutBatch) -> bytes:
    """The batch's pain.001 file (made once; exporting again returns the same file)."""
    batch = PayoutBatch.objects.select_for_update().get(pk=batch.pk)
    if batch.sepa_xml:
        return batch.sepa_xml.encode()
    payments = []
    for line in batch.lines.select_related("statement__bank_account", "statement__driver"):
        account = line.statement.bank_account
        if account is None:
            raise ValidationError(f"{line.statement.reference} has no bank account.")
        payments.append(
            Payment(
                end_to_end_id=line.end_to_end_id,
                holder=account.holder,
                iban=account.iban,
                bic=account.bic,
                amount=line.amount,
                description=f"Home charging {line.statement.month:%B %Y} "
                f"{line.statement.reference}",
            )
        )
    xml, message_id = credit_transfer_xml(payments=payments, execution_date=batch.execution_date)
    batch.sepa_xml = xml.decode()
    batch.message_id = message_id[:35]
    batch.status = PayoutBatch.Status.EXPORTED
    batch.save(update_fields=["sepa_xml", "message_id", "status"])
    audit_record(
        actor=None,
        action="payout_batch.export",
        target=batch,
        changes={"message_id": [None, batch.message_id]},
    )
    return xml
