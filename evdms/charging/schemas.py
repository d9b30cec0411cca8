from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Literal

from ninja import Schema
from pydantic import Field


class ChargerIn(Schema):
    identity: str = Field(min_length=1, max_length=48)
    serial: str = Field(min_length=1, max_length=50)
    vendor: str = ""
    model: str = ""
    password: str | None = Field(
        default=None,
        description="the charger's basic-auth password: 16 to 40 characters, random; "
        "generated when left out (recommended), shown once in the answer",
    )
    driver_email: str | None = None


class ChargerOut(Schema):
    id: int
    identity: str
    serial: str
    vendor: str
    model: str
    firmware: str
    protocol: str
    online: bool
    last_heartbeat_at: datetime | None
    connector_status: dict[str, str]
    driver_email: str | None


class ChargerCreated(ChargerOut):
    password: str = Field(description="shown only in this answer")


class SessionOut(Schema):
    id: int
    charger: str | None
    driver_email: str | None
    connection_id: int | None
    transaction_id: str
    started_at: datetime | None
    ended_at: datetime | None
    duration_seconds: int | None
    energy_wh: int
    status: str
    flags: list[str]
    review: str = Field(
        description="'' (not needed), pending (held out of reimbursement until reviewed), "
        "accepted or rejected"
    )

    kind: str = Field(description="home or public")
    # Public sessions (null for home ones, and for a personal public session, whose
    # place and price are the driver's own).
    location_name: str | None
    location_address: str | None
    operator: str | None
    cost_excl_vat: Decimal | None = Field(description="the operator's price, excl. VAT")
    cost_incl_vat: Decimal | None
    currency: str | None = Field(description="ISO 4217, of the costs")
    purpose: str | None = Field(description="business or personal (public sessions only)")


class SessionReviewIn(Schema):
    decision: Literal["accept", "reject"]


class SessionReviewOut(Schema):
    """Only the decision: the session may be under a connection that does not share home
    charging data, whose details the organisation does not see."""

    id: int
    energy_wh: int
    review: str


class SessionPage(Schema):
    count: int
    items: list[SessionOut]
