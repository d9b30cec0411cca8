"""An installation job's life, from creation to commissioning: creation when a driver
connects, assignment to a certified installer, contact, survey, photos, the appointment,
installation (registering the charger) and commissioning by the charger's first
accepted BootNotification; and cancelling. Quotes are ``services.quotes``; the
installer declaration, which completes a job, ``services.documents``.

Every step checks who may take it, finds the job through ``installations.access`` (a
job of another installer company is a 404, as a missing one), moves it through
``transitions.job_transition`` inside one transaction, audits and queues its e-mails
(delivered after commit).
"""

from __future__ import annotations

import calendar
import datetime
import logging
import os
from fractions import Fraction
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Count, Q
from django.http import Http404
from django.utils import timezone
from django.utils.formats import number_format
from django.utils.translation import gettext as _

from evdms.accounts import who
from evdms.accounts.models import AdminStatus, Role, User
from evdms.accounts.permissions import Actor, Permission, require
from evdms.audit.models import AuditAction
from evdms.audit.services import audit_record
from evdms.charging.models import Charger
from evdms.charging.services import charger_register
from evdms.connections.models import Connection, InstallationHandledBy
from evdms.enrolment.models import Membership, MembershipStatus
from evdms.installations.access import (
    get_job_for_driver,
    get_job_for_installer,
    get_job_for_organisation,
)
from evdms.installations.documents import Upload, clean_photo
from evdms.installations.models import (
    OPEN_STATUSES,
    ContactAttempt,
    ContactChannel,
    ContactOutcome,
    DocumentKind,
    InstallationJob,
    InstallerCompany,
    InstallerRegion,
    JobDocument,
    JobStatus,
    JobTransition,
    Quote,
    QuoteStatus,
    TransitionNote,
)
from evdms.installations.services.transitions import Party, WrongStep, job_transition
from evdms.notifications.services import email_send
from evdms.ui.language import user_language

logger = logging.getLogger(__name__)

MAX_PHOTOS_PER_JOB = 40  # each side: the installer's survey photos, the driver's own
CONTACT_CLOCK_SKEW = datetime.timedelta(minutes=10)  # an attempt "now" on a fast clock


# --- helpers -----------------------------------------------------------------------------


def normalised_postcode(postcode: str) -> str:
    """Upper-case without spaces or dashes: the form region prefixes are kept in."""
    return "".join(c for c in postcode.upper() if c.isalnum())


def provides_installation(connection: Connection) -> bool:
    """The connection provides a home charger installed by a certified installer."""
    return bool(
        connection.provide_home_charger
        and connection.installation_handled_by == InstallationHandledBy.CERTIFIED_INSTALLER
    )


def installer_recipients(company: InstallerCompany) -> list[str]:
    """Where an installer company's e-mails go: its jobs address, else its active
    installer managers."""
    return [
        address for addresses, _language in installer_mailings(company) for address in addresses
    ]


def installer_mailings(company: InstallerCompany) -> list[tuple[list[str], str | None]]:
    """An installer company's e-mail recipients, grouped by the language to write to
    them in: its jobs address in the organisation's default (None), else its active
    installer managers, each in their own."""
    if company.jobs_email:
        return [([company.jobs_email], None)]
    managers = company.organisation.admins.filter(
        role=Role.INSTALLER_MANAGER, status=AdminStatus.ACTIVE
    ).select_related("user")
    by_language: dict[str, list[str]] = {}
    for admin in managers:
        language = user_language(admin.user, company.organisation)
        by_language.setdefault(language, []).append(admin.email)
    return [(sorted(to), language) for language, to in sorted(by_language.items())]


def add_months(day: datetime.date, months: int) -> datetime.date:
    """The same day ``months`` later (the month's last day when it has fewer days)."""
    index = day.month - 1 + months
    year, month = day.year + index // 12, index % 12 + 1
    return datetime.date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def _context(job: InstallationJob, **extra: Any) -> dict[str, Any]:
    return {
        "job": job,
        "connection": job.connection,
        "driver": job.driver,
        "installer": job.installer,
        **extra,
    }


