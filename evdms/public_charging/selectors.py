"""Reads of charging tokens that pages and the API share, scoped to who asks: an admin
sees the tokens of the organisations they act for, a driver only their own. Another
organisation's token, or another driver's, is a 404 like a missing one."""

from __future__ import annotations

from django.db.models import Q, QuerySet
from django.shortcuts import get_object_or_404

from evdms.accounts.models import User
from evdms.accounts.permissions import Actor, Permission
from evdms.accounts.scope import reach
from evdms.enrolment.access import find_driver_for
from evdms.enrolment.models import Membership
from evdms.public_charging.models import Token, TokenBlock

DRIVER_FILTER_MAX = 200


def tokens_for(actor: Actor, permission: Permission | None = None) -> QuerySet[Token]:
    # A token belongs to an organisation and a driver: a chosen connection reaches the
    # tokens of its drivers.
    scope = reach(actor, permission, default=Permission.MANAGE_DRIVERS)
    return (
        Token.objects.filter(scope.q_for_driver("organisation_id", "driver_id"))
        .select_related("driver", "organisation")
        .order_by("driver__email", "type", "pk")
    )


def filter_by_driver(tokens: QuerySet[Token], driver: str) -> QuerySet[Token]:
    """``driver``: a driver's id, or part of their e-mail address or name."""
    driver = driver.strip()[:DRIVER_FILTER_MAX]
    if not driver:
        return tokens
    if driver.isdigit():
        return tokens.filter(driver_id=int(driver))
    return tokens.filter(
        Q(driver__email__icontains=driver) | Q(driver__full_name__icontains=driver)
    )


def get_token_for(actor: Actor, token_id: int, permission: Permission | None = None) -> Token:
    return get_object_or_404(tokens_for(actor, permission), pk=token_id)


def own_tokens(driver: User) -> QuerySet[Token]:
    return (
        Token.objects.filter(driver=driver)
        .select_related("organisation")
        .order_by("organisation__name", "type", "pk")
    )


def get_own_token(driver: User, token_id: int) -> Token:
    return get_object_or_404(own_tokens(driver), pk=token_id)


def driver_membership_for(actor: Actor, email: str) -> Membership | None:
    """The live membership of the driver with this address among the actor's
    organisations (None for an unknown address and another organisation's driver alike)."""
    # A NUL cannot be in an address, and PostgreSQL refuses it in a query.
    if not isinstance(email, str) or len(email) > 254 or "\x00" in email:
        return None
    return find_driver_for(actor, email)


def token_status(token: Token) -> str:
    """What the pages show: Valid, Lost, Blocked, or Not valid (the membership ended, the
    connection no longer pays or is disabled)."""
    if token.blocked == TokenBlock.LOST:
        return "Lost"
    if token.blocked == TokenBlock.BLOCKED:
        return "Blocked"
    return "Valid" if token.valid else "Not valid"
