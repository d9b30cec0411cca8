"""Granting rights to another organisation, and revoking them (the Grant Rights page and
``/api/v1/grants``). What a grant then lets the grantee reach is
``evdms.accounts.scope``'s business; this module only writes grants.

An organisation is found by its Organisation ID, or by its name when it has granted the
actor's organisation rights itself (``selectors.find_grantee``). Whatever the reason an
organisation cannot receive a grant (no such ID, an installer company, the platform
operator) the answer is the same, so nobody learns which IDs exist.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.formats import date_format
from django.utils.functional import lazy
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from evdms.accounts.models import Grant, GrantRight, Organisation
from evdms.accounts.permissions import Actor, Permission, require
from evdms.accounts.selectors import active_network_managers, find_grantee
from evdms.audit.models import AuditAction
from evdms.audit.services import audit_record
from evdms.notifications.services import email_send
from evdms.ui.language import user_language

# Marked for extraction, translated where used (``_(NO_RIGHT)``): plain English here.
NO_SUCH_GRANTEE = gettext_noop(
    "No organisation with this Organisation ID or name can receive your grant."
)
NOT_TO_YOURSELF = gettext_noop("You cannot grant rights to your own organisation.")
NO_RIGHT = gettext_noop("Choose at least one right.")
NO_CONNECTION = gettext_noop("Choose at least one connection, or grant on all connections.")
NO_SUCH_CONNECTION = gettext_noop("Choose connections of your organisation.")
CONNECTIONS_WITH_ALL = gettext_noop(
    "Leave the connections out when granting on all connections, present and future."
)
GRANT_GONE = gettext_noop("This grant does not exist or was revoked already.")


class GrantGone(Exception):
    """The grant to revoke is not one the actor's organisation gave, or it was revoked
    already. One exception for both: another organisation's grant looks missing."""

    def __init__(self) -> None:
        super().__init__(_(GRANT_GONE))


def rights_text(rights: Iterable[str]) -> str:
    return ", ".join(str(GrantRight(r).label) for r in rights)


def scope_text(grant: Grant) -> str:
    """The grant's connections in words, in the active language: "all connections of
    Voltlease, present and future". The audit log stores them in English
    (``_audit_english``)."""
    if grant.all_connections:
        return _("all connections of %(organisation)s, present and future") % {
            "organisation": grant.grantor.name
        }
    names = sorted(c.name for c in grant.connections.all())
    return _("these connections of %(organisation)s: %(connections)s") % {
        "organisation": grant.grantor.name,
        "connections": ", ".join(names),
    }


def _lazy_text(make: Callable[[Grant], str], grant: Grant) -> str:
    """``make(grant)`` when it is read, in the language active then (an e-mail's)."""
    return lazy(make, str)(grant)


def _clean_rights(rights: Iterable[str]) -> list[GrantRight] | str:
    chosen: list[GrantRight] = []
    for value in rights:
        if value not in GrantRight.values:
            names = rights_text(GrantRight)
            return _("“%(value)s” is not a right a grant gives. Choose from: %(rights)s.") % {
                "value": value,
                "rights": names,
            }
        if GrantRight(value) not in chosen:
            chosen.append(GrantRight(value))
    if not chosen:
        return _(NO_RIGHT)
    # In the order the page lists them, whatever order they came in.
    return [r for r in GrantRight if r in chosen]


def _overlap(
    existing: Grant, rights: Sequence[GrantRight], all_connections: bool, connection_ids: set[int]
) -> list[GrantRight]:
    """The rights of ``rights`` that the standing grant ``existing`` already gives on
    some of the same connections."""
    shared = (
        all_connections
        or existing.all_connections
        or bool(connection_ids & {c.pk for c in existing.connections.all()})
    )
    return [r for r in rights if shared and getattr(existing, Grant.field_of(r))]


def _twice(
    grantor: Organisation,
    grantee: Organisation,
    rights: Sequence[GrantRight],
    all_connections: bool,
    connection_ids: set[int],
) -> str | None:
    """Why the new grant would give a right twice (None when it would not): a standing
    grant to the same organisation gives one of its rights on a connection it covers."""
    standing = Grant.objects.filter(
        grantor=grantor, grantee=grantee, revoked_at__isnull=True
    ).prefetch_related("connections")
    for existing in standing.order_by("created_at", "pk"):
        twice = _overlap(existing, rights, all_connections, connection_ids)
        if twice:
            words = {
                "organisation": grantee.name,
                "rights": rights_text(twice),
                "scope": scope_text(existing),
                "date": date_format(timezone.localtime(existing.created_at), "DATE_FORMAT"),
                "description": existing.description,
            }
            if existing.description:
                message = _(
                    "%(organisation)s already has %(rights)s on %(scope)s through your grant "
                    "of %(date)s (“%(description)s”). Revoke that grant first, or choose "
                    "other rights or connections."
                )
            else:
                message = _(
                    "%(organisation)s already has %(rights)s on %(scope)s through your grant "
                    "of %(date)s. Revoke that grant first, or choose other rights or "
                    "connections."
                )
            return message % words
    return None


