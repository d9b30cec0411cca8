"""The driver's Business / Personal mark on a public charging session.

The organisation pays business sessions only, so the mark decides who pays; once the
month's invoice has taken the session (a line of it holds the session) the mark is part
of an invoice and stays as it is. A session its operator credited counts nowhere: there is nothing
left to mark.
"""

from __future__ import annotations

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from evdms.accounts.models import Organisation, User
from evdms.audit.models import AuditAction
from evdms.audit.services import audit_record
from evdms.charging.models import ChargingSession, SessionKind, SessionPurpose, SessionStatus
from evdms.invoicing.models import InvoiceLine

# English here (tests and the API compare them); translated where raised.
PURPOSE_FIXED = gettext_noop(
    "The invoice for this month has been made: the purpose can no longer change"
)
PURPOSE_CREDITED = gettext_noop("The operator credited this session: it is not charged to anyone.")
PURPOSE_CHOICE = gettext_noop("Choose Business or Personal.")


@transaction.atomic
def session_purpose_set(*, driver: User, session: ChargingSession, purpose: str) -> ChargingSession:
    """Mark the driver's own public session business or personal. Refused (a field error
    on ``purpose``) once the session is invoiced or credited; marking it as it already
    is changes nothing and records nothing."""
    if purpose not in SessionPurpose.values:
        raise ValidationError({"purpose": [_(PURPOSE_CHOICE)]})
    # The invoice run may be taking the organisation's sessions right now, and what it
    # took must be what it invoiced: it holds the organisation's row locked while it
    # reads and invoices them (``invoicing.services.run``), so this waits for it, then
    # sees the session's invoice line. The session row is locked against a second mark.
    Organisation.objects.select_for_update(no_key=True).filter(pk=session.organisation_id).first()
    current = (
        ChargingSession.objects.select_for_update(of=("self",))
        .select_related("organisation")
        .filter(pk=session.pk)
        .first()
    )
    if current is None or current.driver_id != driver.pk or current.kind != SessionKind.PUBLIC:
        # Views reach here only through ``get_own_public_session``: a caller that does
        # not is a programming error, not a 404 to show.
        raise PermissionDenied("Not the driver's public session.")
    if current.status == SessionStatus.CREDITED:
        raise ValidationError({"purpose": [_(PURPOSE_CREDITED)]})
    if InvoiceLine.objects.filter(session_id=current.pk).exists():
        raise ValidationError({"purpose": [_(PURPOSE_FIXED)]})
    old = current.purpose
    if old == purpose:
        return current
    current.purpose = purpose
    current.save(update_fields=["purpose"])
    audit_record(
        actor=None,
        by_user=driver,
        action=AuditAction.CHARGING_SESSION_PURPOSE,
        target=current,
        organisation=current.organisation,
        changes={"purpose": [old, purpose]},
    )
    return current
