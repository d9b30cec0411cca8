"""The organisation's installation pages: the Home Charger Installation Report, its
exports, one job's page and its documents."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import FileResponse, Http404, HttpResponse, StreamingHttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format, number_format
from django.utils.html import escape, format_html
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_POST

from evdms.accounts.permissions import Permission
from evdms.connections.access import connections_for
from evdms.installations.access import get_job_for_organisation
from evdms.installations.exports import csv_chunks, row_batches, xlsx_file
from evdms.installations.models import (
    JobDocument,
    JobStatus,
    PartApproval,
    Quote,
    QuoteStatus,
)
from evdms.installations.report import (
    COLUMNS,
    DEFAULT_SORT,
    OVERDUE_DAYS,
    PAGE_SIZE,
    InstallationRows,
    ReportRows,
    check_in_view,
    customer_ids_in_view,
    installation_row,
    installations_count,
    installations_for,
    installations_page,
    installers_in_view,
    parse_installation_query,
)
from evdms.installations.report_row import Cell, Column, InstallationRow
from evdms.installations.services.exports import installation_export_request
from evdms.installations.tasks import REPORT
from evdms.reports.access import get_export_for, visible_exports
from evdms.reports.downloads import CSV_TYPE, XLSX_TYPE, export_download
from evdms.reports.exports import stamp
from evdms.reports.models import ExportFormat, ReportExport
from evdms.ui.breadcrumbs import breadcrumbs
from evdms.ui.decorators import admin_required
from evdms.ui.http import AdminRequest

# Up to this many rows an export is made while the admin waits; above, in the worker.
SYNC_EXPORT_ROWS = 20_000


def small_export(rows: ReportRows, fmt: str) -> StreamingHttpResponse | FileResponse:
    name = f"installations-{stamp()}.{fmt}"
    response: StreamingHttpResponse | FileResponse
    if fmt == ExportFormat.CSV:
        response = StreamingHttpResponse(csv_chunks(rows), content_type=CSV_TYPE)
        response["Content-Disposition"] = f'attachment; filename="{name}"'
    else:
        response = FileResponse(
            xlsx_file(row_batches(rows)),
            as_attachment=True,
            filename=name,
            content_type=XLSX_TYPE,
        )
    response["Cache-Control"] = "no-store"
    return response


def _cell(column: Column, value: Any, row: InstallationRow) -> tuple[bool, str]:
    """One page cell: whether it is a number, and its HTML (escaped here, once, rather
    than through a template's branches for each of a page's 800 cells)."""
    if column.key == "job":
        return True, format_html(
            '<a href="{}">{}</a>', reverse("installations:job", args=[value]), value
        )
    if column.key == "declaration":
        return False, format_html('<a href="{}">{}</a>', value, _("Declaration")) if value else "—"
    if column.key == "status":  # in the reader's language (the files' stay English)
        return False, escape(_status_text(row.status_code))
    if column.key == "driver":
        return False, format_html('{}<br><span class="muted">{}</span>', value, row.driver_email)
    if value is None or value == "":
        return column.numeric, "—"
    if column.cell is Cell.DAY:
        return False, date_format(value, "DATE_FORMAT")
    return column.numeric, escape(value)


def _status_text(status: str) -> str:
    return str(JobStatus(status).label) if status in JobStatus.values else (status or "—")


def page_rows(rows: Iterable[InstallationRow]) -> list[list[tuple[bool, str]]]:
    return [[_cell(column, value, row) for column, value in row.page_cells()] for row in rows]


@admin_required(Permission.VIEW_INSTALLATIONS)
def report(request: AdminRequest) -> HttpResponse:
    actor = request.actor
    query = check_in_view(actor, parse_installation_query(request.GET))
    rows: Any = InstallationRows(actor, query)  # a lazy sequence: counts, then one slice
    page = Paginator(rows, PAGE_SIZE).get_page(request.GET.get("page"))
    params = query.as_params()
    return render(
        request,
        "installations/report.html",
        {
            "page": page,
            "rows": page_rows(installations_page(page.object_list)),
            "query": query,
            # The headings as people read them (the files' stay English).
            "columns": {key: (_(heading), sort) for key, (heading, sort) in COLUMNS.items()},
            "default_sort": DEFAULT_SORT,
            "statuses": JobStatus.choices,
            "installers": installers_in_view(actor),
            "connections": list(connections_for(actor).order_by("name").values_list("pk", "name")),
            "customer_ids": customer_ids_in_view(actor),
            "default_overdue_days": OVERDUE_DAYS,
            "querystring": urlencode(params),
            "sort_querystring": urlencode({k: v for k, v in params.items() if k != "sort"}),
            "exports": visible_exports(actor, Permission.VIEW_INSTALLATIONS, REPORT),
            "sync_limit": SYNC_EXPORT_ROWS,
            "time_zone": timezone.get_current_timezone_name(),
        },
    )


@require_POST
@admin_required(Permission.VIEW_INSTALLATIONS)
def report_export(request: AdminRequest) -> HttpResponseBase:
    """Small exports download at once; large ones are made in the worker."""
    actor = request.actor
    fmt = request.POST.get("format", "")
    query = check_in_view(actor, parse_installation_query(request.POST))
    back = reverse("installations:report") + "?" + urlencode(query.as_params())
    if fmt not in ExportFormat.values:
        messages.error(request, _("Choose CSV or Excel (XLSX) for the export."))
        return redirect(back)
    total = installations_count(actor, query)
    if total <= SYNC_EXPORT_ROWS:
        return small_export(installations_for(actor, query), fmt)
    export = installation_export_request(
        actor=actor, format=fmt, params=query.as_params(), rows_total=total
    )
    messages.success(
        request,
        ngettext(
            "%(count)s row: the export is being made. It will be ready below in a moment "
            "and kept for 7 days.",
            "%(count)s rows: the export is being made. It will be ready below in a moment "
            "and kept for 7 days.",
            total,
        )
        % {"count": number_format(total, force_grouping=True)},
    )
    return redirect(back + f"#export-{export.pk}")


@admin_required(Permission.VIEW_INSTALLATIONS)
def export_status(request: AdminRequest, installation_export_id: int) -> HttpResponse:
    """One export's line with its progress bar, polled by htmx until it is ready."""
    export = _export(request, installation_export_id)
    return render(request, "installations/_export.html", {"export": export})


