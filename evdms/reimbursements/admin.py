from django.contrib import admin
from django.http import HttpResponse

from evdms.reimbursements.models import (
    BankAccount,
    CarryOver,
    HomePrice,
    PayoutBatch,
    PayoutLine,
    Statement,
    StatementLine,
)
from evdms.reimbursements.payouts import payout_batch_export


@admin.register(BankAccount)
class BankAccountAdmin(admin.ModelAdmin):
    """Masked everywhere: even platform operators see only country and last four."""

    list_display = ("driver", "masked_iban", "bic", "created_at", "retired_at")
    fields = ("driver", "masked_iban", "bic", "created_at", "retired_at")
    readonly_fields = fields
    search_fields = ("driver__email",)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
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
    fields = ("statement", "end_to_end_id", "amount")
    readonly_fields = fields
    extra = 0
    can_delete = False


@admin.register(PayoutBatch)
class PayoutBatchAdmin(admin.ModelAdmin):
    list_display = ("pk", "created_at", "execution_date", "status", "total", "message_id")
    readonly_fields = ("created_at", "status", "message_id", "total")
    exclude = ("sepa_xml",)
    inlines = [PayoutLineInline]
    actions = ["download_sepa"]

    @admin.action(description="Export and download the SEPA file (pain.001)")
    def download_sepa(self, request, queryset):
        batch = queryset.first()
        response = HttpResponse(payout_batch_export(batch=batch), content_type="application/xml")
        response["Content-Disposition"] = f'attachment; filename="payout-{batch.pk}.xml"'
        return response
