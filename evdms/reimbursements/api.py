"""Statements for the organisation: what reimbursement needs (month, driver, kWh, amount)
always; the sessions behind them only with Home Charging Data Sharing.

Payout batches are for platform operators only (operator API keys): a batch pays drivers
of many organisations, so no organisation key sees one. Organisations follow payment
through each statement's status (in a payout batch, paid, payment failed).
"""

from __future__ import annotations

import io
from datetime import date, datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any, TypedDict

from django.core.exceptions import ValidationError
from django.db.models import Count, Q, QuerySet, Sum
from django.http import HttpResponse
from django.shortcuts import get_object_or_404
from ninja import File, Router, Schema, Status
from ninja.files import UploadedFile

from evdms.accounts.models import User
from evdms.accounts.permissions import Actor, Permission
from evdms.reimbursements.access import get_statement_for
from evdms.reimbursements.models import PayoutBatch, PayoutLine, PayoutLineStatus, Statement
from evdms.reimbursements.selectors import (
    parse_month,
    statement_sessions,
    statements_csv_rows,
)
from evdms.reimbursements.selectors import statements_for as _statements_for
from evdms.reimbursements.services.bank_returns import bank_returns_apply, check_size
from evdms.reimbursements.services.payouts import (
    payout_batch_create,
    payout_batch_export,
    payout_batch_mark_paid,
    payout_line_fail,
    payout_line_mark_paid,
)
from evdms.ui.api import check_page, operator_only, page_of, requires
from evdms.ui.http import ApiRequest, OperatorApiRequest
from evdms.ui.spreadsheets import CsvWriter

if TYPE_CHECKING:
    from django_stubs_ext import WithAnnotations

router = Router(tags=["reimbursement"])


class StatementOut(Schema):
    id: int
    reference: str
    month: date
    driver_email: str
    connection_id: int
    energy_wh: int
    total: Decimal
    currency: str
    status: str


class StatementPage(Schema):
    count: int
    items: list[StatementOut]


class StatementSessionOut(Schema):
    started_at: datetime
    ended_at: datetime | None
    charger: str
    energy_wh: int
    price_used: Decimal
    amount: Decimal
    late: bool


class StatementDetail(StatementOut):
    held_reason: str
    # None when the connection does not share home charging data: the summary only.
    sessions: list[StatementSessionOut] | None


def statements_for(
    actor: Actor, month: str = "", connection_id: int | None = None, status: str = ""
) -> QuerySet[Statement]:
    return _statements_for(
        actor, month=parse_month(month), connection_id=connection_id, status=status
    )


def _out(s: Statement) -> dict[str, Any]:
    return {
        "id": s.pk,
        "reference": s.reference,
        "month": s.month,
        "driver_email": s.driver.email,
        "connection_id": s.connection_id,
        "energy_wh": getattr(s, "energy", 0) or 0,
        "total": s.total,
        "currency": s.currency,
        "status": s.status,
    }


@router.get("/statements", response=StatementPage, auth=requires(Permission.VIEW_REPORTS))
def statements_list(
    request: ApiRequest,
    month: str = "",
    connection_id: int | None = None,
    status: str = "",
    offset: int = 0,
    limit: int = 100,
) -> dict[str, Any]:
    """Reimbursement statements of the organisation's drivers, newest month first
    (``month`` as YYYY-MM; ``status``: ready, held, in_batch, paid, failed)."""
    check_page(offset, limit)
    rows = statements_for(request.auth, month, connection_id, status)
    return page_of(rows, offset, limit, _out)


