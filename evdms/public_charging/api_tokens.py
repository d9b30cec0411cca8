"""The REST API of charging tokens (``/api/v1/charging-tokens``): the organisation's
tokens (app tokens and RFID cards), issuing a card, blocking and unblocking one. The
rules are the token services', shared with the pages."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.core.exceptions import ValidationError
from ninja import Field, Router, Schema, Status
from ninja.errors import HttpError

from evdms.accounts.permissions import Actor, Permission
from evdms.public_charging import selectors
from evdms.public_charging.models import Token
from evdms.public_charging.services import tokens as services
from evdms.ui.api import ErrorOut, check_page, page_of, requires
from evdms.ui.http import ApiRequest

router = Router(tags=["Charging tokens"])


class TokenDriverOut(Schema):
    id: int
    email: str
    full_name: str


class TokenOut(Schema):
    id: int
    driver: TokenDriverOut
    organisation_id: int
    type: str = Field(description="APP_USER (the app) or RFID (a charging card)")
    uid: str
    contract_id: str = Field(description="the eMA-ID, with its check character")
    visual_number: str
    status: str = Field(description="Valid, Blocked, Lost or Not valid")
    blocked: str = Field(description='"", "blocked" (by an admin) or "lost" (by the driver)')
    valid: bool
    last_updated: datetime


class TokenPage(Schema):
    count: int
    items: list[TokenOut]


class CardIn(Schema):
    driver_email: str = Field(max_length=254, description="a driver of your organisation")
    uid: str = Field(max_length=200, description="4 to 36 hexadecimal characters")
    visual_number: str = Field(default="", max_length=200)


def _out(t: Token) -> dict[str, Any]:
    return {
        "id": t.pk,
        "driver": {"id": t.driver_id, "email": t.driver.email, "full_name": t.driver.full_name},
        "organisation_id": t.organisation_id,
        "type": t.type,
        "uid": t.uid,
        "contract_id": t.contract_id,
        "visual_number": t.visual_number,
        "status": selectors.token_status(t),
        "blocked": t.blocked,
        "valid": t.valid,
        "last_updated": t.last_updated,
    }


NOT_A_CARD = "Only charging cards are blocked and unblocked; the app token follows the driver."
ACTION = {200: TokenOut, 409: ErrorOut}


@router.get("/charging-tokens", response=TokenPage, auth=requires(Permission.MANAGE_DRIVERS))
def tokens_list(
    request: ApiRequest,
    driver: str = "",
    offset: int = 0,
    limit: int = 50,
) -> dict[str, Any]:
    """Tokens of the organisations this key acts for; ``driver``: a driver's id, or part
    of their e-mail address or name."""
    actor: Actor = request.auth
    check_page(offset, limit, 500)
    if len(driver) > selectors.DRIVER_FILTER_MAX:
        raise ValidationError(
            {"driver": [f"Use at most {selectors.DRIVER_FILTER_MAX} characters."]}
        )
    if "\x00" in driver:  # PostgreSQL refuses a NUL in a query; no name holds one
        raise ValidationError({"driver": ["Remove the NUL character."]})
    rows = selectors.filter_by_driver(selectors.tokens_for(actor), driver)
    return page_of(rows, offset, limit, _out)


@router.post("/charging-tokens", response={201: TokenOut}, auth=requires(Permission.MANAGE_DRIVERS))
def tokens_issue_card(request: ApiRequest, payload: CardIn) -> Status[dict[str, Any]]:
    """Issue an RFID card to a driver connected to a connection that pays for public
    charging; it is valid at once. A uid registered anywhere answers 422 on ``uid``."""
    actor: Actor = request.auth
    membership = selectors.driver_membership_for(actor, payload.driver_email)
    card = services.card_issue(
        actor=actor, membership=membership, uid=payload.uid, visual_number=payload.visual_number
    )
    card.driver = membership.driver if membership else card.driver
    return Status(201, _out(card))


@router.post(
    "/charging-tokens/{token_id}/block", response=ACTION, auth=requires(Permission.MANAGE_DRIVERS)
)
def tokens_block(request: ApiRequest, token_id: int) -> dict[str, Any]:
    """Block a card at once; blocking a blocked card changes nothing."""
    actor: Actor = request.auth
    token = selectors.get_token_for(actor, token_id)
    try:
        return _out(services.card_block(actor=actor, token=token))
    except services.NotACard as exc:
        raise HttpError(409, NOT_A_CARD) from exc


@router.post(
    "/charging-tokens/{token_id}/unblock",
    response=ACTION,
    auth=requires(Permission.MANAGE_DRIVERS),
)
def tokens_unblock(request: ApiRequest, token_id: int) -> dict[str, Any]:
    """Unblock a card, also one the driver reported lost; it is valid again only while
    the driver is connected to a connection that pays for public charging."""
    actor: Actor = request.auth
    token = selectors.get_token_for(actor, token_id)
    try:
        return _out(services.card_unblock(actor=actor, token=token))
    except services.NotACard as exc:
        raise HttpError(409, NOT_A_CARD) from exc
