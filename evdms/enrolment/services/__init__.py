"""Every write about drivers joining: sign-up, requests, approvals, denials, removal,
withdrawal, leaving, and Revise Benefits. Invitations by e-mail are ``invitations`` in
this package."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from datetime import timedelta
from typing import Any
from urllib.parse import parse_qs, quote, urlsplit

from django.conf import settings
from django.contrib.auth.hashers import make_password
from django.contrib.auth.password_validation import validate_password
from django.core import signing
from django.core.exceptions import ValidationError
from django.core.files import File
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.formats import number_format
from django.utils.translation import gettext as _

from evdms.accounts.models import User
from evdms.accounts.permissions import Actor, Permission, require
from evdms.accounts.selectors import account_with_address
from evdms.audit.models import AuditAction
from evdms.audit.services import audit_record
from evdms.connections.logo import Logo
from evdms.connections.models import Connection
from evdms.connections.services import RemoveLogo, connection_create, connection_set_enabled
from evdms.enrolment.models import (
    LEFT_REASON,
    LIVE_STATUSES,
    REMOVED_REASON,
    Invitation,
    Membership,
    MembershipStatus,
    TermsAcceptance,
)
from evdms.enrolment.rules import join_answers_clean
from evdms.enrolment.selectors import one_per_organisation_message
from evdms.enrolment.services.invitations import (
    invitation_connected,
    invitation_opened,
    invitation_requested,
)
from evdms.enrolment.signals import membership_connected, membership_ended, membership_moved
from evdms.notifications.moments import moment_text
from evdms.notifications.selectors import email_queued_since
from evdms.notifications.services import email_send
from evdms.ui.language import supported, user_language

CONFIRM_SALT = "evdms.driver-email-confirmation"
CONFIRM_MAX_AGE = 60 * 60 * 24 * 3  # three days
# Anyone may sign up with anyone's address: its owner hears of it at most this often,
# so nobody can flood their inbox with "you already have an account".
ACCOUNT_EXISTS_EMAIL_INTERVAL = timedelta(hours=1)


class AlreadyDecided(Exception):
    """Another admin (or the driver) changed this request first."""


# --- driver accounts ----------------------------------------------------------------


def _send_confirmation(user: User, next_url: str) -> None:
    token = signing.dumps({"u": user.pk, "e": user.email}, salt=CONFIRM_SALT)
    link = settings.SITE_URL + reverse("enrolment:confirm_email", args=[token])
    if next_url:
        link += "?next=" + quote(next_url)
    email_send(
        to=[user.email],
        template="driver_confirm_email",
        context={"user": user, "link": link},
        language=user_language(user),
    )


def _invitation_for_address(token: str, email: str) -> Invitation | None:
    """The e-mailed invitation behind ``token`` if it was sent to ``email``: following
    its link proves the address is the reader's (the token is the secret)."""
    if not token:
        return None
    return Invitation.objects.filter(token=token, email__iexact=email.strip()).first()


def invitation_token_in(next_url: str) -> str:
    """The ``?invitation=`` token of a join address (sign-up's ``next``), if any."""
    return (parse_qs(urlsplit(next_url).query).get("invitation") or [""])[0]


def _send_account_exists(user: User, next_url: str) -> None:
    # The owner's row locked first, so two sign-ups at once with the address (on
    # PostgreSQL) cannot both find no recent e-mail and both send one.
    User.objects.select_for_update().filter(pk=user.pk).first()
    since = timezone.now() - ACCOUNT_EXISTS_EMAIL_INTERVAL
    if email_queued_since(template="driver_account_exists", to=user.email, since=since):
        return  # the visitor's answer is the same either way (it never says which)
    login_link = settings.SITE_URL + reverse("accounts:login")
    if next_url:
        login_link += "?next=" + quote(next_url)
    email_send(
        to=[user.email],
        template="driver_account_exists",
        context={
            "user": user,
            "login_link": login_link,
            "reset_link": settings.SITE_URL + reverse("accounts:password_reset"),
        },
        language=user_language(user),
    )


