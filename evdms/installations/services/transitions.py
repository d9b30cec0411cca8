"""The status machine of installation jobs: which step may follow which, and who may
take it. Every change of a job's status goes through ``job_transition``, which locks
the job's row, checks the step against the status it finds there (so two people
clicking at once move the job once), stamps the time, keeps the history row and the
audit record, all in one transaction.

What each step needs besides the status (a quote, a serial, a declaration…) is checked
by the service of that step, which calls this one inside its own transaction.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from evdms.accounts import who
from evdms.accounts.models import User
from evdms.accounts.permissions import Actor
from evdms.audit.models import AuditAction
from evdms.audit.services import audit_record
from evdms.installations.models import (
    OPEN_STATUSES,
    InstallationJob,
    JobStatus,
    JobTransition,
    TransitionNote,
)


class Party(StrEnum):
    """Who takes a step: the job's installer company, the organisation whose connection
    it is, the driver, a platform operator, or the platform itself (a charger's first
    connection, an approval that completes a quote)."""

    INSTALLER = "installer"
    ORGANISATION = "organisation"
    DRIVER = "driver"
    OPERATOR = "operator"
    SYSTEM = "system"


@dataclass(frozen=True)
class Step:
    sources: tuple[str, ...]
    parties: frozenset[Party]


_S = JobStatus
STEPS: dict[str, Step] = {
    _S.CONTACTED: Step((_S.ASSIGNED,), frozenset({Party.INSTALLER})),
    # From "quoted" when a quote is declined: the installer surveys and quotes again.
    _S.SURVEYED: Step(
        (_S.CONTACTED, _S.QUOTED),
        frozenset({Party.INSTALLER, Party.ORGANISATION, Party.DRIVER}),
    ),
    _S.QUOTED: Step((_S.SURVEYED,), frozenset({Party.INSTALLER})),
    # The last approval needed, or the platform when the quote needs none.
    _S.QUOTE_APPROVED: Step(
        (_S.QUOTED,), frozenset({Party.ORGANISATION, Party.DRIVER, Party.SYSTEM})
    ),
    _S.SCHEDULED: Step((_S.QUOTE_APPROVED,), frozenset({Party.INSTALLER})),
    _S.INSTALLED: Step((_S.SCHEDULED,), frozenset({Party.INSTALLER})),
    # Only the charger's first accepted BootNotification proves it works.
    _S.COMMISSIONED: Step((_S.INSTALLED,), frozenset({Party.SYSTEM})),
    _S.COMPLETED: Step((_S.COMMISSIONED,), frozenset({Party.INSTALLER})),
    _S.CANCELLED: Step(
        OPEN_STATUSES, frozenset({Party.INSTALLER, Party.ORGANISATION, Party.OPERATOR})
    ),
}

# The timestamp field of each status, set the first time the job reaches it.
STAMP_FIELDS: dict[str, str] = {status: f"{status}_at" for status in JobStatus.values}


class WrongStep(ValidationError):
    """The job is not in a status this step follows, or this party may not take it.
    Field-level on ``status``, so pages and the API show it as such."""


def wrong_step_message(job: InstallationJob, to: str) -> str:
    return _("This job’s status is “%(status)s”; it cannot be moved to “%(to)s” now.") % {
        "status": job.get_status_display(),
        "to": JobStatus(to).label,
    }


def job_transition(
    *,
    job_id: int,
    to: str,
    party: Party,
    actor: Actor | None = None,
    by_user: User | None = None,
    by_label: str = "",
    note: str = "",
    note_code: TransitionNote | None = None,
    note_params: dict[str, str | int] | None = None,
) -> InstallationJob:
    """Move a job to ``to``; return it, locked and updated (inside the caller's
    transaction if there is one). ``actor`` for an admin or API key (installer or
    organisation), ``by_user`` for a driver or operator acting as themselves, neither
    for the platform; ``by_label`` overrides what the history shows (a code of
    ``evdms.accounts.who``: an approval link's recipient, a charger). ``note`` is what a
    person wrote; ``note_code`` and ``note_params`` what the platform says, read in each
    reader's language."""
    step = STEPS.get(to)
    if step is None:
        raise ValueError(f"{to!r} is not a status a job is moved to")
    with transaction.atomic():
        job = InstallationJob.objects.select_for_update().get(pk=job_id)
        if party not in step.parties or job.status not in step.sources:
            raise WrongStep({"status": [wrong_step_message(job, to)]})
        if to == JobStatus.CANCELLED and not note.strip():
            raise ValidationError({"reason": [_("Say why the job is cancelled.")]})
        now = timezone.now()
        before = job.status
        job.status = to
        job.status_changed_at = now
        fields = ["status", "status_changed_at"]
        stamp = STAMP_FIELDS[to]
        if getattr(job, stamp) is None:
            setattr(job, stamp, now)
            fields.append(stamp)
        if to == JobStatus.CANCELLED:
            job.cancel_reason = note.strip()[:500]
            fields.append("cancel_reason")
        job.save(update_fields=fields)
        user = actor.user if actor is not None else by_user
        label = by_label or (
            actor.label_code if actor else (by_user.email if by_user is not None else who.PLATFORM)
        )
        JobTransition.objects.create(
            job=job,
            from_status=before,
            to_status=to,
            at=now,
            by=user,
            by_label=label[:300],
            note=note.strip()[:500],
            note_code=note_code or "",
            note_params=note_params or {},
        )
        audit_record(
            actor=actor,
            action=AuditAction.INSTALLATION_TRANSITION,
            target=job,
            organisation=job.organisation,
            changes={"status": [before, to], **({"note": note.strip()} if note.strip() else {})},
            by_user=by_user,
        )
    return job
