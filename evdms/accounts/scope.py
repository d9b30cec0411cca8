"""What an actor may act on, for one permission: which organisations' connections (all
of them, present and future) and which chosen connections.

Two things narrow it beyond the role (``evdms.accounts.permissions``):

- **grants**: another organisation's connections are reached only through a grant that
  gives the right the permission needs, on all its connections or on chosen ones;
  permissions no right gives (admins, settings, audit, invoices) stay inside the
  actor's own organisation;
- **the actor's connection scope**: an admin or API key limited to chosen connections
  reaches only those (of its own organisation, or of a grantor where a grant allows).

Every tenant-scoped look-up (the ``access`` modules) filters through a ``Reach``, so an
object outside it is a 404 exactly like a missing one. A reach is computed once per
actor and permission (a request builds its actor anew, so a revoked grant ends access
on the next request).
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Exists, OuterRef, Q

from evdms.accounts.models import Grant, GrantRight
from evdms.accounts.permissions import Actor, Permission

# The right of a grant each permission needs on another organisation's connections.
RIGHT_FOR: dict[Permission, GrantRight] = {
    Permission.MANAGE_DRIVERS: GrantRight.MANAGE_DRIVERS,
    Permission.VIEW_REPORTS: GrantRight.VIEW_TRANSACTIONS,
    Permission.VIEW_INSTALLATIONS: GrantRight.VIEW_INSTALLATIONS,
    Permission.EDIT_CONNECTIONS: GrantRight.EDIT_CONNECTIONS,
}
# Seeing a connection (its page, the list, the dashboard's figures) comes with any right
# on it: each page then shows only what the rights allow.
ANY_RIGHT = frozenset({Permission.VIEW_CONNECTIONS, Permission.VIEW_DASHBOARD})


@dataclass(frozen=True)
class Reach:
    """Every connection of ``organisations``, and the chosen ``connections`` (whose
    organisations are ``connection_organisations``)."""

    organisations: frozenset[int] = frozenset()
    connections: frozenset[int] = frozenset()
    connection_organisations: frozenset[int] = frozenset()

    def __bool__(self) -> bool:
        return bool(self.organisations or self.connections)

    @property
    def organisation_ids(self) -> frozenset[int]:
        """Every organisation with something in reach."""
        return self.organisations | self.connection_organisations

    def covers(self, organisation_id: int | None, connection_id: int | None) -> bool:
        return organisation_id in self.organisations or connection_id in self.connections

    def whole(self, organisation_id: int) -> bool:
        """Whether all of this organisation's connections are in reach (also future ones:
        what creating a connection for it needs)."""
        return organisation_id in self.organisations

    def q(self, organisation: str = "organisation_id", connection: str = "connection_id") -> Q:
        """Rows whose organisation is wholly in reach, or whose connection is chosen."""
        if not self:
            return Q(pk__in=[])
        condition = Q()
        if self.organisations:
            condition |= Q(**{f"{organisation}__in": sorted(self.organisations)})
        if self.connections:
            condition |= Q(**{f"{connection}__in": sorted(self.connections)})
        return condition

    def q_for_driver(self, organisation: str = "organisation_id", driver: str = "driver_id") -> Q:
        """Rows tied to an organisation and a driver but to no connection (chargers,
        tokens): in reach with the organisation, or when the driver is a member (pending or
        connected) of the organisation through a chosen connection."""
        if not self:
            return Q(pk__in=[])
        from evdms.enrolment.models import LIVE_STATUSES, Membership

        condition = Q()
        if self.organisations:
            condition |= Q(**{f"{organisation}__in": sorted(self.organisations)})
        if self.connections:
            condition |= Q(
                Exists(
                    Membership.objects.filter(
                        driver_id=OuterRef(driver),
                        organisation_id=OuterRef(organisation),
                        connection_id__in=sorted(self.connections),
                        # A driver who left the connection leaves its reach too.
                        status__in=LIVE_STATUSES,
                    )
                )
            )
        return condition


NOTHING = Reach()


def reach(
    actor: Actor,
    permission: Permission | None = None,
    *,
    default: Permission = Permission.VIEW_CONNECTIONS,
) -> Reach:
    """What ``actor`` may act on with ``permission`` (nothing when its role lacks it).

    Without ``permission``: the permission of the page or operation being served (so a
    look-up on a page that needs *view transactions* reaches what a grant of that right
    allows), else ``default``.
    """
    permission = permission or actor.acting_as or default
    cache = actor.reach_cache
    if permission not in cache:
        cache[permission] = _compute(actor, permission) if actor.can(permission) else NOTHING
    found: Reach = cache[permission]
    return found


def _compute(actor: Actor, permission: Permission) -> Reach:
    from evdms.connections.models import Connection

    own = actor.organisation.pk
    whole: set[int] = {own}
    chosen: set[int] = set()
    if permission in RIGHT_FOR or permission in ANY_RIGHT:
        grants = Grant.objects.filter(grantee_id=own, revoked_at__isnull=True)
        if permission in RIGHT_FOR:
            grants = grants.filter(**{Grant.field_of(RIGHT_FOR[permission]): True})
        for grant in grants.prefetch_related("connections").only(
            "pk", "grantor_id", "all_connections"
        ):
            if grant.all_connections:
                whole.add(grant.grantor_id)
            else:
                chosen.update(c.pk for c in grant.connections.all())
    limited = actor.connection_ids
    rows = Connection.objects.filter(pk__in=sorted(chosen if limited is None else limited))
    pairs = list(rows.values_list("pk", "organisation_id"))
    if limited is None:
        return Reach(
            organisations=frozenset(whole),
            connections=frozenset(pk for pk, _ in pairs),
            connection_organisations=frozenset(org for _, org in pairs),
        )
    # A limited actor keeps, of its chosen connections, those the rest would reach.
    kept = [(pk, org) for pk, org in pairs if org in whole or pk in chosen]
    return Reach(
        connections=frozenset(pk for pk, _ in kept),
        connection_organisations=frozenset(org for _, org in kept),
    )


def may(actor: Actor, permission: Permission, connection: object) -> bool:
    """Whether ``actor`` may act with ``permission`` on this connection (what a page
    asks before it offers a button)."""
    organisation_id = getattr(connection, "organisation_id", None)
    return reach(actor, permission).covers(organisation_id, getattr(connection, "pk", None))
