"""The Detailed transaction report page, its exports and their downloads."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import FileResponse, HttpResponse, StreamingHttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from evdms.accounts.permissions import Actor, Permission
from evdms.connections.access import connections_for
from evdms.reports.access import get_export_for, visible_exports
from evdms.reports.downloads import export_download, small_export
from evdms.reports.models import ExportFormat
from evdms.reports.services import report_export_request
from evdms.reports.transaction_row import PAGE_LABELS, TransactionType
from evdms.reports.transactions import (
    COLUMNS,
    PAGE_SIZE,
    TransactionRows,
    check_in_view,
    customer_ids_in_view,
    parse_transaction_query,
    transactions_count,
    transactions_for,
    transactions_page,
)
from evdms.ui import formatting
from evdms.ui.decorators import admin_required
from evdms.ui.http import AdminRequest

# Up to this many rows an export is made while the admin waits; above, in the worker.
SYNC_EXPORT_ROWS = 20_000


def _actor(request: AdminRequest) -> Actor:
    return request.actor


@admin_required(Permission.VIEW_REPORTS)
def transactions(request: AdminRequest) -> HttpResponse:
    actor = _actor(request)
    query = check_in_view(actor, parse_transaction_query(request.GET))
    rows: Any = TransactionRows(actor, query)  # a lazy sequence: counts, then one slice
    paginator = Paginator(rows, PAGE_SIZE)
    page = paginator.get_page(request.GET.get("page"))
    params = query.as_params()
    sort_params = {k: v for k, v in params.items() if k != "sort"}
    hidden = connections_for(actor).filter(home_charging_data_sharing=False).count()
    return render(
        request,
        "reports/transactions.html",
        {
            "page": page,
            "rows": list(transactions_page(page.object_list)),
            "query": query,
            "columns": COLUMNS,
            "types": [(value, PAGE_LABELS[label]) for value, label in TransactionType.CHOICES],
            "connections": connections_for(actor).order_by("name").only("pk", "name"),
            "customer_ids": customer_ids_in_view(actor),
            "querystring": urlencode(params),
            "sort_querystring": urlencode(sort_params),
            "connections_without_sharing": hidden,
            "exports": visible_exports(actor, Permission.VIEW_REPORTS),
            "sync_limit": SYNC_EXPORT_ROWS,
            "time_zone": timezone.get_current_timezone_name(),
        },
    )


@require_POST
@admin_required(Permission.VIEW_REPORTS)
def transactions_export(request: AdminRequest) -> HttpResponseBase:
    """Small exports download at once; large ones are made in the worker."""
    actor = _actor(request)
    fmt = request.POST.get("format", "")
    query = check_in_view(actor, parse_transaction_query(request.POST))
    back = reverse("reports:transactions") + "?" + urlencode(query.as_params())
    if fmt not in ExportFormat.values:
        messages.error(request, _("Choose CSV or Excel (XLSX) for the export."))
        return redirect(back)
    total = transactions_count(actor, query)
    if total <= SYNC_EXPORT_ROWS:
        return small_export(transactions_for(actor, query), fmt)
    export = report_export_request(
        actor=actor, format=fmt, params=query.as_params(), rows_total=total
    )
    messages.success(
        request,
        _(
            "%(rows)s rows: the export is being made. It will be ready below in a moment "
            "and kept for 7 days."
        )
        % {"rows": formatting.count(total)},
    )
    return redirect(
        reverse("reports:transactions")
        + f"?{urlencode(query.as_params())}"
        + f"#export-{export.pk}"
    )


@admin_required(Permission.VIEW_REPORTS)
def export_status(request: AdminRequest, export_id: int) -> HttpResponse:
    """One export's line with its progress bar, polled by htmx until it is ready."""
    export = get_export_for(_actor(request), export_id)
    return render(request, "reports/_export.html", {"export": export})


@admin_required(Permission.VIEW_REPORTS)
def export_file(request: AdminRequest, export_id: int) -> StreamingHttpResponse | FileResponse:
    return export_download(get_export_for(_actor(request), export_id))
