from __future__ import annotations

from datetime import datetime

from ninja import Schema
from pydantic import EmailStr, Field

from evdms.accounts.models import ConnectionAlerts, Role


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
    connection_ids: list[int] | None = Field(default=None, description=_CONNECTION_IDS)
    connection_alerts: ConnectionAlerts = ConnectionAlerts.OFF


class AdminPatchIn(Schema):
    role: Role | None = None
    status: str | None = Field(default=None, pattern="^(active|disabled)$")
    all_connections: bool | None = Field(default=None, description=_ALL_CONNECTIONS)
    connection_ids: list[int] | None = Field(default=None, description=_CONNECTION_IDS)
    connection_alerts: ConnectionAlerts | None = None
