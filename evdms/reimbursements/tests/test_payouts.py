"""Payout batches to the end: exported → paid once every line is settled; a failed line
fails its statement and tells the driver, once; two operators never both win."""

from __future__ import annotations

from datetime import date

import pytest
from django.core.exceptions import ValidationError

from evdms.audit.models import AuditEvent
from evdms.notifications.models import OutboundEmail
from evdms.reimbursements.models import PayoutBatch, PayoutLine, Statement
from evdms.reimbursements.services.payouts import (
    payout_batch_create,
    payout_batch_mark_paid,
    payout_line_fail,
    payout_line_mark_paid,
)
from evdms.testing.concurrency import at_once

pytestmark = pytest.mark.django_db
EXECUTION = date(2026, 11, 5)


def status_of(statement: Statement) -> str:
    statement.refresh_from_db()
    return statement.status


def failure_emails() -> list[OutboundEmail]:
    return list(OutboundEmail.objects.filter(template="payout_failed"))


def test_a_batch_is_paid_once_each_line_is_paid_or_failed(exported, operator):
    batch, anna, bert = exported["batch"], exported["anna"], exported["bert"]
    assert batch.status == "exported" and batch.exported_at is not None
    assert {anna.status, bert.status} == {"pending"}

    payout_line_fail(line=anna, reason="AC04 closed account", operator=operator)
    anna.refresh_from_db()
    batch.refresh_from_db()
    assert (anna.status, anna.failure_reason) == ("failed", "AC04 closed account")
    assert status_of(anna.statement) == "failed"
    assert batch.status == "exported"  # Bert's payment is still open

    payout_line_mark_paid(line=bert, operator=operator)
    batch.refresh_from_db()
    assert status_of(bert.statement) == "paid"
    assert batch.status == "paid" and batch.paid_at is not None


def test_the_driver_of_a_failed_payment_is_told_to_check_the_bank_details(exported, operator):
    payout_line_fail(line=exported["anna"], reason="AC04 closed account", operator=operator)
    (email,) = failure_emails()
    assert email.to == ["anna@example.com"]
    assert email.subject == "Your home charging reimbursement for October 2026 could not be paid"
    assert "€12.34" in email.text_body and "AC04 closed account" in email.text_body
    assert "check your bank details" in email.text_body
    assert "added to your next statement" in email.text_body
    assert "4300" in email.text_body  # the account it went to, masked


def test_marking_the_batch_paid_pays_every_line_not_reported_failed(exported, operator):
    payout_line_fail(
        line=exported["anna"], reason="AC01 incorrect account number", operator=operator
    )
    batch = payout_batch_mark_paid(batch=exported["batch"], operator=operator)
    assert batch.status == "paid"
    anna, bert = exported["statements"]
    assert (status_of(anna), status_of(bert)) == ("failed", "paid")
    assert sorted(batch.lines.values_list("status", flat=True)) == ["failed", "paid"]


def test_every_action_can_be_repeated_without_changing_anything(exported, operator):
    batch, anna, bert = exported["batch"], exported["anna"], exported["bert"]
    payout_line_fail(line=anna, reason="AC04 closed account", operator=operator)
    payout_line_fail(line=anna, reason="AC04 closed account", operator=operator)
    payout_line_mark_paid(line=bert, operator=operator)
    payout_line_mark_paid(line=bert, operator=operator)
    payout_batch_mark_paid(batch=batch, operator=operator)
    before = AuditEvent.objects.count()
    payout_batch_mark_paid(batch=batch, operator=operator)
    assert len(failure_emails()) == 1  # the driver is told once
    assert AuditEvent.objects.count() == before
    actions = list(AuditEvent.objects.order_by("pk").values_list("action", "actor_label"))
    assert ("payout_line.fail", "petra@platform.example") in actions
    assert ("payout_batch.paid", "petra@platform.example") in actions


def test_a_payment_returned_after_the_batch_was_paid_still_fails_its_statement(exported, operator):
    payout_batch_mark_paid(batch=exported["batch"], operator=operator)
    payout_line_fail(line=exported["bert"], reason="MD07 end customer deceased", operator=operator)
    assert status_of(exported["statements"][1]) == "failed"
    exported["batch"].refresh_from_db()
    assert exported["batch"].status == "paid"  # every line is settled all the same
    assert len(failure_emails()) == 1


def test_a_failed_line_is_not_marked_paid_and_a_failure_needs_a_reason(exported, operator):
    anna = exported["anna"]
    with pytest.raises(ValidationError) as empty:
        payout_line_fail(line=anna, reason="   ", operator=operator)
    assert "reason" in empty.value.message_dict
    with pytest.raises(ValidationError) as long:
        payout_line_fail(line=anna, reason="x" * 141, operator=operator)
    assert "reason" in long.value.message_dict
    payout_line_fail(line=anna, reason="AC04 closed account", operator=operator)
    with pytest.raises(ValidationError, match="reported failed: AC04 closed account"):
        payout_line_mark_paid(line=anna, operator=operator)
    assert status_of(anna.statement) == "failed"


def test_a_draft_batch_cannot_be_settled(make_statement, operator):
    make_statement("anna@example.com")
    batch = payout_batch_create(execution_date=EXECUTION, operator=operator)
    line = batch.lines.get()
    with pytest.raises(ValidationError, match="Export the batch first"):
        payout_line_mark_paid(line=line, operator=operator)
    with pytest.raises(ValidationError, match="Export the batch first"):
        payout_batch_mark_paid(batch=batch, operator=operator)
    with pytest.raises(ValidationError, match="Export the batch first"):
        payout_line_fail(line=line, reason="AC04 closed account", operator=operator)


def test_a_failed_statement_is_never_put_in_a_second_batch(exported, operator):
    payout_line_fail(line=exported["anna"], reason="AC04 closed account", operator=operator)
    with pytest.raises(ValidationError, match="No statement is ready"):
        payout_batch_create(execution_date=EXECUTION, operator=operator)
    assert PayoutLine.objects.count() == 2


@pytest.mark.django_db(transaction=True)
def test_an_operator_failing_a_line_while_another_marks_the_batch_paid(exported, operator):
    """Either the failure came first (one line failed, one paid) or the batch was paid
    first and the failure is a later return: both end settled, the statement failed,
    the driver told once."""
    batch, anna = exported["batch"], exported["anna"]
    at_once(
        lambda: payout_line_fail(line=anna, reason="AC04 closed account", operator=operator),
        lambda: payout_batch_mark_paid(batch=batch, operator=operator),
    )
    batch.refresh_from_db()
    assert batch.status == "paid"
    assert sorted(PayoutLine.objects.values_list("status", flat=True)) == ["failed", "paid"]
    anna_statement, bert_statement = exported["statements"]
    assert (status_of(anna_statement), status_of(bert_statement)) == ("failed", "paid")
    assert len(failure_emails()) == 1
    assert PayoutBatch.objects.get().paid_at is not None


def test_the_driver_sees_the_failed_payment_on_the_reimbursement_page(exported, operator):
    from django.test import Client
    from django.urls import reverse

    payout_line_fail(line=exported["anna"], reason="AC04 closed account", operator=operator)
    client = Client()
    client.force_login(
        exported["statements"][0].driver, backend="evdms.accounts.backends.EmailBackend"
    )
    page = client.get(reverse("reimbursements:mine")).content.decode()
    assert "<title>Reimbursement · evdms</title>" in page
    assert "Payment failed" in page
    assert "The amount will be added to your next statement." in page
