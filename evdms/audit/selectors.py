from __future__ import annotations

from collections.abc import Iterable

from django.db import models
from django.db.models import Q, QuerySet

from evdms.accounts import who
from evdms.accounts.models import Admin, Organisation
from evdms.audit.models import AuditEvent
from evdms.audit.services import target_key


def audit_events_for(target: models.Model, *, limit: int = 200) -> QuerySet[AuditEvent]:
    """The history of one object, newest first."""
    target_type, target_id = target_key(target)
    return AuditEvent.objects.filter(target_type=target_type, target_id=target_id).order_by(
        "-at", "-id"
    )[:limit]


def as_seen_by(events: Iterable[AuditEvent], organisation: Organisation) -> list[AuditEvent]:
    """``events`` as an admin of ``organisation`` sees them: who acted inside another
    organisation (an object reached through a grant has both organisations' admins in
    its history) is that organisation's business, as on the Grant Rights page and in its
    e-mails: its admin is named by the organisation, an API key only as an API key. A
    driver, the system and the organisation's own admins are named as recorded."""
    found = list(events)
    admins = dict(
        Admin.objects.filter(user_id__in={e.actor_user_id for e in found if e.actor_user_id})
        .values_list("user_id", "organisation__name")
        .filter(~Q(organisation=organisation))
    )
    for event in found:
        if event.actor_user_id in admins:
            event.actor_label = who.admin_of(admins[event.actor_user_id])
        elif (
            event.actor_user_id is None
            and who.is_api_key(event.actor_label)
            and event.organisation_id != organisation.pk
        ):
            # A key's organisation is not recorded: only the target's (a grantee's key
            # acting on a grantor's object is the grantor's event).
            event.actor_label = who.ANY_API_KEY
    return found
