"""The installer declaration: the document that completes a job. Checked by content
(``installations.documents``), kept with the job for the organisation and the driver,
and e-mailed to the connection's Customer Support Email as an attachment."""

from __future__ import annotations

import hashlib
import os

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from evdms.accounts.permissions import Actor, Permission
from evdms.audit.models import AuditAction
from evdms.audit.services import audit_record
from evdms.installations.documents import Upload, clean_declaration
from evdms.installations.models import DocumentKind, InstallationJob, JobDocument, JobStatus
from evdms.installations.services.jobs import (
    installer_job_id,
    job_reloaded,
    locked_job,
    refuse_unless,
)
from evdms.installations.services.transitions import Party, job_transition
from evdms.notifications.services import email_send


def _declaration_filename(filename: str, job: InstallationJob) -> str:
    base = os.path.splitext(os.path.basename(filename.replace("\\", "/")))[0].strip()
    base = "".join(c for c in base if c.isalnum() or c in " -_.")[:100].strip()
    return f"{base or f'installer-declaration-{job.pk}'}.pdf"


def declaration_upload(
    *, actor: Actor, job: InstallationJob | int, upload: Upload, filename: str = ""
) -> InstallationJob:
    """An installer manager uploads the declaration: commissioned → completed."""
    job_id = installer_job_id(actor, job, Permission.QUOTE_INSTALLATION_JOBS)
    try:
        pdf = clean_declaration(upload)
    except ValidationError as exc:
        raise ValidationError({"declaration": exc.messages}) from None
    with transaction.atomic():
        locked = locked_job(job_id)
        refuse_unless(
            locked,
            (JobStatus.COMMISSIONED,),
            _(
                "This job’s status is “%(status)s”; the declaration completes a job once "
                "its charger has connected (commissioned)."
            )
            % {"status": locked.get_status_display()},
        )
        name = _declaration_filename(filename or getattr(upload, "name", "") or "", locked)
        JobDocument.objects.create(
            job=locked,
            kind=DocumentKind.DECLARATION,
            filename=name,
            content_type="application/pdf",
            content=pdf,
            size=len(pdf),
            sha256=hashlib.sha256(pdf).hexdigest(),
            uploaded_by=actor.user,
        )
        audit_record(
            actor=actor,
            action=AuditAction.INSTALLATION_DOCUMENT,
            target=locked,
            organisation=locked.organisation,
            changes={"document": [None, f"{DocumentKind.DECLARATION.label}: {name}"]},
        )
        job_transition(job_id=locked.pk, to=JobStatus.COMPLETED, party=Party.INSTALLER, actor=actor)
        completed = job_reloaded(job_id)
        email_send(
            to=[completed.connection.support_email],
            template="installation_declaration",
            context={
                "job": completed,
                "connection": completed.connection,
                "driver": completed.driver,
                "installer": completed.installer,
                "filename": name,
            },
            organisation=completed.organisation,
            attachments=[(name, pdf, "application/pdf")],
        )
    return completed
