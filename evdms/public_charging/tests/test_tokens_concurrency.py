"""Two admins at once: the same card blocked twice is blocked once (one revision, one
announcement, one audit row); the same uid issued twice makes one card, and the other
admin is told it is already registered."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from evdms.audit.models import AuditEvent
from evdms.public_charging.models import Token, TokenType
from evdms.public_charging.services import tokens
from evdms.public_charging.signals import token_changed
from evdms.public_charging.tests.test_tokens import connected, paying_connection, person
from evdms.testing.concurrency import at_once

pytestmark = pytest.mark.django_db(transaction=True)


def test_two_admins_blocking_one_card_at_once_block_it_once(world):
    membership = connected(world, paying_connection(world.org_a), person("dan@example.com"))
    card = tokens.card_issue(actor=world.actor(world.nadia), membership=membership, uid="04A1B2")
    heard: list[int] = []

    def listener(sender: object, token: Token, **kwargs: object) -> None:
        heard.append(token.revision)

    token_changed.connect(listener, dispatch_uid="concurrency")
    try:
        at_once(
            lambda: tokens.card_block(actor=world.actor(world.nadia), token=card),
            lambda: tokens.card_block(actor=world.actor(world.otto), token=card),
        )
    finally:
        token_changed.disconnect(dispatch_uid="concurrency")
    card.refresh_from_db()
    assert (card.blocked, card.valid, card.revision) == ("blocked", False, 2)
    assert heard == [2]
    assert AuditEvent.objects.filter(action="charging_token.block").count() == 1


def test_the_same_card_issued_by_two_admins_at_once_is_registered_once(world):
    dan, eva = person("dan@example.com"), person("eva@example.com")
    public = paying_connection(world.org_a)
    memberships = [connected(world, public, dan), connected(world, public, eva)]
    refused: list[dict[str, list[str]]] = []

    def issue(index: int) -> None:
        try:
            tokens.card_issue(
                actor=world.actor(world.nadia), membership=memberships[index], uid="04:A1:B2"
            )
        except ValidationError as exc:
            refused.append(exc.message_dict)

    at_once(lambda: issue(0), lambda: issue(1))
    assert Token.objects.filter(type=TokenType.RFID, uid="04A1B2").count() == 1
    assert refused == [{"uid": ["This card is already registered."]}]
