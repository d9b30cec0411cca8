"""Payout batches: ready statements into one SEPA credit transfer file, each paid once.

A batch goes draft → exported → paid. Once the file is with the bank, the platform
operator settles each line: paid, or failed with the bank's reason (e.g. "AC04 closed
account"). A failed line sets its statement to ``failed`` and tells the driver; the next
statement run carries the amount over. The batch is paid once no line is pending.

Every action locks the batch row first, so two operators (or an operator and a
return-file import) settling lines of one batch run one after the other and the last
one, seeing no pending line, is the one that closes the batch.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Exists, OuterRef, Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from evdms.accounts.models import User
from evdms.audit.models import AuditAction
from evdms.audit.services import audit_record
from evdms.charging.bounds import MONEY_12_2_MAX
from evdms.reimbursements.models import (
    BATCH_TOTAL_MAX,
    PayoutBatch,
    PayoutLine,
    PayoutLineStatus,
    Statement,
    StatementStatus,
)
from evdms.reimbursements.sepa import Payment, credit_transfer_xml

REASON_MAX = 140
# Reasons banks return most often (ISO 20022 external status reason codes), offered as
# choices; any other text is accepted too.
COMMON_REASONS = [
    "AC01 incorrect account number",
    "AC04 closed account",
    "AC06 blocked account",
    "AG01 transaction forbidden",
    "BE04 missing creditor address",
    "MD07 end customer deceased",
    "MS03 reason not specified",
    "RC01 bank identifier incorrect",
]


class PayoutConflict(ValidationError):
    """The batch or line is not in a state that allows this action (a 4xx, not a 500)."""


@transaction.atomic
def payout_batch_create(*, execution_date: date, operator: User | None = None) -> PayoutBatch:
    """A draft batch of every ready euro statement not paid yet."""
    candidates = (
        Statement.objects.select_for_update(of=("self",))
        .filter(
            status=StatementStatus.READY,
            currency="EUR",
            payout__isnull=True,
            total__gt=0,
            total__lte=MONEY_12_2_MAX,
        )
        .order_by("pk")
    )
    # As many as the batch's total holds (a DecimalField(14, 2)); the rest wait for the
    # next batch instead of making this one fail.
    ready: list[Statement] = []
    running = Decimal(0)
    for statement in candidates:
        if running + statement.total > BATCH_TOTAL_MAX:
            break
        running += statement.total
        ready.append(statement)
    if not ready:
        raise ValidationError(_("No statement is ready to be paid."))
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
        raise ValidationError(_("Statements changed while the batch was made; try again."))
    batch.total = batch.lines.aggregate(total=Sum("amount"))["total"]
    batch.save(update_fields=["total"])
    audit_record(
        actor=None,
        by_user=operator,
        action=AuditAction.PAYOUT_BATCH_CREATE,
        target=batch,
        changes={"statements": [None, len(ready)], "total": [None, batch.total]},
    )
    return batch


@transaction.atomic
def payout_batch_export(*, batch: PayoutBatch, operator: User | None = None) -> bytes:
    """The batch's pain.001 file (made once; exporting again returns the same file, so a
    lost download never makes a second, different file for the same payments)."""
    batch = PayoutBatch.objects.select_for_update().get(pk=batch.pk)
    if batch.sepa_xml:
        return batch.sepa_xml.encode()
    payments = []
    for line in batch.lines.select_related("statement__bank_account", "statement__driver"):
        account = line.statement.bank_account
        if account is None:
            raise ValidationError(
                _("%(reference)s has no bank account.") % {"reference": line.statement.reference}
            )
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
    won = PayoutBatch.objects.filter(pk=batch.pk, status=PayoutBatch.Status.DRAFT).update(
        sepa_xml=xml.decode(),
        message_id=message_id[:35],
        status=PayoutBatch.Status.EXPORTED,
        exported_at=timezone.now(),
    )
    if not won:
        raise PayoutConflict(_("This batch is not a draft any more."))
    batch.refresh_from_db()
    audit_record(
        actor=None,
        by_user=operator,
        action=AuditAction.PAYOUT_BATCH_EXPORT,
        target=batch,
        changes={
            "status": [PayoutBatch.Status.DRAFT, batch.status],
            "message_id": [None, batch.message_id],
        },
    )
    return xml


def _locked_batch_for_settling(batch_id: int) -> PayoutBatch:
    batch = PayoutBatch.objects.select_for_update().get(pk=batch_id)
    if batch.status == PayoutBatch.Status.DRAFT:
        raise PayoutConflict(_("Export the batch first: a draft has not been sent to the bank."))
    return batch


def _close_if_settled(batch: PayoutBatch, operator: User | None) -> bool:
    """Mark the batch paid when none of its lines is pending (the batch row is locked)."""
    pending = PayoutLine.objects.filter(batch=OuterRef("pk"), status=PayoutLineStatus.PENDING)
    closed = (
        PayoutBatch.objects.filter(pk=batch.pk, status=PayoutBatch.Status.EXPORTED)
        .exclude(Exists(pending))
        .update(status=PayoutBatch.Status.PAID, paid_at=timezone.now())
    )
    if closed:
        batch.refresh_from_db()
        audit_record(
            actor=None,
            by_user=operator,
            action=AuditAction.PAYOUT_BATCH_PAID,
            target=batch,
            changes={"status": [PayoutBatch.Status.EXPORTED, PayoutBatch.Status.PAID]},
        )
    return bool(closed)


@transaction.atomic
def payout_line_mark_paid(*, line: PayoutLine, operator: User | None) -> PayoutLine:
    """The bank paid this line. Marking a paid line paid again changes nothing."""
    batch = _locked_batch_for_settling(line.batch_id)
    now = timezone.now()
    won = PayoutLine.objects.filter(pk=line.pk, status=PayoutLineStatus.PENDING).update(
        status=PayoutLineStatus.PAID, settled_at=now
    )
    line.refresh_from_db()
    if not won:
        if line.status == PayoutLineStatus.FAILED:
            raise PayoutConflict(
                {"status": [f"{line.end_to_end_id} was reported failed: {line.failure_reason}."]}
            )
        return line  # paid already: idempotent
    Statement.objects.filter(pk=line.statement_id, status=StatementStatus.IN_BATCH).update(
        status=StatementStatus.PAID
    )
    _audit_line(line, operator, AuditAction.PAYOUT_LINE_PAID, PayoutLineStatus.PENDING)
    _close_if_settled(batch, operator)
    return line


@transaction.atomic
def payout_line_fail(*, line: PayoutLine, reason: str, operator: User | None) -> PayoutLine:
    """The bank could not pay this line (also after the batch was booked as paid: banks
    return transfers days later). The statement becomes ``failed`` and the driver is told
    to check their bank details; the next statement run adds the amount. Reporting the
    same line failed again changes nothing and sends nothing."""
    reason = " ".join(reason.split())
    if not reason:
        raise ValidationError({"reason": [_("Give the bank's reason, e.g. AC04 closed account.")]})
    if len(reason) > REASON_MAX:
        raise ValidationError(
            {"reason": [_("At most %(limit)d characters.") % {"limit": REASON_MAX}]}
        )
    batch = _locked_batch_for_settling(line.batch_id)
    old = PayoutLine.objects.get(pk=line.pk).status
    won = PayoutLine.objects.filter(
        pk=line.pk, status__in=[PayoutLineStatus.PENDING, PayoutLineStatus.PAID]
    ).update(status=PayoutLineStatus.FAILED, failure_reason=reason, settled_at=timezone.now())
    line.refresh_from_db()
    if not won:
        return line  # failed already: the driver was told once
    Statement.objects.filter(
        pk=line.statement_id, status__in=[StatementStatus.IN_BATCH, StatementStatus.PAID]
    ).update(status=StatementStatus.FAILED)
    _audit_line(line, operator, AuditAction.PAYOUT_LINE_FAIL, old, reason=reason)
    _close_if_settled(batch, operator)
    _notify_driver_of_failure(line)
    return line


@transaction.atomic
def payout_batch_mark_paid(*, batch: PayoutBatch, operator: User | None) -> PayoutBatch:
    """The bank executed the file: every line not reported failed is paid, and the batch
    is paid. Doing it again changes nothing."""
    batch = _locked_batch_for_settling(batch.pk)
    pending = list(batch.lines.filter(status=PayoutLineStatus.PENDING).values_list("pk", flat=True))
    now = timezone.now()
    settled = PayoutLine.objects.filter(pk__in=pending, status=PayoutLineStatus.PENDING).update(
        status=PayoutLineStatus.PAID, settled_at=now
    )
    if settled != len(pending):  # cannot happen under the batch lock; refuse rather than guess
        raise PayoutConflict(_("Lines changed while the batch was marked paid; try again."))
    Statement.objects.filter(payout__pk__in=pending, status=StatementStatus.IN_BATCH).update(
        status=StatementStatus.PAID
    )
    if pending:
        audit_record(
            actor=None,
            by_user=operator,
            action=AuditAction.PAYOUT_BATCH_LINES_PAID,
            target=batch,
            changes={"lines_paid": [None, len(pending)]},
        )
    _close_if_settled(batch, operator)
    batch.refresh_from_db()
    return batch


def _audit_line(
    line: PayoutLine, operator: User | None, action: AuditAction, old: str, reason: str = ""
) -> None:
    changes: dict[str, list[str | None]] = {"status": [old, line.status]}
    if reason:
        changes["failure_reason"] = [None, reason]
    statement = Statement.objects.select_related("connection__organisation").get(
        pk=line.statement_id
    )
    # Recorded for the driver's organisation too, so its history shows the payment.
    audit_record(
        actor=None,
        by_user=operator,
        action=action,
        target=statement,
        organisation=statement.connection.organisation,
        changes={"payout_line": [None, line.end_to_end_id], **changes},
    )


def _notify_driver_of_failure(line: PayoutLine) -> None:
    from evdms.notifications.services import email_send
    from evdms.ui.language import user_language

    statement = Statement.objects.select_related(
        "driver", "bank_account", "connection__organisation"
    ).get(pk=line.statement_id)
    # The outbox row commits with the failure; delivery is enqueued after commit.
    email_send(
        to=[statement.driver.email],
        template="payout_failed",
        context={"statement": statement, "line": line},
        organisation=statement.connection.organisation,
        language=user_language(statement.driver, statement.connection.organisation),
    )
