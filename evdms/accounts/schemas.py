from __future__ import annotations

from datetime import datetime

from ninja import Schema
from pydantic import EmailStr, Field

from evdms.accounts.models import Role


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


class AdminInviteIn(Schema):
    email: EmailStr
    full_name: str = Field(min_length=1, max_length=150)
    role: Role


class AdminPatchIn(Schema):
    role: Role | None = None
    status: str | None = Field(default=None, pattern="^(active|disabled)$")
