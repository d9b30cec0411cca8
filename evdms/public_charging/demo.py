"""Demo charging tokens: every driver connected to a connection that pays for public
charging has their app token (made as they connected; ensured here too), and two of
them have an RFID card, one of which the admin blocked. Idempotent."""

from __future__ import annotations

from django.db import transaction

from evdms.accounts.models import Role
from evdms.accounts.permissions import Actor
from evdms.enrolment.models import MembershipStatus
from evdms.public_charging.models import Token
from evdms.public_charging.services import tokens

# (uid, visual number, blocked by the admin)
DEMO_CARDS = [
    ("04A2C91B7E5D80", "EVD-CARD-0001", False),
    ("04B7713AD29F81", "EVD-CARD-0002", True),
]


@transaction.atomic
def seed_tokens() -> int:
    """Returns how many cards were made."""
    paying = list(
        tokens.paying_memberships()
        .filter(status=MembershipStatus.CONNECTED)
        .select_related("organisation", "driver")
        .order_by("pk")
    )
    for membership in paying:
        tokens.app_token_ensure(membership)
    made = 0
    for membership, (uid, number, blocked) in zip(paying, DEMO_CARDS, strict=False):
        if Token.objects.filter(uid=uid).exists():
            continue
        actor = Actor(organisation=membership.organisation, role=Role.NETWORK_MANAGER)
        card = tokens.card_issue(actor=actor, membership=membership, uid=uid, visual_number=number)
        if blocked:
            tokens.card_block(actor=actor, token=card)
        made += 1
    return made
