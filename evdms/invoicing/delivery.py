"""E-mailing an issued invoice to its buyer's Accounts Payable, once.

The e-mail is keyed by the invoice row: ``Invoice.sent_at`` is claimed by a conditional
update in the same transaction that writes the outbox row (``notifications.email_send``),
as ``reimbursements.statement_emails`` does, so two workers, a retried task or a rerun
of the month never e-mail an invoice twice, and a worker killed before the commit leaves
the invoice unclaimed for the next attempt. The PDF is rendered before the claim (it is
the slow part, and a SQLite write lock should not wait on it); ``documents.invoice_pdf``
stores one rendering whoever renders it, so the attachment is the document a later
download gives.

The address is the one copied onto the invoice when it was issued
(``buyer_details["email"]``), as every other party detail is. Without one nothing is sent:
the invoice stays ``issued``, a warning is logged, and the organisation still finds it
on its Invoices page; an address added later does not re-send it (the invoice, being
immutable, keeps the details of its day).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from datetime import date
from functools import partial

from django.db import transaction
from django.utils import timezone, translation
from django_tasks import task

from evdms.audit.models import AuditAction
from evdms.audit.services import audit_record
from evdms.invoicing.documents import invoice_lines_csv, invoice_pdf
from evdms.invoicing.invoice_pdf import (
    long_date,
    pdf_language,
    title_in_sentence,
    title_of,
)
from evdms.invoicing.models import Invoice, InvoiceKind, InvoiceStatus
from evdms.notifications.services import email_send
from evdms.ui import formatting

logger = logging.getLogger(__name__)


def _with_lines_csv(invoice: Invoice) -> bool:
    """The Transactions invoice lists its sessions in a CSV; so does a credit note of one."""
    if invoice.kind == InvoiceKind.TRANSACTIONS:
        return True
    return invoice.credits is not None and invoice.credits.kind == InvoiceKind.TRANSACTIONS


def invoice_send(invoice_id: int) -> bool:
    """E-mail the invoice (PDF attached, and the lines CSV for a Transactions invoice) to
    the buyer's Accounts Payable address unless it was e-mailed already. Returns whether
    this call wrote the e-mail; an issued invoice becomes ``sent``."""
    invoice = (
        Invoice.objects.select_related("organisation", "credits", "driver")
        .filter(pk=invoice_id)
        .first()
    )
    if invoice is None or invoice.sent_at is not None:
        return False
    address = (invoice.buyer_details or {}).get("email", "")
    if not address:
        logger.warning(
            "invoice %s not e-mailed: its buyer has no Accounts Payable address", invoice.number
        )
        return False
    attachments = [(f"{invoice.number}.pdf", invoice_pdf(invoice), "application/pdf")]
    if _with_lines_csv(invoice):
        attachments.append(
            (f"{invoice.number}-lines.csv", invoice_lines_csv(invoice).encode(), "text/csv")
        )
    # Written in the buyer's default language, as the PDF is: the pieces made here too.
    language = pdf_language(invoice)
    with translation.override(language):
        pieces = {
            "title": title_of(invoice),
            "kind": title_in_sentence(invoice),
            "total": formatting.money(invoice.total_incl_vat, invoice.currency),
            "due": long_date(invoice.due_date),
        }
    with transaction.atomic():
        claimed = Invoice.objects.filter(pk=invoice.pk, sent_at=None).update(sent_at=timezone.now())
        if not claimed:  # e-mailed already, or another worker has it
            return False
        # A credit note stays "credit"; an invoice marked paid before this ran stays paid.
        moved = Invoice.objects.filter(pk=invoice.pk, status=InvoiceStatus.ISSUED).update(
            status=InvoiceStatus.SENT
        )
        email_send(
            to=[address],
            template="invoice",
            context={
                "invoice": invoice,
                **pieces,
                "credit_note": invoice.kind == InvoiceKind.CREDIT_NOTE,
                "with_csv": len(attachments) > 1,
            },
            organisation=invoice.buyer,
            language=language,
            attachments=attachments,
        )
        audit_record(
            actor=None,
            action=AuditAction.INVOICE_SEND,
            target=invoice,
            organisation=invoice.organisation,
            changes={
                "to": [None, address],
                **({"status": [InvoiceStatus.ISSUED, InvoiceStatus.SENT]} if moved else {}),
            },
        )
    return True


# The worker's task lives beside the send it runs, so that the run (which queues it)
# and the tasks module (which runs the run) import no cycle.
@task()
def invoice_deliver(*, invoice_id: int) -> bool:
    """E-mail one issued invoice to its buyer, once (``invoice_send``): a retried or
    duplicated task finds it claimed and sends nothing."""
    return invoice_send(invoice_id)


def invoices_deliver_after_commit(invoice_ids: Iterable[int]) -> None:
    """Queue the e-mail of each invoice once the surrounding transaction commits (the
    run that issues them), one task per invoice so a failing one holds up no other."""
    for invoice_id in invoice_ids:
        transaction.on_commit(partial(invoice_deliver.enqueue, invoice_id=invoice_id))


def invoices_deliver_pending(month: date) -> int:
    """Queue (after commit) the e-mail of every invoice of ``month`` not e-mailed yet
    that has an address to go to, including those a killed run or worker left behind
    (the run's on-commit queueing dies with its process). Returns how many."""
    pending = list(
        Invoice.objects.filter(month=month.replace(day=1), sent_at=None)
        .exclude(buyer_details__email="")
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    invoices_deliver_after_commit(pending)
    return len(pending)
