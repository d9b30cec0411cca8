"""Charging tokens follow the driver's place in a connection that pays for public
charging: an app token on connecting, RFID cards an admin issues, blocking, reporting a
card lost, and validity that ends with removal, leaving, Revise Benefits to a connection
that does not pay, or disabling the connection. Every change partners see bumps the
revision and is announced (``token_changed``) once, after commit."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from evdms.accounts.models import User
from evdms.audit.models import AuditEvent
from evdms.connections.services import connection_set_enabled, connection_update
from evdms.enrolment import services as enrolment
from evdms.enrolment.models import Membership
from evdms.notifications.models import OutboundEmail
from evdms.public_charging.contract_ids import is_valid
from evdms.public_charging.models import Token, TokenType
from evdms.public_charging.services import tokens
from evdms.public_charging.signals import token_changed
from evdms.testing.fixtures import VALID_CONNECTION, World, make_connection, make_membership

pytestmark = pytest.mark.django_db

PAYING: dict[str, object] = {
    "pay_for_public_charging": "yes",
    "payment_via": "direct_invoice_service",
}


def paying_connection(organisation: Any, name: str = "Public", **overrides: object) -> Any:
    return make_connection(organisation, name=name, **{**PAYING, **overrides})


def person(email: str, name: str = "") -> User:
    return User.objects.create_user(
        email, "a long driver passphrase", full_name=name or email.split("@")[0].title()
    )


def connected(world: World, connection: Any, user: User) -> Membership:
    """A driver's request approved by Nadia, through the service (so signals fire)."""
    membership = make_membership(connection, user, "pending")
    return enrolment.membership_approve(actor=world.actor(world.nadia), membership=membership)


