"""API keys of platform operators, for the payout operations of the API.

``evdmsop_<prefix>_<secret>``: a prefix other than organisation keys' ``evdms_``, so a
key says what it is and neither kind is ever mistaken for the other.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from evdms.accounts.models import OperatorApiKey, User
from evdms.audit.models import AuditAction
from evdms.audit.services import audit_record

PREFIX = "evdmsop"


def _sha256(plain: str) -> str:
    return hashlib.sha256(plain.encode()).hexdigest()


@transaction.atomic
def operator_api_key_create(*, operator: User, name: str) -> tuple[OperatorApiKey, str]:
    """A key acting as ``operator`` (a platform operator); its plain text, shown once."""
    if not (operator.is_staff and operator.is_active):
        raise ValidationError({"operator": ["Only an active platform operator can have one."]})
    name = name.strip()
    if not name:
        raise ValidationError({"name": ["Say what uses the key."]})
    prefix = secrets.token_hex(6)
    plain = f"{PREFIX}_{prefix}_{secrets.token_urlsafe(32)}"
    key = OperatorApiKey(operator=operator, name=name, prefix=prefix, key_hash=_sha256(plain))
    key.full_clean()
    key.save()
    audit_record(
        actor=None,
        by_user=operator,
        action=AuditAction.OPERATOR_API_KEY_CREATE,
        target=key,
        changes={"name": [None, name]},
    )
    return key, plain


def operator_api_key_authenticate(raw: str) -> User | None:
    """The operator a live key acts as, or None. A key stops working as soon as its user
    is no longer an active platform operator."""
    parts = raw.strip().split("_", 2)
    if len(parts) != 3 or parts[0] != PREFIX or len(parts[1]) != 12 or not parts[2]:
        return None
    key = OperatorApiKey.objects.select_related("operator").filter(prefix=parts[1]).first()
    if key is None or key.revoked_at is not None:
        return None
    if not secrets.compare_digest(key.key_hash, _sha256(raw.strip())):
        return None
    if not (key.operator.is_staff and key.operator.is_active):
        return None
    # One write a minute at most: "last used" is for humans, not an access log.
    now = timezone.now()
    if key.last_used_at is None or now - key.last_used_at > timedelta(minutes=1):
        OperatorApiKey.objects.filter(pk=key.pk).update(last_used_at=now)
    return key.operator