def _email_installer(job: InstallationJob, template: str, **extra: Any) -> None:
    if job.installer is None:
        return
    for to, language in installer_mailings(job.installer):
        email_send(
            to=to,
            template=template,
            context=_context(job, **extra),
            organisation=job.installer.organisation,
            language=language,
        )


def _email_driver(job: InstallationJob, template: str, **extra: Any) -> None:
    email_send(
        to=[job.driver.email],
        template=template,
        context=_context(job, **extra),
        organisation=job.organisation,
        language=user_language(job.driver, job.organisation),
    )


def _email_support(job: InstallationJob, template: str, **extra: Any) -> None:
    email_send(
        to=[job.connection.support_email],
        template=template,
        context=_context(job, **extra),
        organisation=job.organisation,
    )


def installer_job_id(actor: Actor, job: InstallationJob | int, permission: Permission) -> int:
    """The job's id once the actor may take this step on it: the right role (else
    PermissionDenied) and a job of their own installer company (else Http404)."""
    require(actor, permission)
    job_id = job if isinstance(job, int) else job.pk
    return get_job_for_installer(actor, job_id).pk


def locked_job(job_id: int) -> InstallationJob:
    return (
        InstallationJob.objects.select_for_update(of=("self",))
        .select_related("connection", "driver", "organisation", "installer__organisation")
        .get(pk=job_id)
    )


def job_reloaded(job_id: int) -> InstallationJob:
    return InstallationJob.objects.select_related(
        "connection", "driver", "organisation", "installer__organisation", "charger"
    ).get(pk=job_id)


def refuse_unless(job: InstallationJob, statuses: tuple[str, ...], message: str) -> None:
    if job.status not in statuses:
        raise WrongStep({"status": [message]})


# --- assignment ---------------------------------------------------------------------------


def installer_for_address(*, country: str, postcode: str) -> InstallerCompany | None:
    """The certified installer for an address: certified today, serving the country
    (an installer serving the postcode's longest matching prefix wins over one serving
    a shorter prefix or the whole country), below its capacity, least loaded (open jobs
    / capacity), then the oldest company. None when no one serves it."""
    country = country.strip().upper()
    if not country:
        return None
    code = normalised_postcode(postcode)
    today = timezone.now().date()
    regions = InstallerRegion.objects.filter(
        country=country,
        installer__certified_until__gte=today,
    ).values_list("installer_id", "postcode_prefix")
    best: dict[int, int] = {}
    for installer_id, prefix in regions:
        prefix = normalised_postcode(prefix)
        if code.startswith(prefix):
            best[installer_id] = max(best.get(installer_id, -1), len(prefix))
    if not best:
        return None
    loads = InstallerCompany.objects.filter(pk__in=best).annotate(
        open_jobs=Count("jobs", filter=Q(jobs__status__in=OPEN_STATUSES))
    )
    candidates = [
        (-best[company.pk], Fraction(company.open_jobs, company.capacity), company.pk, company)
        for company in loads
        if company.open_jobs < company.capacity
    ]
    if not candidates:
        return None
    return min(candidates, key=lambda c: c[:3])[3]


def _announce_assignment(job: InstallationJob) -> None:
    _email_installer(job, "installation_new_job")
    _email_driver(job, "installation_driver_contact")


# --- creation -----------------------------------------------------------------------------


