"""Writing the audit log. Every service that changes something a person or a payout
depends on calls ``audit_record`` inside its transaction, so the change and its record
commit together or not at all."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from django.db import models

from evdms.accounts import who
from evdms.accounts.models import Organisation
from evdms.accounts.permissions import Actor
from evdms.audit.models import AuditAction, AuditEvent


def _plain(value: Any) -> Any:
    """A JSON-safe, human-readable form of a field value."""
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, models.Model):
        return str(value)
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return str(value)


def target_key(target: models.Model) -> tuple[str, str]:
    return target._meta.label_lower, str(target.pk)


def diff(before: Mapping[str, Any], after: Mapping[str, Any]) -> dict[str, list[Any]]:
    """{field: [old, new]} for the fields whose value changed."""
    return {
        name: [_plain(before.get(name)), _plain(after.get(name))]
        for name in after
        if _plain(before.get(name)) != _plain(after.get(name))
    }


def snapshot(instance: models.Model, fields: Iterable[str]) -> dict[str, Any]:
    return {name: getattr(instance, name) for name in fields}


def audit_record(
    *,
    actor: Actor | None,
    action: AuditAction,
    target: models.Model,
    organisation: Organisation | None = None,
    changes: Mapping[str, Any] | None = None,
    by_user: Any = None,
) -> AuditEvent:
    """``by_user`` names a person acting for themself (a driver), outside any organisation.
    An ``action`` that is not an ``AuditAction`` raises ``ValueError``: a misspelt action
    would otherwise start a kind of its own that no history or filter looks for."""
    if action not in AuditAction.values:
        raise ValueError(f"Unknown audit action {action!r}; add it to AuditAction.")
    target_type, target_id = target_key(target)
    # A code, not English: shown in each reader's language (evdms.accounts.who).
    label = actor.label_code if actor else (by_user.email if by_user is not None else who.SYSTEM)
    return AuditEvent.objects.create(
        actor_user=actor.user if actor else by_user,
        actor_label=label,
        organisation=organisation or (actor.organisation if actor else None),
        action=action,
        target_type=target_type,
        target_id=target_id,
        target_label=str(target)[:300],
        changes={k: _plain(v) for k, v in (changes or {}).items()},
    )
