"""E-mailing invoices to the buyer's Accounts Payable: once, after commit, with the PDF
(and the lines CSV of a Transactions invoice)."""

from __future__ import annotations

import csv
import io
import logging

import facturx
import pytest
from django.db import transaction

from evdms.audit.models import AuditEvent
from evdms.invoicing.delivery import (
    invoice_deliver,
    invoice_send,
    invoices_deliver_after_commit,
    invoices_deliver_pending,
)
from evdms.invoicing.models import Invoice, InvoiceStatus
from evdms.invoicing.tests.documents_fixtures import (
    billed_organisation,
    credit_note,
    services_invoice,
    transactions_invoice,
)
from evdms.notifications.models import OutboundEmail

pytestmark = pytest.mark.django_db


def invoice_mails(mailoutbox):
    return [
        m for m in mailoutbox if "invoice" in m.subject.lower() or "credit" in m.subject.lower()
    ]


def test_a_transactions_invoice_is_emailed_once_with_its_pdf_and_csv(
    mailoutbox, django_capture_on_commit_callbacks
):
    invoice = transactions_invoice(billed_organisation())
    with django_capture_on_commit_callbacks(execute=True):
        assert invoice_send(invoice.pk) is True
    with django_capture_on_commit_callbacks(execute=True):
        assert invoice_send(invoice.pk) is False  # the second call sends nothing
        invoice_deliver.enqueue(invoice_id=invoice.pk)  # nor does a duplicated task
    mails = invoice_mails(mailoutbox)
    assert len(mails) == 1
    mail = mails[0]
    assert mail.to == ["ap@acme.example"]
    assert mail.subject == "Transactions invoice TRX-2026-000001 from evdms Platform B.V."
    assert "€28.22 (incl. VAT)" in mail.body  # 13.12 + 2.76 VAT + 12.34 exempt
    assert invoice.payment_reference in mail.body
    assert "Your purchase order: PO-4711." in mail.body
    (pdf_name, pdf, pdf_type), (csv_name, lines, csv_type) = mail.attachments
    assert (pdf_name, pdf_type) == ("TRX-2026-000001.pdf", "application/pdf")
    stored = Invoice.objects.get(pk=invoice.pk)
    assert stored.pdf is not None and bytes(stored.pdf) == pdf  # the download is the e-mailed file
    _, xml = facturx.get_facturx_xml_from_pdf(pdf, check_xsd=True)
    assert b"TRX-2026-000001" in xml
    assert (csv_name, csv_type) == ("TRX-2026-000001-lines.csv", "text/csv")
    text = lines.decode() if isinstance(lines, bytes) else lines
    rows = list(csv.reader(io.StringIO(text.lstrip("\ufeff"))))
    assert len(rows) == 1 + 4
    assert stored.status == InvoiceStatus.SENT
    assert stored.sent_at is not None
    assert OutboundEmail.objects.filter(template="invoice").count() == 1
    event = AuditEvent.objects.get(action="invoice.send")
    assert event.changes["to"] == [None, "ap@acme.example"]


def test_a_services_invoice_has_no_csv_and_a_credit_note_stays_a_credit(
    mailoutbox, django_capture_on_commit_callbacks
):
    invoice = services_invoice(billed_organisation())
    credit = credit_note(invoice)
    with django_capture_on_commit_callbacks(execute=True):
        invoice_send(invoice.pk)
        invoice_send(credit.pk)
    first, second = invoice_mails(mailoutbox)
    assert [name for name, _, _ in first.attachments] == ["SRV-2026-000001.pdf"]
    assert second.subject == "Credit note CRN-2026-000001 from evdms Platform B.V."
    assert "correcting invoice SRV-2026-000001" in second.body
    credit.refresh_from_db()
    assert credit.status == InvoiceStatus.CREDIT and credit.sent_at is not None