def job_create_for_membership(*, membership: Membership) -> InstallationJob | None:
    """A job for a driver who just connected, if the connection provides a home charger
    installed by a certified installer and the driver has no job for it yet; None
    otherwise. Assigned at once when a certified installer serves the address (else left
    for the operator to assign)."""
    connection = membership.connection
    if membership.status != MembershipStatus.CONNECTED or not provides_installation(connection):
        return None
    driver = membership.driver
    with transaction.atomic():
        if InstallationJob.objects.filter(driver=driver, connection=connection).exists():
            return None
        installer = installer_for_address(country=membership.country, postcode=membership.postcode)
        now = timezone.now()
        try:
            with transaction.atomic():
                job = InstallationJob.objects.create(
                    organisation=connection.organisation,
                    connection=connection,
                    membership=membership,
                    driver=driver,
                    installer=installer,
                    status=JobStatus.ASSIGNED,
                    address=membership.address,
                    postcode=membership.postcode,
                    city=membership.city,
                    country=membership.country.upper(),
                    phone=membership.phone,
                    created_at=now,
                    status_changed_at=now,
                    assigned_at=now if installer is not None else None,
                )
        except IntegrityError:  # the same driver and connection, created meanwhile
            return None
        JobTransition.objects.create(
            job=job,
            from_status="",
            to_status=JobStatus.ASSIGNED,
            at=now,
            by_label=who.PLATFORM,
            note_code=(
                TransitionNote.ASSIGNED if installer is not None else TransitionNote.NO_INSTALLER
            ),
            note_params={"installer": str(installer)} if installer is not None else {},
        )
        audit_record(
            actor=None,
            action=AuditAction.INSTALLATION_CREATE,
            target=job,
            organisation=job.organisation,
            changes={
                "status": [None, JobStatus.ASSIGNED],
                "driver": [None, driver.email],
                "installer": [None, str(installer) if installer else None],
            },
        )
        _email_support(job, "installation_job_created")
        if installer is not None:
            _announce_assignment(job)
    return job


def job_move_for_revised_benefits(
    *, old: Membership, new: Membership, actor: Actor | None = None
) -> InstallationJob | None:
    """Revise Benefits moved the driver from ``old`` to ``new``. Their open job for the
    old connection moves with them if the new connection provides installation by a
    certified installer, else it is cancelled with the reason. A driver without a job
    for the old connection gets one for the new, as a driver connecting would; an ended
    job (completed, cancelled) stays where it is. Returns the job moved or made."""
    job = (
        InstallationJob.objects.filter(driver=old.driver, connection=old.connection)
        .only("pk", "status")
        .first()
    )
    if job is None:
        return job_create_for_membership(membership=new)
    if job.status not in OPEN_STATUSES:
        return None
    new_connection = new.connection
    if not provides_installation(new_connection):
        return job_cancel(
            job=job,
            party=Party.ORGANISATION,
            reason=(
                f"The driver moved to the connection “{new_connection.name}”, which provides "
                "no home charger installation."
            ),
            actor=actor,
            checked=True,
        )
    with transaction.atomic():
        locked = locked_job(job.pk)
        if locked.status not in OPEN_STATUSES:
            return None
        before = locked.connection.name
        locked.connection = new_connection
        locked.membership = new
        locked.organisation_id = new_connection.organisation_id
        locked.save(update_fields=["connection", "membership", "organisation"])
        audit_record(
            actor=actor,
            action=AuditAction.INSTALLATION_MOVE,
            target=locked,
            organisation=locked.organisation,
            changes={"connection": [before, new_connection.name]},
        )
    return job_reloaded(job.pk)


