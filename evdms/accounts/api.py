from __future__ import annotations

from ninja import Router, Status

from evdms.accounts import selectors, services
from evdms.accounts.access import get_admin_for
from evdms.accounts.models import Admin, Role
from evdms.accounts.permissions import Actor, Permission
from evdms.accounts.schemas import (
    AdminInviteIn,
    AdminOut,
    AdminPatchIn,
    MeOut,
    OrganisationOut,
)
from evdms.ui.api import requires
from evdms.ui.http import ApiRequest

router = Router(tags=["organisation"])


def _admin_out(admin: Admin) -> AdminOut:
    # An invitation shows what the inviter typed; an account's own name and activity
    # only once its owner accepted.
    return AdminOut(
        id=admin.pk,
        email=admin.email,
        full_name=admin.full_name,
        role=Role(admin.role),
        status=admin.status,
        created_at=admin.created_at,
        last_login=admin.last_login,
    )


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
        actor=actor, email=payload.email, full_name=payload.full_name, role=payload.role
    )
    return Status(201, _admin_out(admin))


@router.get("/admins/{admin_id}", response=AdminOut, auth=requires(Permission.MANAGE_ADMINS))
def admins_read(request: ApiRequest, admin_id: int) -> AdminOut:
    actor: Actor = request.auth
    return _admin_out(get_admin_for(actor, admin_id))


@router.patch("/admins/{admin_id}", response=AdminOut, auth=requires(Permission.MANAGE_ADMINS))
def admins_update(request: ApiRequest, admin_id: int, payload: AdminPatchIn) -> AdminOut:
    """Change an admin's role, or disable / re-enable them."""
    actor: Actor = request.auth
    admin = get_admin_for(actor, admin_id)
    if payload.role is not None:
        admin = services.admin_change_role(actor=actor, admin=admin, role=payload.role)
    if payload.status == "disabled":
        admin = services.admin_disable(actor=actor, admin=admin)
    elif payload.status == "active":
        admin = services.admin_enable(actor=actor, admin=admin)
    return _admin_out(admin)
