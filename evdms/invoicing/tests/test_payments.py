"""Invoices are paid once (by an operator, or by the bank's camt.054 notification matched
on the structured reference) and become overdue with exactly one reminder."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from evdms.audit.models import AuditAction, AuditEvent
from evdms.invoicing.models import Invoice, InvoiceKind, InvoiceStatus, LineSource
from evdms.invoicing.services.credit_notes import credit_note_issue
from evdms.invoicing.services.issue import DraftLine, invoice_issue
from evdms.invoicing.services.payments import (
    invoice_mark_paid,
    invoice_payments_import,
    invoices_mark_overdue,
)
from evdms.invoicing.tests.camt import UNKNOWN_RF, camt054, entry
from evdms.notifications.models import OutboundEmail
from evdms.reimbursements import scheduler
from evdms.reimbursements.scheduler import scheduler_tick
from evdms.testing.fixtures import make_organisation

pytestmark = pytest.mark.django_db
ISSUED = date(2026, 10, 1)  # due 31 October


@pytest.fixture
def acme():
    org = make_organisation("acme", "Acme")
    org.billing_name, org.billing_country = "Acme B.V.", "NL"
    org.accounts_payable_email = "ap@acme.example"
    org.save()
    return org


@pytest.fixture
def petra(django_user_model):
    return django_user_model.objects.create_user(
        "petra@platform.example", "petra's long passphrase", is_staff=True
    )


def issue(org, amount: str = "31.00", month: date = date(2026, 9, 1), kind=InvoiceKind.SERVICES):
    return invoice_issue(
        organisation=org,
        kind=kind,
        month=month,
        lines=[
            DraftLine(
                source=LineSource.DRIVER_FEE,
                description="Monthly fee",
                quantity=Decimal(1),
                unit_price=Decimal(amount),
            )
        ],
        issue_date=ISSUED,
    )


# --- marked paid by an operator ------------------------------------------------------


def test_an_operator_marks_an_invoice_paid_once(acme, petra):
    invoice = issue(acme)
    paid = invoice_mark_paid(invoice=invoice, by=petra)
    assert (paid.status, paid.paid_by) == (InvoiceStatus.PAID, "petra@platform.example")
    assert paid.paid_at is not None
    event = AuditEvent.objects.get(action=AuditAction.INVOICE_PAID)
    assert event.actor_user == petra and event.organisation == acme
    assert event.changes["status"] == ["issued", "paid"]
    assert event.changes["amount"] == [None, "37.51"]

    with pytest.raises(ValidationError) as twice:
        invoice_mark_paid(invoice=invoice, by=petra)
    day = timezone.localtime(paid.paid_at)
    assert twice.value.message_dict["status"] == [
        f"{invoice.number} was marked paid already on "
        f"{day.day} {day:%B %Y} (petra@platform.example)."
    ]
    assert AuditEvent.objects.filter(action=AuditAction.INVOICE_PAID).count() == 1


def test_credit_notes_and_invoices_credited_in_full_cannot_be_paid(acme, petra):
    invoice = issue(acme)
    note = credit_note_issue(invoice=invoice, reason="Wrong month", issue_date=ISSUED)
    with pytest.raises(ValidationError, match="is a credit note: there is nothing to pay"):
        invoice_mark_paid(invoice=note, by=petra)
    with pytest.raises(ValidationError, match="is credited in full: nothing is left to pay"):
        invoice_mark_paid(invoice=invoice, by=petra)
    assert not Invoice.objects.filter(status=InvoiceStatus.PAID).exists()


def test_an_overdue_invoice_can_be_paid(acme, petra):
    invoice = issue(acme)
    invoices_mark_overdue(date(2026, 11, 1))
    invoice.refresh_from_db()
    assert invoice.status == InvoiceStatus.OVERDUE
    assert invoice_mark_paid(invoice=invoice, by=petra).status == InvoiceStatus.PAID


# --- camt.054 ---------------------------------------------------------------------------


def test_a_camt054_file_pays_the_invoices_it_matches_and_reports_the_rest(acme, petra):
    exact = issue(acme, "31.00")
    short = issue(acme, "100.00", month=date(2026, 8, 1))
    credited = issue(acme, "50.00", month=date(2026, 7, 1))
    credit_note_issue(
        invoice=credited,
        lines=[(credited.lines.get(), Decimal("10.00"))],
        reason="Two drivers left",
        issue_date=ISSUED,
    )
    content = camt054(
        entry("37.51", exact.payment_reference, bank_ref="BNK-1"),
        entry("100.00", short.payment_reference, bank_ref="BNK-2"),
        # What is due after the credit note (60.50 - 12.10), referenced in free text.
        entry("48.40", bank_ref="BNK-3", free_text=f"Invoice {credited.payment_reference} thanks"),
        entry("20.00", UNKNOWN_RF, bank_ref="BNK-4"),
        entry("37.51", exact.payment_reference, bank_ref="BNK-5", direction="DBIT"),
        entry("121.00", short.payment_reference, bank_ref="BNK-6", status="PDNG"),
    )

    result = invoice_payments_import(content=content, operator=petra)

    assert result.paid == [exact.number, credited.number]
    assert result.unknown == [UNKNOWN_RF]
    assert result.mismatched == [
        f"{short.number}: €121.00 is due, the transfer BNK-2-1 brought €100.00. Not applied."
    ]
    assert result.already == []
    statuses = dict(Invoice.objects.values_list("number", "status"))
    assert statuses[exact.number] == statuses[credited.number] == InvoiceStatus.PAID
    assert statuses[short.number] == InvoiceStatus.ISSUED
    exact.refresh_from_db()
    assert exact.paid_by == "camt.054 BNK-1-1"
    event = AuditEvent.objects.get(action=AuditAction.INVOICE_PAID, target_id=str(exact.pk))
    assert event.actor_user == petra and event.changes["booked"] == [None, "2026-11-03"]

    # The same file again changes nothing and says why.
    audit_rows = AuditEvent.objects.count()
    again = invoice_payments_import(content=content, operator=petra)
    assert (again.paid, again.already) == ([], [exact.number, credited.number])
    assert again.unknown == [UNKNOWN_RF] and len(again.mismatched) == 1
    assert AuditEvent.objects.count() == audit_rows


def test_a_second_transfer_for_a_paid_invoice_is_reported_not_applied(acme, petra):
    invoice = issue(acme)
    invoice_payments_import(
        content=camt054(entry("37.51", invoice.payment_reference, bank_ref="A")), operator=petra
    )
    result = invoice_payments_import(
        content=camt054(entry("37.51", invoice.payment_reference, bank_ref="B")), operator=petra
    )
    assert result.paid == [] and result.already == []
    (message,) = result.mismatched
    assert message.startswith(f"{invoice.payment_reference} (€37.51): {invoice.number} was ")
    assert "(camt.054 A-1)" in message
    invoice.refresh_from_db()
    assert invoice.paid_by == "camt.054 A-1"


def test_a_transfer_in_another_currency_is_not_applied(acme):
    invoice = issue(acme)
    result = invoice_payments_import(
        content=camt054(entry("37.51", invoice.payment_reference, bank_ref="X", currency="CHF"))
    )
    assert result.paid == [] and "brought CHF37.51" in result.mismatched[0]
    invoice.refresh_from_db()
    assert invoice.status == InvoiceStatus.ISSUED


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (
            b'<?xml version="1.0"?><!DOCTYPE d [<!ENTITY e "x">]><Document>&e;</Document>',
            "has a DTD",
        ),
        (b"%PDF-1.7 not xml", "not an XML file"),
        # Encodings the parser cannot read (unknown, not a text encoding, multi-byte).
        (b'<?xml version="1.0" encoding="foo"?><Document/>', "not an XML file"),
        (b'<?xml version="1.0" encoding="rot13"?><Document/>', "not an XML file"),
        (b'<?xml version="1.0" encoding="utf-7"?><Document/>', "not an XML file"),
        (b'<?xml version="1.0" encoding="idna"?><Document>x</Document>', "not an XML file"),
        (
            b'<Document xmlns="urn:iso:std:iso:20022:tech:xsd:pain.002.001.03">'
            b"<CstmrPmtStsRpt/></Document>",
            "camt.054",
        ),
        (b"<Document>" + b" " * (5 * 1024 * 1024) + b"</Document>", "at most 5 MB"),
    ],
)
def test_files_that_are_not_a_camt054_notification_are_refused(content, message):
    with pytest.raises(ValidationError) as refused:
        invoice_payments_import(content=content)
    assert message in refused.value.message_dict["file"][0]


# --- overdue ----------------------------------------------------------------------------


def test_past_due_invoices_become_overdue_with_exactly_one_reminder(
    acme, petra, mailoutbox, django_capture_on_commit_callbacks
):
    late = issue(acme)
    # E-mailed, then credited in part: the reminder asks for what is left.
    sent = issue(acme, month=date(2026, 6, 1))
    Invoice.objects.filter(pk=sent.pk).update(status=InvoiceStatus.SENT, sent_at=timezone.now())
    credit_note_issue(
        invoice=sent, lines=[(sent.lines.get(), Decimal("10.00"))], reason="x", issue_date=ISSUED
    )
    paid = issue(acme, month=date(2026, 8, 1))
    invoice_mark_paid(invoice=paid, by=petra)
    credited = issue(acme, month=date(2026, 7, 1))
    credit_note_issue(invoice=credited, reason="Cancelled", issue_date=ISSUED)
    not_due = invoice_issue(
        organisation=acme,
        kind=InvoiceKind.TRANSACTIONS,
        month=date(2026, 10, 1),
        lines=[DraftLine(LineSource.DRIVER_FEE, "Fee", Decimal(1), Decimal(5))],
        issue_date=date(2026, 11, 1),
    )
    # Due on 31 October: not overdue that day.
    assert invoices_mark_overdue(date(2026, 10, 31)).overdue == []

    with django_capture_on_commit_callbacks(execute=True):
        first = invoices_mark_overdue(date(2026, 11, 1))
    with django_capture_on_commit_callbacks(execute=True):
        second = invoices_mark_overdue(date(2026, 11, 2))

    assert first.overdue == first.reminded == [late.number, sent.number]
    assert (second.overdue, second.reminded) == ([], [])
    statuses = dict(Invoice.objects.values_list("number", "status"))
    assert statuses[late.number] == statuses[sent.number] == InvoiceStatus.OVERDUE
    assert statuses[paid.number] == InvoiceStatus.PAID
    assert statuses[credited.number] == statuses[not_due.number] == InvoiceStatus.ISSUED
    mail, sent_mail = mailoutbox
    assert "Amount due: €25.41" in sent_mail.body  # 37.51 less the credit of 12.10
    assert mail.to == ["ap@acme.example"]
    assert mail.subject == f"Reminder: invoice {late.number} is overdue"
    assert "Amount due: €37.51" in mail.body
    assert late.payment_reference in mail.body and "was due on 31 October 2026" in mail.body
    late.refresh_from_db()
    assert late.overdue_at is not None and late.reminded_at is not None
    assert AuditEvent.objects.filter(action=AuditAction.INVOICE_OVERDUE).count() == 2


def test_a_buyer_without_an_address_is_reminded_once_it_has_one(acme):
    acme.accounts_payable_email = ""
    acme.save()
    invoice = issue(acme)
    assert invoices_mark_overdue(date(2026, 11, 1)).reminded == []
    invoice.refresh_from_db()
    assert invoice.status == InvoiceStatus.OVERDUE and invoice.reminded_at is None
    acme.accounts_payable_email = "finance@acme.example"
    acme.save()
    assert invoices_mark_overdue(date(2026, 11, 2)).reminded == [invoice.number]
    assert invoices_mark_overdue(date(2026, 11, 3)).reminded == []
    assert list(OutboundEmail.objects.values_list("to", flat=True)) == [["finance@acme.example"]]


def test_the_scheduler_runs_the_overdue_check_once_a_day(acme, monkeypatch):
    monkeypatch.setattr(
        scheduler, "JOBS", [job for job in scheduler.JOBS if job.name == "mark_overdue_invoices"]
    )
    invoice = issue(acme)
    # 23:30 UTC on 31 October is 00:30 on 1 November in Amsterdam.
    (run,) = scheduler_tick(datetime(2026, 10, 31, 23, 30, tzinfo=UTC))
    assert (run.job, run.period) == ("mark_overdue_invoices", "2026-11-01")
    invoice.refresh_from_db()
    assert invoice.status == InvoiceStatus.OVERDUE
    assert scheduler_tick(datetime(2026, 11, 1, 12, tzinfo=UTC)) == []
    assert OutboundEmail.objects.filter(template="invoice_reminder").count() == 1


def test_a_reference_typed_in_groups_of_four_is_read():
    spaced = " ".join(UNKNOWN_RF[i : i + 4] for i in range(0, len(UNKNOWN_RF), 4))
    result = invoice_payments_import(
        content=camt054(entry("5.00", bank_ref="G", free_text=f"Inv. {spaced}, thank you"))
    )
    assert result.unknown == [UNKNOWN_RF]
    nothing = invoice_payments_import(content=camt054(entry("5.00", bank_ref="H", free_text="x")))
    assert nothing.unknown == ["H-1: €5.00 without a reference"]


# --- the admin ----------------------------------------------------------------------


def test_an_operator_marks_invoices_paid_from_the_admin(acme, petra):
    from django.test import Client
    from django.urls import reverse

    petra.is_superuser = True
    petra.save()
    client = Client()
    client.force_login(petra, backend="evdms.accounts.backends.EmailBackend")
    first = issue(acme)
    second = issue(acme, "10.00", month=date(2026, 8, 1))
    invoice_mark_paid(invoice=second, by=petra)
    changelist = reverse("admin:invoicing_invoice_changelist")

    listed = client.get(changelist, {"month": "2026-09", "status__exact": "issued"})
    page = listed.content.decode()
    assert first.number in page and second.number not in page
    assert "September 2026" in page  # the month filter offers the months invoiced

    done = client.post(
        changelist,
        {"action": "mark_paid", "_selected_action": [first.pk, second.pk]},
        follow=True,
    ).content.decode()
    assert f"Marked paid: {first.number}." in done
    assert f"{second.number} was marked paid already on" in done
    first.refresh_from_db()
    assert (first.status, first.paid_by) == (InvoiceStatus.PAID, "petra@platform.example")

    detail = client.get(reverse("admin:invoicing_invoice_change", args=[first.pk])).content.decode()
    assert "Monthly fee" in detail and "VAT breakdown" in detail
    assert 'name="_save"' not in detail  # read-only: an issued invoice never changes


@pytest.mark.parametrize("month", ["0-1", "99999-1", "99999999999999999999-1", "2026-13", "x"])
def test_a_hand_made_month_in_the_admin_list_shows_no_invoice(acme, petra, month):
    from django.test import Client
    from django.urls import reverse

    petra.is_superuser = True
    petra.save()
    client = Client()
    client.force_login(petra, backend="evdms.accounts.backends.EmailBackend")
    invoice = issue(acme)
    listed = client.get(reverse("admin:invoicing_invoice_changelist"), {"month": month})
    assert listed.status_code == 200
    assert invoice.number not in listed.content.decode()


@pytest.mark.django_db(transaction=True)
def test_an_operator_and_the_bank_file_paying_at_once_pay_once(petra):
    from evdms.testing.concurrency import at_once

    org = make_organisation("acme", "Acme")
    invoice = issue(org)
    outcomes: list[str] = []

    def by_hand() -> None:
        try:
            invoice_mark_paid(invoice=invoice, by=petra)
        except ValidationError:
            outcomes.append("refused")
        else:
            outcomes.append("paid")

    def by_file() -> None:
        result = invoice_payments_import(
            content=camt054(entry("37.51", invoice.payment_reference, bank_ref="Z"))
        )
        outcomes.append("paid" if result.paid else "refused")

    at_once(by_hand, by_file)
    assert sorted(outcomes) == ["paid", "refused"]
    assert AuditEvent.objects.filter(action=AuditAction.INVOICE_PAID).count() == 1


def test_camt054_version_8_is_read_and_absurd_amounts_are_not_payments(acme):
    invoice = issue(acme)
    content = f"""<?xml version="1.0" encoding="UTF-8"?>
