"""Invoices in the Django admin, for platform operators: read-only (an issued invoice
never changes), with their lines and VAT, and a "Mark paid" action through the service."""

from __future__ import annotations

from datetime import date
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import URLPattern, path
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, pgettext_lazy

from evdms.accounts.who import who_shown
from evdms.invoicing.models import Invoice, InvoiceLine, InvoiceVat
from evdms.invoicing.services.payments import invoice_mark_paid, invoice_payments_import
from evdms.reimbursements.services.bank_returns import check_size
from evdms.ui.http import AuthenticatedRequest

# Reports list at most this many items per kind; the rest is counted.
SHOWN = 20


class PaymentsFileForm(forms.Form):
    file = forms.FileField(
        label=gettext_lazy("Credit notification"),
        help_text=gettext_lazy("the bank's camt.054 (XML), at most 5 MB"),
    )


# Bare generics, as in every admin module (see pyproject.toml: ModelAdmin[Model] fails at
# run time without django-stubs-ext); the override there names ``evdms.*.admin`` only.
class ReadOnlyInline(admin.TabularInline):
    extra = 0
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class InvoiceLineInline(ReadOnlyInline):
    model = InvoiceLine
    fields = (
        "position",
        "source",
        "description",
        "quantity",
        "unit",
        "unit_price",
        "net_amount",
        "vat_category",
        "vat_rate",
        "credits_line",
        "driver_name",
        "occurred_at",
        "energy_wh",
    )
    readonly_fields = fields
    ordering = ("position",)


class InvoiceVatInline(ReadOnlyInline):
    model = InvoiceVat
    fields = ("category", "rate", "basis", "amount", "exemption_reason", "exemption_code")
    readonly_fields = fields
    verbose_name_plural = gettext_lazy("VAT breakdown")


class MonthFilter(admin.SimpleListFilter):
    """The months invoiced, newest first (a plain date filter offers only "this month")."""

    title = pgettext_lazy("admin filter", "month")
    parameter_name = "month"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        months = Invoice.objects.dates("month", "month", order="DESC")
        # The month as the operator's language writes it ("September 2026", "septembre 2026").
        return [(f"{month:%Y-%m}", date_format(month, "YEAR_MONTH_FORMAT")) for month in months]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Invoice]) -> QuerySet[Invoice]:
        value = self.value()
        if not value:
            return queryset
        try:
            year, month = (int(part) for part in value.split("-"))
            first = date(year, month, 1)  # a year or month out of range fails here
        except (ValueError, OverflowError):
            return queryset.none()  # a hand-made URL: nothing, rather than an error page
        return queryset.filter(month__year=first.year, month__month=first.month)


@admin.register(Invoice)
class InvoiceAdmin(admin.ModelAdmin):
    list_display = (
        "number",
        "kind",
        "organisation",
        "buyer",
        "month",
        "issue_date",
        "due_date",
        "total_incl_vat",
        "currency",
        "status",
        "paid_at",
    )
    list_filter = ("kind", "status", MonthFilter)
    search_fields = ("number", "payment_reference", "organisation__name", "buyer__name")
    list_select_related = ("organisation", "buyer")
    # Who paid is shown in the reader's language (``paid_by_shown``), not as stored.
    exclude = ("pdf", "paid_by")
    inlines = [InvoiceLineInline, InvoiceVatInline]
    actions = ["mark_paid"]
    change_list_template = "admin/invoicing/invoice/change_list.html"

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        names = [f.name for f in self.model._meta.fields if f.name != "pdf"]
        return ["paid_by_shown" if name == "paid_by" else name for name in names]

    @admin.display(description=gettext_lazy("Paid by"))
    def paid_by_shown(self, invoice: Invoice) -> str:
        return who_shown(invoice.paid_by) if invoice.paid_by else "—"

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # issued by the monthly run, or as a credit note through the API

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_record_payments_permission(self, request: HttpRequest) -> bool:
        """Recording a payment changes the invoice's status (only that: it stays
        read-only here), so it takes the change permission a plain viewer lacks."""
        return request.user.has_perm("invoicing.change_invoice")

    def changelist_view(self, request: HttpRequest, extra_context: Any = None) -> HttpResponse:
        extra = {"can_record_payments": self.has_record_payments_permission(request)}
        return super().changelist_view(request, {**(extra_context or {}), **extra})

    def get_urls(self) -> list[URLPattern]:
        return [
            path(
                "import-payments/",
                self.admin_site.admin_view(self.payments_view),
                name="invoicing_invoice_payments",
            ),
            *super().get_urls(),
        ]

    def payments_view(self, request: AuthenticatedRequest) -> HttpResponse:
        """Upload the bank's camt.054: each transfer matching an invoice exactly pays it."""
        if not self.has_record_payments_permission(request):
            raise PermissionDenied
        form = PaymentsFileForm(request.POST or None, request.FILES or None)
        if request.method == "POST" and form.is_valid():
            upload = form.cleaned_data["file"]
            try:
                check_size(upload.size)  # before reading it
                result = invoice_payments_import(upload.read(), operator=request.user)
            except ValidationError as exc:
                for message in exc.messages:
                    messages.error(request, message)
            else:
                messages.success(
                    request,
                    _("%(paid)d invoice(s) paid, %(before)d paid by this file before.")
                    % {"paid": len(result.paid), "before": len(result.already)},
                )
                for message in result.mismatched[:SHOWN]:
                    messages.warning(request, message)
                if result.unknown:
                    messages.warning(
                        request,
                        _("Not our invoices: %(numbers)s")
                        % {"numbers": ", ".join(result.unknown[:SHOWN])},
                    )
                return redirect("admin:invoicing_invoice_changelist")
        context = {
            **self.admin_site.each_context(request),
            "title": _("Import the bank's credit notification (camt.054)"),
            "form": form,
            "opts": self.model._meta,
        }
        return TemplateResponse(request, "admin/invoicing/invoice/payments.html", context)

    @admin.action(description=gettext_lazy("Mark paid"), permissions=["record_payments"])
    def mark_paid(self, request: AuthenticatedRequest, queryset: QuerySet[Invoice]) -> None:
        paid = []
        for invoice in queryset.order_by("number"):
            try:
                invoice_mark_paid(invoice=invoice, by=request.user)
            except ValidationError as exc:
                for message in exc.messages:
                    messages.error(request, message)
            else:
                paid.append(invoice.number)
        if paid:
            messages.success(request, _("Marked paid: %(numbers)s.") % {"numbers": ", ".join(paid)})
