"""Every write of charging tokens: the app token a paying connection gives its drivers,
RFID cards an admin issues, blocks and unblocks, a card the driver reports lost, and the
validity that follows the driver's membership and its connection.

A token is valid iff it is not blocked and its driver has a connected membership in the
token's organisation whose connection is enabled and pays for public charging. Every
change partners see (validity, a new token) bumps ``revision`` and ``last_updated`` and
sends ``token_changed`` after commit; a change they do not see (blocking a token that
was already not valid) is recorded, but not pushed again.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Iterable
from functools import partial

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import F, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from evdms.accounts.models import User
from evdms.accounts.permissions import Actor, Permission, require
from evdms.accounts.scope import reach
from evdms.audit.models import AuditAction, AuditEvent
from evdms.audit.services import audit_record, target_key
from evdms.connections.models import Connection
from evdms.enrolment.models import Membership, MembershipStatus
from evdms.notifications.services import email_send
from evdms.public_charging.contract_ids import new_contract_id
from evdms.public_charging.models import Token, TokenBlock, TokenType
from evdms.public_charging.signals import token_changed
from evdms.ui.language import user_language

UID_MIN, UID_MAX = 4, 36
VISUAL_NUMBER_MAX = 64
# What an admin may paste: a reader's output with spaces or colons between the bytes.
_UID_SEPARATORS = re.compile(r"[\s:]+")
_HEX = re.compile(r"^[0-9A-F]+$")

# Deliberately the same words whoever holds the card: an organisation must not learn
# that another organisation's driver has it.
CARD_TAKEN = gettext_noop("This card is already registered.")
NO_DRIVER = gettext_noop("No driver with this e-mail address is connected to your organisation.")
NOT_CONNECTED = gettext_noop("This driver's connection request is not approved yet.")
NOT_PAYING = gettext_noop(
    "This driver's connection does not pay for public charging (or is disabled), so a "
    "card would not work."
)


class NotACard(Exception):
    """Blocking, unblocking and reporting lost are for RFID cards; the app token follows
    the driver's membership."""


# --- validity -------------------------------------------------------------------------


def paying_memberships() -> QuerySet[Membership]:
    return Membership.objects.filter(
        status=MembershipStatus.CONNECTED,
        ended_at__isnull=True,
        connection__enabled=True,
        connection__pay_for_public_charging=True,
    )


def membership_pays(membership: Membership) -> bool:
    return paying_memberships().filter(pk=membership.pk).exists()


def _send_after_commit(tokens: Iterable[Token]) -> None:
    for token in tokens:
        transaction.on_commit(partial(token_changed.send, sender=Token, token=token))


def _refresh(tokens: QuerySet[Token], *, record: bool = True) -> list[Token]:
    """Recompute ``valid`` of ``tokens`` with a fixed number of queries (however many
    drivers they belong to); returns the tokens whose validity changed, reloaded.
    ``record``: write the validity's audit rows (not when the caller records the change
    that caused it, a block or an unblock, in a row of its own)."""
    locked = list(
        tokens.select_for_update().only("pk", "driver_id", "organisation_id", "valid", "blocked")
    )
    if not locked:
        return []
    pairs = {(t.driver_id, t.organisation_id) for t in locked}
    paying = set(
        paying_memberships()
        .filter(driver_id__in={d for d, _ in pairs}, organisation_id__in={o for _, o in pairs})
        .values_list("driver_id", "organisation_id")
    )
    now = timezone.now()
    to_valid: list[int] = []
    to_invalid: list[int] = []
    for token in locked:
        should = not token.blocked and (token.driver_id, token.organisation_id) in paying
        if should != token.valid:
            (to_valid if should else to_invalid).append(token.pk)
    for ids, valid in ((to_valid, True), (to_invalid, False)):
        if ids:
            Token.objects.filter(pk__in=ids).update(
                valid=valid, revision=F("revision") + 1, last_updated=now
            )
    changed = list(Token.objects.filter(pk__in=to_valid + to_invalid).order_by("pk"))
    # One insert for all rows (a connection's drivers at once), same shape as audit_record.
    AuditEvent.objects.bulk_create(
        []
        if not record
        else [
            AuditEvent(
                at=now,
                actor_label="system",
                organisation_id=token.organisation_id,
                action=AuditAction.CHARGING_TOKEN_VALIDITY,
                target_type=target_key(token)[0],
                target_id=str(token.pk),
                target_label=str(token)[:300],
                changes={"valid": [not token.valid, token.valid]},
            )
            for token in changed
        ]
    )
    _send_after_commit(changed)
    return changed


@transaction.atomic
def tokens_refresh(*, driver_id: int, organisation_id: int) -> list[Token]:
    """Bring the validity of every token of the driver in that organisation up to date
    (after the driver connected, left, was removed or moved)."""
    return _refresh(Token.objects.filter(driver_id=driver_id, organisation_id=organisation_id))


