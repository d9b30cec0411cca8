from __future__ import annotations

from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django_tasks import task

from evdms.connections.views import invite_url
from evdms.enrolment.models import Invitation, InvitationBatch, InvitationStatus
from evdms.notifications.models import OutboundEmail
from evdms.notifications.services import email_render
from evdms.notifications.tasks import deliver_now

CHUNK = 100


@task()
def send_invitation_batch(*, batch_id: int) -> int:
    """Send a batch's queued invitations, a chunk at a time, counting progress.

    Rerunnable: only QUEUED invitations are sent, each claimed before its e-mail goes, so
    a rerun after a crash or a second worker never invites anyone twice.
    """
    batch = InvitationBatch.objects.select_related("connection", "connection__organisation").get(
        pk=batch_id
    )
    connection = batch.connection
    link = invite_url(connection)
    total = 0
    while True:
        # Claim a chunk: locked rows another worker holds are skipped (PostgreSQL); SQLite
        # runs one writer at a time anyway. Claimed rows are ours alone.
        with transaction.atomic():
            chunk = list(
                Invitation.objects.select_for_update(skip_locked=True)
                .filter(batch=batch, status=InvitationStatus.QUEUED)
                .order_by("pk")[:CHUNK]
            )
            Invitation.objects.filter(pk__in=[i.pk for i in chunk]).update(
                status=InvitationStatus.SENT, sent_at=timezone.now()
            )
        if not chunk:
            break
        emails = OutboundEmail.objects.bulk_create(
            [
                email_render(
                    to=[invitation.email],
                    template="driver_invitation",
                    context={
                        "connection": connection,
                        "link": f"{link}?invitation={invitation.token}",
                    },
                    organisation=connection.organisation,
                )
                for invitation in chunk
            ]
        )
        deliver_now([e.pk for e in emails])
        InvitationBatch.objects.filter(pk=batch.pk).update(sent=F("sent") + len(chunk))
        total += len(chunk)
    InvitationBatch.objects.filter(pk=batch.pk, finished_at=None).update(finished_at=timezone.now())
    return total