@transaction.atomic
def driver_signup(
    *, email: str, full_name: str, password: str, next_url: str = "", language: str = ""
) -> User | None:
    """A driver account for a new address; answers the user to log in now, or None.

    ``language`` is the one the sign-up page was shown in: the new account keeps it
    (the driver can change it on the Account page), so every e-mail from the
    confirmation link on is written in the language the driver signed up in, not the
    organisation's default.

    The answer to the visitor never says whether the address has an account (that would
    tell anyone who has one): for an address with an account its owner is e-mailed
    (log in, or reset the password) and the visitor is told to check their e-mail, as
    for a new address, which gets its confirmation link. Only a visitor who came from
    an invitation e-mailed to that very address (its token in ``next_url``) has shown
    the address is theirs: their new account counts as confirmed and they go on at once.
    """
    email = email.strip().lower()
    errors: dict[str, list[str]] = {}
    if not full_name.strip():
        errors["full_name"] = [_("This field is required.")]
    candidate = User(email=email, full_name=full_name.strip())
    try:
        validate_password(password, candidate)
    except ValidationError as exc:
        errors["password"] = exc.messages
    if errors:
        raise ValidationError(errors)
    owner = account_with_address(email)  # the visitor's own address: sign-up needs it
    if owner is None:
        invitation = _invitation_for_address(invitation_token_in(next_url), email)
        try:
            with transaction.atomic():
                user = User.objects.create_user(
                    email,
                    password,
                    full_name=full_name.strip(),
                    email_confirmed_at=timezone.now() if invitation else None,
                    language=supported(language) or "",
                )
        except (IntegrityError, ValidationError):
            owner = account_with_address(email)  # the same address signed up just now
            if owner is None:
                raise
        else:
            if invitation is not None:
                return user
            _send_confirmation(user, next_url)
            return None
    assert owner is not None
    # As long as making an account takes (its password hash), so the time of the
    # answer does not tell the two apart either.
    make_password(password)
    _send_account_exists(owner, next_url)
    return None


def driver_confirm_by_invitation(*, user: User, token: str) -> bool:
    """Counts the user's address as confirmed when they followed an invitation e-mailed
    to it (no second link to click). True when it is confirmed now."""
    if user.email_confirmed_at is not None:
        return True
    if _invitation_for_address(token, user.email) is None:
        return False
    User.objects.filter(pk=user.pk, email_confirmed_at=None).update(
        email_confirmed_at=timezone.now()
    )
    user.refresh_from_db(fields=["email_confirmed_at"])
    return True


def driver_resend_confirmation(*, user: User, next_url: str = "") -> None:
    if user.email_confirmed_at is None:
        _send_confirmation(user, next_url)


def driver_confirm_email(*, token: str) -> User | None:
    """The user whose address the token confirms (once), or None for a bad or old token."""
    try:
        data = signing.loads(token, salt=CONFIRM_SALT, max_age=CONFIRM_MAX_AGE)
    except signing.BadSignature:
        return None
    user = User.objects.filter(pk=data.get("u"), email=data.get("e")).first()
    if user is None:
        return None
    User.objects.filter(pk=user.pk, email_confirmed_at=None).update(
        email_confirmed_at=timezone.now()
    )
    user.refresh_from_db()
    return user


# --- a driver asks to join ----------------------------------------------------------


def _notify_connected(membership: Membership) -> None:
    connection = membership.connection
    email_send(
        to=[membership.driver.email],
        template="driver_connected",
        context={"membership": membership, "connection": connection},
        organisation=membership.organisation,
        language=user_language(membership.driver, membership.organisation),
    )
    if connection.notify_on_connect:
        email_send(
            to=[connection.support_email],
            template="organisation_driver_connected",
            context={"membership": membership, "connection": connection},
            organisation=membership.organisation,
        )
    if membership.invitation is not None:  # (no query when there is none)
        invitation_connected(invitation=membership.invitation)


def _live_membership(connection: Connection, driver: User) -> Membership | None:
    """The driver's request or connection with this organisation, or None when they may
    ask; another connection of the same organisation is refused."""
    existing = (
        Membership.objects.select_for_update()
        .filter(organisation=connection.organisation, driver=driver, status__in=LIVE_STATUSES)
        .select_related("connection")
        .first()
    )
    if existing is not None and existing.connection_id != connection.pk:
        raise ValidationError(one_per_organisation_message(connection, existing))
    return existing