def test_without_an_accounts_payable_address_nothing_is_sent_and_it_stays_issued(
    mailoutbox, django_capture_on_commit_callbacks, caplog
):
    invoice = services_invoice(billed_organisation(email=""))
    with caplog.at_level(logging.WARNING), django_capture_on_commit_callbacks(execute=True):
        assert invoice_send(invoice.pk) is False
    assert invoice_mails(mailoutbox) == []
    invoice.refresh_from_db()
    assert (invoice.status, invoice.sent_at) == (InvoiceStatus.ISSUED, None)
    assert "SRV-2026-000001 not e-mailed: its buyer has no Accounts Payable address" in caplog.text


def test_delivery_is_queued_on_commit_and_not_on_rollback(
    mailoutbox, django_capture_on_commit_callbacks
):
    org = billed_organisation()
    with django_capture_on_commit_callbacks(execute=True) as callbacks, transaction.atomic():
        invoice = services_invoice(org)
        invoices_deliver_after_commit([invoice.pk])
        assert invoice_mails(mailoutbox) == []  # nothing before the commit
    assert len(callbacks) >= 1
    assert len(invoice_mails(mailoutbox)) == 1
    invoice.refresh_from_db()
    assert invoice.status == InvoiceStatus.SENT

    class Abort(Exception):
        pass

    with (
        django_capture_on_commit_callbacks(execute=True) as callbacks,
        pytest.raises(Abort),
        transaction.atomic(),
    ):
        other = services_invoice(billed_organisation("other", email="ap@other.example"))
        invoices_deliver_after_commit([other.pk])
        raise Abort
    assert callbacks == []
    assert len(invoice_mails(mailoutbox)) == 1


def test_a_claim_that_rolls_back_leaves_the_invoice_for_the_next_attempt(
    mailoutbox, django_capture_on_commit_callbacks, monkeypatch
):
    invoice = services_invoice(billed_organisation())
    from evdms.invoicing import delivery

    def broken(**kwargs):
        raise RuntimeError("outbox unavailable")

    monkeypatch.setattr(delivery, "email_send", broken)
    with pytest.raises(RuntimeError):
        invoice_send(invoice.pk)
    invoice.refresh_from_db()
    assert (invoice.status, invoice.sent_at) == (InvoiceStatus.ISSUED, None)
    monkeypatch.undo()
    with django_capture_on_commit_callbacks(execute=True):
        assert invoice_send(invoice.pk) is True
    assert len(invoice_mails(mailoutbox)) == 1


def test_a_rerun_queues_what_a_killed_run_left_unsent(
    mailoutbox, django_capture_on_commit_callbacks
):
    sent = services_invoice(billed_organisation())
    with django_capture_on_commit_callbacks(execute=True):
        invoice_send(sent.pk)
    # Issued, but the process died before its e-mail was queued.
    left = transactions_invoice(billed_organisation("left", email="ap@left.example"))
    services_invoice(billed_organisation("none", email=""))  # nowhere to send it
    with django_capture_on_commit_callbacks(execute=True):
        assert invoices_deliver_pending(sent.month) == 1
    mails = invoice_mails(mailoutbox)
    assert [m.to for m in mails] == [["ap@acme.example"], ["ap@left.example"]]
    left.refresh_from_db()
    assert left.status == InvoiceStatus.SENT


def test_two_workers_at_once_send_one_email(
    mailoutbox, django_capture_on_commit_callbacks, monkeypatch
):
    """The second worker reads the invoice unsent, renders, and meanwhile the first one
    claims and sends: the second finds the claim taken and writes nothing."""
    from evdms.invoicing import delivery

    invoice = services_invoice(billed_organisation())
    real_pdf = delivery.invoice_pdf
    raced: list[bool] = []

    def pdf_while_the_other_worker_sends(inv: Invoice) -> bytes:
        data = real_pdf(inv)
        if not raced:
            raced.append(True)
            assert invoice_send(inv.pk) is True  # the other worker, start to finish
        return data

    monkeypatch.setattr(delivery, "invoice_pdf", pdf_while_the_other_worker_sends)
    with django_capture_on_commit_callbacks(execute=True):
        assert invoice_send(invoice.pk) is False
    assert len(invoice_mails(mailoutbox)) == 1
    assert OutboundEmail.objects.filter(template="invoice").count() == 1
    assert AuditEvent.objects.filter(action="invoice.send").count() == 1