<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.054.001.08">
  <BkToCstmrDbtCdtNtfctn>
    <GrpHdr><MsgId>M8</MsgId><CreDtTm>2026-11-03T18:00:00Z</CreDtTm></GrpHdr>
    <Ntfctn>
      <Id>N8</Id>
      <Acct><Id><IBAN>NL91ABNA0417164300</IBAN></Id></Acct>
      <Ntry>
        <Amt Ccy="EUR">1E+999999999</Amt><CdtDbtInd>CRDT</CdtDbtInd><Sts><Cd>BOOK</Cd></Sts>
        <NtryDtls><TxDtls><Amt Ccy="EUR">1E+999999999</Amt>
          <RmtInf><Strd><CdtrRefInf><Ref>{invoice.payment_reference}</Ref></CdtrRefInf></Strd></RmtInf>
        </TxDtls></NtryDtls>
      </Ntry>
      <Ntry>
        <Amt Ccy="EUR">37.51</Amt><CdtDbtInd>CRDT</CdtDbtInd><Sts><Cd>BOOK</Cd></Sts>
        <BookgDt><DtTm>2026-11-03T10:00:00Z</DtTm></BookgDt>
        <AcctSvcrRef>E8</AcctSvcrRef>
        <NtryDtls><TxDtls>
          <Refs><EndToEndId>ACME-PAY-0042</EndToEndId></Refs>
          <Amt Ccy="EUR">37.51</Amt><CdtDbtInd>CRDT</CdtDbtInd>
          <RmtInf><Strd><CdtrRefInf><Ref>{invoice.payment_reference}</Ref></CdtrRefInf></Strd></RmtInf>
        </TxDtls></NtryDtls>
      </Ntry>
    </Ntfctn>
  </BkToCstmrDbtCdtNtfctn>
