"""Django admin for platform operators: charging tokens, read-only. Tokens change only
through the token services (which audit and announce each change to the partners), so
the admin shows them and writes nothing."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from evdms.public_charging.models import Token


@admin.register(Token)
class TokenAdmin(admin.ModelAdmin[Token]):
    list_display = (
        "uid",
        "type",
        "contract_id",
        "visual_number",
        "driver",
        "organisation",
        "valid",
        "blocked",
        "revision",
        "last_updated",
    )
    list_filter = ("type", "valid", "blocked")
    list_select_related = ("driver", "organisation")
    search_fields = ("uid", "contract_id", "visual_number", "driver__email")
    ordering = ("-last_updated", "-id")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