@router.get("/statements.csv", auth=requires(Permission.VIEW_REPORTS))
def statements_csv(
    request: ApiRequest, month: str = "", connection_id: int | None = None, status: str = ""
) -> HttpResponse:
    """The same statements as CSV."""
    rows = statements_for(request.auth, month, connection_id, status)
    out = io.StringIO()
    CsvWriter(out).writerows(statements_csv_rows(rows))
    response = HttpResponse(out.getvalue(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="statements.csv"'
    return response


@router.get(
    "/statements/{statement_id}",
    response=StatementDetail,
    auth=requires(Permission.VIEW_REPORTS),
)
def statements_get(request: ApiRequest, statement_id: int) -> dict[str, Any]:
    """One statement; its sessions only when the connection has Home Charging Data
    Sharing (otherwise ``sessions`` is null and only the summary is given)."""
    statement = get_statement_for(request.auth, statement_id)
    lines = statement_sessions(statement)
    totals = statement.lines.aggregate(energy=Sum("energy_wh"))
    return {
        **_out(statement),
        "energy_wh": totals["energy"] or 0,
        "held_reason": statement.held_reason,
        "sessions": None
        if lines is None
        else [
            {
                "started_at": line.session.started_at,
                "ended_at": line.session.ended_at,
                "charger": line.session.charger.identity
                if line.session.charger
                else line.session.operator,
                "energy_wh": line.energy_wh,
                "price_used": line.price_used,
                "amount": line.amount,
                "late": line.late,
            }
            for line in lines
        ],
    }


# --- payout batches: platform operators only ----------------------------------------


class PayoutLineOut(Schema):
    id: int
    end_to_end_id: str
    statement_reference: str
    driver_email: str
    month: date
    amount: Decimal
    status: str
    failure_reason: str
    settled_at: datetime | None


class PayoutBatchOut(Schema):
    id: int
    status: str
    created_at: datetime
    execution_date: date
    message_id: str
    total: Decimal
    currency: str = "EUR"
    lines: int
    pending: int
    failed: int
    exported_at: datetime | None
    paid_at: datetime | None


class PayoutBatchDetail(PayoutBatchOut):
    items: list[PayoutLineOut]


class PayoutBatchPage(Schema):
    count: int
    items: list[PayoutBatchOut]


class PayoutBatchIn(Schema):
    execution_date: date


class PayoutLineFailIn(Schema):
    reason: str


class _LineCounts(TypedDict):
    line_count: int
    pending_count: int
    failed_count: int


def _batches() -> QuerySet[WithAnnotations[PayoutBatch, _LineCounts]]:
    return PayoutBatch.objects.annotate(
        line_count=Count("lines"),
        pending_count=Count("lines", filter=Q(lines__status=PayoutLineStatus.PENDING)),
        failed_count=Count("lines", filter=Q(lines__status=PayoutLineStatus.FAILED)),
    ).order_by("-created_at", "-pk")


def _batch_out(batch: WithAnnotations[PayoutBatch, _LineCounts]) -> dict[str, Any]:
    return {
        "id": batch.pk,
        "status": batch.status,
        "created_at": batch.created_at,
        "execution_date": batch.execution_date,
        "message_id": batch.message_id,
        "total": batch.total,
        "lines": batch.line_count,
        "pending": batch.pending_count,
        "failed": batch.failed_count,
        "exported_at": batch.exported_at,
        "paid_at": batch.paid_at,
    }


def _batch_detail(batch_id: int) -> dict[str, Any]:
    batch = get_object_or_404(_batches(), pk=batch_id)
    lines = batch.lines.select_related("statement__driver").order_by("pk")
    return {
        **_batch_out(batch),
        "items": [
            {
                "id": line.pk,
                "end_to_end_id": line.end_to_end_id,
                "statement_reference": line.statement.reference,
                "driver_email": line.statement.driver.email,
                "month": line.statement.month,
                "amount": line.amount,
                "status": line.status,
                "failure_reason": line.failure_reason,
                "settled_at": line.settled_at,
            }
            for line in lines
        ],
    }


def _operator(request: OperatorApiRequest) -> User:
    return request.operator


def _line(batch_id: int, line_id: int) -> PayoutLine:
    return get_object_or_404(PayoutLine, pk=line_id, batch_id=batch_id)


@router.get("/payout-batches", response=PayoutBatchPage, auth=operator_only)
def payout_batches_list(
    request: OperatorApiRequest, status: str = "", offset: int = 0, limit: int = 100
) -> dict[str, Any]:
    """Payout batches, newest first (``status``: draft, exported or paid). Operators only."""
    check_page(offset, limit)
    rows = _batches()
    if status:
        if status not in PayoutBatch.Status.values:
            raise ValidationError({"status": ["Choose one of: draft, exported, paid."]})
        rows = rows.filter(status=status)
    return page_of(rows, offset, limit, _batch_out)


@router.post("/payout-batches", response={201: PayoutBatchDetail}, auth=operator_only)
def payout_batches_create(
    request: OperatorApiRequest, data: PayoutBatchIn
) -> Status[dict[str, Any]]:
    """A draft batch of every statement ready to be paid (422 when there is none)."""
    batch = payout_batch_create(execution_date=data.execution_date, operator=_operator(request))
    return Status(201, _batch_detail(batch.pk))


@router.get("/payout-batches/{payout_batch_id}", response=PayoutBatchDetail, auth=operator_only)
def payout_batches_get(request: OperatorApiRequest, payout_batch_id: int) -> dict[str, Any]:
    """A batch with its lines (one per statement)."""
    return _batch_detail(payout_batch_id)


@router.post("/payout-batches/{payout_batch_id}/export", auth=operator_only)
def payout_batches_export(request: OperatorApiRequest, payout_batch_id: int) -> HttpResponse:
    """The batch's SEPA credit transfer file (pain.001.001.09). The first call exports
    the batch; later calls return the very same file."""
    batch = get_object_or_404(PayoutBatch, pk=payout_batch_id)
    xml = payout_batch_export(batch=batch, operator=_operator(request))
    response = HttpResponse(xml, content_type="application/xml")
    response["Content-Disposition"] = f'attachment; filename="payout-{batch.pk}.xml"'
    return response


@router.post(
    "/payout-batches/{payout_batch_id}/paid", response=PayoutBatchDetail, auth=operator_only
)
def payout_batches_mark_paid(request: OperatorApiRequest, payout_batch_id: int) -> dict[str, Any]:
    """The bank executed the file: every line not reported failed is paid. Repeatable."""
    batch = get_object_or_404(PayoutBatch, pk=payout_batch_id)
    payout_batch_mark_paid(batch=batch, operator=_operator(request))
    return _batch_detail(batch.pk)


@router.post(
    "/payout-batches/{payout_batch_id}/lines/{payout_line_id}/paid",
    response=PayoutBatchDetail,
    auth=operator_only,
)
def payout_lines_mark_paid(
    request: OperatorApiRequest, payout_batch_id: int, payout_line_id: int
) -> dict[str, Any]:
    """One payment was made. Repeatable; refused for a line reported failed."""
    payout_line_mark_paid(line=_line(payout_batch_id, payout_line_id), operator=_operator(request))
    return _batch_detail(payout_batch_id)


@router.post(
    "/payout-batches/{payout_batch_id}/lines/{payout_line_id}/failed",
    response=PayoutBatchDetail,
    auth=operator_only,
)
def payout_lines_fail(
    request: OperatorApiRequest, payout_batch_id: int, payout_line_id: int, data: PayoutLineFailIn
) -> dict[str, Any]:
    """The bank returned one payment (``reason`` as it said, e.g. "AC04 closed account").
    The statement becomes ``failed``, the driver is e-mailed, the amount goes to the
    driver's next statement. Repeatable: the driver is told once."""
    payout_line_fail(
        line=_line(payout_batch_id, payout_line_id),
        reason=data.reason,
        operator=_operator(request),
    )
    return _batch_detail(payout_batch_id)


class BankReturnsOut(Schema):
    failed: list[str]
    already: list[str]
    unknown: list[str]
    refused: list[str]


@router.post("/payout-returns", response=BankReturnsOut, auth=operator_only)
def payout_returns_import(request: OperatorApiRequest, file: File[UploadedFile]) -> dict[str, Any]:
    """The bank's pain.002 status report or camt.054 notification: every payment it
    rejected or returned is reported failed (by end-to-end id), as by hand. Sending the
    same file again changes nothing."""
    check_size(file.size or 0)
    result = bank_returns_apply(content=file.read(), operator=_operator(request))
    return vars(result)
