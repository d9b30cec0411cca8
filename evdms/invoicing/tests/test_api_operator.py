"""Platform operators credit invoices and record payments over the API with an operator
key; organisation keys never reach these operations; bad input is a field-level 422."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from evdms.accounts.models import Role, User
from evdms.accounts.services.operator_keys import operator_api_key_create
from evdms.audit.models import AuditEvent
from evdms.invoicing.models import Invoice, InvoiceKind, InvoiceStatus, LineSource
from evdms.invoicing.services.issue import DraftLine, invoice_issue
from evdms.invoicing.tests.camt import UNKNOWN_RF, camt054, entry

pytestmark = pytest.mark.django_db
JSON = "application/json"


@pytest.fixture
def petra() -> User:
    return User.objects.create_user(
        "petra@platform.example", "petra's long passphrase", is_staff=True
    )


@pytest.fixture
def op(petra) -> dict[str, str]:
    return {"Authorization": f"Bearer {operator_api_key_create(operator=petra, name='ops')[1]}"}


@pytest.fixture
def invoice(world) -> Invoice:
    org = world.org_a
    org.billing_country = "NL"
    org.save()
    return invoice_issue(
        organisation=org,
        kind=InvoiceKind.SERVICES,
        month=date(2026, 10, 1),
        lines=[
            DraftLine(LineSource.DRIVER_FEE, "Monthly fee", Decimal(10), Decimal("8.00")),
            DraftLine(LineSource.WARRANTY_FEE, "Warranty", Decimal(1), Decimal("20.00")),
        ],
        issue_date=date(2026, 11, 1),
    )


def credit_url(invoice: Invoice) -> str:
    return f"/api/v1/invoices/{invoice.pk}/credit-notes"


def test_an_operator_credits_an_invoice_in_part_then_in_full(client, op, invoice, petra):
    fee, warranty = invoice.lines.order_by("position")
    partial = client.post(
        credit_url(invoice),
        {"reason": "One driver left in October", "lines": [{"line_id": fee.pk, "amount": "8.00"}]},
        content_type=JSON,
        headers=op,
    )
    assert partial.status_code == 201, partial.content
    body = partial.json()
    assert body["number"].startswith("CRN-2026-") and body["kind"] == "credit_note"
    assert (body["credits_id"], body["credits_number"]) == (invoice.pk, invoice.number)
    assert (body["total_excl_vat"], body["total_vat"], body["total_incl_vat"]) == (
        "8.00",
        "1.68",
        "9.68",
    )
    assert body["status"] == "credit" and body["amount_due"] == "0.00"
    assert [(line["credits_line_id"], line["net_amount"]) for line in body["lines"]] == [
        (fee.pk, "8.00")
    ]
    assert body["vat"] == [{"category": "S", "rate": "21.00", "basis": "8.00", "amount": "1.68"}]
    note = Invoice.objects.get(pk=body["id"])
    assert note.credit_reason == "One driver left in October"

    rest = client.post(
        credit_url(invoice), {"reason": "Contract ended"}, content_type=JSON, headers=op
    )
    assert rest.status_code == 201
    assert rest.json()["total_incl_vat"] == "111.32"  # (72.00 + 20.00) × 1.21
    assert sorted((i["credits_line_id"], i["net_amount"]) for i in rest.json()["lines"]) == sorted(
        [(fee.pk, "72.00"), (warranty.pk, "20.00")]
    )
    issued_by = AuditEvent.objects.filter(target_id=str(note.pk)).get().changes["issued_by"]
    assert issued_by == [None, "petra@platform.example"]


def test_bad_credit_notes_get_field_level_errors_and_write_nothing(client, op, invoice, world):
    fee = invoice.lines.get(position=1)
    other = invoice_issue(
        organisation=world.org_b,
        kind=InvoiceKind.SERVICES,
        month=date(2026, 10, 1),
        lines=[DraftLine(LineSource.DRIVER_FEE, "Fee", Decimal(1), Decimal(5))],
    )
    foreign = other.lines.get()

    def post(body, url=""):
        return client.post(url or credit_url(invoice), body, content_type=JSON, headers=op)

    before = (Invoice.objects.count(), AuditEvent.objects.count())
    too_much = post({"reason": "x", "lines": [{"line_id": fee.pk, "amount": "80.01"}]})
    assert too_much.status_code == 422
    assert too_much.json()["detail"] == [
        {
            "loc": ["body", "lines"],
            "msg": "Line 1 (Monthly fee) has €80.00 left to credit; €80.01 is more.",
            "type": "value_error",
        }
    ]
    zero = post({"reason": "x", "lines": [{"line_id": fee.pk, "amount": 0}]})
    assert zero.status_code == 422 and "more than zero" in zero.json()["detail"][0]["msg"]
    not_ours = post({"reason": "x", "lines": [{"line_id": foreign.pk, "amount": "1.00"}]})
    assert not_ours.json()["detail"][0]["msg"] == (
        f"Line {foreign.pk} is not a line of {invoice.number}."
    )
    no_reason = post({"lines": None})
    assert no_reason.status_code == 422 and no_reason.json()["detail"][0]["loc"][-1] == "reason"
    blank_reason = post({"reason": " "})
    assert blank_reason.json()["detail"][0] == {
        "loc": ["body", "reason"],
        "msg": "Say why the invoice is credited.",
        "type": "value_error",
    }
    not_a_number = post({"reason": "x", "lines": [{"line_id": fee.pk, "amount": "lots"}]})
    assert not_a_number.status_code == 422
    assert not_a_number.json()["detail"][0]["loc"][-1] == "amount"
    missing = post({"reason": "x"}, url="/api/v1/invoices/999999/credit-notes")
    assert missing.status_code == 404 and missing.json() == {"detail": "Not found."}
    assert (Invoice.objects.count(), AuditEvent.objects.count()) == before

    # A credit note of a credit note is refused by name.
    note = post({"reason": "Wrong month"}).json()
    again = post({"reason": "Undo"}, url=f"/api/v1/invoices/{note['id']}/credit-notes")
    assert again.status_code == 422
    assert again.json()["detail"][0]["loc"] == ["body", "invoice"]
    assert "a credit note cannot be credited" in again.json()["detail"][0]["msg"]


def test_an_operator_marks_an_invoice_paid_once(client, op, invoice):
    url = f"/api/v1/invoices/{invoice.pk}/paid"
    paid = client.post(url, headers=op)
    assert paid.status_code == 200
    body = paid.json()
    assert (body["status"], body["paid_by"], body["amount_due"]) == (
        "paid",
        "petra@platform.example",
        "121.00",
    )
    assert body["paid_at"] is not None
    twice = client.post(url, headers=op)
    assert twice.status_code == 422
    (error,) = twice.json()["detail"]
    assert error["loc"] == ["body", "status"]
    assert error["msg"].startswith(f"{invoice.number} was marked paid already on ")
    assert client.post("/api/v1/invoices/999999/paid", headers=op).status_code == 404


def test_a_camt054_upload_pays_what_it_matches(client, op, invoice):
    content = camt054(
        entry("121.00", invoice.payment_reference, bank_ref="BNK-7"),
        entry("3.00", UNKNOWN_RF, bank_ref="BNK-8"),
    )

    def upload(data: bytes):
        return client.post(
            "/api/v1/invoice-payments",
            {"file": SimpleUploadedFile("camt054.xml", data, content_type="application/xml")},
            headers=op,
        )

    first = upload(content)
    assert first.status_code == 200, first.content
    assert first.json() == {
        "paid": [invoice.number],
        "already": [],
        "mismatched": [],
        "unknown": [UNKNOWN_RF],
    }
    invoice.refresh_from_db()
    assert (invoice.status, invoice.paid_by) == (InvoiceStatus.PAID, "camt.054 BNK-7-1")
    assert upload(content).json()["already"] == [invoice.number]

    broken = upload(b"<Document><unclosed></Document>")
    assert broken.status_code == 422
    assert broken.json()["detail"][0]["loc"] == ["body", "file"]
    assert "not an XML file" in broken.json()["detail"][0]["msg"]
    too_big = upload(b" " * (5 * 1024 * 1024 + 1))
    assert too_big.status_code == 422 and "at most 5 MB" in too_big.json()["detail"][0]["msg"]
    assert client.post("/api/v1/invoice-payments", headers=op).status_code == 422


def test_organisation_keys_never_reach_the_operator_operations(client, api_key_for, world, invoice):
    manager = api_key_for(world.org_a, Role.NETWORK_MANAGER)
    for url, body in [
        (credit_url(invoice), {"reason": "x"}),
        (f"/api/v1/invoices/{invoice.pk}/paid", {}),
        ("/api/v1/invoice-payments", {}),
    ]:
        answer = client.post(url, body, content_type=JSON, headers=manager)
        assert answer.status_code == 403, url
        assert answer.json() == {"detail": "This operation is for platform operators."}
        assert client.post(url, body, content_type=JSON).status_code == 401
    invoice.refresh_from_db()
    assert invoice.status == InvoiceStatus.ISSUED and not invoice.credit_notes.exists()


def test_out_of_range_input_is_a_422_not_a_500(client, op, invoice):
    def post(body):
        return client.post(credit_url(invoice), body, content_type=JSON, headers=op)

    huge_id = post({"reason": "x", "lines": [{"line_id": 10**20, "amount": "1.00"}]})
    assert huge_id.status_code == 422
    assert huge_id.json()["detail"][0]["loc"][-1] == "line_id"
    huge_amount = post({"reason": "x", "lines": [{"line_id": 1, "amount": 1e308}]})
    assert huge_amount.status_code == 422
    long_reason = post({"reason": "x" * 10_000})
    assert long_reason.status_code == 422
    assert long_reason.json()["detail"][0]["msg"] == "At most 300 characters."
    assert client.post(f"/api/v1/invoices/{10**20}/paid", headers=op).status_code == 404
    assert not Invoice.objects.filter(credits=invoice).exists()
