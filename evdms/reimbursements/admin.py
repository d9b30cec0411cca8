from django.contrib import admin

from evdms.reimbursements.models import BankAccount, HomePrice


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
