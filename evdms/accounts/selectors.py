from __future__ import annotations

from django.db.models import QuerySet

from evdms.accounts.models import (
    Admin,
    AdminStatus,
    ApiKey,
    ListPreference,
    Organisation,
    Role,
    User,
)


def admins_of(organisation: Organisation) -> QuerySet[Admin]:
    return (
        Admin.objects.filter(organisation=organisation)
        .select_related("user")
        .order_by("user__full_name", "user__email")
    )


def active_network_managers(organisation: Organisation) -> QuerySet[Admin]:
    return Admin.objects.filter(
        organisation=organisation, role=Role.NETWORK_MANAGER, status=AdminStatus.ACTIVE
    )


def api_keys_of(organisation: Organisation) -> QuerySet[ApiKey]:
    return ApiKey.objects.filter(organisation=organisation).order_by("revoked_at", "-created_at")


def list_columns(user: User, list_name: str, default: list[str]) -> list[str]:
    preference = ListPreference.objects.filter(user=user, list_name=list_name).first()
    return list(preference.columns) if preference and preference.columns else list(default)