@transaction.atomic
def membership_request(
    *,
    driver: User,
    connection: Connection,
    answers: Mapping[str, Any],
    ip_address: str | None = None,
    user_agent: str = "",
    invitation_token: str = "",
) -> Membership:
    """A driver asks to join. Auto approval connects at once; Manual leaves it pending.

    Submitting twice (double click, two tabs) returns the request made the first time.
    """
    connection = (
        Connection.objects.select_for_update().select_related("organisation").get(pk=connection.pk)
    )
    if not connection.enabled:
        raise ValidationError(_("This connection is not accepting drivers."))
    if driver.email_confirmed_at is None:
        raise ValidationError(_("Confirm your e-mail address first: we sent you a link."))
    existing = _live_membership(connection, driver)
    if existing is not None:
        return existing  # the same request again
    values = join_answers_clean(connection=connection, answers=answers)
    invitation = (
        invitation_opened(token=invitation_token, connection_id=connection.pk)
        if invitation_token
        else None
    )
    membership = Membership(
        connection=connection,
        organisation=connection.organisation,
        driver=driver,
        invitation=invitation,
        **values,
    )
    try:
        with transaction.atomic():
            membership.save()
    except IntegrityError as exc:  # a second tab won the race for the same organisation
        raise ValidationError(
            _("You already have a connection or a pending request with this organisation.")
        ) from exc
    if invitation is not None:
        invitation_requested(invitation=invitation)
    audit_record(
        actor=Actor(organisation=connection.organisation, role="driver", user=driver),
        action=AuditAction.MEMBERSHIP_REQUEST,
        target=membership,
        changes={
            "status": [None, "pending"],
            "verification_1": [None, membership.verification_1],
            "verification_2": [None, membership.verification_2],
        },
    )
    if connection.custom_terms_enabled:
        terms_accept(membership=membership, ip_address=ip_address, user_agent=user_agent)
    if connection.approval_type == "auto":
        return membership_auto_approve(membership=membership)
    email_send(
        to=[driver.email],
        template="driver_request_received",
        context={"membership": membership, "connection": connection},
        organisation=connection.organisation,
        language=user_language(driver, connection.organisation),
    )
    _queue_connection_alerts(membership)
    return membership


def _queue_connection_alerts(membership: Membership) -> None:
    """Connection Alerts for a request waiting for a decision, worked out once it
    commits (in the worker: the driver does not wait for the admins' look-ups)."""
    from evdms.enrolment.services.alerts import send_connection_request_alerts

    transaction.on_commit(
        lambda: send_connection_request_alerts.enqueue(membership_id=membership.pk)
    )


def terms_accept(
    *, membership: Membership, ip_address: str | None = None, user_agent: str = ""
) -> TermsAcceptance:
    """Keep the exact terms the driver agreed to; the signed copy goes out after commit.

    The PDF is rendered in the worker, not here: the caller holds the connection's row
    lock, and every other driver joining that connection would wait for the rendering.
    The language the terms were shown in is kept with them.
    """
    from evdms.enrolment.tasks import send_signed_terms

    text = membership.connection.terms_text
    acceptance = TermsAcceptance.objects.create(
        # The request's language: what the page the driver agreed on was shown in.
        language=translation.get_language() or "",
        membership=membership,
        driver=membership.driver,
        text=text,
        sha256=hashlib.sha256(text.encode()).hexdigest(),
        ip_address=ip_address,
        user_agent=user_agent[:300],
    )
    if membership.connection.signed_terms_recipients:
        transaction.on_commit(lambda: send_signed_terms.enqueue(acceptance_id=acceptance.pk))
    return acceptance


@transaction.atomic
def membership_auto_approve(*, membership: Membership) -> Membership:
    """Connect a pending request of a connection that approves automatically."""
    now = timezone.now()
    membership = _claim_pending(
        membership, MembershipStatus.CONNECTED, decided_at=now, connected_at=now
    )
    audit_record(
        actor=None,
        action=AuditAction.MEMBERSHIP_AUTO_APPROVE,
        target=membership,
        organisation=membership.organisation,
        changes={"status": ["pending", "connected"]},
    )
    _notify_connected(membership)
    membership_connected.send(sender=Membership, membership=membership, actor=None)
    return membership


