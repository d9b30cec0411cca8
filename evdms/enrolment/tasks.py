"""Work for the worker: sending a batch of e-mail invitations, the signed copy of terms."""

from __future__ import annotations

from django.db import connection as database
from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.html import escape
from django_tasks import task

from evdms.connections.models import Connection
from evdms.connections.selectors import invite_url
from evdms.enrolment.models import Invitation, InvitationBatch, InvitationStatus, TermsAcceptance
from evdms.enrolment.terms_pdf import signed_terms_pdf
from evdms.notifications.models import EmailStatus, OutboundEmail
from evdms.notifications.moments import moment_text
from evdms.notifications.services import email_render, email_send
from evdms.notifications.tasks import deliver_now
from evdms.ui.language import user_language

CHUNK = 200
# Stands in for each driver's own link while the letter is rendered once per batch;
# only URL-safe characters, so neither template escapes it.
LINK_PLACEHOLDER = "evdms-invitation-link-0f3a9c"


class _Letters:
    """The invitation rendered once per language: 10,000 template renders would cost
    more than the sending, and the letters differ only by the link."""

    def __init__(self, connection: Connection) -> None:
        self.connection = connection
        self._rendered: dict[str, OutboundEmail] = {}

    def _in(self, language: str) -> OutboundEmail:
        if language not in self._rendered:
            self._rendered[language] = email_render(
                to=[],
                template="driver_invitation",
                context={"connection": self.connection, "link": LINK_PLACEHOLDER},
                organisation=self.connection.organisation,
                language=language,
            )
        return self._rendered[language]

    def for_chunk(self, chunk: list[Invitation]) -> list[OutboundEmail]:
        """The letter of each invitation of ``chunk``: the organisation's default
        language for every address. Not the language of an account the address may
        have: that would look people up platform-wide by an address an admin typed."""
        letter = self._in(user_language(None, self.connection.organisation))
        return [letter for _ in chunk]


def _personal(letter: OutboundEmail, invitation: Invitation, link: str) -> OutboundEmail:
    own_link = f"{link}?invitation={invitation.token}"
    return OutboundEmail(
        to=[invitation.email],
        subject=letter.subject,
        text_body=letter.text_body.replace(LINK_PLACEHOLDER, own_link),
        html_body=letter.html_body.replace(LINK_PLACEHOLDER, escape(own_link)),
        template=letter.template,
        organisation=letter.organisation,
        language=letter.language,
    )


def _link_outbox_rows(pairs: list[tuple[int, int]]) -> None:
    """Invitation.outbound_email for a chunk in one plain-SQL UPDATE (ids only, passed as
    parameters). bulk_update builds the same CASE but spends ~0.3 ms a row in Python;
    an UPDATE a row took half the sending time on PostgreSQL (docs/benchmarks.md)."""
    quote = database.ops.quote_name
    table = quote(Invitation._meta.db_table)
    column = quote(Invitation._meta.get_field("outbound_email").column)
    pk = quote("id")
    arms = " ".join("WHEN %s THEN %s" for _ in pairs)
    marks = ", ".join("%s" for _ in pairs)
    params = [n for pair in pairs for n in pair] + [invitation for invitation, _ in pairs]
    with database.cursor() as cursor:
        cursor.execute(
            f"UPDATE {table} SET {column} = CASE {pk} {arms} END WHERE {pk} IN ({marks})",  # noqa: S608
            params,
        )


class _Contended(Exception):
    """Another worker claimed part of the chunk: roll it back and pick again."""


def _claim_chunk(batch: InvitationBatch, letters: _Letters, link: str) -> list[int] | None:
    """Claim up to CHUNK queued invitations and write their outbox rows, in one
    transaction; the outbox row ids to deliver, or None when nothing is left to claim."""
    while True:
        try:
            with transaction.atomic():
                return _claim_chunk_once(batch, letters, link)
        except _Contended:
            continue


