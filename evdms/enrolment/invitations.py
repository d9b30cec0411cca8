"""E-mail invitations to a connection and their tracking (sent → opened link →
requested → connected). Tracking only moves forward."""

from __future__ import annotations

import csv
import io
import secrets
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from email_validator import EmailNotValidError, validate_email

from evdms.accounts.permissions import Actor, Permission, require
from evdms.audit.services import audit_record
from evdms.connections.models import Connection
from evdms.enrolment.models import Invitation, InvitationBatch, InvitationStatus

_ORDER = [
    InvitationStatus.QUEUED,
    InvitationStatus.SENT,
    InvitationStatus.OPENED,
    InvitationStatus.REQUESTED,
    InvitationStatus.CONNECTED,
]


def _advance(invitation: Invitation, status: str, stamp_field: str) -> None:
    earlier = [s for s in _ORDER[: _ORDER.index(InvitationStatus(status))]]
    Invitation.objects.filter(pk=invitation.pk, status__in=earlier).update(
        status=status, **{stamp_field: timezone.now()}
    )


def invitation_opened(*, token: str, connection_id: int) -> Invitation | None:
    """The invitation behind a link's ``?invitation=`` token, marked opened; None if unknown."""
    invitation = Invitation.objects.filter(token=token, connection_id=connection_id).first()
    if invitation is not None:
        _advance(invitation, InvitationStatus.OPENED, "opened_at")
    return invitation


def invitation_requested(*, invitation: Invitation) -> None:
    _advance(invitation, InvitationStatus.REQUESTED, "requested_at")


def invitation_connected(*, invitation: Invitation) -> None:
    _advance(invitation, InvitationStatus.CONNECTED, "connected_at")


# --- sending invitations ------------------------------------------------------------

MAX_ADDRESSES = 10_000
HEADER_NAMES = {"email", "e-mail", "email address", "e-mail address", "mail", "emailaddress"}


def _split_text(text: str) -> list[tuple[int, str]]:
    """(line number, value) for a pasted list: one per line, or separated by , or ;."""
    items = []
    for number, line in enumerate(text.splitlines(), start=1):
        for part in line.replace(";", ",").split(","):
            if part.strip():
                items.append((number, part.strip()))
    return items


def _split_csv(data: bytes) -> list[tuple[int, str]]:
    """(line number, value) from an uploaded CSV: an e-mail column by its header, or the
    only column of a file without header. UTF-8 (with or without BOM) only."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ValidationError(
            {
                "file": [
                    "The file is not UTF-8 text. Save it as “CSV UTF-8” in your spreadsheet "
                    "program and upload it again."
                ]
            }
        ) from exc
    sample = text[:4096]
    try:
        dialect: Any = csv.Sniffer().sniff(sample, delimiters=",;\t")
    except csv.Error:
        dialect = csv.excel
    rows = list(csv.reader(io.StringIO(text), dialect))
    if not rows:
        raise ValidationError({"file": ["The file is empty."]})
    header = [cell.strip().lower() for cell in rows[0]]
    column = next((i for i, name in enumerate(header) if name in HEADER_NAMES), None)
    start = 1
    if column is None:
        if len(header) == 1:
            column, start = 0, 0  # a single column without header
        else:
            raise ValidationError(
                {
                    "file": [
                        "No e-mail column found: name the column “email”, or upload a file "
                        "with one address per line."
                    ]
                }
            )
    items = []
    for number, row in enumerate(rows[start:], start=start + 1):
        value = row[column].strip() if column < len(row) else ""
        if value:
            items.append((number, value))
    return items


def parse_addresses(
    connection: Connection, *, text: str | None, csv_bytes: bytes | None
) -> tuple[list[tuple[int, str]], list[dict[str, Any]]]:
    """(accepted (line, address) pairs, rejected {line, value, reason} entries)."""
    items = _split_csv(csv_bytes) if csv_bytes is not None else _split_text(text or "")
    if not items:
        raise ValidationError({"addresses": ["Enter at least one e-mail address."]})
    if len(items) > MAX_ADDRESSES:
        raise ValidationError(
            {
                "addresses": [
                    f"At most {MAX_ADDRESSES:,} addresses at a time (this list has "
                    f"{len(items):,}). Split it and send the parts one after the other."
                ]
            }
        )
    invited_before = set(
        Invitation.objects.filter(connection=connection).values_list("email", flat=True)
    )
    seen: dict[str, int] = {}
    accepted: list[tuple[int, str]] = []
    rejected: list[dict[str, Any]] = []
    for line, value in items:
        try:
            address = str(validate_email(value, check_deliverability=False).normalized)
        except EmailNotValidError as exc:
            rejected.append({"line": line, "value": value[:200], "reason": str(exc)})
            continue
        key = address.lower()
        if key in seen:
            rejected.append(
                {"line": line, "value": value, "reason": f"Duplicate of line {seen[key]}."}
            )
            continue
        seen[key] = line
        if key in invited_before:
            rejected.append(
                {"line": line, "value": value, "reason": "Already invited to this connection."}
            )
            continue
        accepted.append((line, key))
    return accepted, rejected


@transaction.atomic
def invitation_batch_create(
    *, actor: Actor, connection: Connection, text: str | None = None, csv_bytes: bytes | None = None
) -> InvitationBatch:
    """Record the invitations at once; the worker sends them (the page shows progress)."""
    require(actor, Permission.MANAGE_DRIVERS)
    connection = Connection.objects.select_for_update().get(pk=connection.pk)
    if not connection.enabled:
        raise ValidationError(
            {"addresses": ["This connection is disabled: enable it before inviting drivers."]}
        )
    accepted, rejected = parse_addresses(connection, text=text, csv_bytes=csv_bytes)
    batch = InvitationBatch.objects.create(
        connection=connection,
        created_by=actor.user,
        total=len(accepted),
        rejected=rejected,
        finished_at=timezone.now() if not accepted else None,
    )
    Invitation.objects.bulk_create(
        [
            Invitation(
                batch=batch, connection=connection, email=address, token=secrets.token_urlsafe(24)
            )
            for _, address in accepted
        ],
        batch_size=1000,
    )
    audit_record(
        actor=actor,
        action="invitation_batch.create",
        target=connection,
        changes={"invited": [None, len(accepted)], "rejected": [None, len(rejected)]},
    )
    if accepted:
        from evdms.enrolment.tasks import send_invitation_batch

        transaction.on_commit(lambda: send_invitation_batch.enqueue(batch_id=batch.pk))
    return batch
