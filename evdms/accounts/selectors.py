from __future__ import annotations

from django.conf import settings
from django.db.models import Exists, OuterRef, QuerySet
from django_otp.plugins.otp_static.models import StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from evdms.accounts.models import (
    Admin,
    AdminStatus,
    ApiKey,
    ListPreference,
    Organisation,
    User,
    managing_role,
)


def admins_of(organisation: Organisation) -> QuerySet[Admin]:
    """With ``two_factor``: whether the admin logs in with an authenticator app."""
    return (
        Admin.objects.filter(organisation=organisation)
        .select_related("user")
        .annotate(
            two_factor=Exists(TOTPDevice.objects.filter(user=OuterRef("user"), confirmed=True))
        )
        .order_by("full_name", "email")
    )


def account_with_address(email: str) -> User | None:
    """The account of an address, for its owner only: log-in, sign-up and the invitation
    link ask about the address the person themselves gave or received mail at. Never use
    it to find someone for an organisation (see the ``access`` modules)."""
    return User.objects.filter(email=email.strip().lower()).first()


def active_network_managers(organisation: Organisation) -> QuerySet[Admin]:
    """The active admins who manage the organisation: its Network Managers, or an
    installer company's installer managers."""
    return Admin.objects.filter(
        organisation=organisation,
        role=managing_role(organisation.kind),
        status=AdminStatus.ACTIVE,
    )


def api_keys_of(organisation: Organisation) -> QuerySet[ApiKey]:
    return ApiKey.objects.filter(organisation=organisation).order_by("revoked_at", "-created_at")


def list_columns(user: User, list_name: str, default: list[str]) -> list[str]:
    preference = ListPreference.objects.filter(user=user, list_name=list_name).first()
    return list(preference.columns) if preference and preference.columns else list(default)


# --- two-factor authentication ------------------------------------------------------


def authenticator_of(user: User, *, confirmed: bool = True) -> TOTPDevice | None:
    """The user's authenticator app (TOTP device): confirmed, or the one being set up."""
    return TOTPDevice.objects.filter(user=user, confirmed=confirmed).first()


def has_two_factor(user: User) -> bool:
    """Two-factor is on once an authenticator app is confirmed; recovery codes only
    stand in for it."""
    return bool(TOTPDevice.objects.filter(user=user, confirmed=True).exists())


def recovery_codes_left(user: User) -> int:
    return int(StaticToken.objects.filter(device__user=user, device__confirmed=True).count())


def two_factor_required(user: User) -> bool:
    """Whether the user may not work without a second factor: a platform operator where
    operators need one (always in production), or an admin of an organisation that
    requires it. Costs no query for a user loaded with their admin and organisation."""
    if user.is_staff and settings.OPERATORS_NEED_TWO_FACTOR:
        return True
    admin = user.admin_or_none
    return (
        admin is not None
        and admin.status == AdminStatus.ACTIVE
        and admin.organisation.require_two_factor
    )


def may_use_two_factor(user: User) -> bool:
    """Admins and platform operators; drivers log in with their password alone."""
    admin = user.admin_or_none
    return user.is_staff or (admin is not None and admin.status == AdminStatus.ACTIVE)
