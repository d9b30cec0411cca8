"""E-mail invitations to a connection and their tracking (sent → opened link →
requested → connected). Tracking only moves forward."""

from __future__ import annotations

import codecs
import csv
import io
import itertools
import re
import secrets
from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.formats import number_format
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from email_validator import EmailNotValidError, validate_email

from evdms.accounts.permissions import Actor, Permission, require
from evdms.audit.models import AuditAction
from evdms.audit.services import audit_record
from evdms.connections.models import Connection
from evdms.connections.rules import email_problem, email_problem_english
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

NOT_TEXT = gettext_lazy(
    "This is not a CSV text file. Save it as “CSV UTF-8” (or “CSV”) in your spreadsheet "
    "program and upload it again."
)

# A refused line's reason is stored in English (the batch keeps it; the API returns it)
# and told to people in their language by ``reason_text``.
NO_ADDRESS = "No e-mail address."
ALREADY_INVITED = "Already invited to this connection."
_DUPLICATE = re.compile(r"Duplicate of line (\d+)\.")
# How many refused lines a refusal of the whole list names; the rest are counted.
NAMED_REFUSALS = 5

# One (line number, value) per address as the admin gave it; line numbers are what the
# refused-lines report shows, so they count the way the admin's editor does.
Items = list[tuple[int, str]]


def _split_text(text: str) -> Iterator[tuple[int, str]]:
    """A pasted list: one per line, or separated by commas or semicolons."""
    for number, line in enumerate(text.splitlines(), start=1):
        for part in line.replace(";", ",").split(","):
            if part.strip():
                yield number, part.strip()


def _capped(items: Iterable[tuple[int, str]]) -> tuple[Items, int]:
    """(the first items, up to one more than are allowed; how many there are): a 5 MB
    file of two-byte lines is counted for the message, not held in memory."""
    kept: Items = []
    count = 0
    for item in items:
        count += 1
        if count <= MAX_ADDRESSES + 1:
            kept.append(item)
    return kept, count


def _shown(text: str) -> str:
    """A refused value or reason as stored and shown: at most 200 characters, and no NUL
    (PostgreSQL's JSON cannot hold one; the admin sees where it was)."""
    return text[:200].replace("\x00", "\ufffd")


def _decode(data: bytes) -> str:
    """UTF-8 (with or without BOM), UTF-16 with BOM (Excel's "Unicode text"), else
    Windows-1252: Excel on Windows saves "CSV (comma delimited)" in it, and bytes that
    are not UTF-8 are almost never anything else in our countries. Binary files are
    refused rather than guessed at."""
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        try:
            return data.decode("utf-16")
        except UnicodeDecodeError:
            pass
    elif b"\x00" not in data:
        try:
            return data.decode("utf-8-sig")
        except UnicodeDecodeError:
            pass
        try:
            return data.decode("cp1252")
        except UnicodeDecodeError:
            pass
    raise ValidationError({"file": [str(NOT_TEXT)]})


def _decoded(data: bytes) -> str:
    text = _decode(data)
    if "\x00" in text:  # UTF-32, or UTF-16 of a binary file: not a list someone typed
        raise ValidationError({"file": [str(NOT_TEXT)]})
    return text


def _rows(text: str) -> Iterator[tuple[int, list[str]]]:
    """The file's non-empty rows, each with the line it starts on (a quoted value may
    span lines), whatever its line ends: Windows, Unix or old Mac (CR only)."""
    # The sniffer reads lines split at "\n" only.
    sample = text[:4096].replace("\r\n", "\n").replace("\r", "\n")
    try:
        dialect: Any = csv.Sniffer().sniff(sample, delimiters=",;\t")
    except csv.Error:
        dialect = csv.excel
    # newline="": the csv module's own reading of line ends, inside quotes too.
    reader = csv.reader(io.StringIO(text, newline=""), dialect)
    first_line = 1
    while True:
        try:
            row = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            limit = csv.field_size_limit()
            raise ValidationError(
                {
                    "file": [
                        _(
                            "Line %(line)s holds a value of more than %(limit)s characters: "
                            "this is not a list of e-mail addresses."
                        )
                        % {"line": first_line, "limit": number_format(limit, force_grouping=True)}
                        if "field limit" in str(exc)
                        else _(
                            "Line %(line)s cannot be read as CSV (%(problem)s). Save the file "
                            "as “CSV UTF-8” in your spreadsheet program and upload it again."
                        )
                        % {"line": first_line, "problem": exc}
                    ]
                }
            ) from exc
        if any(cell.strip() for cell in row):
            yield first_line, row
        first_line = reader.line_num + 1