def _mail(grant: Grant, *, template: str, actor: Actor) -> None:
    """Tell every active Network Manager of both organisations, one e-mail for each
    organisation (neither sees the other's addresses). The grantor's own e-mail says
    who acted; the grantee's names only the organisation."""
    context = {
        "grantor": grant.grantor.name,
        "grantee": grant.grantee.name,
        # Lazy: read in each e-mail's language as it is rendered.
        "rights": [r.label for r in grant.rights],
        "scope": _lazy_text(scope_text, grant),
        "description": grant.description,
        "link": settings.SITE_URL + reverse("accounts:grants"),
    }
    for organisation, by in ((grant.grantor, actor.label), (grant.grantee, None)):
        # One e-mail per language the organisation's Network Managers read.
        by_language: dict[str, list[str]] = {}
        for manager in active_network_managers(organisation).select_related("user"):
            if manager.user is not None:
                language = user_language(manager.user, organisation)
                by_language.setdefault(language, []).append(manager.user.email)
        for language, addresses in sorted(by_language.items()):
            email_send(
                to=sorted(addresses),
                template=template,
                context={**context, "by": by},
                organisation=organisation,
                language=language,
            )


@transaction.atomic
def grant_create(
    *,
    actor: Actor,
    grantee: str,
    rights: Iterable[str],
    all_connections: bool,
    connections: Iterable[int] = (),
    description: str = "",
) -> Grant:
    """Grant ``rights`` on all the actor's organisation's connections, present and
    future, or on the chosen ``connections`` (ids), to the organisation whose
    Organisation ID or name is ``grantee`` (as typed). Every refusal is a
    ValidationError naming the field; nothing is written then."""
    require(actor, Permission.MANAGE_GRANTS)
    # Grants of one grantor are made one at a time, so two at once cannot both pass the
    # check that no right is given twice.
    grantor = Organisation.objects.select_for_update().get(pk=actor.organisation.pk)
    errors: dict[str, str] = {}

    receiver = find_grantee(actor, grantee)
    if receiver is None:
        errors["grantee"] = _(NO_SUCH_GRANTEE)
    elif receiver.pk == grantor.pk:
        errors["grantee"] = _(NOT_TO_YOURSELF)

    chosen_rights = _clean_rights(rights)
    if isinstance(chosen_rights, str):
        errors["rights"] = chosen_rights

    from evdms.connections.models import Connection

    connection_ids: set[int] = set()
    unreadable = False
    for value in connections:
        try:
            connection_ids.add(int(value))
        except (TypeError, ValueError):
            unreadable = True
    chosen_connections: list[Connection] = []
    if all_connections and (connection_ids or unreadable):
        errors["connections"] = _(CONNECTIONS_WITH_ALL)
    elif not all_connections:
        # Another organisation's connection is answered like a missing one.
        chosen_connections = list(
            Connection.objects.filter(pk__in=sorted(connection_ids), organisation=grantor)
        )
        if not connection_ids and not unreadable:
            errors["connections"] = _(NO_CONNECTION)
        elif unreadable or len(chosen_connections) != len(connection_ids):
            errors["connections"] = _(NO_SUCH_CONNECTION)

    description = description.strip()
    if errors:
        raise ValidationError(errors)
    assert receiver is not None and not isinstance(chosen_rights, str)

    twice = _twice(grantor, receiver, chosen_rights, all_connections, connection_ids)
    if twice:
        raise ValidationError({"rights": twice})

    grant = Grant(
        grantor=grantor,
        grantee=receiver,
        all_connections=all_connections,
        description=description,
        created_by=actor.user,
        **{Grant.field_of(r): True for r in chosen_rights},
    )
    grant.full_clean()
    grant.save()
    grant.connections.set(chosen_connections)
    # The audit entry's data is stored in English, whatever the actor's page is in
    # (the history page translates its labels, never its data).
    with translation.override(settings.LANGUAGE_CODE):
        changes: dict[str, list[object]] = {
            "grantee": [None, f"{receiver.name} ({receiver.public_id})"],
            "rights": [None, [str(r.label) for r in chosen_rights]],
            "connections": [None, scope_text(grant)],
            "description": [None, description],
        }
    audit_record(
        actor=actor,
        action=AuditAction.GRANT_CREATE,
        target=grant,
        organisation=grantor,
        changes=changes,
    )
    _mail(grant, template="grant_created", actor=actor)
    return grant


@transaction.atomic
def grant_revoke(*, actor: Actor, grant_id: int) -> Grant:
    """Revoke a grant the actor's organisation gave; the grantee loses its rights on
    its next request. Raises GrantGone for a grant of another organisation, a missing
    one and one revoked already alike (two Network Managers revoking at once: one wins,
    the other is told)."""
    require(actor, Permission.MANAGE_GRANTS)
    now = timezone.now()
    won = Grant.objects.filter(
        pk=grant_id, grantor=actor.organisation, revoked_at__isnull=True
    ).update(revoked_at=now, revoked_by=actor.user)
    if not won:
        raise GrantGone
    grant = Grant.objects.select_related("grantor", "grantee").get(pk=grant_id)
    with translation.override(settings.LANGUAGE_CODE):  # stored in English, as above
        changes: dict[str, list[object]] = {
            "grantee": [f"{grant.grantee.name} ({grant.grantee.public_id})", None],
            "rights": [[str(r.label) for r in grant.rights], None],
            "revoked_at": [None, now],
        }
    audit_record(
        actor=actor,
        action=AuditAction.GRANT_REVOKE,
        target=grant,
        organisation=grant.grantor,
        changes=changes,
    )
    _mail(grant, template="grant_revoked", actor=actor)
    return grant
