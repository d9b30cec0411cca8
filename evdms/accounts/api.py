from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import transaction
from ninja import Router, Status
from ninja.errors import HttpError

from evdms.accounts import selectors, services
from evdms.accounts.access import get_admin_for
from evdms.accounts.models import Admin, ConnectionAlerts, Grant, Organisation, Role, User
from evdms.accounts.permissions import Actor, Permission
from evdms.accounts.schemas import (
    AdminInviteIn,
    AdminOut,
    AdminPatchIn,
    GrantConnectionOut,
    GrantIn,
    GrantOrganisationOut,
    GrantOut,
    GrantsOut,
    MeOut,
    OrganisationOut,
)
from evdms.accounts.services.grants import GrantGone, grant_create, grant_revoke
from evdms.ui.api import requires
from evdms.ui.http import ApiRequest

router = Router(tags=["organisation"])


def _admin_out(admin: Admin) -> AdminOut:
    # An invitation shows what the inviter typed; an account's own name and activity
    # only once its owner accepted.
    everything = selectors.has_all_connections(admin)
    return AdminOut(
        id=admin.pk,
        email=admin.email,
        full_name=admin.full_name,
        role=Role(admin.role),
        status=admin.status,
        created_at=admin.created_at,
        last_login=admin.last_login,
        all_connections=everything,
        connection_ids=[] if everything else sorted(c.pk for c in admin.connections.all()),
        connection_alerts=ConnectionAlerts(admin.connection_alerts),
    )


def _scope(all_connections: bool | None, connection_ids: list[int] | None) -> bool:
    """Whether the payload asks for all connections. A list alone means only those; a
    list with ``all_connections: true`` is a contradiction, refused rather than
    guessed (guessing "all" would give more than the client asked for)."""
    if all_connections is None:
        return connection_ids is None
    if all_connections and connection_ids:
        raise ValidationError(
            {"connection_ids": "Leave this out for all connections, or set all_connections false."}
        )
    return all_connections


@router.get("/me", response=MeOut, auth=requires(Permission.VIEW_DASHBOARD))
def me(request: ApiRequest) -> MeOut:
    """The organisation and role this key acts for."""
    actor: Actor = request.auth
    return MeOut(
        organisation=OrganisationOut.model_validate(actor.organisation),
        role=Role(actor.role),
        key_name=actor.api_key.name if actor.api_key else None,
    )


@router.get("/admins", response=list[AdminOut], auth=requires(Permission.MANAGE_ADMINS))
def admins_list(request: ApiRequest) -> list[AdminOut]:
    actor: Actor = request.auth
    return [_admin_out(a) for a in selectors.admins_of(actor.organisation)]


@router.post("/admins", response={201: AdminOut}, auth=requires(Permission.MANAGE_ADMINS))
def admins_invite(request: ApiRequest, payload: AdminInviteIn) -> Status[AdminOut]:
    """Invite an address to be an admin: it is e-mailed a link, and the admin is
    ``invited`` until its owner accepts (the answer is the same whether or not the
    address has an account)."""
    actor: Actor = request.auth
    admin = services.admin_invite(
        actor=actor,
        email=payload.email,
        full_name=payload.full_name,
        role=payload.role,
        all_connections=_scope(payload.all_connections, payload.connection_ids),
        connection_ids=payload.connection_ids or [],
        connection_alerts=payload.connection_alerts,
    )
    return Status(201, _admin_out(admin))


@router.get("/admins/{admin_id}", response=AdminOut, auth=requires(Permission.MANAGE_ADMINS))
def admins_read(request: ApiRequest, admin_id: int) -> AdminOut:
    actor: Actor = request.auth
    return _admin_out(get_admin_for(actor, admin_id))


@router.patch("/admins/{admin_id}", response=AdminOut, auth=requires(Permission.MANAGE_ADMINS))
def admins_update(request: ApiRequest, admin_id: int, payload: AdminPatchIn) -> AdminOut:
    """Change an admin's role, connections or connection alerts, or disable / re-enable
    them; all of it or nothing (a refused field leaves the others as they were)."""
    actor: Actor = request.auth
    admin = get_admin_for(actor, admin_id)
    with transaction.atomic():
        if payload.role is not None:
            admin = services.admin_change_role(actor=actor, admin=admin, role=payload.role)
        if payload.all_connections is not None or payload.connection_ids is not None:
            admin = services.admin_change_connections(
                actor=actor,
                admin=admin,
                all_connections=_scope(payload.all_connections, payload.connection_ids),
                connection_ids=payload.connection_ids or [],
            )
        if payload.connection_alerts is not None:
            admin = services.admin_change_connection_alerts(
                actor=actor, admin=admin, alerts=payload.connection_alerts
            )
        if payload.status == "disabled":
            admin = services.admin_disable(actor=actor, admin=admin)
        elif payload.status == "active":
            admin = services.admin_enable(actor=actor, admin=admin)
    return _admin_out(admin)


def _grant_organisation(organisation: Organisation) -> GrantOrganisationOut:
    return GrantOrganisationOut(name=organisation.name, organisation_id=organisation.public_id)


def _grant_out(grant: Grant, *, given: bool) -> GrantOut:
    def who(field: str) -> str | None:
        # Who in the grantor acted is the grantor's business: not read for the grantee.
        user: User | None = getattr(grant, field) if given else None
        return user.get_full_name() if user else None

    return GrantOut(
        id=grant.pk,
        grantor=_grant_organisation(grant.grantor),
        grantee=_grant_organisation(grant.grantee),
        rights=grant.rights,
        all_connections=grant.all_connections,
        connections=[
            GrantConnectionOut(id=c.pk, name=c.name)
            for c in sorted(grant.connections.all(), key=lambda c: (c.name, c.pk))
        ],
        description=grant.description,
        created_at=grant.created_at,
        created_by=who("created_by"),
        revoked_at=grant.revoked_at,
        revoked_by=who("revoked_by"),
    )


@router.get("/grants", response=GrantsOut, auth=requires(Permission.MANAGE_GRANTS))
def grants_list(request: ApiRequest) -> GrantsOut:
    """The grants your organisation gave and received, revoked ones too, newest first."""
    organisation = request.auth.organisation
    return GrantsOut(
        given=[_grant_out(g, given=True) for g in selectors.grants_given_by(organisation)],
        received=[_grant_out(g, given=False) for g in selectors.grants_received_by(organisation)],
    )


@router.post("/grants", response={201: GrantOut}, auth=requires(Permission.MANAGE_GRANTS))
def grants_create(request: ApiRequest, payload: GrantIn) -> Status[GrantOut]:
    """Grant rights to another organisation, found by its Organisation ID (or its name,
    if it granted you rights), on all your connections or on chosen ones. Both
    organisations' Network Managers are e-mailed."""
    grant = grant_create(
        actor=request.auth,
        grantee=payload.grantee,
        rights=payload.rights,
        all_connections=payload.all_connections,
        connections=payload.connections,
        description=payload.description,
    )
    return Status(201, _grant_out(grant, given=True))


@router.post(
    "/grants/{grant_id}/revoke", response=GrantOut, auth=requires(Permission.MANAGE_GRANTS)
)
def grants_revoke(request: ApiRequest, grant_id: int) -> GrantOut:
    """Revoke a grant your organisation gave; the grantee loses its rights at once. A
    grant revoked already, or another organisation's, is a 404."""
    try:
        grant = grant_revoke(actor=request.auth, grant_id=grant_id)
    except GrantGone as gone:
        raise HttpError(404, str(gone)) from gone
    return _grant_out(grant, given=True)
