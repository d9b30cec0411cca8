"""The Detailed transaction report over the API: paginated JSON, a CSV of any size
(streamed), and exports made in the worker (CSV or XLSX)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.core.exceptions import ValidationError
from django.http import StreamingHttpResponse
from django.urls import reverse
from ninja import Query, Router, Schema, Status

from evdms.accounts.permissions import Actor, Permission
from evdms.reports.access import get_export_for
from evdms.reports.downloads import CSV_TYPE, export_download
from evdms.reports.exports import csv_chunks, stamp
from evdms.reports.models import ExportFormat, ReportExport
from evdms.reports.services import report_export_request
from evdms.reports.transaction_row import Transaction
from evdms.reports.transactions import (
    TransactionQuery,
    TransactionRows,
    check_in_view,
    parse_transaction_query,
    transactions_count,
    transactions_for,
)
from evdms.ui.api import check_page, page_of, requires
from evdms.ui.http import ApiRequest

router = Router(tags=["reports"])


class TransactionFilters(Schema):
    customer_id: str = ""
    connection: str = ""
    driver: str = ""
    start: str = ""
    end: str = ""
    type: str = ""
    sort: str = ""


class TransactionPage(Schema):
    count: int
    offset: int
    limit: int
    items: list[Transaction]  # the page's own row type: one definition of a row


class ExportIn(TransactionFilters):
    format: str


class ExportOut(Schema):
    id: int
    format: str
    status: str
    rows_total: int
    rows_done: int
    size: int
    created_at: datetime
    expires_at: datetime
    download_url: str | None
    error: str


def _query(actor: Actor, filters: TransactionFilters) -> TransactionQuery:
    """The API is strict where the page is forgiving: a bad filter is a 422 naming it."""
    query = check_in_view(actor, parse_transaction_query(filters.dict()))
    errors = {name: [message] for name, message in query.errors.items()}
    errors.pop("customer_id", None)  # an unknown Customer ID is an empty report, not an error
    if errors:
        raise ValidationError(errors)
    return query


def _export_out(export: ReportExport) -> dict[str, Any]:
    done = export.status == "done"
    return {
        **{
            f: getattr(export, f)
            for f in (
                "id",
                "format",
                "status",
                "rows_total",
                "rows_done",
                "size",
                "created_at",
                "expires_at",
                "error",
            )
        },
        "download_url": reverse("api:reports_export_file", args=[export.pk]) if done else None,
    }


@router.get(
    "/reports/transactions", response=TransactionPage, auth=requires(Permission.VIEW_REPORTS)
)
def transactions_list(
    request: ApiRequest,
    filters: Query[TransactionFilters],
    offset: int = 0,
    limit: int = 100,
) -> dict[str, Any]:
    """One row per charging session. Dates are days (YYYY-MM-DD, inclusive) in the
    organisation's time zone; ``sort`` is a column key, ``-`` first for descending."""
    actor: Actor = request.auth
    check_page(offset, limit)
    rows = TransactionRows(actor, _query(actor, filters))
    return {
        **page_of(rows, offset, limit, Transaction.from_values),
        "offset": offset,
        "limit": limit,
    }


@router.get("/reports/transactions.csv", auth=requires(Permission.VIEW_REPORTS))
def transactions_csv(
    request: ApiRequest, filters: Query[TransactionFilters]
) -> StreamingHttpResponse:
    """The whole filtered report as CSV, streamed (any size, flat memory)."""
    actor: Actor = request.auth
    rows = transactions_for(actor, _query(actor, filters))
    response = StreamingHttpResponse(csv_chunks(rows), content_type=CSV_TYPE)
    response["Content-Disposition"] = f'attachment; filename="transactions-{stamp()}.csv"'
    return response


@router.post("/reports/exports", response={202: ExportOut}, auth=requires(Permission.VIEW_REPORTS))
def exports_create(request: ApiRequest, payload: ExportIn) -> Status[dict[str, Any]]:
    """Make a CSV or XLSX export in the worker; poll it, then download its file."""
    actor: Actor = request.auth
    if payload.format not in ExportFormat.values:
        raise ValidationError({"format": ["Use csv or xlsx."]})
    query = _query(actor, payload)
    total = transactions_count(actor, query)
    export = report_export_request(
        actor=actor, format=payload.format, params=query.as_params(), rows_total=total
    )
    export.refresh_from_db()
    return Status(202, _export_out(export))


@router.get(
    "/reports/exports/{export_id}", response=ExportOut, auth=requires(Permission.VIEW_REPORTS)
)
def exports_read(request: ApiRequest, export_id: int) -> dict[str, Any]:
    return _export_out(get_export_for(request.auth, export_id))


@router.get(
    "/reports/exports/{export_id}/file",
    auth=requires(Permission.VIEW_REPORTS),
    url_name="reports_export_file",
)
def exports_file(request: ApiRequest, export_id: int) -> StreamingHttpResponse:
    return export_download(get_export_for(request.auth, export_id))
