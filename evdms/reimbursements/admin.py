from __future__ import annotations

from datetime import timedelta
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import URLPattern, path, reverse
from django.utils import timezone

from evdms.reimbursements.models import (
    BankAccount,
    CarryOver,
    HomePrice,
    PayoutBatch,
    PayoutLine,
    Statement,
    StatementLine,
)
from evdms.reimbursements.services.bank_returns import bank_returns_apply, check_size
from evdms.reimbursements.services.payouts import (
    COMMON_REASONS,
    payout_batch_create,
    payout_batch_export,
    payout_batch_mark_paid,
    payout_line_fail,
    payout_line_mark_paid,
)
from evdms.ui import formatting
from evdms.ui.http import AuthenticatedRequest


@admin.register(BankAccount)
class BankAccountAdmin(admin.ModelAdmin):
    """Masked everywhere: even platform operators see only country and last four."""

    list_display = ("driver", "masked_iban", "bic", "created_at", "retired_at")
    fields = ("driver", "masked_iban", "bic", "created_at", "retired_at")
    readonly_fields = fields
    search_fields = ("driver__email",)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(HomePrice)
class HomePriceAdmin(admin.ModelAdmin):
    list_display = ("driver", "price_per_kwh", "currency", "valid_from", "created_at")
    search_fields = ("driver__email",)


class StatementLineInline(admin.TabularInline):
    model = StatementLine
    fields = ("session", "energy_wh", "driver_price", "cap", "price_used", "amount", "late")
    readonly_fields = fields
    extra = 0
    can_delete = False


class CarryOverInline(admin.TabularInline):
    """Failed payments added to this statement."""

    model = CarryOver
    fk_name = "statement"
    fields = ("failed_statement", "amount", "created_at")
    readonly_fields = fields
    extra = 0
    can_delete = False


@admin.register(Statement)
class StatementAdmin(admin.ModelAdmin):
    list_display = ("reference", "driver", "connection", "month", "total", "status", "held_reason")
    list_filter = ("status", "month")
    search_fields = ("driver__email",)
    readonly_fields = (
        "driver",
        "connection",
        "month",
        "currency",
        "total",
        "status",
        "held_reason",
        "bank_account",
        "emailed_at",
    )
    inlines = [StatementLineInline, CarryOverInline]


class PayoutLineInline(admin.TabularInline):
    model = PayoutLine
    fields = ("statement", "end_to_end_id", "amount", "status", "failure_reason", "settled_at")
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


def _errors(request: HttpRequest, error: ValidationError) -> None:
    for message in error.messages:
        messages.error(request, message)


class PayoutBatchCreateForm(forms.Form):
    execution_date = forms.DateField(
        label="Execution date",
        help_text="The day the bank should pay (YYYY-MM-DD).",
        widget=forms.DateInput(attrs={"type": "date"}),
    )


class BankReturnsForm(forms.Form):
    file = forms.FileField(
        label="Return file", help_text="pain.002 status report or camt.054 notification (XML)"
    )


