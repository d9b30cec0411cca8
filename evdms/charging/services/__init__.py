"""Every write about chargers: the registry (register, link, authenticate), what a
charger says about itself, and an admin's review of a held session. What chargers report
about sessions goes through the session core, ``evdms.charging.services.sessions``. The gateway
calls these (through ``sync_to_async``); each is atomic and safe to call twice."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from evdms.accounts.models import Organisation, User
from evdms.accounts.permissions import Actor, Permission, require
from evdms.accounts.scope import reach
from evdms.audit.models import AuditAction
from evdms.audit.services import audit_record
from evdms.charging import bounds
from evdms.charging.credentials import (
    charger_password_hash,
    charger_password_problem,
    generate_charger_password,
)
from evdms.charging.models import Charger, ChargingSession, SessionReview

# The gateway keeps what it cannot accept through the services, like everything else.
from evdms.charging.services.protocol_issues import protocol_issue as protocol_issue
from evdms.charging.signals import charger_booted as charger_booted_signal
from evdms.enrolment.models import LIVE_STATUSES, Membership

# The same words for an unknown address and for another organisation's driver.
NOT_YOUR_DRIVER = gettext_lazy("None of your drivers has this e-mail address.")


# --- registry -----------------------------------------------------------------------


def _check_driver(driver: User | None, organisation: Organisation) -> None:
    """A charger's driver is a driver of the charger's organisation: its sessions are
    attributed to that membership, so a charger never feeds another organisation."""
    if driver is None:
        return
    live = Membership.objects.filter(
        driver=driver, organisation=organisation, status__in=LIVE_STATUSES
    )
    if not live.exists():
        raise ValidationError({"driver": [str(NOT_YOUR_DRIVER)]})


def _may_register(actor: Actor, organisation: Organisation, driver: User | None) -> bool:
    """For an organisation whose every connection the actor reaches; or, for the chosen
    connections only (a grant or the actor's scope), for a driver of one of them."""
    scope = reach(actor, Permission.MANAGE_DRIVERS)
    if scope.whole(organisation.pk):
        return True
    return (
        driver is not None
        and Membership.objects.filter(
            driver=driver,
            organisation=organisation,
            connection_id__in=sorted(scope.connections),
            status__in=LIVE_STATUSES,
        ).exists()
    )


@transaction.atomic
def charger_register(
    *,
    actor: Actor | None,
    organisation: Organisation,
    identity: str,
    serial: str,
    password: str | None = None,
    vendor: str = "",
    model: str = "",
    driver: User | None = None,
) -> tuple[Charger, str]:
    """Register a charger; returns it and its password (shown once, stored hashed).
    Without ``password`` one is generated: what chargers should have (see ``credentials``).

    ``driver`` must have a live membership in ``organisation`` (find them with
    ``enrolment.access.find_driver_for``, which also says which organisation).
    """
    if actor is not None:
        require(actor, Permission.MANAGE_DRIVERS)
        if not _may_register(actor, organisation, driver):
            raise ValidationError(_("A charger can only be registered for your organisation."))
    _check_driver(driver, organisation)
    identity = identity.strip()
    errors: dict[str, list[str]] = {}
    if not identity or len(identity) > 48 or not all(c.isalnum() or c in "-_." for c in identity):
        errors["identity"] = [_("Use 1 to 48 letters, digits, - _ or . (the charger's OCPP id).")]
    elif Charger.objects.filter(identity=identity).exists():
        errors["identity"] = [_("A charger with this identity is registered already.")]
    if not serial.strip():
        errors["serial"] = [_("This field is required.")]
    if password:
        problem = charger_password_problem(password)
        if problem:
            errors["password"] = [problem]
    else:
        password = generate_charger_password()
    if errors:
        raise ValidationError(errors)
    charger = Charger.objects.create(
        organisation=organisation,
        identity=identity,
        serial=serial.strip(),
        vendor=vendor.strip(),
        model=model.strip(),
        password_hash=charger_password_hash(password),
        driver=driver,
    )
    audit_record(
        actor=actor,
        action=AuditAction.CHARGER_REGISTER,
        target=charger,
        organisation=organisation,
        changes={"identity": [None, identity], "driver": [None, driver.email if driver else None]},
    )
    return charger, password


@transaction.atomic
def charger_link(*, actor: Actor, charger: Charger, driver: User | None) -> Charger:
    require(actor, Permission.MANAGE_DRIVERS)
    _check_driver(driver, charger.organisation)
    old = charger.driver.email if charger.driver else None
    charger.driver = driver
    charger.save(update_fields=["driver"])
    audit_record(
        actor=actor,
        action=AuditAction.CHARGER_LINK if driver else AuditAction.CHARGER_UNLINK,
        target=charger,
        changes={"driver": [old, driver.email if driver else None]},
    )
    return charger


def charger_password_rehash(*, charger_id: int, old_hash: str, password: str) -> bool:
    """Store the keyed hash of a password the charger just proved (its stored hash was a
    legacy argon2 one, or made with an old secret key). Only over the hash it was checked
    against: a password an admin set meanwhile is kept. True if replaced."""
    return bool(
        Charger.objects.filter(pk=charger_id, password_hash=old_hash).update(
            password_hash=charger_password_hash(password)
        )
    )


# --- what chargers report -----------------------------------------------------------


def charger_seen(charger_id: int, epoch: int | None = None, **fields: Any) -> bool:
    """False, and nothing written, if ``epoch`` is no longer the charger's newest
    connection's: a connection another gateway process took over learns it here at its
    next heartbeat, even if it sends nothing else."""
    chargers = Charger.objects.filter(pk=charger_id)
    if epoch is not None:
        chargers = chargers.filter(connection_epoch=epoch)
    return chargers.update(last_seen_at=timezone.now(), **fields) > 0


def charger_booted(charger_id: int, epoch: int | None = None, **fields: Any) -> bool:
    """A BootNotification: ``charger_seen`` with what the charger says about itself, and,
    if accepted, ``signals.charger_booted`` (an installation job's charger commissions
    its job). False, nothing written and nothing sent, as ``charger_seen``."""
    if not charger_seen(charger_id, epoch, **fields):
        return False
    charger_booted_signal.send(sender=Charger, charger_id=charger_id)
    return True


def charger_connected(charger_id: int, protocol: str) -> int:
    """A connection accepted for the charger: online, and its epoch, newer than any
    connection before it in any gateway process.

    On PostgreSQL the UPDATE waits for a batch of another process holding the
    charger's row (``ocpp.persist``): once it returns, that process can store nothing
    more from its older connection, and what it stored is committed and visible."""
    with transaction.atomic():
        Charger.objects.filter(pk=charger_id).update(
            connection_epoch=F("connection_epoch") + 1,
            online=True,
            protocol=protocol,
            last_seen_at=timezone.now(),
        )
        return int(
            Charger.objects.filter(pk=charger_id).values_list("connection_epoch", flat=True).get()
        )


def charger_disconnected(charger_id: int, epoch: int) -> None:
    """Offline, unless a newer connection (here or in another process) took over."""
    Charger.objects.filter(pk=charger_id, connection_epoch=epoch).update(
        online=False, last_seen_at=timezone.now()
    )


def charger_connector_status(
    charger_id: int, connector_id: int, status: str, epoch: int | None = None
) -> bool:
    """False, and nothing written, if ``epoch`` is no longer the charger's newest
    connection's: an old socket must not overwrite what the live one reported."""
    bounds.check_int("connectorId", connector_id, 0, bounds.CONNECTOR_ID_MAX)
    bounds.check_text("status", status, 50)
    with transaction.atomic():
        chargers = Charger.objects.select_for_update().filter(pk=charger_id)
        if epoch is not None:
            chargers = chargers.filter(connection_epoch=epoch)
        charger = chargers.first()
        if charger is None:
            return False
        charger.connector_status = {**charger.connector_status, str(connector_id): status}
        charger.last_seen_at = timezone.now()
        charger.save(update_fields=["connector_status", "last_seen_at"])
    return True


# --- review of held sessions ----------------------------------------------------------


class AlreadyReviewed(ValidationError):
    """Another admin decided first, or the session is not held (a 4xx, not a 500)."""


@transaction.atomic
def session_review(*, actor: Actor, session: ChargingSession, accept: bool) -> ChargingSession:
    """An admin's decision on a held session: accepted, it counts on the next statement
    run; rejected, it is never reimbursed. Decided once (two admins never both win)."""
    require(actor, Permission.MANAGE_DRIVERS)
    if accept:
        start, stop = session.meter_start_wh, session.meter_stop_wh
        if start is not None and stop is not None and stop - start > bounds.SESSION_WH_STORABLE:
            raise ValidationError(
                {
                    "decision": [
                        _(
                            "The charger's figures are beyond anything a statement can hold; "
                            "reject this session."
                        )
                    ]
                }
            )
    decision = SessionReview.ACCEPTED if accept else SessionReview.REJECTED
    now = timezone.now()
    won = ChargingSession.objects.filter(
        pk=session.pk, review=SessionReview.PENDING, statement_line__isnull=True
    ).update(review=decision, reviewed_by=actor.user, reviewed_at=now)
    if not won:
        raise AlreadyReviewed(
            {"decision": [_("This session is not awaiting review (another admin decided).")]}
        )
    session.refresh_from_db()
    audit_record(
        actor=actor,
        action=(
            AuditAction.CHARGING_SESSION_ACCEPT if accept else AuditAction.CHARGING_SESSION_REJECT
        ),
        target=session,
        changes={
            "review": [SessionReview.PENDING, decision],
            "energy_wh": [None, session.energy_wh],
            # A list of the core's phrases: a history shows each in its reader's language.
            "flags": [None, list(session.flags)],
        },
    )
    return session
