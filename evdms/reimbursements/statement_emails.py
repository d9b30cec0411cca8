"""The statement e-mail (with its PDF), made in the worker after the monthly run.

The e-mail is keyed by the statement row: ``Statement.emailed_at`` is claimed by a
conditional update in the same transaction that writes the outbox row, so two workers, a
retried task or a rerun of the month never e-mail a driver twice, and a killed worker
leaves the statement unclaimed for the next attempt.

Apart from ``services.statements`` (which queues these e-mails at the end of a run) and ``tasks``
(whose task runs that run), so the imports run one way: tasks -> statements -> here.
"""

from __future__ import annotations

from datetime import date
from functools import partial

from django.db import transaction
from django.utils import timezone
from django_tasks import task

from evdms.notifications.services import email_send
from evdms.reimbursements import checkpoints
from evdms.reimbursements.models import Statement
from evdms.reimbursements.statement_pdf import statement_pdf
from evdms.ui.language import user_language

# Statements per task: a PDF each, so a task stays short and a retry redoes little.
EMAIL_CHUNK = 200


def statement_email(statement: Statement) -> None:
    """In the driver's language, the PDF too (``statement_pdf`` writes it in theirs)."""
    organisation = statement.connection.organisation
    email_send(
        to=[statement.driver.email],
        template="reimbursement_statement",
        context={"statement": statement},
        organisation=organisation,
        language=user_language(statement.driver, organisation),
        attachments=[(f"{statement.reference}.pdf", statement_pdf(statement), "application/pdf")],
    )


def statement_email_once(statement_id: int) -> bool:
    """Write the statement's e-mail to the outbox unless it was written already."""
    with transaction.atomic():
        claimed = Statement.objects.filter(pk=statement_id, emailed_at=None).update(
            emailed_at=timezone.now()
        )
        if not claimed:  # e-mailed already, or another worker has it
            return False
        statement = Statement.objects.select_related(
            "driver", "connection__organisation", "bank_account"
        ).get(pk=statement_id)
        statement_email(statement)
    checkpoints.checkpoint("statement-emailed")
    return True


@task()
def statements_email(*, statement_ids: list[int]) -> int:
    """E-mail each of these statements to its driver, once. Returns how many were sent."""
    return sum(statement_email_once(pk) for pk in statement_ids)


def statements_email_pending(month: date) -> int:
    """Queue the e-mail of every statement of ``month`` not e-mailed yet (after commit),
    including those a killed run or worker left behind. Returns how many."""
    pending = list(
        Statement.objects.filter(month=month, emailed_at=None)
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    for offset in range(0, len(pending), EMAIL_CHUNK):
        ids = pending[offset : offset + EMAIL_CHUNK]
        transaction.on_commit(partial(statements_email.enqueue, statement_ids=ids))
    return len(pending)