def job_assign(
    *, job: InstallationJob, installer: InstallerCompany | None, by_user: User | None
) -> InstallationJob:
    """A platform operator assigns an open job to ``installer`` (certified today), or
    with None runs the automatic assignment again. The new installer is told, and the
    driver that an installer will contact them."""
    if by_user is None or not by_user.is_staff:
        raise PermissionDenied("Only a platform operator assigns installation jobs.")
    with transaction.atomic():
        locked = locked_job(job.pk)
        if locked.status not in OPEN_STATUSES:
            raise WrongStep(
                {
                    "status": [
                        _("This job’s status is “%(status)s”; it is not reassigned.")
                        % {"status": locked.get_status_display()}
                    ]
                }
            )
        if installer is None:
            chosen = installer_for_address(country=locked.country, postcode=locked.postcode)
            if chosen is None:
                raise ValidationError(
                    {"installer": [_("No certified installer with room serves this address.")]}
                )
        else:
            chosen = installer
            if not chosen.is_certified():
                raise ValidationError(
                    {
                        "installer": [
                            _("%(installer)s is not certified today: certify it first.")
                            % {"installer": chosen}
                        ]
                    }
                )
        before = locked.installer
        if before is not None and before.pk == chosen.pk:
            return job_reloaded(locked.pk)
        locked.installer = chosen
        fields = ["installer"]
        if locked.assigned_at is None:
            locked.assigned_at = timezone.now()
            fields.append("assigned_at")
        locked.save(update_fields=fields)
        audit_record(
            actor=None,
            action=AuditAction.INSTALLATION_ASSIGN,
            target=locked,
            organisation=locked.organisation,
            changes={"installer": [str(before) if before else None, str(chosen)]},
            by_user=by_user,
        )
        _announce_assignment(locked)
    return job_reloaded(job.pk)


# --- contact and survey -------------------------------------------------------------------


def job_contact_record(
    *,
    actor: Actor,
    job: InstallationJob | int,
    at: datetime.datetime,
    channel: str,
    outcome: str,
    note: str = "",
) -> ContactAttempt:
    """Keep a contact attempt; the first that reached the driver moves the job from
    assigned to contacted."""
    job_id = installer_job_id(actor, job, Permission.WORK_INSTALLATION_JOBS)
    errors: dict[str, list[str]] = {}
    if channel not in ContactChannel.values:
        errors["channel"] = [_("Choose how you contacted the driver.")]
    if outcome not in ContactOutcome.values:
        errors["outcome"] = [_("Choose the outcome.")]
    if at is None or timezone.is_naive(at):
        errors["at"] = [_("Give the date and time of the attempt.")]
    elif at > timezone.now() + CONTACT_CLOCK_SKEW:
        errors["at"] = [_("The attempt cannot be in the future.")]
    note = note.strip()
    if len(note) > 500:
        errors["note"] = [_("Use at most %(limit)s characters.") % {"limit": 500}]
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        locked = locked_job(job_id)
        refuse_unless(
            locked,
            OPEN_STATUSES,
            _("This job’s status is “%(status)s”; no more contact is recorded.")
            % {"status": locked.get_status_display()},
        )
        attempt = ContactAttempt.objects.create(
            job=locked,
            at=at,
            channel=channel,
            outcome=outcome,
            note=note,
            recorded_by=actor.user,
        )
        audit_record(
            actor=actor,
            action=AuditAction.INSTALLATION_CONTACT,
            target=locked,
            organisation=locked.organisation,
            changes={"channel": [None, channel], "outcome": [None, outcome]},
        )
        if outcome == ContactOutcome.REACHED and locked.status == JobStatus.ASSIGNED:
            job_transition(
                job_id=locked.pk, to=JobStatus.CONTACTED, party=Party.INSTALLER, actor=actor
            )
    return attempt


