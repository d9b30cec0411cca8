"""Every write to a connection: create, update (with the benefit-change guard), enable
and disable. All go through ``rules.clean_connection_input``, so the form and the API
accept and refuse exactly the same input with the same messages."""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from django.core.exceptions import ValidationError
from django.core.files import File
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from evdms.accounts.access import organisations_wholly_for
from evdms.accounts.models import Organisation
from evdms.accounts.permissions import Actor, Permission, require
from evdms.audit.models import AuditAction
from evdms.audit.services import audit_record, diff
from evdms.connections.logo import Logo, clean_logo
from evdms.connections.models import Connection, MaxPriceChange
from evdms.connections.rules import (
    BENEFIT_FIELDS,
    PAGE_ORDER,
    TEXT_FIELDS,
    as_yes_no,
    clean_connection_input,
)
from evdms.connections.selectors import connected_driver_count
from evdms.connections.signals import connection_changed

# Fields a person edits (the organisation is fixed; the logo is handled on its own).
EDITABLE_FIELDS = [f for f in PAGE_ORDER if f not in ("organisation", "logo")]


class RemoveLogo:
    """Pass as ``logo`` to remove the current logo."""


def current_values(connection: Connection) -> dict[str, Any]:
    """A connection's values in the shape ``clean_connection_input`` takes."""
    values: dict[str, Any] = {}
    for field in EDITABLE_FIELDS:
        value = getattr(connection, field)
        values[field] = as_yes_no(value) if isinstance(value, bool) else value
    return values


def _organisation(actor: Actor, value: Any) -> Organisation:
    try:
        pk = int(value)
    except (TypeError, ValueError):
        pk = None
    organisation = (
        organisations_wholly_for(actor, Permission.EDIT_CONNECTIONS).filter(pk=pk).first()
        if pk
        else None
    )
    if organisation is None:
        raise ValidationError(
            {"organisation": [_("Choose one of the organisations you manage connections for.")]}
        )
    return organisation


def _check_name_free(organisation: Organisation, name: str, exclude_pk: int | None) -> None:
    taken = Connection.objects.filter(organisation=organisation, name__iexact=name)
    if exclude_pk is not None:
        taken = taken.exclude(pk=exclude_pk)
    if taken.exists():
        raise ValidationError(
            {"name": [_("A connection with this name exists in this organisation.")]}
        )


def _typed_name(data: Mapping[str, Any]) -> str:
    """The connection name as the rules will store it (trimmed), if it could be stored."""
    name = str(data.get("name") or "").strip()
    return name if len(name) <= TEXT_FIELDS["name"] else ""


def _save(connection: Connection) -> None:
    try:
        with transaction.atomic():
            connection.full_clean(validate_constraints=False)
            connection.save()
    except IntegrityError as exc:  # two admins saving the same name at the same moment
        if "name" in str(exc).lower() or "unique" in str(exc).lower():
            raise ValidationError(
                {"name": [_("A connection with this name exists in this organisation.")]}
            ) from exc
        raise


def _record_max_price(connection: Connection, *, changed_at: datetime) -> None:
    """Keep the maximum with the moment it applies from: statements reimburse a session
    at the maximum in force when it started, not at today's."""
    MaxPriceChange.objects.create(
        connection=connection,
        max_price_per_kwh=connection.max_price_per_kwh,
        valid_from=changed_at,
    )


def _apply_logo(connection: Connection, logo: Logo | type[RemoveLogo] | None) -> None:
    if logo is RemoveLogo:
        connection.logo_png, connection.logo_sha256 = None, ""
    elif isinstance(logo, bytes | File):
        try:
            connection.logo_png, connection.logo_sha256 = clean_logo(logo)
        except ValidationError as exc:
            raise ValidationError({"logo": exc.messages}) from exc


@transaction.atomic
def connection_create(
    *, actor: Actor, data: Mapping[str, Any], logo: Logo | None = None
) -> Connection:
    require(actor, Permission.EDIT_CONNECTIONS)
    errors: dict[str, list[str]] = {}
    organisation = None
    try:
        organisation = _organisation(actor, data.get("organisation"))
    except ValidationError as exc:
        errors.update(exc.message_dict)
    values: dict[str, Any] = {}
    try:
        values = clean_connection_input(data)
    except ValidationError as exc:
        errors.update(exc.message_dict)
    connection = Connection()
    try:
        _apply_logo(connection, logo)
    except ValidationError as exc:
        errors.update(exc.message_dict)
    # Checked with the rest, from what was typed, so a taken name is said in the same
    # round as every other mistake (not only once they are all put right).
    name = _typed_name(data)
    if organisation is not None and name:
        try:
            _check_name_free(organisation, name, None)
        except ValidationError as exc:
            errors.setdefault("name", []).extend(exc.messages)
    if errors:
        raise ValidationError(errors)
    assert organisation is not None
    for field, value in values.items():
        setattr(connection, field, value)
    connection.organisation = organisation
    connection.currency = organisation.currency
    connection.invite_token = secrets.token_urlsafe(24)
    connection.created_by = actor.user
    connection.created_at = connection.updated_at = timezone.now()
    _save(connection)
    _record_max_price(connection, changed_at=connection.created_at)
    audit_record(
        actor=actor,
        action=AuditAction.CONNECTION_CREATE,
        target=connection,
        organisation=organisation,
        changes={
            field: pair
            for field, pair in diff({}, values).items()
            if pair[1] not in ("", None, [], False)
        },
    )
    return connection


