"""Invite drivers to a connection: a pasted list or a CSV; sending runs in the worker."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.formats import date_format, number_format
from django.utils.timezone import localtime
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from evdms.accounts.permissions import Actor, Permission
from evdms.connections.access import get_connection_for
from evdms.enrolment.access import get_invitation_batch_for
from evdms.enrolment.models import InvitationBatch, InvitationStatus
from evdms.enrolment.selectors import invitation_counts
from evdms.enrolment.services.invitations import (
    MAX_ADDRESSES,
    NO_ADDRESS,
    invitation_batch_create,
    missing_address_lines,
    reason_text,
)
from evdms.ui.breadcrumbs import breadcrumbs
from evdms.ui.decorators import admin_required
from evdms.ui.forms import size_text
from evdms.ui.http import AdminRequest

UPLOAD_LIMIT = 5 * 1024 * 1024  # bytes (5 MB): 10,000 rows of a wide staff export still fit


@admin_required(Permission.MANAGE_DRIVERS)
def invite(request: AdminRequest, connection_id: int) -> HttpResponse:
    actor: Actor = request.actor
    connection = get_connection_for(actor, connection_id)
    errors: dict[str, list[str]] = {}
    text = ""
    if request.method == "POST":
        text = request.POST.get("addresses", "")
        upload = request.FILES.get("file")
        data = upload.read(UPLOAD_LIMIT + 1) if upload else None
        try:
            if upload is not None and data is not None and len(data) > UPLOAD_LIMIT:
                raise ValidationError(
                    {
                        "file": [
                            _(
                                "The file is %(size)s; at most 5 MB. Keep only the e-mail "
                                "column and upload it again."
                            )
                            % {"size": size_text(max(len(data), upload.size or 0))}
                        ]
                    }
                )
            batch = invitation_batch_create(
                actor=actor, connection=connection, text=text, csv_bytes=data
            )
        except ValidationError as exc:
            errors = exc.message_dict
        else:
            messages.success(
                request,
                ngettext(
                    "%(n)d invitation is being sent.",
                    "%(n)d invitations are being sent.",
                    batch.total,
                )
                % {"n": batch.total},
            )
            missing = missing_address_lines(batch.rejected)
            if missing:
                messages.warning(request, missing_address_text(missing))
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
            "breadcrumbs": breadcrumbs(
                (_("Connections"), "connections:list"),
                (connection.name, reverse("connections:detail", args=[connection.pk])),
                current=_("Invite drivers"),
            ),
        },
        status=422 if errors else 200,
    )


def missing_address_text(lines: list[int]) -> str:
    """ "3 rows had no e-mail address (lines 4, 7 and 9)." """
    shown = [number_format(n, force_grouping=True) for n in lines[:20]]
    if len(lines) > 20:
        listed = _("%(lines)s and %(more)s more") % {
            "lines": ", ".join(shown),
            "more": number_format(len(lines) - 20, force_grouping=True),
        }
    elif len(shown) > 1:
        listed = _("%(lines)s and %(last)s") % {"lines": ", ".join(shown[:-1]), "last": shown[-1]}
    else:
        listed = shown[0]
    return ngettext(
        "%(n)s row had no e-mail address (line %(lines)s): nobody was invited from it.",
        "%(n)s rows had no e-mail address (lines %(lines)s): nobody was invited from them.",
        len(lines),
    ) % {"n": number_format(len(lines), force_grouping=True), "lines": listed}


SHOWN = 500  # invitations listed on the page; the API pages through all of them


@admin_required(Permission.MANAGE_DRIVERS)
def invitation_batch(request: AdminRequest, connection_id: int, batch_id: int) -> HttpResponse:
    batch = get_invitation_batch_for(request.actor, connection_id, batch_id)
    counts = invitation_counts(batch)
    missing = missing_address_lines(batch.rejected)
    return render(
        request,
        "enrolment/invitation_batch.html",
        {
            "batch": batch,
            "missing_addresses": missing_address_text(missing) if missing else "",
            # Rows without an address are told in one sentence above, not row by row.
            "refused": [
                {**r, "reason": reason_text(str(r.get("reason", "")))}
                for r in batch.rejected
                if r.get("reason") != NO_ADDRESS
            ],
            "connection": batch.connection,
            "counts": {InvitationStatus(value).label: n for value, n in counts.items()},
            "invitations": batch.invitations.order_by("pk")[:SHOWN],
            "shown": SHOWN,
            "breadcrumbs": breadcrumbs(
                (_("Connections"), "connections:list"),
                (batch.connection.name, reverse("connections:detail", args=[batch.connection.pk])),
                (_("Invite drivers"), reverse("enrolment:invite", args=[batch.connection.pk])),
                current=_("Invitations of %(date)s")
                % {"date": date_format(localtime(batch.created_at), "DATETIME_FORMAT")},
            ),
        },
    )


@admin_required(Permission.MANAGE_DRIVERS)
def invitation_progress(request: AdminRequest, connection_id: int, batch_id: int) -> HttpResponse:
    """The progress bar alone, polled by htmx until the batch is finished."""
    batch = get_invitation_batch_for(request.actor, connection_id, batch_id)
    response = render(
        request, "enrolment/_progress.html", {"batch": batch, "connection": batch.connection}
    )
    if batch.finished_at and request.headers.get("HX-Request"):
        # The counts and the list below the bar are stale now: reload the page once (the
        # finished page no longer polls).
        response["HX-Refresh"] = "true"
    return response