def job_survey_record(*, actor: Actor, job: InstallationJob | int, notes: str) -> InstallationJob:
    """The survey's notes: contacted → surveyed. While surveyed (also after a declined
    quote) the notes can be corrected."""
    job_id = installer_job_id(actor, job, Permission.WORK_INSTALLATION_JOBS)
    notes = notes.strip()
    if not notes:
        raise ValidationError({"notes": [_("Describe what the survey found.")]})
    if len(notes) > 10_000:
        raise ValidationError(
            {
                "notes": [
                    _("Use at most %(limit)s characters.")
                    % {"limit": number_format(10_000, force_grouping=True)}
                ]
            }
        )
    with transaction.atomic():
        locked = locked_job(job_id)
        if locked.status == JobStatus.CONTACTED:
            job_transition(
                job_id=locked.pk, to=JobStatus.SURVEYED, party=Party.INSTALLER, actor=actor
            )
        elif locked.status != JobStatus.SURVEYED:
            raise WrongStep(
                {
                    "status": [
                        _(
                            "This job’s status is “%(status)s”; the survey is recorded once "
                            "the driver was contacted and before the quote."
                        )
                        % {"status": locked.get_status_display()}
                    ]
                }
            )
        before = locked.survey_notes
        InstallationJob.objects.filter(pk=locked.pk).update(survey_notes=notes)
        audit_record(
            actor=actor,
            action=AuditAction.INSTALLATION_TRANSITION,
            target=locked,
            organisation=locked.organisation,
            changes={"survey_notes": [before or None, notes]},
        )
    return job_reloaded(job_id)


def _photo_filename(filename: str, count: int) -> str:
    base = os.path.splitext(os.path.basename(filename.replace("\\", "/")))[0].strip()
    base = "".join(c for c in base if c.isalnum() or c in " -_.")[:100].strip()
    return f"{base or f'photo-{count + 1}'}.jpg"


def _add_photo(
    job: InstallationJob,
    kind: str,
    upload: Upload,
    filename: str,
    user: User | None,
    actor: Actor | None,
) -> JobDocument:
    """Inside the caller's transaction, with the job locked."""
    count = JobDocument.objects.filter(job=job, kind=kind).count()
    if count >= MAX_PHOTOS_PER_JOB:
        raise ValidationError(
            {
                "photo": [
                    _("A job keeps at most %(limit)s photos of this kind.")
                    % {"limit": MAX_PHOTOS_PER_JOB}
                ]
            }
        )
    try:
        jpeg, sha256 = clean_photo(upload)
    except ValidationError as exc:
        raise ValidationError({"photo": exc.messages}) from None
    name = _photo_filename(filename or getattr(upload, "name", "") or "", count)
    document = JobDocument.objects.create(
        job=job,
        kind=kind,
        filename=name,
        content_type="image/jpeg",
        content=jpeg,
        size=len(jpeg),
        sha256=sha256,
        uploaded_by=user,
    )
    audit_record(
        actor=actor,
        action=AuditAction.INSTALLATION_DOCUMENT,
        target=job,
        organisation=job.organisation,
        changes={"document": [None, f"{DocumentKind(kind).label}: {name}"]},
        by_user=user if actor is None else None,
    )
    return document


def job_photo_add(
    *, actor: Actor, job: InstallationJob | int, upload: Upload, filename: str = ""
) -> JobDocument:
    """A survey photo from the installer, on an open job."""
    job_id = installer_job_id(actor, job, Permission.WORK_INSTALLATION_JOBS)
    with transaction.atomic():
        locked = locked_job(job_id)
        refuse_unless(
            locked,
            OPEN_STATUSES,
            _("This job’s status is “%(status)s”; no more photos are added.")
            % {"status": locked.get_status_display()},
        )
        return _add_photo(locked, DocumentKind.SURVEY_PHOTO, upload, filename, actor.user, actor)


def driver_photo_add(
    *, driver: User, job: InstallationJob | int, upload: Upload, filename: str = ""
) -> JobDocument:
    """A photo of the wall or fuse box from the driver's own pages, on their open job."""
    job_id = get_job_for_driver(driver, job if isinstance(job, int) else job.pk).pk
    with transaction.atomic():
        locked = locked_job(job_id)
        refuse_unless(
            locked,
            OPEN_STATUSES,
            _("This installation’s status is “%(status)s”; photos are no longer added.")
            % {"status": locked.get_status_display()},
        )
        return _add_photo(locked, DocumentKind.DRIVER_PHOTO, upload, filename, driver, None)


# --- appointment and installation ---------------------------------------------------------