@transaction.atomic
def tokens_refresh_for_connection(*, connection: Connection) -> list[Token]:
    """After a connection was disabled, enabled or changed its benefits: every token of
    its drivers in its organisation, in one pass (not a query per driver)."""
    drivers = Membership.objects.filter(connection_id=connection.pk).values("driver_id")
    return _refresh(
        Token.objects.filter(driver_id__in=drivers, organisation_id=connection.organisation_id)
    )


@transaction.atomic
def connection_tokens_sync(*, connection: Connection) -> list[Token]:
    """A connection changed: drivers it now pays for get their app token, and every
    token of its drivers follows. Returns the tokens whose validity changed."""
    if connection.enabled and connection.pay_for_public_charging:
        have = Token.objects.filter(
            organisation_id=connection.organisation_id, type=TokenType.APP_USER
        ).values("driver_id")
        for membership in (
            paying_memberships().filter(connection_id=connection.pk).exclude(driver_id__in=have)
        ):
            _app_token_create(membership)
    return tokens_refresh_for_connection(connection=connection)


# --- the app token --------------------------------------------------------------------


def _new_app_uid() -> str:
    for _attempt in range(10):
        uid = secrets.token_hex(8).upper()
        if not Token.objects.filter(uid=uid).exists():
            return uid
    raise RuntimeError("Could not find a free token uid; try again.")  # pragma: no cover


def _app_token_create(membership: Membership) -> Token | None:
    """A new, valid app token (the caller checked that the membership pays)."""
    contract_id = new_contract_id()
    try:
        with transaction.atomic():  # a savepoint: a racing twin may have won
            token = Token.objects.create(
                organisation_id=membership.organisation_id,
                driver_id=membership.driver_id,
                type=TokenType.APP_USER,
                uid=_new_app_uid(),
                contract_id=contract_id,
                visual_number=contract_id,
                valid=True,
            )
    except IntegrityError:
        return None
    audit_record(
        actor=None,
        action=AuditAction.CHARGING_TOKEN_ISSUE,
        target=token,
        organisation=membership.organisation,
        changes={"type": [None, token.type], "contract_id": [None, contract_id]},
    )
    _send_after_commit([token])
    return token


@transaction.atomic
def app_token_ensure(membership: Membership) -> Token | None:
    """A driver connected to a connection that pays for public charging has one app
    token in that organisation (made now if missing); every token of the driver there
    then follows the membership. Returns the app token, None when there is none."""
    if membership_pays(membership):
        exists = Token.objects.filter(
            organisation_id=membership.organisation_id,
            driver_id=membership.driver_id,
            type=TokenType.APP_USER,
        ).exists()
        if not exists:
            _app_token_create(membership)
    tokens_refresh(driver_id=membership.driver_id, organisation_id=membership.organisation_id)
    return Token.objects.filter(
        organisation_id=membership.organisation_id,
        driver_id=membership.driver_id,
        type=TokenType.APP_USER,
    ).first()


# --- RFID cards -----------------------------------------------------------------------


def clean_uid(value: object) -> str:
    """A card's uid as we store it: hexadecimal, upper-case, separators dropped."""
    if not isinstance(value, str) or len(value) > 200:
        raise ValidationError({"uid": [_("Enter the card's uid: 4 to 36 hexadecimal characters.")]})
    uid = _UID_SEPARATORS.sub("", value).upper()
    if not UID_MIN <= len(uid) <= UID_MAX or not _HEX.match(uid):
        raise ValidationError(
            {"uid": [_("Enter the card's uid: 4 to 36 hexadecimal characters (0–9, A–F).")]}
        )
    return uid


def clean_visual_number(value: object) -> str:
    if value is None:
        return ""
    if not isinstance(value, str):
        raise ValidationError({"visual_number": [_("Enter the number printed on the card.")]})
    number = " ".join(value.split())
    if len(number) > VISUAL_NUMBER_MAX:
        raise ValidationError(
            {
                "visual_number": [
                    _("Use at most %(limit)d characters.") % {"limit": VISUAL_NUMBER_MAX}
                ]
            }
        )
    if not number.isprintable():
        raise ValidationError({"visual_number": [_("Use letters, digits and punctuation only.")]})
    return number