# --- admins decide ------------------------------------------------------------------


def _claim_pending(membership: Membership, new: str, **fields: Any) -> Membership:
    won = Membership.objects.filter(pk=membership.pk, status=MembershipStatus.PENDING).update(
        status=new, **{"decided_at": timezone.now(), **fields}
    )
    if not won:  # another admin decided first, or the driver withdrew
        raise AlreadyDecided(membership)
    membership.refresh_from_db()
    return membership


def _decide(actor: Actor, membership: Membership, new: str, **fields: Any) -> Membership:
    require(actor, Permission.MANAGE_DRIVERS)
    return _claim_pending(membership, new, decided_by=actor.user, **fields)


@transaction.atomic
def membership_approve(*, actor: Actor, membership: Membership) -> Membership:
    membership = _decide(actor, membership, MembershipStatus.CONNECTED, connected_at=timezone.now())
    audit_record(
        actor=actor,
        action=AuditAction.MEMBERSHIP_APPROVE,
        target=membership,
        organisation=membership.organisation,
        changes={"status": ["pending", "connected"]},
    )
    _notify_connected(membership)
    membership_connected.send(sender=Membership, membership=membership, actor=actor)
    return membership


@transaction.atomic
def membership_deny(*, actor: Actor, membership: Membership, message: str = "") -> Membership:
    message = message.strip()
    if len(message) > 1000:
        raise ValidationError(
            {
                "message": [
                    _("Use at most %(limit)s characters.")
                    % {"limit": number_format(1000, force_grouping=True)}
                ]
            }
        )
    membership = _decide(actor, membership, MembershipStatus.DENIED, denial_message=message)
    audit_record(
        actor=actor,
        action=AuditAction.MEMBERSHIP_DENY,
        target=membership,
        organisation=membership.organisation,
        changes={"status": ["pending", "denied"], "message": [None, message]},
    )
    email_send(
        to=[membership.driver.email],
        template="driver_denied",
        context={"membership": membership, "connection": membership.connection, "message": message},
        organisation=membership.organisation,
        language=user_language(membership.driver, membership.organisation),
    )
    return membership


def bulk(
    action: Any, *, actor: Actor, memberships: Iterable[Membership], **kwargs: Any
) -> tuple[int, int]:
    """Apply a decision to many; returns (done, skipped because already decided)."""
    done = skipped = 0
    for membership in memberships:
        try:
            action(actor=actor, membership=membership, **kwargs)
            done += 1
        except AlreadyDecided:
            skipped += 1
    return done, skipped


@transaction.atomic
def membership_remove(
    *, actor: Actor, membership: Membership, reason: str = REMOVED_REASON
) -> Membership:
    """Ends the connection's benefits from this moment (reimbursement, public charging)."""
    require(actor, Permission.MANAGE_DRIVERS)
    won = Membership.objects.filter(pk=membership.pk, status=MembershipStatus.CONNECTED).update(
        status=MembershipStatus.REMOVED, ended_at=timezone.now(), ended_reason=reason[:200]
    )
    if not won:
        raise AlreadyDecided(membership)
    membership.refresh_from_db()
    audit_record(
        actor=actor,
        action=AuditAction.MEMBERSHIP_REMOVE,
        target=membership,
        organisation=membership.organisation,
        changes={"status": ["connected", "removed"]},
    )
    email_send(
        to=[membership.driver.email],
        template="driver_removed",
        context={"membership": membership, "connection": membership.connection},
        organisation=membership.organisation,
        language=user_language(membership.driver, membership.organisation),
    )
    membership_ended.send(sender=Membership, membership=membership, actor=actor, by_user=None)
    return membership


# --- a driver's own actions ---------------------------------------------------------


def _driver_actor(membership: Membership) -> Actor:
    return Actor(organisation=membership.organisation, role="driver", user=membership.driver)