def job_schedule(
    *, actor: Actor, job: InstallationJob | int, appointment_at: datetime.datetime
) -> InstallationJob:
    """The appointment: quote approved → scheduled, or a new date while scheduled. The
    driver is e-mailed each time."""
    job_id = installer_job_id(actor, job, Permission.WORK_INSTALLATION_JOBS)
    if appointment_at is None or timezone.is_naive(appointment_at):
        raise ValidationError({"appointment_at": [_("Give the date and time of the appointment.")]})
    if appointment_at <= timezone.now():
        raise ValidationError({"appointment_at": [_("The appointment must be in the future.")]})
    with transaction.atomic():
        locked = locked_job(job_id)
        before = locked.appointment_at
        if locked.status == JobStatus.QUOTE_APPROVED:
            job_transition(
                job_id=locked.pk, to=JobStatus.SCHEDULED, party=Party.INSTALLER, actor=actor
            )
        elif locked.status != JobStatus.SCHEDULED:
            raise WrongStep(
                {
                    "status": [
                        _(
                            "This job’s status is “%(status)s”; an appointment is made once "
                            "the quote is approved."
                        )
                        % {"status": locked.get_status_display()}
                    ]
                }
            )
        InstallationJob.objects.filter(pk=locked.pk).update(appointment_at=appointment_at)
        audit_record(
            actor=actor,
            action=AuditAction.INSTALLATION_APPOINTMENT,
            target=locked,
            organisation=locked.organisation,
            changes={
                "appointment_at": [
                    before.isoformat() if before else None,
                    appointment_at.isoformat(),
                ]
            },
        )
        job_now = job_reloaded(job_id)
        _email_driver(job_now, "installation_appointment", rescheduled=before is not None)
    return job_now


def appointment_move_request(
    *, driver: User, job: InstallationJob | int, note: str
) -> InstallationJob:
    """The driver asks, once per job, to move the appointment; the installer is told."""
    job_id = get_job_for_driver(driver, job if isinstance(job, int) else job.pk).pk
    note = note.strip()
    if not note:
        raise ValidationError({"note": [_("Say when would suit you better.")]})
    if len(note) > 500:
        raise ValidationError({"note": [_("Use at most %(limit)s characters.") % {"limit": 500}]})
    with transaction.atomic():
        locked = locked_job(job_id)
        refuse_unless(
            locked,
            (JobStatus.SCHEDULED,),
            _("There is no appointment to move now."),
        )
        if locked.appointment_move_requested_at is not None:
            raise ValidationError(
                {
                    "note": [
                        _(
                            "You asked to move this appointment already; the installer will "
                            "contact you."
                        )
                    ]
                }
            )
        now = timezone.now()
        InstallationJob.objects.filter(pk=locked.pk).update(
            appointment_move_requested_at=now, appointment_move_note=note
        )
        audit_record(
            actor=None,
            action=AuditAction.INSTALLATION_APPOINTMENT,
            target=locked,
            organisation=locked.organisation,
            changes={"move_requested": [None, note]},
            by_user=driver,
        )
        job_now = job_reloaded(job_id)
        _email_installer(job_now, "installation_move_request", note=note)
    return job_now


