"""The installer API under /api/v1/installer/: an installer company's API key (role
installer manager or technician) lists its jobs and takes their steps. Every look-up is
``jobs_for_installer`` / ``get_job_for_installer``: another installer's job answers 404
like a missing one, and an organisation's key (no installer permission) gets 403. Each
step calls the same service as the portal's page."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from ninja import File, Router, Schema, Status
from ninja.files import UploadedFile
from pydantic import Field

from evdms.accounts.permissions import Actor, Permission
from evdms.installations.access import get_job_for_installer
from evdms.installations.models import (
    STATUS_ORDER,
    ContactAttempt,
    InstallationJob,
    JobDocument,
    JobStatus,
    JobTransition,
    Quote,
)
from evdms.installations.payer_split import LineInput
from evdms.installations.selectors_portal import company_jobs, days_in_status
from evdms.installations.services import documents as document_services
from evdms.installations.services import jobs as job_services
from evdms.installations.services.quotes import quote_submit
from evdms.installations.services.transitions import Party
from evdms.ui.api import FieldErrorsOut, check_page, page_of, requires
from evdms.ui.http import ApiRequest

router = Router(tags=["installer"])

WORK = requires(Permission.WORK_INSTALLATION_JOBS)
QUOTE = requires(Permission.QUOTE_INSTALLATION_JOBS)


# --- schemas --------------------------------------------------------------------------


class DriverOut(Schema):
    name: str
    email: str
    phone: str


class JobConnectionOut(Schema):
    id: int
    name: str
    organisation: str
    payment_model: str
    home_warranty_and_labour: bool


class JobOut(Schema):
    id: int
    status: str
    status_changed_at: datetime
    days_in_status: int
    created_at: datetime
    driver: DriverOut
    address: str
    postcode: str
    city: str
    country: str
    connection: JobConnectionOut
    appointment_at: datetime | None
    appointment_move_requested_at: datetime | None
    appointment_move_note: str
    steps: dict[str, datetime | None] = Field(description="when the job first reached each status")
    charger_serial: str
    charger_vendor: str
    charger_model: str
    mid_certificate: str
    warranty_until: str | None
    cancel_reason: str


class JobPage(Schema):
    count: int
    items: list[JobOut]


class TransitionOut(Schema):
    from_status: str
    to_status: str
    at: datetime
    by: str
    note: str


class ContactOut(Schema):
    id: int
    at: datetime
    channel: str
    outcome: str
    note: str


class DocumentOut(Schema):
    id: int
    kind: str
    filename: str
    content_type: str
    size: int
    uploaded_at: datetime


class QuoteLineOut(Schema):
    kind: str
    description: str
    quantity: Decimal
    unit_price: Decimal
    vat_rate: Decimal
    total_incl_vat: Decimal
    organisation_part: Decimal
    driver_part: Decimal


class QuoteOut(Schema):
    id: int
    number: int
    status: str
    payment_model: str
    currency: str
    total_excl_vat: Decimal
    total_vat: Decimal
    total_incl_vat: Decimal
    organisation_share: Decimal
    driver_share: Decimal
    organisation_approval: str
    driver_approval: str
    decline_reason: str
    lines: list[QuoteLineOut]


class JobDetailOut(JobOut):
    history: list[TransitionOut]
    contacts: list[ContactOut]
    documents: list[DocumentOut]
    quotes: list[QuoteOut]


class InstalledOut(JobDetailOut):
    charger_identity: str
    charger_password: str = Field(description="shown only in this answer")
    gateway_url: str


class ContactIn(Schema):
    at: datetime
    channel: str = Field(description="phone, email, sms or visit")
    outcome: str = Field(description="reached, no_answer, left_message or wrong_details")
    note: str = ""


class SurveyIn(Schema):
    notes: str


class LineIn(Schema):
    kind: str = Field(description="standard_package, extra or driver_extra")
    description: str
    quantity: Decimal
    unit_price: Decimal = Field(description="excluding VAT")
    vat_rate: Decimal = Field(description="percent, e.g. 21")


class QuoteIn(Schema):
    lines: list[LineIn]
    notes: str = ""


class AppointmentIn(Schema):
    appointment_at: datetime


class InstalledIn(Schema):
    identity: str = Field(description="the charger's OCPP identity")
    serial: str
    vendor: str
    model: str
    mid_certificate: str


class CancelIn(Schema):
    reason: str


# --- answers --------------------------------------------------------------------------


def job_out(job: InstallationJob) -> dict[str, Any]:
    connection = job.connection
    return {
        "id": job.pk,
        "status": job.status,
        "status_changed_at": job.status_changed_at,
        "days_in_status": days_in_status(job),
        "created_at": job.created_at,
        "driver": {
            "name": job.driver.full_name,
            "email": job.driver.email,
            "phone": job.phone,
        },
        "address": job.address,
        "postcode": job.postcode,
        "city": job.city,
        "country": job.country,
        "connection": {
            "id": connection.pk,
            "name": connection.name_for_drivers,
            "organisation": job.organisation.name,
            "payment_model": connection.installation_payment_model,
            "home_warranty_and_labour": connection.home_warranty_and_labour,
        },
        "appointment_at": job.appointment_at,
        "appointment_move_requested_at": job.appointment_move_requested_at,
        "appointment_move_note": job.appointment_move_note,
        "steps": {
            status: getattr(job, f"{status}_at") for status in (*STATUS_ORDER, JobStatus.CANCELLED)
        },
        "charger_serial": job.charger_serial,
        "charger_vendor": job.charger_vendor,
        "charger_model": job.charger_model,
        "mid_certificate": job.mid_certificate,
        "warranty_until": job.warranty_until.isoformat() if job.warranty_until else None,
        "cancel_reason": job.cancel_reason,
    }


def _transition_out(t: JobTransition) -> dict[str, Any]:
    return {
        "from_status": t.from_status,
        "to_status": t.to_status,
        "at": t.at,
        "by": t.by_shown,  # English: the API answers in English
        "note": t.note_shown,
    }


def _contact_out(c: ContactAttempt) -> dict[str, Any]:
    return {"id": c.pk, "at": c.at, "channel": c.channel, "outcome": c.outcome, "note": c.note}


def _document_out(d: JobDocument) -> dict[str, Any]:
    return {
        "id": d.pk,
        "kind": d.kind,
        "filename": d.filename,
        "content_type": d.content_type,
        "size": d.size,
        "uploaded_at": d.uploaded_at,
    }


def _quote_out(q: Quote) -> dict[str, Any]:
    fields = (
        "number",
        "status",
        "payment_model",
        "currency",
        "total_excl_vat",
        "total_vat",
        "total_incl_vat",
        "organisation_share",
        "driver_share",
        "organisation_approval",
        "driver_approval",
        "decline_reason",
    )
    line_fields = (
        "kind",
        "description",
        "quantity",
        "unit_price",
        "vat_rate",
        "total_incl_vat",
        "organisation_part",
        "driver_part",
    )
    return {
        "id": q.pk,
        **{f: getattr(q, f) for f in fields},
        "lines": [{f: getattr(line, f) for f in line_fields} for line in q.lines.all()],
    }


def job_detail_out(actor: Actor, job_id: int) -> dict[str, Any]:
    job = get_job_for_installer(actor, job_id)
    return {
        **job_out(job),
        "history": [_transition_out(t) for t in job.history.all()],
        "contacts": [_contact_out(c) for c in job.contacts.all()],
        "documents": [_document_out(d) for d in job.documents.defer("content")],
        "quotes": [_quote_out(q) for q in job.quotes.prefetch_related("lines").order_by("-number")],
    }


def _aware(name: str, value: datetime) -> None:
    if value.tzinfo is None:
        raise ValidationError({name: ["Give a time zone, e.g. 2026-12-01T09:00:00Z."]})


# --- operations -----------------------------------------------------------------------


@router.get("/jobs", response=JobPage, auth=WORK)
def jobs_list(
    request: ApiRequest, status: str = "", offset: int = 0, limit: int = 100
) -> dict[str, Any]:
    """The company's jobs, newest first; ``status`` filters on one status."""
    check_page(offset, limit)
    if status and status not in JobStatus.values:
        raise ValidationError({"status": [f"Use one of: {', '.join(JobStatus.values)}."]})
    rows = company_jobs(request.auth).select_related("driver", "connection", "organisation")
    if status:
        rows = rows.filter(status=status)
    return page_of(rows.order_by("-created_at", "-pk"), offset, limit, job_out)