def _claim_chunk_once(batch: InvitationBatch, letters: _Letters, link: str) -> list[int] | None:
    # The rows read are ours until commit: PostgreSQL locks them (skipping those another
    # worker holds), SQLite runs IMMEDIATE transactions (one writer at a time). The
    # conditional update and its count keep that promise checked, not assumed.
    chunk = list(
        Invitation.objects.select_for_update(skip_locked=True)
        .filter(batch=batch, status=InvitationStatus.QUEUED)
        .order_by("pk")[:CHUNK]
    )
    if not chunk:
        return None
    claimed = Invitation.objects.filter(
        pk__in=[i.pk for i in chunk], status=InvitationStatus.QUEUED
    ).update(status=InvitationStatus.SENT, sent_at=timezone.now())
    if claimed != len(chunk):
        raise _Contended
    emails = OutboundEmail.objects.bulk_create(
        [
            _personal(letter, i, link)
            for i, letter in zip(chunk, letters.for_chunk(chunk), strict=True)
        ]
    )
    _link_outbox_rows([(i.pk, e.pk) for i, e in zip(chunk, emails, strict=True)])
    return [e.pk for e in emails]


def _deliver(batch: InvitationBatch, email_ids: list[int]) -> None:
    delivered = deliver_now(email_ids)
    if delivered:
        InvitationBatch.objects.filter(pk=batch.pk).update(sent=F("sent") + len(delivered))


def _undelivered(batch: InvitationBatch) -> list[int]:
    """Outbox rows claimed by a run that stopped before delivering them."""
    return list(
        Invitation.objects.filter(
            batch=batch, outbound_email__status=EmailStatus.QUEUED
        ).values_list("outbound_email_id", flat=True)
    )


@task()
def send_invitation_batch(*, batch_id: int) -> int:
    """Send a batch's queued invitations a chunk at a time, counting progress in
    ``InvitationBatch.sent`` (e-mails handed to the mail server).

    Rerunnable: an invitation is claimed (QUEUED → SENT, conditional update) in the same
    transaction that writes its outbox row, and the outbox row is claimed again before
    delivery, so a rerun or a second worker never sends an invitation twice; a rerun
    also delivers rows a stopped run had claimed but not sent.
    """
    batch = InvitationBatch.objects.select_related("connection", "connection__organisation").get(
        pk=batch_id
    )
    connection = batch.connection
    link = invite_url(connection)
    letters = _Letters(connection)
    claimed = 0
    _deliver(batch, _undelivered(batch))
    while (email_ids := _claim_chunk(batch, letters, link)) is not None:
        _deliver(batch, email_ids)
        claimed += len(email_ids)
    # Another worker may still hold a chunk (skipped above): the last one out finishes.
    queued = Invitation.objects.filter(batch=batch, status=InvitationStatus.QUEUED).exists()
    if not queued and not _undelivered(batch):
        InvitationBatch.objects.filter(pk=batch.pk, finished_at=None).update(
            finished_at=timezone.now()
        )
    return claimed


@task()
def send_signed_terms(*, acceptance_id: int) -> bool:
    """E-mail the signed copy (PDF) of a driver's terms to the connection's addresses.

    Once per acceptance: the claim and the outbox row commit together, so a rerun or a
    second worker finds it claimed. False when it was already sent (or nobody gets it).
    """
    with transaction.atomic():
        claimed = TermsAcceptance.objects.filter(
            pk=acceptance_id, signed_copy_queued_at=None
        ).update(signed_copy_queued_at=timezone.now())
        if not claimed:
            return False
        acceptance = TermsAcceptance.objects.select_related(
            "driver", "membership__connection__organisation"
        ).get(pk=acceptance_id)
        connection = acceptance.membership.connection
        driver = acceptance.driver
        if not connection.signed_terms_recipients:
            return False
        email_send(
            to=list(connection.signed_terms_recipients),
            template="signed_terms",
            context={
                "acceptance": acceptance,
                "connection": connection,
                "driver": driver,
                "accepted_at": moment_text(acceptance.accepted_at, connection.organisation),
            },
            organisation=connection.organisation,
            attachments=[
                (
                    f"signed-terms-{connection.pk}-{driver.pk}.pdf",
                    signed_terms_pdf(acceptance),
                    "application/pdf",
                )
            ],
        )
    return True