def job_installed(
    *,
    actor: Actor,
    job: InstallationJob | int,
    identity: str,
    serial: str,
    vendor: str,
    model: str,
    mid_certificate: str,
) -> tuple[InstallationJob, str]:
    """Scheduled → installed: the charger is registered (linked to the driver, of the
    job's organisation) with a generated password, returned once for the installer to
    configure the charger. Its first accepted BootNotification commissions the job."""
    job_id = installer_job_id(actor, job, Permission.WORK_INSTALLATION_JOBS)
    serial, vendor, model = serial.strip(), vendor.strip(), model.strip()
    mid_certificate = mid_certificate.strip()
    errors: dict[str, list[str]] = {}
    for field, value, limit in (
        ("serial", serial, 50),
        ("vendor", vendor, 50),
        ("model", model, 50),
        ("mid_certificate", mid_certificate, 60),
    ):
        if not value:
            errors[field] = [_("This field is required.")]
        elif len(value) > limit:
            errors[field] = [_("Use at most %(limit)s characters.") % {"limit": limit}]
    if serial and "serial" not in errors and Charger.objects.filter(serial=serial).exists():
        errors["serial"] = [_("A charger with this serial number is registered already.")]
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        locked = locked_job(job_id)
        refuse_unless(
            locked,
            (JobStatus.SCHEDULED,),
            _(
                "This job’s status is “%(status)s”; a charger is recorded as installed at "
                "a scheduled appointment."
            )
            % {"status": locked.get_status_display()},
        )
        try:
            charger, password = charger_register(
                actor=None,
                organisation=locked.organisation,
                identity=identity,
                serial=serial,
                vendor=vendor,
                model=model,
                driver=locked.driver,
            )
        except ValidationError as exc:
            if hasattr(exc, "error_dict") and "driver" in exc.error_dict:
                raise ValidationError(
                    {"status": [_("The driver is no longer connected to this organisation.")]}
                ) from None
            raise
        job_transition(job_id=locked.pk, to=JobStatus.INSTALLED, party=Party.INSTALLER, actor=actor)
        InstallationJob.objects.filter(pk=locked.pk).update(
            charger=charger,
            charger_serial=serial,
            charger_vendor=vendor,
            charger_model=model,
            mid_certificate=mid_certificate,
        )
        audit_record(
            actor=actor,
            action=AuditAction.INSTALLATION_TRANSITION,
            target=locked,
            organisation=locked.organisation,
            changes={
                "charger": [None, charger.identity],
                "serial": [None, serial],
                "mid_certificate": [None, mid_certificate],
            },
        )
        job_now = job_reloaded(job_id)
        _email_driver(job_now, "installation_installed")
    return job_now, password


def installed_job_of_charger(charger_id: int) -> int | None:
    """The id of the charger's job waiting for commissioning: one query on the charger's
    unique index (this runs for every boot of the fleet)."""
    return (
        InstallationJob.objects.filter(charger_id=charger_id, status=JobStatus.INSTALLED)
        .order_by()
        .values_list("pk", flat=True)
        .first()
    )


def job_commission_for_charger(*, charger_id: int) -> InstallationJob | None:
    """The charger's first accepted BootNotification: its installed job becomes
    commissioned (by the platform, "charger <identity>"), with the warranty period when
    the connection gives home warranty and labour. None for any other charger, or when
    the job was commissioned meanwhile."""
    job_id = installed_job_of_charger(charger_id)
    if job_id is None:
        return None
    return _commission(job_id, charger_id)


def _commission(job_id: int, charger_id: int) -> InstallationJob | None:
    with transaction.atomic():
        locked = locked_job(job_id)
        if locked.status != JobStatus.INSTALLED or locked.charger_id != charger_id:
            return None  # a second boot, at once
        identity = Charger.objects.filter(pk=charger_id).values_list("identity", flat=True).get()
        moved = job_transition(
            job_id=locked.pk,
            to=JobStatus.COMMISSIONED,
            party=Party.SYSTEM,
            by_label=who.charger(identity),
        )
        connection = locked.connection
        if connection.home_warranty_and_labour:
            installer_months = locked.installer.warranty_months if locked.installer else 0
            months = connection.installation_warranty_months or installer_months
            start = timezone.localdate(moved.commissioned_at or timezone.now())
            until = add_months(start, months) if months else None
            InstallationJob.objects.filter(pk=locked.pk).update(
                warranty_months=months or None, warranty_until=until
            )
    return job_reloaded(job_id)


# --- cancelling ---------------------------------------------------------------------------


