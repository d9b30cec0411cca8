"""The installer portal: the company's jobs, one job with a form for each step it can
take now, and the job's documents. Every look-up goes through ``jobs_for_installer`` /
``get_job_for_installer``: another installer's job is a 404, exactly like a missing one.
Each POST calls one step service; its errors are shown next to the fields they name and
the form keeps what was typed."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Any

from django import forms
from django.conf import settings
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.http import content_disposition_header
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from evdms.accounts.permissions import Permission
from evdms.installations.access import get_job_for_installer
from evdms.installations.forms_portal import (
    LINE_FIELDS,
    LINE_KINDS,
    MAX_ROWS,
    AppointmentForm,
    CancelForm,
    ContactForm,
    DeclarationForm,
    InstalledForm,
    PhotoForm,
    QuoteRow,
    SurveyForm,
    parse_decimal,
    quote_rows_from,
    row_is_empty,
)
from evdms.installations.models import (
    OPEN_STATUSES,
    DocumentKind,
    InstallationJob,
    JobDocument,
    JobStatus,
)
from evdms.installations.payer_split import LineInput
from evdms.installations.selectors_portal import (
    JOB_SORTS,
    days_in_status,
    installer_jobs,
    job_documents,
    job_quotes,
    parse_job_query,
)
from evdms.installations.services import documents as document_services
from evdms.installations.services import jobs as job_services
from evdms.installations.services.quotes import quote_submit
from evdms.installations.services.transitions import Party
from evdms.ui.breadcrumbs import breadcrumbs
from evdms.ui.decorators import admin_required
from evdms.ui.forms import add_service_errors
from evdms.ui.http import AdminRequest

PAGE_SIZE = 50

_S = JobStatus
# Which step forms a job offers in each status (the services decide; this only hides
# forms that would be refused). The permission a form needs besides WORK_INSTALLATION_JOBS.
STEP_STATUSES: dict[str, tuple[str, ...]] = {
    "contact": (_S.ASSIGNED, _S.CONTACTED),
    "survey": (_S.CONTACTED, _S.SURVEYED),
    "photo": OPEN_STATUSES,
    "quote": (_S.SURVEYED,),
    "appointment": (_S.QUOTE_APPROVED, _S.SCHEDULED),
    "installed": (_S.SCHEDULED,),
    "declaration": (_S.COMMISSIONED,),
    "cancel": OPEN_STATUSES,
}
STEP_PERMISSION: dict[str, Permission] = {
    "quote": Permission.QUOTE_INSTALLATION_JOBS,
    "declaration": Permission.QUOTE_INSTALLATION_JOBS,
    "cancel": Permission.QUOTE_INSTALLATION_JOBS,
}


def gateway_url(identity: str) -> str:
    return f"ws://{settings.OCPP_HOST}:{settings.OCPP_PORT}/ocpp/{identity}"


# --- the list -------------------------------------------------------------------------


@admin_required(Permission.WORK_INSTALLATION_JOBS)
def jobs(request: AdminRequest) -> HttpResponse:
    query = parse_job_query(request.GET)
    page = Paginator(installer_jobs(request.actor, query), PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    now = timezone.now()
    params = request.GET.copy()
    params.pop("page", None)
    sort_params = params.copy()
    sort_params.pop("sort", None)
    return render(
        request,
        "installations/portal_jobs.html",
        {
            "page": page,
            "rows": [(job, days_in_status(job, now)) for job in page],
            "query": query,
            "statuses": JobStatus.choices,
            "sorts": JOB_SORTS,
            "querystring": params.urlencode(),
            "sort_querystring": sort_params.urlencode(),
        },
    )


# --- one job --------------------------------------------------------------------------


def _steps(request: AdminRequest, job: InstallationJob) -> set[str]:
    return {
        step
        for step, statuses in STEP_STATUSES.items()
        if job.status in statuses
        and (step not in STEP_PERMISSION or request.actor.can(STEP_PERMISSION[step]))
    }


def _status_label(status: str) -> str:
    return str(JobStatus(status).label) if status in JobStatus.values else (status or "—")


def _job_render(
    request: AdminRequest,
    job: InstallationJob,
    *,
    bound: dict[str, Any] | None = None,
    status: int = 200,
    charger_password: str | None = None,
) -> HttpResponse:
    bound = bound or {}
    steps = _steps(request, job)
    quote_rows = bound.get("quote_rows") or [QuoteRow({"kind": "standard_package"})]
    context = {
        "job": job,
        "breadcrumbs": breadcrumbs(
            (_("Jobs"), "installations:portal-jobs"),
            current=_("Installation for %(driver)s")
            % {"driver": job.driver.full_name or job.driver.email},
        ),
        "days_in_status": days_in_status(job),
        "history": [
            (t, _status_label(t.from_status), _status_label(t.to_status)) for t in job.history.all()
        ],
        "contacts": job.contacts.all(),
        "documents": job_documents(job),
        "quotes": job_quotes(job),
        "steps": steps,
        "contact_form": bound.get("contact") or ContactForm(initial={"at": timezone.now()}),
        "survey_form": bound.get("survey") or SurveyForm(initial={"notes": job.survey_notes}),
        "photo_form": bound.get("photo") or PhotoForm(),
        "quote_rows": quote_rows,
        "quote_notes": bound.get("quote_notes", ""),
        "quote_errors": bound.get("quote_errors", []),
        "line_kinds": LINE_KINDS,
        "appointment_form": bound.get("appointment")
        or AppointmentForm(initial={"appointment_at": job.appointment_at}),
        "installed_form": bound.get("installed") or InstalledForm(),
        "declaration_form": bound.get("declaration") or DeclarationForm(),
        "cancel_form": bound.get("cancel") or CancelForm(),
        "charger_password": charger_password,
        "gateway_url": gateway_url(job.charger.identity) if job.charger else "",
    }
    response = render(request, "installations/portal_job.html", context, status=status)
    if charger_password:
        response["Cache-Control"] = "no-store"  # the page holds a secret
    return response


@admin_required(Permission.WORK_INSTALLATION_JOBS)
def job_detail(request: AdminRequest, job_id: int) -> HttpResponse:
    return _job_render(request, get_job_for_installer(request.actor, job_id))


def _step(
    request: AdminRequest,
    job_id: int,
    name: str,
    form_class: type[forms.Form],
    call: Callable[[InstallationJob, dict[str, Any]], object],
    done: str,
) -> HttpResponse:
    """Bind the step's form, call its service; back to the job page with the form as
    typed and the service's errors next to its fields, or redirect with ``done``."""
    job = get_job_for_installer(request.actor, job_id)
    form = form_class(request.POST, request.FILES)
    if form.is_valid():
        try:
            call(job, form.cleaned_data)
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, done)
            return redirect("installations:portal-job", job_id=job.pk)
    job.refresh_from_db()
    return _job_render(request, job, bound={name: form}, status=422)