def _split_csv(data: bytes) -> Iterator[tuple[int, str]]:
    """An uploaded CSV: the e-mail column found by its header, or the only column of a
    file without header."""
    rows = _rows(_decoded(data))
    first = next(rows, None)
    if first is None:
        raise ValidationError({"file": [_("The file is empty.")]})
    header = [cell.strip().lower() for cell in first[1]]
    column = next((i for i, name in enumerate(header) if name in HEADER_NAMES), None)
    start = 1
    if column is None:
        if len(header) != 1:
            raise ValidationError(
                {
                    "file": [
                        _(
                            "No e-mail column found: name the column “email”, or upload a "
                            "file with one address per line."
                        )
                    ]
                }
            )
        # One column: a first cell without "@" is a header in the admin's own words.
        column, start = 0, (1 if "@" not in header[0] else 0)
    for line, row in itertools.chain([first] if start == 0 else [], rows):
        # A row with other cells but an empty e-mail cell is yielded empty: the admin is
        # told which rows had no address instead of losing them without a word.
        yield line, (row[column].strip() if column < len(row) else "")


def source_field(*, csv_bytes: bytes | None, emails: Sequence[str] | None) -> str:
    """The field a message about the addresses belongs to (the page's or the API's)."""
    return "emails" if emails is not None else "file" if csv_bytes is not None else "addresses"


def parse_addresses(
    connection: Connection,
    *,
    text: str | None = None,
    csv_bytes: bytes | None = None,
    emails: Sequence[str] | None = None,
) -> tuple[Items, list[dict[str, Any]]]:
    """(accepted (line, address) pairs, refused {line, value, reason} entries).

    Exactly one source: a pasted ``text``, an uploaded CSV, or an API list of ``emails``
    (its "line" is the 1-based position). Errors are keyed by that source's field.
    """
    has_text = bool(text and text.strip())
    if emails is None and has_text and csv_bytes is not None:
        raise ValidationError(
            {"file": [_("Paste addresses or upload a file, not both: clear one of them.")]}
        )
    field = source_field(csv_bytes=csv_bytes, emails=emails)
    source: Iterable[tuple[int, str]]
    if emails is not None:
        source = ((n, e.strip()) for n, e in enumerate(emails, 1) if e.strip())
    elif csv_bytes is not None:
        source = _split_csv(csv_bytes)
    else:
        source = _split_text(text or "")
    items, count = _capped(source)
    if not items:
        raise ValidationError({field: [_("Enter at least one e-mail address.")]})
    if count > MAX_ADDRESSES:
        raise ValidationError(
            {
                field: [
                    _(
                        "At most %(limit)s addresses at a time (this list has %(count)s). "
                        "Split it and send the parts one after the other."
                    )
                    % {
                        "limit": number_format(MAX_ADDRESSES, force_grouping=True),
                        "count": number_format(count, force_grouping=True),
                    }
                ]
            }
        )
    # Checked against every earlier invitation of this connection, not only this list: a
    # second upload of a grown list invites the new names without pestering the others.
    invited_before = set(
        Invitation.objects.filter(connection=connection).values_list("email", flat=True)
    )
    seen: dict[str, int] = {}
    accepted: Items = []
    rejected: list[dict[str, Any]] = []
    for line, value in items:
        if not value:
            rejected.append({"line": line, "value": "", "reason": NO_ADDRESS})
            continue
        try:
            address = str(validate_email(value, check_deliverability=False).normalized)
        except EmailNotValidError as exc:
            reason = email_problem_english(exc)
            rejected.append({"line": line, "value": _shown(value), "reason": reason})
            continue
        key = address.lower()
        if key in seen:
            rejected.append(
                {"line": line, "value": _shown(value), "reason": f"Duplicate of line {seen[key]}."}
            )
            continue
        seen[key] = line
        if key in invited_before:
            rejected.append(
                {
                    "line": line,
                    "value": _shown(value),
                    "reason": ALREADY_INVITED,
                }
            )
            continue
        accepted.append((line, key))
    return accepted, rejected