def job_cancel(
    *,
    job: InstallationJob | int,
    party: Party,
    reason: str,
    actor: Actor | None = None,
    by_user: User | None = None,
    checked: bool = False,
) -> InstallationJob:
    """Cancel an open job with a reason: by its installer company (a manager), by its
    organisation (Network Manager, Connections Officer) or by a platform operator. A
    quote awaiting approval is withdrawn; the driver and the installer are told.
    ``checked``: the caller (an enrolment service the organisation's admin used) has
    checked who acts already."""
    job_id = job if isinstance(job, int) else job.pk
    if not checked:
        if party == Party.INSTALLER:
            if actor is None:
                raise PermissionDenied("An installer cancels as an installer admin.")
            job_id = installer_job_id(actor, job_id, Permission.QUOTE_INSTALLATION_JOBS)
        elif party == Party.ORGANISATION:
            if actor is None:
                raise PermissionDenied("An organisation cancels as one of its admins.")
            require(actor, Permission.APPROVE_QUOTES)
            job_id = get_job_for_organisation(actor, job_id, Permission.APPROVE_QUOTES).pk
        elif party == Party.OPERATOR:
            if by_user is None or not by_user.is_staff:
                raise PermissionDenied("Only a platform operator cancels as the operator.")
        else:
            raise PermissionDenied("The driver asks the organisation to cancel.")
    reason = reason.strip()
    if not reason:
        raise ValidationError({"reason": [_("Say why the job is cancelled.")]})
    if len(reason) > 500:
        raise ValidationError({"reason": [_("Use at most %(limit)s characters.") % {"limit": 500}]})
    with transaction.atomic():
        job_transition(
            job_id=job_id,
            to=JobStatus.CANCELLED,
            party=party,
            actor=actor,
            by_user=by_user if actor is None else None,
            note=reason,
        )
        Quote.objects.filter(job_id=job_id, status=QuoteStatus.AWAITING_APPROVAL).update(
            status=QuoteStatus.WITHDRAWN
        )
        cancelled = job_reloaded(job_id)
        _email_driver(cancelled, "installation_cancelled", reason=reason)
        if party != Party.INSTALLER:
            _email_installer(cancelled, "installation_cancelled", reason=reason)
    return cancelled


# --- hooks ------------------------------------------------------------------------------


def on_membership_connected(sender: Any, membership: Membership, **kwargs: Any) -> None:
    job_create_for_membership(membership=membership)


def job_cancel_for_ended_membership(
    *, membership: Membership, actor: Actor | None = None, by_user: User | None = None
) -> InstallationJob | None:
    """The driver left the connection, or was removed: their open job for it is
    cancelled (the installer and the driver are told). Returns it, or None."""
    job = (
        InstallationJob.objects.filter(membership=membership, status__in=OPEN_STATUSES)
        .only("pk")
        .first()
    )
    if job is None:
        return None
    who = "The driver left" if actor is None else "The organisation removed the driver from"
    return job_cancel(
        job=job,
        party=Party.ORGANISATION,
        reason=f"{who} the connection “{membership.connection.name}”.",
        actor=actor,
        by_user=by_user,
        checked=True,
    )


def on_membership_ended(
    sender: Any,
    membership: Membership,
    actor: Actor | None = None,
    by_user: User | None = None,
    **kwargs: Any,
) -> None:
    job_cancel_for_ended_membership(membership=membership, actor=actor, by_user=by_user)


def on_membership_moved(
    sender: Any, old: Membership, new: Membership, actor: Actor | None = None, **kwargs: Any
) -> None:
    job_move_for_revised_benefits(old=old, new=new, actor=actor)


def on_charger_booted(sender: Any, charger_id: int, **kwargs: Any) -> None:
    """Never fails the boot: a commissioning that cannot be done now is logged, and the
    next boot tries again."""
    job_id = installed_job_of_charger(charger_id)
    if job_id is None:
        return
    try:
        _commission(job_id, charger_id)  # in a savepoint of its own
    except (WrongStep, Http404):
        return
    except Exception:
        logger.exception("Commissioning the job of charger %s failed", charger_id)