class Heard:
    """What ``token_changed`` told the partners' side: (uid, revision, valid)."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, int, bool]] = []

    def __call__(self, sender: Any, token: Token, **kwargs: Any) -> None:
        self.calls.append((token.uid, token.revision, token.valid))


@pytest.fixture
def heard():
    listener = Heard()
    token_changed.connect(listener, dispatch_uid="test_heard")
    yield listener
    token_changed.disconnect(dispatch_uid="test_heard")


def app_token(user: User) -> Token:
    return Token.objects.get(driver=user, type=TokenType.APP_USER)


def test_connecting_to_a_paying_connection_gives_one_valid_app_token(
    world, heard, django_capture_on_commit_callbacks
):
    dan = person("dan@example.com")
    with django_capture_on_commit_callbacks(execute=True):
        membership = connected(world, paying_connection(world.org_a), dan)
    token = app_token(dan)
    assert token.organisation == world.org_a and token.valid and token.revision == 1
    assert len(token.uid) == 16 and token.uid == token.uid.upper()
    int(token.uid, 16)
    assert is_valid(token.contract_id) and token.visual_number == token.contract_id
    assert token.contract_id.startswith("NL-EVD-C")
    assert heard.calls == [(token.uid, 1, True)]
    # Connecting again (a second time through the service) makes no second token.
    tokens.app_token_ensure(membership)
    assert Token.objects.filter(driver=dan).count() == 1
    assert AuditEvent.objects.filter(action="charging_token.issue").count() == 1


def test_a_connection_that_does_not_pay_gives_no_token(world):
    dan = person("dan@example.com")
    connected(world, make_connection(world.org_a, name="Home only"), dan)
    assert not Token.objects.filter(driver=dan).exists()


def _card(world: World, membership: Membership, uid: str = "04A1B2C3D4", **kw: Any) -> Token:
    return tokens.card_issue(
        actor=world.actor(world.nadia), membership=membership, uid=uid, visual_number="V-1", **kw
    )


def test_removal_makes_every_token_of_the_driver_not_valid(
    world, heard, django_capture_on_commit_callbacks
):
    dan = person("dan@example.com")
    membership = connected(world, paying_connection(world.org_a), dan)
    card = _card(world, membership)
    with django_capture_on_commit_callbacks(execute=True):
        enrolment.membership_remove(actor=world.actor(world.nadia), membership=membership)
    app, card = app_token(dan), Token.objects.get(pk=card.pk)
    assert (app.valid, app.revision, card.valid, card.revision) == (False, 2, False, 2)
    assert sorted(heard.calls) == sorted([(app.uid, 2, False), (card.uid, 2, False)])
    assert AuditEvent.objects.filter(action="charging_token.validity").count() == 2


def test_leaving_makes_the_tokens_not_valid(world):
    dan = person("dan@example.com")
    membership = connected(world, paying_connection(world.org_a), dan)
    enrolment.membership_leave(driver=dan, membership=membership)
    assert app_token(dan).valid is False


def test_disabling_the_connection_makes_its_drivers_tokens_not_valid_and_enabling_restores(
    world, heard, django_capture_on_commit_callbacks
):
    public = paying_connection(world.org_a)
    dan, eva = person("dan@example.com"), person("eva@example.com")
    connected(world, public, dan)
    connected(world, public, eva)
    other = person("otto.driver@example.com")
    connected(world, paying_connection(world.org_a, name="Other"), other)
    heard.calls.clear()
    actor = world.actor(world.nadia)
    with django_capture_on_commit_callbacks(execute=True):
        connection_set_enabled(actor=actor, connection=public, enabled=False)
    assert [app_token(u).valid for u in (dan, eva, other)] == [False, False, True]
    assert len(heard.calls) == 2
    connection_set_enabled(actor=actor, connection=public, enabled=True)
    assert [app_token(u).revision for u in (dan, eva, other)] == [3, 3, 1]
    assert app_token(dan).valid and app_token(eva).valid


def test_the_tokens_of_a_connection_refresh_with_a_fixed_number_of_queries(
    world, django_assert_max_num_queries
):
    public = paying_connection(world.org_a)
    for n in range(12):
        connected(world, public, person(f"d{n}@example.com"))
    public.enabled = False
    public.save(update_fields=["enabled"])
    with django_assert_max_num_queries(8):
        changed = tokens.tokens_refresh_for_connection(connection=public)
    assert len(changed) == 12


def test_revise_benefits_to_a_connection_that_does_not_pay_makes_the_tokens_not_valid(world):
    public = paying_connection(world.org_a)
    dan, eva = person("dan@example.com"), person("eva@example.com")
    moving = connected(world, public, dan)
    connected(world, public, eva)
    enrolment.connection_revise_benefits(
        actor=world.actor(world.nadia),
        old=public,
        data={**VALID_CONNECTION, "name": "No public"},
        membership_ids=[moving.pk],
        disable_old=False,
    )
    assert app_token(dan).valid is False
    assert app_token(eva).valid is True


def test_revise_benefits_to_another_paying_connection_keeps_the_token(world):
    public = paying_connection(world.org_a)
    dan = person("dan@example.com")
    moving = connected(world, public, dan)
    enrolment.connection_revise_benefits(
        actor=world.actor(world.nadia),
        old=public,
        data={**VALID_CONNECTION, **PAYING, "name": "Public 2027"},
        membership_ids=[moving.pk],
        disable_old=True,
    )
    token = app_token(dan)
    assert token.valid is True and token.revision == 1
    assert Token.objects.filter(driver=dan).count() == 1


def test_a_benefit_change_to_not_paying_makes_the_tokens_not_valid_and_back_gives_them(world):
    public = paying_connection(world.org_a)
    dan = person("dan@example.com")
    connected(world, public, dan)
    actor = world.actor(world.nadia)
    connection_update(
        actor=actor,
        connection=public,
        changes={"pay_for_public_charging": "no", "payment_via": ""},
        confirm_benefit_change=True,
    )
    assert app_token(dan).valid is False
    connection_update(actor=actor, connection=public, changes=PAYING, confirm_benefit_change=True)
    assert app_token(dan).valid is True


def test_a_connection_that_starts_paying_gives_its_connected_drivers_app_tokens(world):
    home = make_connection(world.org_a, name="Home")
    dan = person("dan@example.com")
    connected(world, home, dan)
    assert not Token.objects.filter(driver=dan).exists()
    connection_update(
        actor=world.actor(world.nadia), connection=home, changes=PAYING, confirm_benefit_change=True
    )
    assert app_token(dan).valid is True


# --- RFID cards -----------------------------------------------------------------------


def test_an_admin_issues_a_card_valid_at_once(world, heard, django_capture_on_commit_callbacks):
    dan = person("dan@example.com")
    membership = connected(world, paying_connection(world.org_a), dan)
    heard.calls.clear()
    with django_capture_on_commit_callbacks(execute=True):
        card = tokens.card_issue(
            actor=world.actor(world.otto),
            membership=membership,
            uid=" 04:a1:b2 c3:d4 ",
            visual_number="  NL  EVD 0001 ",
        )
    card.refresh_from_db()
    assert (card.type, card.uid, card.visual_number, card.valid) == (
        "RFID",
        "04A1B2C3D4",
        "NL EVD 0001",
        True,
    )
    assert is_valid(card.contract_id) and card.contract_id != app_token(dan).contract_id
    assert heard.calls == [("04A1B2C3D4", 1, True)]
    event = AuditEvent.objects.get(action="charging_token.issue", target_id=str(card.pk))
    assert event.actor_label == "otto@voltlease.example"
    assert event.changes["uid"] == [None, "04A1B2C3D4"]


@pytest.mark.parametrize(
    "uid", ["", "04A", "XYZ123", "04A1-B2C3", "0" * 37, "04A1\x00B2", "٠٤٥٦٧٨", 1234, None]
)
def test_a_card_uid_must_be_4_to_36_hexadecimal_characters(world, uid):
    membership = connected(world, paying_connection(world.org_a), person("dan@example.com"))
    with pytest.raises(ValidationError) as error:
        _card(world, membership, uid=uid)
    assert list(error.value.message_dict) == ["uid"]
    assert Token.objects.filter(type="RFID").count() == 0


def test_a_card_registered_anywhere_cannot_be_issued_again(world):
    dan = person("dan@example.com")
    _card(world, connected(world, paying_connection(world.org_a), dan), uid="04A1B2C3D4")
    bea = person("bea@example.com")
    rival = paying_connection(world.org_b, name="Rival public")
    membership = make_membership(rival, bea)
    with pytest.raises(ValidationError) as error:
        tokens.card_issue(actor=world.actor(world.bob), membership=membership, uid="04:a1:b2:c3:d4")
    # Bob learns that the card is taken, not whose it is.
    assert error.value.message_dict == {"uid": ["This card is already registered."]}


def test_a_card_only_for_a_connected_driver_of_a_paying_connection_of_ones_own(world):
    actor = world.actor(world.nadia)
    home = make_membership(make_connection(world.org_a, name="Home"), person("h@example.com"))
    pending = make_membership(paying_connection(world.org_a), person("p@example.com"), "pending")
    foreign = make_membership(paying_connection(world.org_b), person("f@example.com"))
    for membership, message in (
        (home, tokens.NOT_PAYING),
        (pending, tokens.NOT_CONNECTED),
        (foreign, tokens.NO_DRIVER),
        (None, tokens.NO_DRIVER),
    ):
        with pytest.raises(ValidationError) as error:
            tokens.card_issue(actor=actor, membership=membership, uid="04A1B2C3")
        assert error.value.message_dict == {"driver_email": [message]}
    assert not Token.objects.filter(type="RFID").exists()


def test_an_analyst_may_not_issue_cards(world):
    from django.core.exceptions import PermissionDenied

    membership = connected(world, paying_connection(world.org_a), person("dan@example.com"))
    with pytest.raises(PermissionDenied):
        tokens.card_issue(actor=world.actor(world.ana), membership=membership, uid="04A1B2C3")


def test_blocking_and_unblocking_a_card(world, heard, django_capture_on_commit_callbacks):
    membership = connected(world, paying_connection(world.org_a), person("dan@example.com"))
    card = _card(world, membership)
    actor = world.actor(world.nadia)
    heard.calls.clear()
    with django_capture_on_commit_callbacks(execute=True):
        blocked = tokens.card_block(actor=actor, token=card)
        again = tokens.card_block(actor=actor, token=blocked)
    assert (blocked.blocked, blocked.valid, blocked.revision) == ("blocked", False, 2)
    assert again.revision == 2 and heard.calls == [(card.uid, 2, False)]
    with django_capture_on_commit_callbacks(execute=True):
        unblocked = tokens.card_unblock(actor=actor, token=blocked)
    assert (unblocked.blocked, unblocked.valid, unblocked.revision) == ("", True, 3)
    assert heard.calls[-1] == (card.uid, 3, True)
    actions = list(
        AuditEvent.objects.filter(target_id=str(card.pk), target_type="public_charging.token")
        .order_by("at", "id")
        .values_list("action", flat=True)
    )
    assert actions == [
        "charging_token.issue",
        "charging_token.block",
        "charging_token.unblock",
    ]


def test_blocking_a_card_that_is_not_valid_is_recorded_but_not_pushed(
    world, heard, django_capture_on_commit_callbacks
):
    membership = connected(world, paying_connection(world.org_a), person("dan@example.com"))
    card = _card(world, membership)
    enrolment.membership_remove(actor=world.actor(world.nadia), membership=membership)
    heard.calls.clear()
    with django_capture_on_commit_callbacks(execute=True):
        blocked = tokens.card_block(actor=world.actor(world.nadia), token=card)
    assert (blocked.blocked, blocked.revision) == ("blocked", 2)
    assert heard.calls == []
    # Unblocking keeps it not valid: the driver is no longer connected.
    assert tokens.card_unblock(actor=world.actor(world.nadia), token=blocked).valid is False


def test_the_app_token_cannot_be_blocked_like_a_card(world):
    dan = person("dan@example.com")
    connected(world, paying_connection(world.org_a), dan)
    with pytest.raises(tokens.NotACard):
        tokens.card_block(actor=world.actor(world.nadia), token=app_token(dan))
    with pytest.raises(tokens.NotACard):
        tokens.token_report_lost(driver=dan, token=app_token(dan))


def test_a_driver_reports_a_card_lost_it_is_blocked_and_they_get_an_email(
    world, heard, django_capture_on_commit_callbacks
):
    dan = person("dan@example.com", "Dan Driver")
    card = _card(world, connected(world, paying_connection(world.org_a), dan))
    heard.calls.clear()
    with django_capture_on_commit_callbacks(execute=True):
        lost = tokens.token_report_lost(driver=dan, token=card)
    assert (lost.blocked, lost.valid, lost.revision) == ("lost", False, 2)
    assert heard.calls == [(card.uid, 2, False)]
    email = OutboundEmail.objects.get(template="charging_card_lost")
    assert email.to == ["dan@example.com"]
    assert "V-1" in email.subject and "blocked" in email.text_body
    assert "Voltlease" in email.text_body
    event = AuditEvent.objects.get(action="charging_token.lost")
    assert event.actor_label == "dan@example.com" and event.organisation == world.org_a
    # Reporting it again changes nothing and sends nothing more.
    tokens.token_report_lost(driver=dan, token=lost)
    assert OutboundEmail.objects.filter(template="charging_card_lost").count() == 1
    # An admin may unblock a card that turned up again: recorded as unblocking a lost card.
    unblocked = tokens.card_unblock(actor=world.actor(world.nadia), token=lost)
    assert unblocked.valid is True
    assert AuditEvent.objects.get(action="charging_token.unblock").changes["blocked"] == [
        "lost",
        "",
    ]


def test_another_drivers_card_cannot_be_reported_lost(world):
    card = _card(world, connected(world, paying_connection(world.org_a), person("d@example.com")))
    with pytest.raises(tokens.NotACard):
        tokens.token_report_lost(driver=person("eve@example.com"), token=card)
    card.refresh_from_db()
    assert card.blocked == "" and card.valid


def test_a_token_change_updates_last_updated(world):
    dan = person("dan@example.com")
    membership = connected(world, paying_connection(world.org_a), dan)
    before = app_token(dan).last_updated
    enrolment.membership_remove(actor=world.actor(world.nadia), membership=membership)
    after = app_token(dan).last_updated
    assert after >= before and after <= timezone.now()
