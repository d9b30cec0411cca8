"""The platform operator pays statements from the Django admin: create a batch, download
its SEPA file, report a returned payment with the bank's reason, mark the batch paid."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from evdms.notifications.models import OutboundEmail
from evdms.reimbursements.models import PayoutBatch, PayoutLine, Statement

pytestmark = pytest.mark.django_db


@pytest.fixture
def petra(operator) -> Client:
    client = Client()
    client.force_login(operator, backend="evdms.accounts.backends.EmailBackend")
    return client


def test_an_operator_pays_a_month_from_the_admin(petra, make_statement):
    make_statement("anna@example.com", total="12.34")
    make_statement("bert@example.com", total="5.00")
    batches = reverse("admin:reimbursements_payoutbatch_changelist")
    assert "Create a batch of the ready statements" in petra.get(batches).content.decode()

    created = petra.post(
        reverse("admin:reimbursements_payoutbatch_create"),
        {"execution_date": "2026-11-05"},
        follow=True,
    )
    batch = PayoutBatch.objects.get()
    assert "2 statement(s), €17.34" in created.content.decode()

    download = petra.post(batches, {"action": "download_sepa", "_selected_action": [batch.pk]})
    assert download["Content-Type"] == "application/xml"
    assert b"pain.001.001.09" in download.content and b"NL91ABNA0417164300" in download.content
    batch.refresh_from_db()
    assert batch.status == "exported"

    exported = petra.get(reverse("admin:reimbursements_payoutbatch_change", args=[batch.pk]))
    assert "Mark paid (every line not reported failed)" in exported.content.decode()
    assert "Report a line failed" in exported.content.decode()
    lines = reverse("admin:reimbursements_payoutline_changelist")
    anna = PayoutLine.objects.get(statement__driver__email="anna@example.com")
    ask = petra.post(lines, {"action": "mark_failed", "_selected_action": [anna.pk]})
    assert "The bank&#x27;s reason" in ask.content.decode()
    assert "AC04 closed account" in ask.content.decode()  # offered as a choice
    assert "anna@example.com, €12.34 (" in ask.content.decode()  # issue #19: as everywhere
    told = petra.post(
        lines,
        {
            "action": "mark_failed",
            "_selected_action": [anna.pk],
            "reason": "AC04 closed account",
            "apply": "Report failed",
        },
        follow=True,
    )
    assert "1 line(s) reported failed" in told.content.decode()
    assert OutboundEmail.objects.filter(template="payout_failed", to=["anna@example.com"]).exists()

    paid = petra.post(batches, {"action": "mark_paid", "_selected_action": [batch.pk]}, follow=True)
    assert f"Payout batch {batch.pk} is paid." in paid.content.decode()
    detail = petra.get(reverse("admin:reimbursements_payoutbatch_change", args=[batch.pk]))
    assert "AC04 closed account" in detail.content.decode()
    assert "Download the SEPA file" in detail.content.decode()
    assert "Mark paid" not in detail.content.decode()  # paid already
    lines_page = petra.get(lines, {"status__exact": "failed"}).content.decode()
    assert anna.end_to_end_id in lines_page
    assert dict(Statement.objects.values_list("driver__email", "status")) == {
        "anna@example.com": "failed",
        "bert@example.com": "paid",
    }


def test_the_admin_says_why_when_nothing_can_be_done(petra, make_statement):
    none_ready = petra.post(
        reverse("admin:reimbursements_payoutbatch_create"),
        {"execution_date": "2026-11-05"},
        follow=True,
    )
    assert "No statement is ready to be paid." in none_ready.content.decode()
    bad_date = petra.post(
        reverse("admin:reimbursements_payoutbatch_create"), {"execution_date": "soon"}
    )
    assert bad_date.status_code == 200 and "Enter a valid date." in bad_date.content.decode()
    make_statement("anna@example.com")
    petra.post(reverse("admin:reimbursements_payoutbatch_create"), {"execution_date": "2026-11-05"})
    batch = PayoutBatch.objects.get()
    draft = petra.post(
        reverse("admin:reimbursements_payoutbatch_changelist"),
        {"action": "mark_paid", "_selected_action": [batch.pk]},
        follow=True,
    )
    assert "Export the batch first" in draft.content.decode()
    assert petra.get(reverse("admin:reimbursements_payoutbatch_add")).status_code == 403


def test_an_organisation_admin_cannot_open_the_payout_admin(world, make_statement):
    from evdms.testing.fixtures import client_for

    response = client_for(world.nadia).get(reverse("admin:reimbursements_payoutbatch_create"))
    assert response.status_code == 302 and "/login/" in response["Location"]
