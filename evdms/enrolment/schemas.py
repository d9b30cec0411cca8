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
    # No length limit here: the service refuses more than 10,000 with the page's message.
    emails: list[str]


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


class InvitationOut(Schema):
    id: int
    batch_id: int
    email: str
    status: str
    sent_at: datetime | None
    opened_at: datetime | None
    requested_at: datetime | None
    connected_at: datetime | None


class InvitationPage(Schema):
    count: int
    items: list[InvitationOut]
