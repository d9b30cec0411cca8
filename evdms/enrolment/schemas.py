from __future__ import annotations

from datetime import datetime

from ninja import Schema
from pydantic import Field


class DriverRef(Schema):
    id: int
    email: str
    full_name: str


class MembershipOut(Schema):
    id: int
    driver: DriverRef
    connection_id: int
    connection_name: str
    status: str
    verification_1: str
    verification_2: str
    requested_at: datetime
    connected_at: datetime | None
    ended_at: datetime | None
    denial_message: str
    home_charger_requested: bool
    currency: str


class MembershipPage(Schema):
    count: int
    items: list[MembershipOut]


class DenyIn(Schema):
    message: str = Field(default="", max_length=1000)


class InvitationsIn(Schema):
    emails: list[str] = Field(max_length=10_000)


class RejectedLine(Schema):
    line: int
    value: str
    reason: str


class InvitationBatchOut(Schema):
    id: int
    connection_id: int
    total: int
    sent: int
    finished: bool
    rejected: list[RejectedLine]
    counts: dict[str, int]