def reason_text(reason: str) -> str:
    """A refused line's stored reason in the reader's language. Any other reason says
    what is wrong with the address: in our words (``email_problem_english``), or, in a
    batch from before them, in the address checker's (English) explanation."""
    if reason == NO_ADDRESS:
        return _("No e-mail address.")
    if reason == ALREADY_INVITED:
        return _("Already invited to this connection.")
    duplicate = _DUPLICATE.fullmatch(reason)
    if duplicate:
        return _("Duplicate of line %(line)s.") % {"line": duplicate.group(1)}
    return email_problem(reason)


def _refusal(r: Mapping[str, Any]) -> str:
    if r["value"]:
        return _("line %(line)s “%(value)s”: %(reason)s") % {
            "line": r["line"],
            "value": r["value"],
            "reason": reason_text(r["reason"]),
        }
    return _("line %(line)s: %(reason)s") % {"line": r["line"], "reason": reason_text(r["reason"])}


def _nobody_invited(rejected: list[dict[str, Any]]) -> str:
    named = "; ".join(_refusal(r) for r in rejected[:NAMED_REFUSALS])
    more = len(rejected) - NAMED_REFUSALS
    if more > 0:
        named = _("%(refusals)s; and %(more)s more") % {
            "refusals": named,
            "more": number_format(more, force_grouping=True),
        }
    return _("Nobody was invited: no line holds an address that can be invited (%(refusals)s).") % {
        "refusals": named
    }


def missing_address_lines(rejected: Sequence[Mapping[str, Any]]) -> list[int]:
    """The lines of a batch's file whose e-mail cell was empty."""
    return [int(r["line"]) for r in rejected if r.get("reason") == NO_ADDRESS]


@transaction.atomic
def invitation_batch_create(
    *,
    actor: Actor,
    connection: Connection,
    text: str | None = None,
    csv_bytes: bytes | None = None,
    emails: Sequence[str] | None = None,
) -> InvitationBatch:
    """Record the invitations at once; the worker sends them (the page shows progress)."""
    require(actor, Permission.MANAGE_DRIVERS)
    connection = Connection.objects.select_for_update().get(pk=connection.pk)
    if not connection.enabled:
        raise ValidationError(
            {
                source_field(csv_bytes=csv_bytes, emails=emails): [
                    _("This connection is disabled: enable it before inviting drivers.")
                ]
            }
        )
    accepted, rejected = parse_addresses(connection, text=text, csv_bytes=csv_bytes, emails=emails)
    if not accepted:
        # An empty batch ("Sent 0 of 0") helps nobody: the list is refused as a whole, next
        # to its field, with the reasons, and nothing is written.
        raise ValidationError(
            {source_field(csv_bytes=csv_bytes, emails=emails): [_nobody_invited(rejected)]}
        )
    batch = InvitationBatch.objects.create(
        connection=connection,
        created_by=actor.user,
        total=len(accepted),
        rejected=rejected,
    )
    Invitation.objects.bulk_create(
        [
            Invitation(
                batch=batch, connection=connection, email=address, token=secrets.token_urlsafe(24)
            )
            for _line, address in accepted
        ],
        batch_size=1000,
    )
    audit_record(
        actor=actor,
        action=AuditAction.INVITATION_BATCH_CREATE,
        target=connection,
        changes={"invited": [None, len(accepted)], "rejected": [None, len(rejected)]},
    )
    from evdms.enrolment.tasks import send_invitation_batch

    transaction.on_commit(lambda: send_invitation_batch.enqueue(batch_id=batch.pk))
    return batch