def _driver_ends(
    *,
    driver: User,
    membership: Membership,
    was: MembershipStatus,
    becomes: MembershipStatus,
    action: AuditAction,
    **fields: Any,
) -> Membership:
    """The driver's own membership in state ``was`` ends now; a membership that is not
    the driver's or no longer in that state is AlreadyDecided."""
    won = Membership.objects.filter(pk=membership.pk, driver=driver, status=was).update(
        status=becomes, ended_at=timezone.now(), **fields
    )
    if not won:
        raise AlreadyDecided(membership)
    membership.refresh_from_db()
    audit_record(
        actor=_driver_actor(membership),
        action=action,
        target=membership,
        changes={"status": [was, becomes]},
    )
    return membership


@transaction.atomic
def membership_withdraw(*, driver: User, membership: Membership) -> Membership:
    return _driver_ends(
        driver=driver,
        membership=membership,
        was=MembershipStatus.PENDING,
        becomes=MembershipStatus.WITHDRAWN,
        action=AuditAction.MEMBERSHIP_WITHDRAW,
    )


@transaction.atomic
def membership_leave(*, driver: User, membership: Membership) -> Membership:
    membership = _driver_ends(
        driver=driver,
        membership=membership,
        was=MembershipStatus.CONNECTED,
        becomes=MembershipStatus.REMOVED,
        action=AuditAction.MEMBERSHIP_LEAVE,
        ended_reason=LEFT_REASON,
    )
    membership_ended.send(sender=Membership, membership=membership, actor=None, by_user=driver)
    return membership


# --- Revise Benefits ----------------------------------------------------------------


@transaction.atomic
def connection_revise_benefits(
    *,
    actor: Actor,
    old: Connection,
    data: Mapping[str, Any],
    membership_ids: Iterable[int],
    disable_old: bool,
    logo: Logo | type[RemoveLogo] | None = None,
) -> tuple[Connection, int]:
    """A new connection with the revised benefits; the chosen connected drivers move to it
    without a new request, each keeping one continuous history (``moved_from``).

    The new connection keeps the old one's logo unless ``logo`` is another one, or
    ``RemoveLogo``: the drivers who move see the same brand as before."""
    require(actor, Permission.MANAGE_DRIVERS)
    given: Logo | None
    if logo is RemoveLogo:
        given = None
    elif logo is None:
        given = bytes(old.logo_png or b"") if old.logo_sha256 else None
    else:
        assert isinstance(logo, bytes | File)
        given = logo
    new = connection_create(
        actor=actor, data={**data, "organisation": old.organisation_id}, logo=given
    )
    chosen = list(
        Membership.objects.select_for_update()
        .filter(connection=old, status=MembershipStatus.CONNECTED, pk__in=list(membership_ids))
        .select_related("driver")
    )
    now = timezone.now()
    for membership in chosen:
        Membership.objects.filter(pk=membership.pk).update(
            status=MembershipStatus.REMOVED, ended_at=now, ended_reason=f"Moved to {new.name}"
        )
        moved = Membership.objects.create(
            connection=new,
            organisation=new.organisation,
            driver=membership.driver,
            status=MembershipStatus.CONNECTED,
            verification_1=membership.verification_1,
            verification_2=membership.verification_2,
            phone=membership.phone,
            address=membership.address,
            postcode=membership.postcode,
            city=membership.city,
            country=membership.country,
            moved_from=membership,
            requested_at=now,
            decided_at=now,
            decided_by=actor.user,
            connected_at=now,
        )
        audit_record(
            actor=actor,
            action=AuditAction.MEMBERSHIP_MOVE,
            target=moved,
            organisation=new.organisation,
            changes={"connection": [old.name, new.name]},
        )
        audit_record(
            actor=actor,
            action=AuditAction.MEMBERSHIP_MOVE,
            target=membership,
            organisation=old.organisation,
            changes={"status": ["connected", "removed"], "connection": [old.name, new.name]},
        )
        membership_moved.send(sender=Membership, old=membership, new=moved, actor=actor)
        # The driver did nothing and is still connected, so tell them what changed.
        email_send(
            to=[membership.driver.email],
            template="driver_moved",
            context={
                "membership": moved,
                "connection": new,
                "old_connection": old,
                "moved_at": moment_text(now, new.organisation),
            },
            organisation=new.organisation,
            language=user_language(membership.driver, new.organisation),
        )
    if disable_old and old.enabled:
        connection_set_enabled(actor=actor, connection=old, enabled=False)
    return new, len(chosen)