@require_POST
@admin_required(Permission.WORK_INSTALLATION_JOBS)
def job_contact(request: AdminRequest, job_id: int) -> HttpResponse:
    return _step(
        request,
        job_id,
        "contact",
        ContactForm,
        lambda job, data: job_services.job_contact_record(
            actor=request.actor,
            job=job,
            at=data["at"],
            channel=data["channel"],
            outcome=data["outcome"],
            note=data["note"],
        ),
        _("Contact attempt recorded."),
    )


@require_POST
@admin_required(Permission.WORK_INSTALLATION_JOBS)
def job_survey(request: AdminRequest, job_id: int) -> HttpResponse:
    return _step(
        request,
        job_id,
        "survey",
        SurveyForm,
        lambda job, data: job_services.job_survey_record(
            actor=request.actor, job=job, notes=data["notes"]
        ),
        _("Survey recorded."),
    )


@require_POST
@admin_required(Permission.WORK_INSTALLATION_JOBS)
def job_photo(request: AdminRequest, job_id: int) -> HttpResponse:
    return _step(
        request,
        job_id,
        "photo",
        PhotoForm,
        lambda job, data: job_services.job_photo_add(
            actor=request.actor, job=job, upload=data["photo"], filename=data["photo"].name
        ),
        _("Photo added."),
    )


@require_POST
@admin_required(Permission.WORK_INSTALLATION_JOBS)
def job_appointment(request: AdminRequest, job_id: int) -> HttpResponse:
    return _step(
        request,
        job_id,
        "appointment",
        AppointmentForm,
        lambda job, data: job_services.job_schedule(
            actor=request.actor, job=job, appointment_at=data["appointment_at"]
        ),
        _("Appointment saved; the driver is e-mailed."),
    )


