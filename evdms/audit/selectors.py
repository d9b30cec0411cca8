from __future__ import annotations

from django.db import models
from django.db.models import QuerySet

from evdms.audit.models import AuditEvent
from evdms.audit.services import target_key


def audit_events_for(target: models.Model, *, limit: int = 200) -> QuerySet[AuditEvent]:
    """The history of one object, newest first."""
    target_type, target_id = target_key(target)
    return AuditEvent.objects.filter(target_type=target_type, target_id=target_id).order_by(
        "-at", "-id"
    )[:limit]