</Document>""".encode()
    result = invoice_payments_import(content=content)
    assert (result.paid, result.mismatched, result.unknown) == ([invoice.number], [], [])
    invoice.refresh_from_db()
    assert invoice.paid_by == "camt.054 ACME-PAY-0042"


def test_an_operator_imports_a_camt054_file_in_the_admin(acme, petra):
    from django.test import Client
    from django.urls import reverse

    petra.is_superuser = True
    petra.save()
    client = Client()
    client.force_login(petra, backend="evdms.accounts.backends.EmailBackend")
    invoice = issue(acme)
    changelist = client.get(reverse("admin:invoicing_invoice_changelist")).content.decode()
    assert "Import the bank's credit notification (camt.054)" in changelist
    upload = reverse("admin:invoicing_invoice_payments")
    content = camt054(
        entry("37.51", invoice.payment_reference, bank_ref="ADM"),
        entry("1.00", UNKNOWN_RF, bank_ref="ADM2"),
    )
    done = client.post(
        upload, {"file": SimpleUploadedFile("camt.xml", content)}, follow=True
    ).content.decode()
    assert "1 invoice(s) paid, 0 paid by this file before." in done
    assert f"Not our invoices: {UNKNOWN_RF}" in done
    invoice.refresh_from_db()
    assert invoice.status == InvoiceStatus.PAID
    broken = client.post(upload, {"file": SimpleUploadedFile("x.xml", b"<a>")}, follow=True)
    assert "This is not an XML file" in broken.content.decode()


def test_a_staff_member_who_may_only_view_invoices_records_no_payment(acme, petra):
    from django.contrib.auth.models import Permission
    from django.test import Client
    from django.urls import reverse

    petra.user_permissions.add(Permission.objects.get(codename="view_invoice"))
    client = Client()
    client.force_login(petra, backend="evdms.accounts.backends.EmailBackend")
    invoice = issue(acme)
    changelist = reverse("admin:invoicing_invoice_changelist")
    page = client.get(changelist).content.decode()
    assert invoice.number in page and "camt.054" not in page and "Mark paid" not in page
    assert client.get(reverse("admin:invoicing_invoice_payments")).status_code == 403
    client.post(changelist, {"action": "mark_paid", "_selected_action": [invoice.pk]})
    invoice.refresh_from_db()
    assert invoice.status == InvoiceStatus.ISSUED


def _operator_speaking(petra, language: str):
    """A client of Petra, a platform operator whose account language is ``language``."""
    from evdms.testing.languages import logged_in, speaking

    petra.is_superuser = True
    petra.save(update_fields=["is_superuser"])
    return logged_in(speaking(petra, language))


def test_who_paid_or_issued_an_invoice_reads_in_the_operators_language(acme, petra):
    from django.urls import reverse
    from django.utils import translation

    from evdms.audit.presentation import change_rows

    client = _operator_speaking(petra, "fr")
    invoice = issue(acme)
    invoice_mark_paid(invoice)  # by no one: the system (the scheduler, a command)
    invoice.refresh_from_db()
    assert invoice.paid_by == "system"  # stored as the code, as before

    detail = client.get(reverse("admin:invoicing_invoice_change", args=[invoice.pk]))
    assert "système" in detail.content.decode()
    done = client.post(
        reverse("admin:invoicing_invoice_changelist"),
        {"action": "mark_paid", "_selected_action": [invoice.pk]},
        follow=True,
    ).content.decode()
    assert "a déjà été marquée comme payée" in done
    assert ", système)." in done and "system)" not in done

    # The monthly run's invoices, new (a code) and old (the English the run wrote).
    issued = AuditEvent.objects.get(action=AuditAction.INVOICE_ISSUE, target_id=str(invoice.pk))
    for stored in ("monthly_run", "monthly run"):
        issued.changes = {"issued_by": [None, stored]}
        with translation.override("de"):
            assert [row.new for row in change_rows(issued)] == ["der monatliche Rechnungslauf"]
    paid = AuditEvent.objects.get(action=AuditAction.INVOICE_PAID)
    with translation.override("nl"):
        rows = {row.label: row.new for row in change_rows(paid)}
    assert rows["Paid by"] == "systeem"


def test_a_german_operator_imports_a_camt054_file_and_reads_the_outcome_in_german(acme, petra):
    from django.urls import reverse

    client = _operator_speaking(petra, "de")
    invoice = issue(acme)
    other = issue(acme, "10.00", month=date(2026, 8, 1))
    changelist = client.get(reverse("admin:invoicing_invoice_changelist")).content.decode()
    assert "Als bezahlt markieren" in changelist and "Mark paid" not in changelist

    upload = reverse("admin:invoicing_invoice_payments")
    content = camt054(
        entry("37.51", invoice.payment_reference, bank_ref="ADM"),
        entry("5.00", other.payment_reference, bank_ref="LOW"),
        entry("2.00", bank_ref="NOREF", free_text="thanks"),
    )
    done = client.post(
        upload, {"file": SimpleUploadedFile("camt.xml", content)}, follow=True
    ).content.decode()
    assert "1 Rechnung(en) bezahlt" in done
    assert f"{other.number}: 12,10\xa0€ sind fällig, die Überweisung LOW-1" in done
    assert "brachte 5,00\xa0€. Nicht verbucht." in done
    assert "NOREF-1: 2,00\xa0€ ohne Referenz" in done
    for english in ("is due, the transfer", "Not applied", "without a reference"):
        assert english not in done, english
    broken = client.post(upload, {"file": SimpleUploadedFile("x.xml", b"<a>")}, follow=True)
    assert "Dies ist keine XML-Datei (" in broken.content.decode()
    other_file = client.post(upload, {"file": SimpleUploadedFile("x.xml", b"<a/>")}, follow=True)
    assert "Laden Sie die Belastungs- und Gutschriftsanzeige der Bank (camt.054) hoch." in (
        other_file.content.decode()
    )
