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
        .order_by("full_name", "email")
    )


def account_with_address(email: str) -> User | None:
    """The account of an address, for its owner only: log-in, sign-up and the invitation
    link ask about the address the person themselves gave or received mail at. Never use
    it to find someone for an organisation (see the ``access`` modules)."""
    return User.objects.filter(email=email.strip().lower()).first()


def active_network_managers(organisation: Organisation) -> QuerySet[Admin]:
    return Admin.objects.filter(
        organisation=organisation, role=Role.NETWORK_MANAGER, status=AdminStatus.ACTIVE
    )


def api_keys_of(organisation: Organisation) -> QuerySet[ApiKey]:
    return ApiKey.objects.filter(organisation=organisation).order_by("revoked_at", "-created_at")


def list_columns(user: User, list_name: str, default: list[str]) -> list[str]:
    preference = ListPreference.objects.filter(user=user, list_name=list_name).first()
    return list(preference.columns) if preference and preference.columns else list(default)