@admin_required(Permission.VIEW_INSTALLATIONS)
def export_file(request: AdminRequest, installation_export_id: int) -> StreamingHttpResponse:
    return export_download(_export(request, installation_export_id))


def _export(request: AdminRequest, export_id: int) -> ReportExport:
    return get_export_for(request.actor, export_id, Permission.VIEW_INSTALLATIONS, REPORT)


def _decide_url(job_id: int) -> str:
    """The organisation's quote decision page."""
    return reverse("installations:organisation_quote", args=[job_id])


@admin_required(Permission.VIEW_INSTALLATIONS)
def job(request: AdminRequest, job_id: int) -> HttpResponse:
    actor = request.actor
    found = get_job_for_organisation(actor, job_id)
    row = installation_row(actor, found.pk)
    if row is None:  # pragma: no cover - the look-up above already scoped it
        raise Http404
    quotes = list(Quote.objects.filter(job=found).prefetch_related("lines").order_by("-number"))
    awaiting = next(
        (
            q
            for q in quotes
            if q.status == QuoteStatus.AWAITING_APPROVAL
            and q.organisation_approval == PartApproval.PENDING
        ),
        None,
    )
    return render(
        request,
        "installations/job.html",
        {
            "job": found,
            "row": row,
            "status": _status_text(row.status_code),
            "history": [
                (t, _status_text(t.from_status), _status_text(t.to_status))
                for t in found.history.select_related("by")
            ],
            "contacts": list(found.contacts.all()),
            "documents": list(found.documents.defer("content")),
            "quotes": quotes,
            "awaiting_quote": awaiting,
            "decide_url": _decide_url(found.pk)
            if awaiting and actor.can(Permission.APPROVE_QUOTES)
            else "",
            "breadcrumbs": breadcrumbs(
                (_("Installations"), "installations:report"),
                current=_("Installation for %(driver)s") % {"driver": row.driver},
            ),
        },
    )


# Served as stored: the types were checked by content at upload, and the browser is told
# not to guess another (nosniff) nor to run anything in it (sandbox).
INLINE_TYPES = {"image/jpeg", "image/png", "application/pdf"}


@admin_required(Permission.VIEW_INSTALLATIONS)
def job_document(request: AdminRequest, job_id: int, document_id: int) -> HttpResponse:
    found = get_job_for_organisation(request.actor, job_id)
    document = get_object_or_404(JobDocument.objects.filter(job=found), pk=document_id)
    content_type = (
        document.content_type
        if document.content_type in INLINE_TYPES
        else "application/octet-stream"
    )
    response = HttpResponse(bytes(document.content), content_type=content_type)
    disposition = "inline" if content_type in INLINE_TYPES else "attachment"
    safe_name = "".join(c for c in document.filename if c.isalnum() or c in "._- ")[:100]
    response["Content-Disposition"] = f'{disposition}; filename="{safe_name or "document"}"'
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "sandbox; default-src 'none'"
    response["Cache-Control"] = "private, no-store"
    return response