@require_POST
@admin_required(Permission.WORK_INSTALLATION_JOBS)
def job_installed(request: AdminRequest, job_id: int) -> HttpResponse:
    job = get_job_for_installer(request.actor, job_id)
    form = InstalledForm(request.POST)
    if form.is_valid():
        try:
            job, password = job_services.job_installed(
                actor=request.actor, job=job, **form.cleaned_data
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(
                request,
                _(
                    "Installation recorded. The job is commissioned when the charger first "
                    "connects to the gateway."
                ),
            )
            job = get_job_for_installer(request.actor, job.pk)
            return _job_render(request, job, charger_password=password)
    job.refresh_from_db()
    return _job_render(request, job, bound={"installed": form}, status=422)


@require_POST
@admin_required(Permission.QUOTE_INSTALLATION_JOBS)
def job_declaration(request: AdminRequest, job_id: int) -> HttpResponse:
    return _step(
        request,
        job_id,
        "declaration",
        DeclarationForm,
        lambda job, data: document_services.declaration_upload(
            actor=request.actor,
            job=job,
            upload=data["declaration"],
            filename=data["declaration"].name,
        ),
        _("Declaration uploaded."),
    )


@require_POST
@admin_required(Permission.QUOTE_INSTALLATION_JOBS)
def job_cancel(request: AdminRequest, job_id: int) -> HttpResponse:
    return _step(
        request,
        job_id,
        "cancel",
        CancelForm,
        lambda job, data: job_services.job_cancel(
            job=job, party=Party.INSTALLER, reason=data["reason"], actor=request.actor
        ),
        _("Job cancelled."),
    )


@require_POST
@admin_required(Permission.QUOTE_INSTALLATION_JOBS)
def job_quote(request: AdminRequest, job_id: int) -> HttpResponse:
    """The quote form: "Add a line" and "Remove" re-show the form as typed (no service
    call); "Submit the quote" hands the lines to ``quote_submit``, whose errors keyed
    ``lines-<index>-<field>`` are shown next to that line's field."""
    job = get_job_for_installer(request.actor, job_id)
    rows = quote_rows_from(request.POST)
    notes = request.POST.get("notes", "")
    action = request.POST.get("action", "submit")
    if action == "add" and len(rows) < MAX_ROWS:
        rows.append(QuoteRow({"kind": "extra"}))
        return _job_render(request, job, bound={"quote_rows": rows, "quote_notes": notes})
    if action.startswith("remove-") and action[7:].isdigit():
        index = int(action[7:])
        rows = [row for i, row in enumerate(rows) if i != index]
        return _job_render(request, job, bound={"quote_rows": rows, "quote_notes": notes})
    rows = [row for row in rows if not row_is_empty(row)] or rows[:1]
    lines: list[LineInput] = []
    for row in rows:
        numbers: dict[str, Decimal] = {}
        for name in ("quantity", "unit_price", "vat_rate"):
            value = parse_decimal(row.values[name])
            if value is None:
                row.errors[name] = [_("Enter a number, e.g. 1 or 249.50.")]
            else:
                numbers[name] = value
        if not row.errors:
            lines.append(
                LineInput(
                    kind=row.values["kind"],
                    description=row.values["description"],
                    quantity=numbers["quantity"],
                    unit_price=numbers["unit_price"],
                    vat_rate=numbers["vat_rate"],
                )
            )
    errors: list[str] = []
    if not any(row.errors for row in rows):
        try:
            quote_submit(actor=request.actor, job=job, lines=lines, notes=notes)
        except ValidationError as exc:
            errors = _spread_quote_errors(exc, rows)
        else:
            messages.success(request, _("Quote submitted."))
            return redirect("installations:portal-job", job_id=job.pk)
    job.refresh_from_db()
    return _job_render(
        request,
        job,
        bound={"quote_rows": rows or [QuoteRow()], "quote_notes": notes, "quote_errors": errors},
        status=422,
    )


def _spread_quote_errors(exc: ValidationError, rows: list[QuoteRow]) -> list[str]:
    """Put ``lines-<i>-<field>`` errors on row i's field; return the others for the top."""
    if not hasattr(exc, "error_dict"):
        return list(exc.messages)
    rest: list[str] = []
    for key, texts in exc.message_dict.items():
        parts = key.split("-", 2)
        if len(parts) == 3 and parts[0] == "lines" and parts[1].isdigit():
            index, name = int(parts[1]), parts[2]
            if index < len(rows) and name in LINE_FIELDS:
                rows[index].errors.setdefault(name, []).extend(texts)
                continue
        rest.extend(texts)
    return rest


# --- documents ------------------------------------------------------------------------


def document_response(document: JobDocument) -> HttpResponse:
    """A job's file with its stored content type, never sniffed into something else;
    photos shown in the page, declarations downloaded."""
    response = HttpResponse(bytes(document.content), content_type=document.content_type)
    response["Content-Disposition"] = (
        content_disposition_header(document.kind == DocumentKind.DECLARATION, document.filename)
        or "attachment"
    )
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, no-cache"
    return response


@admin_required(Permission.WORK_INSTALLATION_JOBS)
def job_document(request: AdminRequest, job_id: int, document_id: int) -> HttpResponse:
    job = get_job_for_installer(request.actor, job_id)
    return document_response(get_object_or_404(JobDocument, job=job, pk=document_id))
