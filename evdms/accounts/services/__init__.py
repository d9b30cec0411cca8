"""Every write about organisations, admins and API keys."""

from __future__ import annotations

import hashlib
import re
import secrets
import unicodedata
from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, NamedTuple

from django.conf import settings
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.crypto import salted_hmac
from django.utils.translation import gettext as _
from django_otp import verify_token as otp_verify_token
from django_otp.models import Device
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from evdms.accounts.models import (
    Admin,
    AdminInvitation,
    AdminStatus,
    ApiKey,
    ConnectionAlerts,
    ListPreference,
    Organisation,
    PasswordResetRequest,
    Role,
    User,
    managing_role,
    roles_for_kind,
)
from evdms.accounts.permissions import Actor, Permission, require
from evdms.accounts.selectors import (
    account_with_address,
    active_network_managers,
    connections_actable_by,
    has_two_factor,
)
from evdms.audit.models import AuditAction
from evdms.audit.services import audit_record, diff, snapshot
from evdms.notifications.services import email_send
from evdms.ui.language import user_language

if TYPE_CHECKING:
    from evdms.connections.models import Connection

API_KEY_PREFIX = "evdms"


def _sha256(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


def _keep_a_network_manager(admin: Admin, *, disabling: bool) -> None:
    """An organisation must keep one active Network Manager (an installer company one
    installer manager), or nobody can manage it."""
    manager = managing_role(admin.organisation.kind)
    if admin.role != manager or admin.status != AdminStatus.ACTIVE:
        return
    others = active_network_managers(admin.organisation).exclude(pk=admin.pk)
    if not others.select_for_update().exists():
        who = {"name": admin.full_name or admin.email, "role": manager.label}
        message = (
            _("%(name)s is the last active %(role)s and cannot be disabled.")
            if disabling
            else _("%(name)s is the last active %(role)s and cannot lose that role.")
        )
        raise ValidationError({"role": message % who})


def role_refusal(organisation: Organisation, role: str) -> str | None:
    """Why ``role`` cannot be given to an admin or API key of ``organisation`` (None
    when it can): an installer company has only the installer roles, every other
    organisation only the organisation roles."""
    allowed = roles_for_kind(organisation.kind)
    if role in allowed:
        return None
    names = ", ".join(str(r.label) for r in allowed)
    return _("Choose one of the roles of your organisation: %(roles)s.") % {"roles": names}


# --- connection scope of admins and API keys ----------------------------------------

ALL_CONNECTIONS = "All connections"  # in the audit log's stored data: stays English


def connection_scope_clean(
    *,
    organisation: Organisation,
    role: str,
    all_connections: bool,
    connection_ids: Iterable[int],
) -> list[Connection] | None:
    """The connections an admin or API key with ``role`` is to be limited to, or None
    for all, present and future. A Network Manager always has all (they manage admins
    and grants), so a list given for one is ignored. A connection the organisation may
    not act on is refused exactly like one that does not exist."""
    if all_connections or role == Role.NETWORK_MANAGER:
        return None
    wanted = sorted(set(connection_ids))
    if not wanted:
        raise ValidationError(
            {"connection_ids": _("Choose at least one connection, or All connections.")}
        )
    found = list(connections_actable_by(organisation).filter(pk__in=wanted))
    unknown = sorted(set(wanted) - {c.pk for c in found})
    if unknown:
        ids = ", ".join(str(pk) for pk in unknown)
        message = _("Choose connections from the list: %(ids)s is not one of them.")
        raise ValidationError({"connection_ids": message % {"ids": ids}})
    return found


def scope_text(connections: Iterable[Connection] | None) -> str | list[str]:
    """How the audit log shows a scope: "All connections" or the connections' names."""
    if connections is None:
        return ALL_CONNECTIONS
    return sorted(c.name for c in connections)


def _holder_scope(holder: Admin | ApiKey) -> str | list[str]:
    if holder.all_connections or holder.role == Role.NETWORK_MANAGER:
        return ALL_CONNECTIONS
    return scope_text(holder.connections.all())


def _store_scope(holder: Admin | ApiKey, connections: list[Connection] | None) -> None:
    holder.all_connections = connections is None
    holder.save(update_fields=["all_connections"])
    holder.connections.set(connections or [])


# --- admins -------------------------------------------------------------------------


def _new_invitation(admin: Admin) -> str:
    token = secrets.token_urlsafe(32)
    AdminInvitation.objects.filter(admin=admin, used_at=None, revoked_at=None).update(
        revoked_at=timezone.now()
    )
    AdminInvitation.objects.create(
        admin=admin,
        token_hash=_sha256(token),
        expires_at=timezone.now() + timedelta(days=settings.ADMIN_INVITATION_DAYS),
    )
    return token


def _send_invitation(actor: Actor, admin: Admin, token: str) -> None:
    # One e-mail whether or not the address has an account: the page behind the link
    # tells its owner what to do, and nothing the organisation can see differs.
    email_send(
        to=[admin.email],
        template="admin_invitation",
        context={
            "admin": admin,
            "inviter": actor.label,
            "organisation": admin.organisation.name,
            "role": Role(admin.role).label,  # lazy: in the e-mail's language
            "link": settings.SITE_URL + reverse("accounts:admin_setup", args=[token]),
            "days": settings.ADMIN_INVITATION_DAYS,
        },
        organisation=admin.organisation,
        # Not looked up by address (nothing outside the organisation is): an invited
        # admin has no account here yet, so the organisation's default language.
        language=user_language(admin.user, admin.organisation),
    )


@transaction.atomic
def admin_invite(
    *,
    actor: Actor,
    email: str,
    full_name: str,
    role: str,
    all_connections: bool = True,
    connection_ids: Iterable[int] = (),
    connection_alerts: str = ConnectionAlerts.OFF,
) -> Admin:
    """Invite an address to be an admin of the actor's organisation and e-mail it a link.

    Nothing is looked up about the address outside the organisation: an account with
    this address gets nothing, and the answer is the same whether one exists or not.
    The owner becomes an admin only by accepting (``admin_accept_invitation*``).
    The admin acts on all connections, or on ``connection_ids`` only
    (``connection_scope_clean``).
    """
    require(actor, Permission.MANAGE_ADMINS)
    email = email.strip().lower()
    if role not in Role.values:
        raise ValidationError({"role": _("Choose a role.")})
    refusal = role_refusal(actor.organisation, role)
    if refusal:
        raise ValidationError({"role": refusal})
    if connection_alerts not in ConnectionAlerts.values:
        raise ValidationError({"connection_alerts": _("Choose when to be alerted.")})
    connections = connection_scope_clean(
        organisation=actor.organisation,
        role=role,
        all_connections=all_connections,
        connection_ids=connection_ids,
    )
    if Admin.objects.filter(organisation=actor.organisation, email=email).exists():
        raise ValidationError(
            {"email": _("This address is already an admin of your organisation or invited.")}
        )
    admin = Admin(
        organisation=actor.organisation,
        email=email,
        full_name=full_name.strip(),
        role=role,
        status=AdminStatus.INVITED,
        invited_by=actor.user,
        all_connections=connections is None,
        connection_alerts=connection_alerts,
    )
    admin.full_clean()
    admin.save()
    admin.connections.set(connections or [])
    token = _new_invitation(admin)
    changes: dict[str, list[object]] = {
        "email": [None, email],
        "role": [None, role],
        "status": [None, "invited"],
        "connections": [None, scope_text(connections)],
    }
    if connection_alerts != ConnectionAlerts.OFF:
        changes["connection_alerts"] = [None, connection_alerts]
    audit_record(actor=actor, action=AuditAction.ADMIN_INVITE, target=admin, changes=changes)
    _send_invitation(actor, admin, token)
    return admin


@transaction.atomic
def admin_invitation_resend(*, actor: Actor, admin: Admin) -> None:
    require(actor, Permission.MANAGE_ADMINS)
    if admin.status != AdminStatus.INVITED:
        raise ValidationError(_("Only an invited admin can be sent a new link."))
    token = _new_invitation(admin)
    audit_record(actor=actor, action=AuditAction.ADMIN_INVITATION_RESEND, target=admin)
    _send_invitation(actor, admin, token)


class InvitationInvalid(Exception):
    """The set-up link is unknown, used, revoked or expired."""


class AccountExists(Exception):
    """The invited address has an account: its owner accepts logged in as that account."""


class AcceptanceRefused(Exception):
    """This account cannot become an admin of the inviting organisation."""


def admin_invitation_lookup(token: str) -> AdminInvitation:
    invitation = (
        AdminInvitation.objects.select_related("admin__organisation")
        .filter(token_hash=_sha256(token))
        .first()
    )
    if invitation is None or not invitation.is_usable():
        raise InvitationInvalid
    return invitation


def admin_acceptance_refusal(user: User) -> str | None:
    """Why ``user`` cannot accept an admin invitation, or None when they can.

    An account is an admin of one organisation at most (everything, from log-in to the
    role matrix, assumes one); and a platform operator's account stays out of every
    organisation's reach, so no organisation can ever disable it.
    """
    if user.is_staff:
        return _(
            "A platform operator's account cannot be an organisation's admin. Ask for the "
            "invitation to be sent to another address."
        )
    if Admin.objects.filter(user=user).exists():
        return _(
            "Your account is already an admin of an organisation, and an account can be an "
            "admin of one organisation only. Ask for the invitation to be sent to another "
            "address."
        )
    return None


def _use_invitation(invitation: AdminInvitation) -> None:
    won = AdminInvitation.objects.filter(pk=invitation.pk, used_at=None).update(
        used_at=timezone.now()
    )
    if not won:  # the same link submitted twice at once
        raise InvitationInvalid


def _activate(admin: Admin, user: User) -> Admin:
    updated = Admin.objects.filter(pk=admin.pk, status=AdminStatus.INVITED, user=None).update(
        user=user,
        full_name=user.full_name or admin.full_name,
        status=AdminStatus.ACTIVE,
        activated_at=timezone.now(),
    )
    if not updated:  # disabled (or accepted) meanwhile
        raise InvitationInvalid
    admin.refresh_from_db()
    audit_record(
        actor=Actor(organisation=admin.organisation, role=admin.role, user=user),
        action=AuditAction.ADMIN_ACTIVATE,
        target=admin,
        changes={"status": ["invited", "active"]},
    )
    return admin


@transaction.atomic
def admin_accept_invitation(*, token: str, full_name: str, password: str) -> Admin:
    """The owner of an address without an account makes one from the e-mailed link (the
    link proves the address, so it counts as confirmed)."""
    invitation = admin_invitation_lookup(token)
    admin = invitation.admin
    if account_with_address(admin.email) is not None:  # the link holder's own address
        raise AccountExists
    _use_invitation(invitation)
    user = User(email=admin.email, full_name=full_name.strip() or admin.full_name)
    validate_password(password, user)
    user.set_password(password)
    user.email_confirmed_at = timezone.now()
    user.full_clean()
    user.save()
    return _activate(admin, user)


@transaction.atomic
def admin_accept_invitation_as(*, token: str, user: User) -> Admin:
    """The owner of an address with an account accepts, logged in as that account."""
    invitation = admin_invitation_lookup(token)
    admin = invitation.admin
    if user.email != admin.email:
        raise InvitationInvalid
    refusal = admin_acceptance_refusal(user)
    if refusal is not None:
        raise AcceptanceRefused(refusal)
    _use_invitation(invitation)
    return _activate(admin, user)


@transaction.atomic
def admin_change_role(*, actor: Actor, admin: Admin, role: str) -> Admin:
    require(actor, Permission.MANAGE_ADMINS)
    if role not in Role.values:
        raise ValidationError({"role": _("Choose a role.")})
    admin = (
        Admin.objects.select_for_update(of=("self",))
        .select_related("user", "organisation")
        .get(pk=admin.pk)
    )
    if admin.role == role:
        return admin
    refusal = role_refusal(admin.organisation, role)
    if refusal:
        raise ValidationError({"role": refusal})
    if role != managing_role(admin.organisation.kind):
        _keep_a_network_manager(admin, disabling=False)
    old = admin.role
    old_scope = _holder_scope(admin)
    admin.role = role
    admin.full_clean()
    admin.save(update_fields=["role"])
    changes: dict[str, list[object]] = {"role": [old, role]}
    if role == Role.NETWORK_MANAGER and not admin.all_connections:
        # A Network Manager has all connections; the old list is dropped, so that a
        # later change back to another role does not quietly bring it back.
        _store_scope(admin, None)
        changes["connections"] = [old_scope, ALL_CONNECTIONS]
    audit_record(
        actor=actor,
        action=AuditAction.ADMIN_CHANGE_ROLE,
        target=admin,
        changes=changes,
    )
    return admin


@transaction.atomic
def admin_change_connections(
    *, actor: Actor, admin: Admin, all_connections: bool, connection_ids: Iterable[int] = ()
) -> Admin:
    """Limit an admin to chosen connections, or give them all, present and future. For a
    Network Manager the list is ignored: they always have all."""
    require(actor, Permission.MANAGE_ADMINS)
    admin = (
        Admin.objects.select_for_update(of=("self",))
        .select_related("user", "organisation")
        .get(pk=admin.pk)
    )
    connections = connection_scope_clean(
        organisation=admin.organisation,
        role=admin.role,
        all_connections=all_connections,
        connection_ids=connection_ids,
    )
    old, new = _holder_scope(admin), scope_text(connections)
    if old == new and admin.all_connections == (connections is None):
        return admin
    _store_scope(admin, connections)
    if old != new:
        audit_record(
            actor=actor,
            action=AuditAction.ADMIN_CHANGE_CONNECTIONS,
            target=admin,
            changes={"connections": [old, new]},
        )
    return admin


@transaction.atomic
def admin_change_connection_alerts(*, actor: Actor, admin: Admin, alerts: str) -> Admin:
    """When an admin is e-mailed about connection requests waiting for a decision. Set
    by whoever manages the admins, or by the admin themself."""
    own = actor.user is not None and admin.user_id == actor.user.pk
    if not own:
        require(actor, Permission.MANAGE_ADMINS)
    if alerts not in ConnectionAlerts.values:
        raise ValidationError({"connection_alerts": _("Choose when to be alerted.")})
    admin = Admin.objects.select_for_update(of=("self",)).get(pk=admin.pk)
    if admin.organisation_id != actor.organisation.pk:
        raise ValidationError(_("This admin is not of your organisation."))
    old = admin.connection_alerts
    if old == alerts:
        return admin
    admin.connection_alerts = alerts
    admin.save(update_fields=["connection_alerts"])
    audit_record(
        actor=actor,
        action=AuditAction.ADMIN_CHANGE_CONNECTION_ALERTS,
        target=admin,
        changes={"connection_alerts": [old, alerts]},
    )
    return admin


@transaction.atomic
def admin_disable(*, actor: Actor, admin: Admin) -> Admin:
    """A disabled admin loses their admin rights at once. Someone who is nothing but this
    admin cannot log in any more (their open sessions end on their next request); a
    person who is also a driver or a platform operator keeps that (``EmailBackend``).
    An invitation not yet accepted is withdrawn: its link stops working."""
    require(actor, Permission.MANAGE_ADMINS)
    admin = (
        Admin.objects.select_for_update(of=("self",))
        .select_related("user", "organisation")
        .get(pk=admin.pk)
    )
    if actor.user is not None and admin.user_id == actor.user.pk:
        raise ValidationError(_("You cannot disable your own account."))
    if admin.status == AdminStatus.DISABLED:
        return admin
    _keep_a_network_manager(admin, disabling=True)
    old = admin.status
    admin.status = AdminStatus.DISABLED
    admin.disabled_at = timezone.now()
    admin.save(update_fields=["status", "disabled_at"])
    AdminInvitation.objects.filter(admin=admin, used_at=None, revoked_at=None).update(
        revoked_at=timezone.now()
    )
    audit_record(
        actor=actor,
        action=AuditAction.ADMIN_DISABLE,
        target=admin,
        changes={"status": [old, "disabled"]},
    )
    return admin


@transaction.atomic
def admin_enable(*, actor: Actor, admin: Admin) -> Admin:
    """Back to Active, or to Invited with a new link if they never accepted."""
    require(actor, Permission.MANAGE_ADMINS)
    admin = (
        Admin.objects.select_for_update(of=("self",))
        .select_related("user", "organisation")
        .get(pk=admin.pk)
    )
    if admin.status != AdminStatus.DISABLED:
        return admin
    new = AdminStatus.ACTIVE if admin.user_id is not None else AdminStatus.INVITED
    admin.status = new
    admin.disabled_at = None
    admin.save(update_fields=["status", "disabled_at"])
    audit_record(
        actor=actor,
        action=AuditAction.ADMIN_ENABLE,
        target=admin,
        changes={"status": ["disabled", new]},
    )
    if new == AdminStatus.INVITED:
        _send_invitation(actor, admin, _new_invitation(admin))
    return admin


# --- organisations ------------------------------------------------------------------


@transaction.atomic
def account_update(*, user: User, full_name: str, language: str) -> User:
    """What a user sets for themselves (their Account page): name and language."""
    user = User.objects.select_for_update().get(pk=user.pk)
    user.full_name = full_name.strip()
    user.language = language
    user.full_clean(exclude=["password"])
    user.save(update_fields=["full_name", "language"])
    return user


@transaction.atomic
def organisation_update(
    *,
    actor: Actor,
    name: str,
    currency: str,
    accounts_payable_email: str | None = None,
    require_two_factor: bool | None = None,
    default_language: str | None = None,
    time_zone: str | None = None,
) -> Organisation:
    """A None leaves that setting as it is (the payables address is a billing detail
    now: ``services.billing``)."""
    require(actor, Permission.MANAGE_SETTINGS)
    organisation = Organisation.objects.select_for_update().get(pk=actor.organisation.pk)
    fields = [
        "name",
        "currency",
        "accounts_payable_email",
        "require_two_factor",
        "default_language",
        "time_zone",
    ]
    before = snapshot(organisation, fields)
    organisation.name = name.strip()
    organisation.currency = currency.strip().upper()
    if default_language is not None:
        organisation.default_language = default_language
    if time_zone is not None:
        organisation.time_zone = time_zone
    if accounts_payable_email is not None:
        organisation.accounts_payable_email = accounts_payable_email.strip().lower()
    if require_two_factor is not None:
        organisation.require_two_factor = require_two_factor
    organisation.full_clean()
    organisation.save()
    changes = diff(before, snapshot(organisation, fields))
    if changes:
        audit_record(
            actor=actor,
            action=AuditAction.ORGANISATION_UPDATE,
            target=organisation,
            changes=changes,
        )
    return organisation


# --- API keys -----------------------------------------------------------------------


def api_key_parse(raw: str) -> tuple[str, str] | None:
    """Split ``evdms_<prefix>_<secret>`` into (prefix, whole key); None when malformed."""
    parts = raw.strip().split("_", 2)
    if len(parts) != 3 or parts[0] != API_KEY_PREFIX or len(parts[1]) != 12 or not parts[2]:
        return None
    return parts[1], raw.strip()


@transaction.atomic
def api_key_create(
    *,
    actor: Actor | None,
    organisation: Organisation,
    name: str,
    role: str,
    all_connections: bool = True,
    connection_ids: Iterable[int] = (),
) -> tuple[ApiKey, str]:
    """Create a key and return it with its plain text, which is never shown again.

    ``actor`` is None only for the provisioning command run by a platform operator
    (which checks the role against the organisation's kind itself) and for tests.
    The key acts on all connections, or on ``connection_ids`` only, as an admin would.
    """
    if actor is not None:
        require(actor, Permission.MANAGE_SETTINGS)
        if organisation.pk != actor.organisation.pk:
            raise ValidationError(_("A key can only be made for your own organisation."))
        refusal = role_refusal(organisation, role)
        if refusal:
            raise ValidationError({"role": refusal})
    connections = connection_scope_clean(
        organisation=organisation,
        role=role,
        all_connections=all_connections,
        connection_ids=connection_ids,
    )
    prefix = secrets.token_hex(6)
    plain = f"{API_KEY_PREFIX}_{prefix}_{secrets.token_urlsafe(32)}"
    key = ApiKey(
        organisation=organisation,
        name=name.strip(),
        role=role,
        prefix=prefix,
        key_hash=_sha256(plain),
        created_by=actor.user if actor else None,
        all_connections=connections is None,
    )
    key.full_clean()
    if ApiKey.objects.filter(organisation=organisation, name=key.name, revoked_at=None).exists():
        raise ValidationError({"name": _("A key with this name exists already.")})
    key.save()
    key.connections.set(connections or [])
    audit_record(
        actor=actor,
        action=AuditAction.API_KEY_CREATE,
        target=key,
        organisation=organisation,
        changes={
            "name": [None, key.name],
            "role": [None, role],
            "connections": [None, scope_text(connections)],
        },
    )
    return key, plain


@transaction.atomic
def api_key_revoke(*, actor: Actor, key: ApiKey) -> ApiKey:
    require(actor, Permission.MANAGE_SETTINGS)
    if ApiKey.objects.filter(pk=key.pk, revoked_at=None).update(revoked_at=timezone.now()):
        audit_record(actor=actor, action=AuditAction.API_KEY_REVOKE, target=key)
    key.refresh_from_db()
    return key


def api_key_authenticate(raw: str) -> ApiKey | None:
    """The live key for a presented bearer token, or None."""
    parsed = api_key_parse(raw)
    if parsed is None:
        return None
    prefix, plain = parsed
    key = ApiKey.objects.select_related("organisation").filter(prefix=prefix).first()
    if key is None or key.revoked_at is not None:
        return None
    if not secrets.compare_digest(key.key_hash, _sha256(plain)):
        return None
    # One write a minute at most: "last used" is for humans, not an access log.
    now = timezone.now()
    if key.last_used_at is None or now - key.last_used_at > timedelta(minutes=1):
        ApiKey.objects.filter(pk=key.pk).update(last_used_at=now)
    return key


# --- preferences --------------------------------------------------------------------


def list_columns_save(*, user: User, list_name: str, columns: list[str]) -> None:
    """Remember the columns a user shows in a list (not audited: a display choice)."""
    ListPreference.objects.update_or_create(
        user=user, list_name=list_name, defaults={"columns": columns}
    )


# --- password-reset requests --------------------------------------------------------


def _digest(kind: str, value: str) -> str:
    return salted_hmac(f"evdms.password-reset-throttle.{kind}", value).hexdigest()


@transaction.atomic
def password_reset_request_admit(*, email: str, client_ip: str) -> bool:
    """Whether a reset link may be sent for ``email`` to this client now; records the
    request when it may. Counted alike whether or not the address has an account."""
    now = timezone.now()
    since = now - settings.PASSWORD_RESET_LIMIT_WINDOW
    PasswordResetRequest.objects.filter(requested_at__lt=since).delete()
    # Counted under the address as Django's reset form matches it to an account (NFKC,
    # then case-folded): "voltleaſe" (long s) is Nadia's address there, so it must not
    # get a count of its own.
    address = _digest("address", unicodedata.normalize("NFKC", email.strip()).casefold())
    client = _digest("client", client_ip)
    recent = PasswordResetRequest.objects.filter(requested_at__gte=since)
    if (
        recent.filter(address_digest=address).count() >= settings.PASSWORD_RESET_LIMIT_PER_ADDRESS
        or recent.filter(client_digest=client).count() >= settings.PASSWORD_RESET_LIMIT_PER_CLIENT
    ):
        return False  # not recorded: a refused request does not extend the wait
    PasswordResetRequest.objects.create(
        address_digest=address, client_digest=client, requested_at=now
    )
    return True


# --- two-factor authentication (django-otp) -----------------------------------------


class CodeCheck(NamedTuple):
    """The outcome of checking a code: the device that accepted it, else when the next
    try is allowed (django-otp doubles the wait after each wrong code in a row)."""

    device: Device | None
    wait_until: datetime | None = None


def _audit_two_factor(user: User, action: AuditAction) -> None:
    """An admin's change shows in their organisation's history, on their admin page;
    an operator's is recorded under their own name."""
    actor = Actor.for_user(user)
    audit_record(
        actor=actor,
        by_user=None if actor else user,
        action=action,
        target=user.admin_or_none or user,
    )


RECOVERY_CODES = "Recovery codes"  # the name of the user's StaticDevice


def _recovery_codes_replace(user: User) -> list[str]:
    # The same device with new tokens: a session that logged in with a recovery code is
    # verified by this device, and would be logged out if it were replaced.
    device, _created = StaticDevice.objects.get_or_create(
        user=user, name=RECOVERY_CODES, defaults={"confirmed": True}
    )
    StaticDevice.objects.filter(user=user).exclude(pk=device.pk).delete()
    StaticToken.objects.filter(device=device).delete()
    codes = [StaticToken.random_token() for _ in range(settings.RECOVERY_CODE_COUNT)]
    StaticToken.objects.bulk_create(StaticToken(device=device, token=code) for code in codes)
    return codes


def _throttled(device: Device) -> CodeCheck | None:
    """Refused without a look at the code while django-otp makes the device wait."""
    allowed, details = device.verify_is_allowed()
    return None if allowed else CodeCheck(None, (details or {}).get("locked_until"))


def _plain_code(code: str) -> str:
    """As people type codes: with spaces or a dash, recovery codes in capitals."""
    return "".join(code.split()).replace("-", "").lower()


def is_code_shaped(value: str) -> bool:
    """A code from the app (6 digits) or a recovery code (8 of a-z, 2-7), which no
    password can be: passwords have at least 10 characters."""
    return re.fullmatch(r"\d{6}|[a-z2-7]{8}", _plain_code(value)) is not None


@transaction.atomic
def two_factor_begin(*, user: User) -> TOTPDevice:
    """A new secret for an authenticator app, not yet in force: it counts once the
    user has shown a code made with it (``two_factor_enable``)."""
    if has_two_factor(user):
        raise ValidationError(_("Two-factor authentication is already on."))
    TOTPDevice.objects.filter(user=user, confirmed=False).delete()
    return TOTPDevice.objects.create(user=user, name="Authenticator app", confirmed=False)


@transaction.atomic
def two_factor_enable(*, user: User, code: str) -> tuple[CodeCheck, list[str]]:
    """Put the app being set up in force when ``code`` was made with it; returns the
    check and the new recovery codes (empty when the code was wrong)."""
    device = TOTPDevice.objects.select_for_update().filter(user=user, confirmed=False).first()
    if device is None:
        raise ValidationError(_("Start the set-up again: no authenticator app is being set up."))
    waiting = _throttled(device)
    if waiting is not None:
        return waiting, []
    # A wrong code must still count against the device, so no exception from here on:
    # it would roll the count back.
    if not device.verify_token(_plain_code(code)):
        return CodeCheck(None), []
    device.confirmed = True
    device.save(update_fields=["confirmed"])
    codes = _recovery_codes_replace(user)
    _audit_two_factor(user, AuditAction.TWO_FACTOR_ENABLE)
    return CodeCheck(device), codes


def two_factor_check(*, user: User, code: str) -> CodeCheck:
    """Check a code from the app (six digits) or a recovery code, which is used up."""
    code = _plain_code(code)
    device: Device | None
    if code.isdigit():
        device = TOTPDevice.objects.filter(user=user, confirmed=True).first()
    else:
        device = StaticDevice.objects.filter(user=user, confirmed=True).first()
    if device is None or not code:
        return CodeCheck(None)
    return _throttled(device) or CodeCheck(otp_verify_token(user, device.persistent_id, code))


@transaction.atomic
def recovery_codes_renew(*, user: User) -> list[str]:
    """New recovery codes; the old ones stop working."""
    if not has_two_factor(user):
        raise ValidationError(_("Set up two-factor authentication first."))
    codes = _recovery_codes_replace(user)
    _audit_two_factor(user, AuditAction.TWO_FACTOR_RECOVERY_CODES_RENEW)
    return codes


@transaction.atomic
def two_factor_disable(*, user: User) -> None:
    TOTPDevice.objects.filter(user=user).delete()
    StaticDevice.objects.filter(user=user).delete()
    _audit_two_factor(user, AuditAction.TWO_FACTOR_DISABLE)