@admin.register(PayoutBatch)
class PayoutBatchAdmin(admin.ModelAdmin):
    """Operators create batches only through the service (never an empty hand-made one),
    export the file, and mark the batch paid when the bank has executed it."""

    list_display = ("pk", "execution_date", "status", "total", "exported_at", "paid_at")
    list_filter = ("status",)
    readonly_fields = (
        "created_at",
        "execution_date",
        "status",
        "message_id",
        "total",
        "exported_at",
        "paid_at",
    )
    exclude = ("sepa_xml",)
    inlines = [PayoutLineInline]
    actions = ["download_sepa", "mark_paid"]
    change_list_template = "admin/reimbursements/payoutbatch/change_list.html"
    change_form_template = "admin/reimbursements/payoutbatch/change_form.html"

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def get_urls(self) -> list[URLPattern]:
        return [
            path(
                "import-returns/",
                self.admin_site.admin_view(self.returns_view),
                name="reimbursements_payoutbatch_returns",
            ),
            path(
                "create-from-ready/",
                self.admin_site.admin_view(self.create_view),
                name="reimbursements_payoutbatch_create",
            ),
            *super().get_urls(),
        ]

    def create_view(self, request: AuthenticatedRequest) -> HttpResponse:
        if not self.has_change_permission(request):
            raise PermissionDenied
        initial = {"execution_date": timezone.localdate() + timedelta(days=2)}
        form = PayoutBatchCreateForm(request.POST or None, initial=initial)
        if request.method == "POST" and form.is_valid():
            try:
                batch = payout_batch_create(
                    execution_date=form.cleaned_data["execution_date"],
                    operator=request.user,
                )
            except ValidationError as exc:
                _errors(request, exc)
            else:
                messages.success(
                    request,
                    f"Payout batch {batch.pk} made: {batch.lines.count()} statement(s), "
                    f"{formatting.money(batch.total, 'EUR')}. Export its SEPA file next.",
                )
                return redirect("admin:reimbursements_payoutbatch_change", batch.pk)
        context = {
            **self.admin_site.each_context(request),
            "title": "Create a payout batch of the ready statements",
            "form": form,
            "opts": self.model._meta,
        }
        return TemplateResponse(request, "admin/reimbursements/payoutbatch/create.html", context)

    def returns_view(self, request: AuthenticatedRequest) -> HttpResponse:
        """Upload the bank's pain.002 or camt.054: its rejected and returned payments are
        reported failed, as by hand."""
        if not self.has_change_permission(request):
            raise PermissionDenied
        form = BankReturnsForm(request.POST or None, request.FILES or None)
        if request.method == "POST" and form.is_valid():
            upload = form.cleaned_data["file"]
            try:
                check_size(upload.size)
                result = bank_returns_apply(
                    content=upload.read(),
                    operator=request.user,
                )
            except ValidationError as exc:
                _errors(request, exc)
            else:
                messages.success(
                    request,
                    f"{len(result.failed)} payment(s) reported failed, "
                    f"{len(result.already)} reported before.",
                )
                if result.unknown:
                    messages.warning(request, "Not our payments: " + ", ".join(result.unknown[:20]))
                for refusal in result.refused[:20]:
                    messages.error(request, refusal)
                return redirect("admin:reimbursements_payoutline_changelist")
        context = {
            **self.admin_site.each_context(request),
            "title": "Import the bank's return file (pain.002 or camt.054)",
            "form": form,
            "opts": self.model._meta,
        }
        return TemplateResponse(request, "admin/reimbursements/payoutbatch/returns.html", context)

    @admin.action(description="Export and download the SEPA file (pain.001)")
    def download_sepa(
        self, request: AuthenticatedRequest, queryset: QuerySet[PayoutBatch]
    ) -> HttpResponse | None:
        if queryset.count() != 1:
            messages.error(request, "Choose one batch: each has its own file.")
            return None
        batch = queryset.get()
        try:
            xml = payout_batch_export(batch=batch, operator=request.user)
        except ValidationError as exc:
            _errors(request, exc)
            return None
        response = HttpResponse(xml, content_type="application/xml")
        response["Content-Disposition"] = f'attachment; filename="payout-{batch.pk}.xml"'
        return response

    @admin.action(description="Mark paid (every line not reported failed)")
    def mark_paid(self, request: AuthenticatedRequest, queryset: QuerySet[PayoutBatch]) -> None:
        for batch in queryset.order_by("pk"):
            try:
                payout_batch_mark_paid(batch=batch, operator=request.user)
            except ValidationError as exc:
                _errors(request, exc)
            else:
                messages.success(request, f"Payout batch {batch.pk} is paid.")


class PayoutLineFailForm(forms.Form):
    reason = forms.CharField(
        label="The bank's reason",
        max_length=140,
        help_text="As the bank returned it, e.g. " + ", ".join(COMMON_REASONS[:3]) + ".",
        widget=forms.TextInput(attrs={"list": "payout-reasons", "size": 50}),
    )


@admin.register(PayoutLine)
class PayoutLineAdmin(admin.ModelAdmin):
    """One payment of a batch. Report what the bank says: paid, or failed with its reason."""

    list_display = (
        "end_to_end_id",
        "batch",
        "statement",
        "amount",
        "status",
        "failure_reason",
        "settled_at",
    )
    list_filter = ("status", "batch")
    search_fields = ("end_to_end_id", "statement__driver__email")
    readonly_fields = list_display
    actions = ["mark_paid", "mark_failed"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    @admin.action(description="Mark paid")
    def mark_paid(self, request: AuthenticatedRequest, queryset: QuerySet[PayoutLine]) -> None:
        done = 0
        for line in queryset.order_by("pk"):
            try:
                payout_line_mark_paid(line=line, operator=request.user)
            except ValidationError as exc:
                _errors(request, exc)
            else:
                done += 1
        if done:
            messages.success(request, f"{done} line(s) paid.")

    @admin.action(description="Report failed (returned by the bank)…")
    def mark_failed(
        self, request: AuthenticatedRequest, queryset: QuerySet[PayoutLine]
    ) -> HttpResponse | None:
        # An intermediate page asks for the reason, then posts back to this action.
        form = PayoutLineFailForm(request.POST if "apply" in request.POST else None)
        if form.is_bound and form.is_valid():
            done = 0
            for line in queryset.order_by("pk"):
                try:
                    payout_line_fail(
                        line=line,
                        reason=form.cleaned_data["reason"],
                        operator=request.user,
                    )
                except ValidationError as exc:
                    _errors(request, exc)
                else:
                    done += 1
            if done:
                messages.success(
                    request,
                    f"{done} line(s) reported failed; the drivers were told and the amounts "
                    "go to their next statements.",
                )
            return None
        context = {
            **self.admin_site.each_context(request),
            "title": "Report payments failed",
            "form": form,
            "lines": queryset.select_related("statement__driver"),
            "reasons": COMMON_REASONS,
            "opts": self.model._meta,
            "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
            "changelist_url": reverse("admin:reimbursements_payoutline_changelist"),
        }
        return TemplateResponse(request, "admin/reimbursements/payoutline/fail.html", context)