def benefit_change_blocked(connection: Connection, values: Mapping[str, Any]) -> int:
    """How many connected drivers a benefit change would affect (0: no change, or none)."""
    changed = [f for f in BENEFIT_FIELDS if getattr(connection, f) != values.get(f)]
    return connected_driver_count(connection) if changed else 0


@transaction.atomic
def connection_update(
    *,
    actor: Actor,
    connection: Connection,
    changes: Mapping[str, Any],
    logo: Logo | type[RemoveLogo] | None = None,
    confirm_benefit_change: bool = False,
) -> Connection:
    """Lay ``changes`` over the current values and save, all rules checked again.

    Changing the benefits of a connection with connected drivers needs
    ``confirm_benefit_change`` (the page warns and suggests Revise Benefits instead).
    """
    require(actor, Permission.EDIT_CONNECTIONS)
    connection = (
        Connection.objects.select_for_update().select_related("organisation").get(pk=connection.pk)
    )
    before = current_values(connection)
    merged = {**before, **{k: v for k, v in changes.items() if k in EDITABLE_FIELDS}}
    errors: dict[str, list[str]] = {}
    values: dict[str, Any] = {}
    try:
        values = clean_connection_input(merged)
    except ValidationError as exc:
        errors.update(exc.message_dict)
    had_logo = connection.logo_sha256
    try:
        _apply_logo(connection, logo)
    except ValidationError as exc:
        errors.update(exc.message_dict)
    name = _typed_name(merged)
    if name:
        try:
            _check_name_free(connection.organisation, name, connection.pk)
        except ValidationError as exc:
            errors.setdefault("name", []).extend(exc.messages)
    if values and not confirm_benefit_change:
        affected = benefit_change_blocked(connection, values)
        if affected:
            errors.setdefault("confirm_benefit_change", []).append(
                ngettext(
                    "This connection has %(count)d connected driver, whose benefits would "
                    "change. Confirm the change, or use Revise Benefits to move chosen drivers "
                    "to a new connection.",
                    "This connection has %(count)d connected drivers, whose benefits would "
                    "change. Confirm the change, or use Revise Benefits to move chosen drivers "
                    "to a new connection.",
                    affected,
                )
                % {"count": affected}
            )
    if errors:
        raise ValidationError(errors)
    old = {f: getattr(connection, f) for f in values}
    for field, value in values.items():
        setattr(connection, field, value)
    connection.updated_at = timezone.now()
    _save(connection)
    if "max_price_per_kwh" in old and old["max_price_per_kwh"] != connection.max_price_per_kwh:
        _record_max_price(connection, changed_at=connection.updated_at)
    changed = diff(old, values)
    if connection.logo_sha256 != had_logo:
        changed["logo"] = [had_logo[:12] or None, connection.logo_sha256[:12] or None]
    if changed:
        audit_record(
            actor=actor,
            action=AuditAction.CONNECTION_UPDATE,
            target=connection,
            organisation=connection.organisation,
            changes=changed,
        )
        connection_changed.send(sender=Connection, connection=connection)
    return connection


@transaction.atomic
def connection_set_enabled(*, actor: Actor, connection: Connection, enabled: bool) -> Connection:
    """Disabling keeps connected drivers; it refuses new invitations and requests."""
    require(actor, Permission.EDIT_CONNECTIONS)
    updated = Connection.objects.filter(pk=connection.pk, enabled=not enabled).update(
        enabled=enabled, updated_at=timezone.now()
    )
    connection.refresh_from_db()
    if updated:
        audit_record(
            actor=actor,
            action=AuditAction.CONNECTION_ENABLE if enabled else AuditAction.CONNECTION_DISABLE,
            target=connection,
            organisation=connection.organisation,
            changes={"enabled": [not enabled, enabled]},
        )
        connection_changed.send(sender=Connection, connection=connection)
    return connection