@router.get("/jobs/{job_id}", response=JobDetailOut, auth=WORK)
def jobs_read(request: ApiRequest, job_id: int) -> dict[str, Any]:
    """One job with its history, contact attempts, documents and quotes."""
    return job_detail_out(request.auth, job_id)


@router.post("/jobs/{job_id}/contacts", response={201: JobDetailOut}, auth=WORK)
def jobs_contact(request: ApiRequest, job_id: int, payload: ContactIn) -> Any:
    """Record a contact attempt with the driver."""
    actor: Actor = request.auth
    job = get_job_for_installer(actor, job_id)
    _aware("at", payload.at)
    job_services.job_contact_record(
        actor=actor,
        job=job,
        at=payload.at,
        channel=payload.channel,
        outcome=payload.outcome,
        note=payload.note,
    )
    return Status(201, job_detail_out(actor, job_id))


@router.post("/jobs/{job_id}/survey", response=JobDetailOut, auth=WORK)
def jobs_survey(request: ApiRequest, job_id: int, payload: SurveyIn) -> dict[str, Any]:
    """Record the survey's notes (the job becomes surveyed)."""
    actor: Actor = request.auth
    job_services.job_survey_record(
        actor=actor, job=get_job_for_installer(actor, job_id), notes=payload.notes
    )
    return job_detail_out(actor, job_id)


