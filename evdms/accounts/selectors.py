from __future__ import annotations

import re
from typing import TYPE_CHECKING

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.utils.translation import gettext as _
from django.utils.translation import pgettext
from django_otp.plugins.otp_static.models import StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from evdms.accounts.models import (
    Admin,
    AdminStatus,
    ApiKey,
    Grant,
    ListPreference,
    Organisation,
    OrganisationKind,
    Role,
    User,
    managing_role,
)

if TYPE_CHECKING:
    from evdms.accounts.permissions import Actor
    from evdms.connections.models import Connection


def admins_of(organisation: Organisation) -> QuerySet[Admin]:
    """With ``two_factor``: whether the admin logs in with an authenticator app."""
    return (
        Admin.objects.filter(organisation=organisation)
        .select_related("user")
        .prefetch_related("connections")
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
    return (
        ApiKey.objects.filter(organisation=organisation)
        .prefetch_related("connections")
        .order_by("revoked_at", "-created_at")
    )


# --- connection scope of admins and API keys -----------------------------------------


def connections_actable_by(organisation: Organisation) -> QuerySet[Connection]:
    """The connections an admin or API key of ``organisation`` may be limited to: its own,
    and those of organisations that granted it rights (every connection of the grantor
    under a grant on all connections, else the grant's chosen ones), whatever the right.
    What each role then does on them is ``evdms.accounts.scope``'s to say."""
    from evdms.connections.models import Connection

    grants = Grant.objects.filter(grantee=organisation, revoked_at__isnull=True)
    whole = grants.filter(all_connections=True).values("grantor_id")
    chosen = Grant.connections.through.objects.filter(
        grant__in=grants.filter(all_connections=False)
    ).values("connection_id")
    return (
        Connection.objects.filter(
            Q(organisation=organisation) | Q(organisation__in=whole) | Q(pk__in=chosen)
        )
        .select_related("organisation")
        .order_by("organisation__name", "name", "pk")
    )


def connection_label(connection: Connection, organisation: Organisation) -> str:
    """A connection as a list of choices names it: another organisation's with that
    organisation's name, so two connections of one name can be told apart."""
    if connection.organisation_id == organisation.pk:
        return connection.name
    return f"{connection.name} ({connection.organisation.name})"


def has_all_connections(holder: Admin | ApiKey) -> bool:
    """Whether an admin or API key acts on all connections (a Network Manager always)."""
    return holder.all_connections or holder.role == Role.NETWORK_MANAGER


SCOPE_NAMES_SHOWN = 3


def scope_label(holder: Admin | ApiKey) -> str:
    """ "All" or the chosen connections' names, the first few and how many more, for a
    list's column (reads ``connections`` prefetched by ``admins_of`` / ``api_keys_of``)."""
    if has_all_connections(holder):
        return pgettext("connections", "All")
    names = sorted(c.name for c in holder.connections.all())
    if not names:
        return pgettext("connections", "None")
    shown = ", ".join(names[:SCOPE_NAMES_SHOWN])
    more = len(names) - SCOPE_NAMES_SHOWN
    if more <= 0:
        return shown
    return _("%(names)s and %(more)s more") % {"names": shown, "more": more}


# --- grants between organisations ----------------------------------------------------

# Organisations that never receive a grant: an installer company works jobs it is
# assigned (evdms.installations), and the platform operator reaches everything already.
NEVER_GRANTEES = (OrganisationKind.INSTALLER, OrganisationKind.OPERATOR)

# The Organisation ID's body, as people type it: Crockford's base32 reads O as 0 and
# I and L as 1 (none of them is in the alphabet), in any case, with or without dashes.
_ID_BODY = re.compile(r"[0-9A-HJKMNP-TV-Z]{10}")
_TYPED_ALIKE = str.maketrans("OIL", "011")


def organisation_id_of(text: str) -> str | None:
    """``text`` as a stored Organisation ID ("ORG-XXXXX-XXXXX"), or None when it cannot
    be one. Spaces, dashes and case do not matter; neither does the "ORG" prefix."""
    compact = re.sub(r"[\s\-\u2010-\u2015_.]", "", text).upper()
    if len(compact) == 13 and compact.startswith("ORG"):
        compact = compact[3:]
    compact = compact.translate(_TYPED_ALIKE)
    if not _ID_BODY.fullmatch(compact):
        return None
    return f"ORG-{compact[:5]}-{compact[5:]}"


def grantors_of(organisation: Organisation) -> QuerySet[Organisation]:
    """The organisations whose grant to ``organisation`` stands (not revoked)."""
    return Organisation.objects.filter(
        grants_given__grantee=organisation, grants_given__revoked_at__isnull=True
    ).distinct()


def find_grantee(actor: Actor, text: str) -> Organisation | None:
    """The organisation the actor means to grant rights to, as typed on the Grant
    Rights page or in the API: its Organisation ID, or its exact name (any case) when it
    has itself granted the actor's organisation rights, so a name reveals nothing the
    actor did not know. The actor's own organisation is answered (the service refuses
    it with its own words); an installer company or the platform operator is not: they
    never receive grants. None whenever nothing can receive the grant: the caller says
    the same then whatever the reason, so nobody learns which IDs exist.

    Raises ValidationError when a name is that of several grantors (only the actor's
    own grantors are told apart, by their IDs)."""
    own = actor.organisation
    public_id = organisation_id_of(text)
    if public_id is not None:
        if public_id == own.public_id:
            return own
        found = (
            Organisation.objects.exclude(kind__in=NEVER_GRANTEES)
            .filter(public_id=public_id)
            .first()
        )
        # A ten-letter name ("Rival Lease") can read as an ID too: the name's turn next.
        if found is not None:
            return found
    name = " ".join(text.split())
    if not name:
        return None
    if name.casefold() == " ".join(own.name.split()).casefold():
        return own
    # Compared in Python: SQLite's LIKE folds the case of ASCII letters only.
    named = [
        o
        for o in grantors_of(own).exclude(kind__in=NEVER_GRANTEES).order_by("pk")
        if " ".join(o.name.split()).casefold() == name.casefold()
    ]
    if len(named) > 1:
        raise ValidationError(
            {
                "grantee": _(
                    "Several organisations of this name granted you rights: type the "
                    "Organisation ID of the one you mean."
                )
            }
        )
    return named[0] if named else None


def own_connections(organisation: Organisation) -> list[tuple[int, str]]:
    """(id, name) of the organisation's own connections, by name: what it can grant on."""
    from evdms.connections.models import Connection

    return list(
        Connection.objects.filter(organisation=organisation)
        .order_by("name", "pk")
        .values_list("pk", "name")
    )


def grants_given_by(organisation: Organisation) -> QuerySet[Grant]:
    """Every grant the organisation gave, newest first; with the grantee, the people
    and the chosen connections in a fixed number of queries."""
    return (
        Grant.objects.filter(grantor=organisation)
        .select_related("grantor", "grantee", "created_by", "revoked_by")
        .prefetch_related("connections")
        .order_by("-created_at", "-pk")
    )


def grants_received_by(organisation: Organisation) -> QuerySet[Grant]:
    """Every grant the organisation received, newest first (the grantor's people are
    not loaded: who acted inside the grantor is the grantor's business)."""
    return (
        Grant.objects.filter(grantee=organisation)
        .select_related("grantor", "grantee")
        .prefetch_related("connections")
        .order_by("-created_at", "-pk")
    )


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