@transaction.atomic
def card_issue(
    *, actor: Actor, membership: Membership | None, uid: object, visual_number: object = ""
) -> Token:
    """An RFID card for a driver connected to a paying connection of an organisation the
    actor acts for; valid at once. ``membership`` None is the "no such driver" answer of
    a look-up (``selectors.driver_membership_for``)."""
    require(actor, Permission.MANAGE_DRIVERS)
    errors: dict[str, list[str]] = {}
    clean: dict[str, str] = {}
    for field, cleaner, value in (
        ("uid", clean_uid, uid),
        ("visual_number", clean_visual_number, visual_number),
    ):
        try:
            clean[field] = cleaner(value)
        except ValidationError as exc:
            errors.update(exc.message_dict)
    in_scope = membership is not None and reach(actor, Permission.MANAGE_DRIVERS).covers(
        membership.organisation_id, membership.connection_id
    )
    if membership is None or not in_scope:
        errors["driver_email"] = [_(NO_DRIVER)]
    elif membership.status != MembershipStatus.CONNECTED:
        errors["driver_email"] = [_(NOT_CONNECTED)]
    elif not membership_pays(membership):
        errors["driver_email"] = [_(NOT_PAYING)]
    if "uid" in clean and Token.objects.filter(uid=clean["uid"]).exists():
        errors["uid"] = [_(CARD_TAKEN)]
    if errors:
        raise ValidationError(errors)
    assert membership is not None
    contract_id = new_contract_id()
    try:
        with transaction.atomic():
            token = Token.objects.create(
                organisation_id=membership.organisation_id,
                driver_id=membership.driver_id,
                type=TokenType.RFID,
                uid=clean["uid"],
                contract_id=contract_id,
                visual_number=clean["visual_number"],
                valid=True,
            )
    except IntegrityError as exc:  # registered between the check and the insert
        raise ValidationError({"uid": [_(CARD_TAKEN)]}) from exc
    audit_record(
        actor=actor,
        action=AuditAction.CHARGING_TOKEN_ISSUE,
        target=token,
        organisation=membership.organisation,
        changes={
            "type": [None, token.type],
            "uid": [None, token.uid],
            "visual_number": [None, token.visual_number],
            "driver": [None, membership.driver.email],
        },
    )
    _send_after_commit([token])
    return token


def _set_block(token: Token, block: str) -> tuple[Token, str] | None:
    """Set ``blocked`` and the validity that follows; None when nothing changes (already
    so; or blocking a card that is already blocked for the other reason). Returns the
    reloaded token and what ``blocked`` was."""
    locked = Token.objects.select_for_update().get(pk=token.pk)
    if locked.type != TokenType.RFID:
        raise NotACard(token)
    if locked.blocked == block or (block == TokenBlock.BLOCKED and locked.blocked):
        return None
    was = locked.blocked
    Token.objects.filter(pk=locked.pk).update(blocked=block)
    changed = _refresh(Token.objects.filter(pk=locked.pk), record=False)
    if not changed:
        # Partners see nothing new (it was not valid anyway); keep the row's own state.
        locked.refresh_from_db()
        return locked, was
    return changed[0], was


@transaction.atomic
def card_block(*, actor: Actor, token: Token) -> Token:
    """Block a card at once (the partners hear it is no longer valid). Blocking a card
    that is already blocked or reported lost changes nothing."""
    require(actor, Permission.MANAGE_DRIVERS)
    result = _set_block(token, TokenBlock.BLOCKED)
    if result is None:
        return Token.objects.get(pk=token.pk)
    blocked, was = result
    audit_record(
        actor=actor,
        action=AuditAction.CHARGING_TOKEN_BLOCK,
        target=blocked,
        organisation=blocked.organisation,
        changes={"blocked": [was, blocked.blocked], "valid": [token.valid, blocked.valid]},
    )
    return blocked


@transaction.atomic
def card_unblock(*, actor: Actor, token: Token) -> Token:
    """Unblock a card, also one the driver reported lost (it was found again: the admin
    decides, and the audit log keeps that it had been lost)."""
    require(actor, Permission.MANAGE_DRIVERS)
    result = _set_block(token, TokenBlock.NONE)
    if result is None:
        return Token.objects.get(pk=token.pk)
    unblocked, was = result
    audit_record(
        actor=actor,
        action=AuditAction.CHARGING_TOKEN_UNBLOCK,
        target=unblocked,
        organisation=unblocked.organisation,
        changes={"blocked": [was, ""], "valid": [token.valid, unblocked.valid]},
    )
    return unblocked


@transaction.atomic
def token_report_lost(*, driver: User, token: Token) -> Token:
    """The driver's own card, blocked at once as lost; the driver gets an e-mail saying
    so. Reporting it again changes nothing (and sends nothing)."""
    if token.driver_id != driver.pk:
        raise NotACard(token)  # the views look tokens up by driver; never reached there
    result = _set_block(token, TokenBlock.LOST)
    if result is None:
        return Token.objects.get(pk=token.pk)
    lost, was = result
    audit_record(
        actor=None,
        by_user=driver,
        action=AuditAction.CHARGING_TOKEN_LOST,
        target=lost,
        organisation=lost.organisation,
        changes={"blocked": [was, TokenBlock.LOST], "valid": [token.valid, lost.valid]},
    )
    email_send(
        to=[driver.email],
        template="charging_card_lost",
        context={"driver": driver, "token": lost, "organisation": lost.organisation},
        organisation=lost.organisation,
        language=user_language(driver, lost.organisation),
    )
    return lost
