"""The organisation's invoices from the platform: the list with its filters, one
invoice with its lines, VAT and credit notes, and its documents (PDF, lines as CSV).
Network Managers and Analysts (``VIEW_INVOICES``); another organisation's invoice is a
404 exactly like a missing one."""

from __future__ import annotations

from django.core.paginator import Paginator
from django.http import HttpResponse, HttpResponseNotAllowed, QueryDict
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext as _

from evdms.accounts.permissions import Actor, Permission
from evdms.invoicing import downloads
from evdms.invoicing.access import get_invoice_for
from evdms.invoicing.models import Invoice, InvoiceKind, InvoiceStatus
from evdms.invoicing.selectors import (
    INVOICE_LINES_PAGE_SIZE,
    INVOICES_PAGE_SIZE,
    invoice_lines,
    invoice_related,
    invoice_vat_lines,
    invoices_for,
    parse_invoice_query,
)
from evdms.invoicing.services.payments import amount_due
from evdms.ui.breadcrumbs import breadcrumbs
from evdms.ui.decorators import admin_required
from evdms.ui.http import AdminRequest


@admin_required(Permission.VIEW_INVOICES)
def invoices(request: AdminRequest) -> HttpResponse:
    """Number, kind, month, dates, total and status of each invoice, newest first,
    filtered by kind, month and status; a bad filter is dropped with a message."""
    actor: Actor = request.actor
    query = parse_invoice_query(request.GET)
    page = Paginator(invoices_for(actor, query), INVOICES_PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    params = QueryDict(mutable=True)
    params.update(query.as_params())
    return render(
        request,
        "invoicing/invoices.html",
        {
            "page": page,
            "query": query,
            "month_value": query.as_params().get("month", ""),
            "kinds": InvoiceKind.choices,
            "statuses": InvoiceStatus.choices,
            "querystring": params.urlencode(),
            "own_organisation_id": actor.organisation.pk,
        },
    )


@admin_required(Permission.VIEW_INVOICES)
def invoice_detail(request: AdminRequest, invoice_id: int) -> HttpResponse:
    actor: Actor = request.actor
    invoice = get_invoice_for(actor, invoice_id)
    # A Transactions invoice lists every session of the month: the page shows them in
    # pages, the CSV has them all.
    lines = Paginator(invoice_lines(invoice), INVOICE_LINES_PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    is_credit_note = invoice.kind == InvoiceKind.CREDIT_NOTE
    return render(
        request,
        "invoicing/invoice_detail.html",
        {
            "invoice": invoice,
            "lines": lines,
            "vat_lines": invoice_vat_lines(invoice),
            "credit_notes": invoice_related(actor, invoice),
            "own_organisation_id": actor.organisation.pk,
            "is_credit_note": is_credit_note,
            # What the invoice still asks once credit notes lowered it: the bank file
            # pays the invoice only for this amount, so the page asks for it.
            "amount_due": None if is_credit_note else amount_due(invoice),
            # Transactions lines say when, who, where and how much energy.
            "has_details": invoice_lines(invoice).filter(occurred_at__isnull=False).exists(),
            "time_zone": timezone.get_current_timezone_name(),
            "breadcrumbs": breadcrumbs(
                (_("Invoices"), "invoicing:list"),
                current=(_("Credit note %(number)s") if is_credit_note else _("Invoice %(number)s"))
                % {"number": invoice.number},
            ),
        },
    )


def _download(request: AdminRequest, invoice_id: int) -> Invoice | HttpResponse:
    # The look-up comes first, so an outsider's POST is a 404 like a missing invoice's.
    invoice = get_invoice_for(request.actor, invoice_id)
    if request.method not in ("GET", "HEAD"):
        return HttpResponseNotAllowed(["GET", "HEAD"])
    return invoice


@admin_required(Permission.VIEW_INVOICES)
def invoice_pdf(request: AdminRequest, invoice_id: int) -> HttpResponse:
    invoice = _download(request, invoice_id)
    return invoice if isinstance(invoice, HttpResponse) else downloads.pdf_response(invoice)


@admin_required(Permission.VIEW_INVOICES)
def invoice_lines_csv(request: AdminRequest, invoice_id: int) -> HttpResponse:
    invoice = _download(request, invoice_id)
    return invoice if isinstance(invoice, HttpResponse) else downloads.lines_csv_response(invoice)
