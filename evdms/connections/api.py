from __future__ import annotations

from typing import Any

from django.urls import reverse
from ninja import File, Router, Status
from ninja.files import UploadedFile

from evdms.accounts.permissions import Actor, Permission
from evdms.connections import listing, services
from evdms.connections.access import connections_for, get_connection_for
from evdms.connections.models import Connection
from evdms.connections.schemas import ConnectionIn, ConnectionOut, ConnectionPage, ConnectionPatch
from evdms.connections.selectors import (
    connected_driver_count,
    invite_link_for,
    with_connected_drivers,
)
from evdms.ui.api import check_page, page_of, requires
from evdms.ui.http import ApiRequest

router = Router(tags=["connections"])


def _out(connection: Connection, actor: Actor) -> dict[str, Any]:
    data = {f: getattr(connection, f) for f in ConnectionOut.model_fields if hasattr(connection, f)}
    # Annotated by with_connected_drivers; 0 is a count too, so test for None, not falsity
    # (an `or` queried again for every connection without drivers).
    annotated = getattr(connection, "connected_drivers", None)
    data.update(
        organisation={"id": connection.organisation_id, "name": connection.organisation.name},
        benefits=connection.benefits(),
        connected_drivers=(
            annotated if annotated is not None else connected_driver_count(connection)
        ),
        # Only for a caller who may invite (the page's rule, evdms/connections/views.py).
        invite_url=invite_link_for(actor)(connection),
        has_logo=connection.has_logo,
        # By its hash: the invite page's logo address holds the invite token.
        logo_url=(
            reverse("connections:logo", args=[connection.logo_sha256])
            if connection.has_logo
            else None
        ),
    )
    return data


def _reload(connection: Connection) -> Connection:
    return with_connected_drivers(Connection.objects.filter(pk=connection.pk)).get()


@router.get("/connections", response=ConnectionPage, auth=requires(Permission.VIEW_CONNECTIONS))
def connections_list(
    request: ApiRequest, search: str = "", offset: int = 0, limit: int = 50
) -> dict[str, Any]:
    """Connections of the organisations this key acts for, by name; ``search`` matches the
    name, the name for drivers or the Customer ID."""
    actor: Actor = request.auth
    check_page(offset, limit, 500)
    rows = with_connected_drivers(connections_for(actor)).order_by("name", "pk")
    if search:
        rows = listing.search(rows, search)
    return page_of(rows, offset, limit, lambda c: _out(c, actor))


@router.post(
    "/connections", response={201: ConnectionOut}, auth=requires(Permission.EDIT_CONNECTIONS)
)
def connections_create(request: ApiRequest, payload: ConnectionIn) -> Status[dict[str, Any]]:
    """Create a connection. Fields that do not apply are ignored and stored empty."""
    actor: Actor = request.auth
    data = payload.model_dump()
    if data.get("organisation") is None:
        data["organisation"] = actor.organisation.pk
    connection = services.connection_create(actor=actor, data=data)
    return Status(201, _out(_reload(connection), actor))


@router.get(
    "/connections/{connection_id}",
    response=ConnectionOut,
    auth=requires(Permission.VIEW_CONNECTIONS),
)
def connections_read(request: ApiRequest, connection_id: int) -> dict[str, Any]:
    actor: Actor = request.auth
    connection = get_connection_for(actor, connection_id)
    return _out(_reload(connection), actor)


@router.patch(
    "/connections/{connection_id}",
    response=ConnectionOut,
    auth=requires(Permission.EDIT_CONNECTIONS),
)
def connections_update(
    request: ApiRequest, connection_id: int, payload: ConnectionPatch
) -> dict[str, Any]:
    """Change the fields sent. Changing benefits while drivers are connected needs
    ``confirm_benefit_change: true``."""
    actor: Actor = request.auth
    connection = get_connection_for(actor, connection_id)
    changes = payload.model_dump(exclude_unset=True)
    confirm = bool(changes.pop("confirm_benefit_change", False))
    changes.pop("organisation", None)
    connection = services.connection_update(
        actor=actor, connection=connection, changes=changes, confirm_benefit_change=confirm
    )
    return _out(_reload(connection), actor)


@router.post(
    "/connections/{connection_id}/logo",
    response=ConnectionOut,
    auth=requires(Permission.EDIT_CONNECTIONS),
)
def connections_logo_upload(
    request: ApiRequest, connection_id: int, file: File[UploadedFile]
) -> dict[str, Any]:
    """Upload the logo (multipart/form-data, field ``file``): GIF, JPEG or PNG by content,
    exactly 60 × 30 px, at most 524,288 bytes."""
    actor: Actor = request.auth
    connection = get_connection_for(actor, connection_id)
    connection = services.connection_update(
        actor=actor, connection=connection, changes={}, logo=file
    )
    return _out(_reload(connection), actor)


@router.delete(
    "/connections/{connection_id}/logo",
    response=ConnectionOut,
    auth=requires(Permission.EDIT_CONNECTIONS),
)
def connections_logo_delete(request: ApiRequest, connection_id: int) -> dict[str, Any]:
    actor: Actor = request.auth
    connection = get_connection_for(actor, connection_id)
    connection = services.connection_update(
        actor=actor, connection=connection, changes={}, logo=services.RemoveLogo
    )
    return _out(_reload(connection), actor)
