"""The driver's own installation page: where the job stands and what happens next, the
appointment (with one request to move it), photos of the wall and fuse box, the quote's
part to decide on, the charger and its warranty, the installer's declaration. Only the
logged-in driver's own jobs (``jobs_for_driver``); anyone else's is a 404."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from evdms.installations.access import get_job_for_driver, jobs_for_driver
from evdms.installations.forms_portal import MoveRequestForm, PhotoForm
from evdms.installations.models import (
    OPEN_STATUSES,
    DocumentKind,
    InstallationJob,
    JobDocument,
    JobStatus,
    PartApproval,
    QuoteStatus,
)
from evdms.installations.services import jobs as job_services
from evdms.installations.views_portal import document_response
from evdms.ui.decorators import login_required
from evdms.ui.forms import add_service_errors
from evdms.ui.http import AuthenticatedRequest

# The documents a driver may open: their own photos and the installer's declaration.
DRIVER_DOCUMENTS = (DocumentKind.DRIVER_PHOTO, DocumentKind.DECLARATION)
# Before the installation, while the installer may still want to see the place.
PHOTO_STATUSES = OPEN_STATUSES[: OPEN_STATUSES.index(JobStatus.INSTALLED)]


def next_step(job: InstallationJob, driver_quote_pending: bool) -> str:
    """What happens next, in the driver's words."""
    installer = job.installer.organisation.name if job.installer else _("A certified installer")
    names = {"installer": installer, "organisation": job.organisation.name}
    if job.status == JobStatus.ASSIGNED:
        text = _(
            "%(installer)s will contact you to arrange a survey of your home. "
            "You can already add photos of the wall and your fuse box below."
        )
    elif job.status == JobStatus.CONTACTED:
        text = _(
            "%(installer)s has been in touch and will survey where the charger goes. "
            "Photos of the wall and your fuse box help them prepare."
        )
    elif job.status == JobStatus.SURVEYED:
        text = _("The survey is done; %(installer)s is preparing the quote.")
    elif job.status == JobStatus.QUOTED:
        text = (
            _("The quote is ready: please look at your part and approve or decline it.")
            if driver_quote_pending
            else _("The quote awaits the approval of %(organisation)s.")
        )
    elif job.status == JobStatus.QUOTE_APPROVED:
        text = _("The quote is approved; %(installer)s will agree an appointment with you.")
    elif job.status == JobStatus.SCHEDULED:
        when = ""
        if job.appointment_at:
            local = timezone.localtime(job.appointment_at)
            when = _("%(day)s at %(time)s") % {
                "day": date_format(local, _("j F Y")),
                "time": date_format(local, "TIME_FORMAT"),
            }
        return _(
            "The installation is planned for %(when)s. If that does not suit you, you can "
            "ask once to move it."
        ) % {"when": when}
    elif job.status == JobStatus.INSTALLED:
        text = _(
            "Your charger is installed. It is commissioned as soon as it connects to the "
            "platform for the first time."
        )
    elif job.status == JobStatus.COMMISSIONED:
        text = _(
            "Your charger works and is connected. The installer sends their declaration to "
            "complete the installation."
        )
    elif job.status == JobStatus.COMPLETED:
        text = _("Your installation is complete.")
    else:
        return _("This installation was cancelled: %(reason)s") % {"reason": job.cancel_reason}
    return text % names


def _card(job: InstallationJob, bound: dict[str, Any]) -> dict[str, Any]:
    quote = job.quotes.filter(status=QuoteStatus.AWAITING_APPROVAL).order_by("-number").first()
    pending = quote is not None and quote.driver_approval == PartApproval.PENDING
    return {
        "job": job,
        "next_step": next_step(job, pending),
        "quote": quote,
        "driver_quote_pending": pending,
        "approved_quote": job.quotes.filter(status=QuoteStatus.APPROVED)
        .order_by("-number")
        .first(),
        "documents": job.documents.filter(kind__in=DRIVER_DOCUMENTS).defer("content"),
        "may_add_photo": job.status in PHOTO_STATUSES,
        "may_ask_to_move": job.status == JobStatus.SCHEDULED
        and job.appointment_move_requested_at is None,
        "photo_form": bound.get("photo") or PhotoForm(),
        "move_form": bound.get("move") or MoveRequestForm(),
    }


def _render(
    request: AuthenticatedRequest,
    bound_job: int | None = None,
    bound: dict[str, Any] | None = None,
    status: int = 200,
) -> HttpResponse:
    jobs = jobs_for_driver(request.user).select_related(
        "installer__organisation", "organisation", "connection", "charger"
    )
    cards = [_card(job, (bound or {}) if job.pk == bound_job else {}) for job in jobs]
    return render(request, "installations/my_installation.html", {"cards": cards}, status=status)


@login_required
def my_installation(request: AuthenticatedRequest) -> HttpResponse:
    return _render(request)


def _driver_step(
    request: AuthenticatedRequest,
    job_id: int,
    name: str,
    form: forms.Form,
    call: Any,
    done: str,
) -> HttpResponse:
    job = get_job_for_driver(request.user, job_id)
    if form.is_valid():
        try:
            call(job, form.cleaned_data)
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, done)
            return redirect("installations:my-installation")
    return _render(request, bound_job=job.pk, bound={name: form}, status=422)


@require_POST
@login_required
def driver_photo(request: AuthenticatedRequest, job_id: int) -> HttpResponse:
    return _driver_step(
        request,
        job_id,
        "photo",
        PhotoForm(request.POST, request.FILES),
        lambda job, data: job_services.driver_photo_add(
            driver=request.user, job=job, upload=data["photo"], filename=data["photo"].name
        ),
        _("Photo added: your installer sees it."),
    )


@require_POST
@login_required
def move_request(request: AuthenticatedRequest, job_id: int) -> HttpResponse:
    return _driver_step(
        request,
        job_id,
        "move",
        MoveRequestForm(request.POST),
        lambda job, data: job_services.appointment_move_request(
            driver=request.user, job=job, note=data["note"]
        ),
        _("Your request to move the appointment was sent to the installer."),
    )


@login_required
def driver_document(request: AuthenticatedRequest, job_id: int, document_id: int) -> HttpResponse:
    job = get_job_for_driver(request.user, job_id)
    document = get_object_or_404(JobDocument, job=job, pk=document_id, kind__in=DRIVER_DOCUMENTS)
    return document_response(document)
