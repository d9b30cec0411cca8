"""Invoices in the Django admin, for platform operators: read-only (an issued invoice
never changes), with their lines and VAT, and a "Mark paid" action through the service."""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.http import HttpRequest

from evdms.invoicing.models import Invoice, InvoiceLine, InvoiceVat
from evdms.invoicing.services.payments import invoice_mark_paid
from evdms.ui.http import AuthenticatedRequest


# Bare generics, as in every admin module (see pyproject.toml: ModelAdmin[Model] fails at
# run time without django-stubs-ext); the override there names ``evdms.*.admin`` only.
class ReadOnlyInline(admin.TabularInline):  # type: ignore[type-arg]
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
    verbose_name_plural = "VAT breakdown"


class MonthFilter(admin.SimpleListFilter):
    """The months invoiced, newest first (a plain date filter offers only "this month")."""

    title = "month"
    parameter_name = "month"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        months = Invoice.objects.dates("month", "month", order="DESC")
        return [(f"{month:%Y-%m}", f"{month:%B %Y}") for month in months]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Invoice]) -> QuerySet[Invoice]:
        value = self.value()
        if not value:
            return queryset
        try:
            year, month = (int(part) for part in value.split("-"))
        except ValueError:
            return queryset.none()  # a hand-made URL: nothing, rather than an error page
        return queryset.filter(month__year=year, month__month=month)


@admin.register(Invoice)
class InvoiceAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
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
    exclude = ("pdf",)
    inlines = [InvoiceLineInline, InvoiceVatInline]
    actions = ["mark_paid"]

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        return [f.name for f in self.model._meta.fields if f.name != "pdf"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # issued by the monthly run, or as a credit note through the API

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    @admin.action(description="Mark paid")
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
            messages.success(request, f"Marked paid: {', '.join(paid)}.")
