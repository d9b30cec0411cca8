from __future__ import annotations

from datetime import datetime
from typing import Annotated

from ninja import Schema
from pydantic import EmailStr, Field

from evdms.accounts.models import ConnectionAlerts, GrantRight, Role

# A connection's id as a client sends it: a database key (a 64-bit integer) or nothing,
# so an id no row can have is a field error, not a failed query.
ConnectionId = Annotated[int, Field(ge=1, le=2**63 - 1)]


class OrganisationOut(Schema):
    id: int
    name: str
    slug: str
    kind: str
    currency: str


class MeOut(Schema):
    organisation: OrganisationOut
    role: Role
    key_name: str | None


class AdminOut(Schema):
    id: int
    email: str
    full_name: str
    role: Role
    status: str
    created_at: datetime
    last_login: datetime | None
    all_connections: bool = Field(
        description="Acts on all connections, present and future (a Network Manager always)"
    )
    connection_ids: list[int] = Field(
        description="The connections the admin is limited to; empty with all_connections"
    )
    connection_alerts: ConnectionAlerts


_ALL_CONNECTIONS = (
    "true: all connections, present and future; false: only connection_ids. Left out: "
    "false when connection_ids is given, else true. Ignored for a Network Manager."
)
_CONNECTION_IDS = (
    "Connections of your organisation, or granted to it, that the admin is limited to."
)


class AdminInviteIn(Schema):
    email: EmailStr
    full_name: str = Field(min_length=1, max_length=150)
    role: Role
    all_connections: bool | None = Field(default=None, description=_ALL_CONNECTIONS)
    connection_ids: list[ConnectionId] | None = Field(default=None, description=_CONNECTION_IDS)
    connection_alerts: ConnectionAlerts = ConnectionAlerts.OFF


class AdminPatchIn(Schema):
    role: Role | None = None
    status: str | None = Field(default=None, pattern="^(active|disabled)$")
    all_connections: bool | None = Field(default=None, description=_ALL_CONNECTIONS)
    connection_ids: list[ConnectionId] | None = Field(default=None, description=_CONNECTION_IDS)
    connection_alerts: ConnectionAlerts | None = None


class GrantOrganisationOut(Schema):
    name: str
    organisation_id: str  # the Organisation ID (ORG-XXXXX-XXXXX), not the database key


class GrantConnectionOut(Schema):
    id: int
    name: str


class GrantOut(Schema):
    id: int
    grantor: GrantOrganisationOut
    grantee: GrantOrganisationOut
    rights: list[GrantRight]
    all_connections: bool
    connections: list[GrantConnectionOut]
    description: str
    created_at: datetime
    # Who in the grantor acted: given only to the grantor itself.
    created_by: str | None
    revoked_at: datetime | None
    revoked_by: str | None


class GrantsOut(Schema):
    given: list[GrantOut]
    received: list[GrantOut]


class GrantIn(Schema):
    grantee: str = Field(
        min_length=1,
        max_length=200,
        description="The Organisation ID, or the name of an organisation that granted you rights.",
    )
    rights: list[GrantRight] = Field(default_factory=list)
    all_connections: bool = True
    connections: list[ConnectionId] = Field(
        default_factory=list,
        description="Ids of your connections; only with all_connections false.",
    )
    description: str = Field(default="", max_length=500)