def _line_loc(key: str) -> list[str | int]:
    """``lines-0-quantity`` (the service's name) → ["body", "lines", 0, "quantity"]."""
    parts = key.split("-", 2)
    if len(parts) == 3 and parts[0] == "lines" and parts[1].isdigit():
        return ["body", "lines", int(parts[1]), parts[2]]
    return ["body", key] if key != "__all__" else ["body"]


@router.post("/jobs/{job_id}/quote", response={201: JobDetailOut, 422: FieldErrorsOut}, auth=QUOTE)
def jobs_quote(request: ApiRequest, job_id: int, payload: QuoteIn) -> Any:
    """Submit a quote for a surveyed job; who pays what follows from the connection's
    payment model. A wrong line answers 422 with ``loc`` ["body", "lines", index, field]."""
    actor: Actor = request.auth
    job = get_job_for_installer(actor, job_id)
    lines = [
        LineInput(
            kind=line.kind,
            description=line.description,
            quantity=line.quantity,
            unit_price=line.unit_price,
            vat_rate=line.vat_rate,
        )
        for line in payload.lines
    ]
    try:
        quote_submit(actor=actor, job=job, lines=lines, notes=payload.notes)
    except ValidationError as exc:
        if not hasattr(exc, "error_dict"):
            raise
        return Status(
            422,
            {
                "detail": [
                    {"loc": _line_loc(key), "msg": message, "type": "value_error"}
                    for key, messages in exc.message_dict.items()
                    for message in messages
                ]
            },
        )
    return Status(201, job_detail_out(actor, job_id))


@router.post("/jobs/{job_id}/appointment", response=JobDetailOut, auth=WORK)
def jobs_appointment(request: ApiRequest, job_id: int, payload: AppointmentIn) -> dict[str, Any]:
    """Set (or move) the appointment; the driver is e-mailed."""
    actor: Actor = request.auth
    job = get_job_for_installer(actor, job_id)
    _aware("appointment_at", payload.appointment_at)
    job_services.job_schedule(actor=actor, job=job, appointment_at=payload.appointment_at)
    return job_detail_out(actor, job_id)


@router.post("/jobs/{job_id}/installed", response=InstalledOut, auth=WORK)
def jobs_installed(request: ApiRequest, job_id: int, payload: InstalledIn) -> dict[str, Any]:
    """Record the installation: the charger is registered with this identity and serial
    and linked to the driver. Its password is in this answer only; the job is
    commissioned when the charger first connects to the gateway."""
    actor: Actor = request.auth
    job, password = job_services.job_installed(
        actor=actor,
        job=get_job_for_installer(actor, job_id),
        identity=payload.identity,
        serial=payload.serial,
        vendor=payload.vendor,
        model=payload.model,
        mid_certificate=payload.mid_certificate,
    )
    identity = job.charger.identity if job.charger else payload.identity
    return {
        **job_detail_out(actor, job_id),
        "charger_identity": identity,
        "charger_password": password,
        "gateway_url": f"ws://{settings.OCPP_HOST}:{settings.OCPP_PORT}/ocpp/{identity}",
    }


@router.post("/jobs/{job_id}/declaration", response={201: JobDetailOut}, auth=QUOTE)
def jobs_declaration(request: ApiRequest, job_id: int, file: File[UploadedFile]) -> Any:
    """Upload the installer declaration (multipart/form-data, field ``file``): a PDF by
    content, at most 10 MB. The job completes with it once commissioned."""
    actor: Actor = request.auth
    document_services.declaration_upload(
        actor=actor,
        job=get_job_for_installer(actor, job_id),
        upload=file,
        filename=file.name or "declaration.pdf",
    )
    return Status(201, job_detail_out(actor, job_id))


@router.post("/jobs/{job_id}/cancel", response=JobDetailOut, auth=QUOTE)
def jobs_cancel(request: ApiRequest, job_id: int, payload: CancelIn) -> dict[str, Any]:
    """Cancel an open job, with the reason."""
    actor: Actor = request.auth
    job_services.job_cancel(
        job=get_job_for_installer(actor, job_id),
        party=Party.INSTALLER,
        reason=payload.reason,
        actor=actor,
    )
    return job_detail_out(actor, job_id)
