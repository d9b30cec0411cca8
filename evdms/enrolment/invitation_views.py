"""Invite drivers to a connection: a pasted list or a CSV; sending runs in the worker."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db.models import Count
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render

from evdms.accounts.permissions import Actor, Permission
from evdms.connections.access import get_connection_for
from evdms.enrolment.invitations import MAX_ADDRESSES, invitation_batch_create
from evdms.enrolment.models import InvitationBatch, InvitationStatus
from evdms.web.decorators import admin_required

UPLOAD_LIMIT = 2_000_000  # bytes: 10,000 addresses fit easily


@admin_required(Permission.MANAGE_DRIVERS)
def invite(request: HttpRequest, connection_id: int) -> HttpResponse:
    actor: Actor = request.actor  # type: ignore[attr-defined]
    connection = get_connection_for(actor, connection_id)
    errors: dict[str, list[str]] = {}
    text = ""
    if request.method == "POST":
        text = request.POST.get("addresses", "")
        upload = request.FILES.get("file")
        data = upload.read(UPLOAD_LIMIT + 1) if upload else None
        try:
            if data is not None and len(data) > UPLOAD_LIMIT:
                raise ValidationError({"file": ["The file is larger than 2 MB."]})
            batch = invitation_batch_create(
                actor=actor, connection=connection, text=text, csv_bytes=data
            )
        except ValidationError as exc:
            errors = exc.message_dict
        else:
            messages.success(request, f"{batch.total} invitation(s) are being sent.")
            return redirect(
                "enrolment:invitation_batch", connection_id=connection.pk, batch_id=batch.pk
            )
    batches = InvitationBatch.objects.filter(connection=connection).order_by("-created_at")[:20]
    return render(
        request,
        "enrolment/invite.html",
        {
            "connection": connection,
            "errors": errors,
            "text": text,
            "batches": batches,
            "max": MAX_ADDRESSES,
        },
        status=422 if errors else 200,
    )


def _batch(request: HttpRequest, connection_id: int, batch_id: int) -> InvitationBatch:
    connection = get_connection_for(request.actor, connection_id)  # type: ignore[attr-defined]
    return get_object_or_404(
        InvitationBatch.objects.select_related("connection"), pk=batch_id, connection=connection
    )


def _counts(batch: InvitationBatch) -> dict[str, int]:
    found = dict(batch.invitations.values_list("status").annotate(n=Count("pk")))
    return {str(label): found.get(value, 0) for value, label in InvitationStatus.choices}


@admin_required(Permission.MANAGE_DRIVERS)
def invitation_batch(request: HttpRequest, connection_id: int, batch_id: int) -> HttpResponse:
    batch = _batch(request, connection_id, batch_id)
    return render(
        request,
        "enrolment/invitation_batch.html",
        {
            "batch": batch,
            "connection": batch.connection,
            "counts": _counts(batch),
            "invitations": batch.invitations.order_by("pk")[:500],
        },
    )


@admin_required(Permission.MANAGE_DRIVERS)
def invitation_progress(request: HttpRequest, connection_id: int, batch_id: int) -> HttpResponse:
    """The progress bar alone, polled by htmx until the batch is finished."""
    batch = _batch(request, connection_id, batch_id)
    return render(
        request, "enrolment/_progress.html", {"batch": batch, "connection": batch.connection}
    )
