"""Making a report export in the worker, with progress the page can show."""

from __future__ import annotations

import logging
import tempfile
from datetime import timedelta

from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django_tasks import task

from evdms.accounts.permissions import Permission
from evdms.reports.export_scope import NOT_DELIVERED, deliverable, scope_of
from evdms.reports.exports import BUFFER, csv_chunks, row_batches, write_xlsx
from evdms.reports.models import ExportFormat, ExportStatus, ReportExport, ReportExportChunk
from evdms.reports.transactions import parse_transaction_query, transactions_for

log = logging.getLogger(__name__)
# A running export whose progress has not moved for this long was left by a worker that
# died: another run may take it over and start it again.
STALE = timedelta(minutes=10)


def _claim(export_id: int) -> bool:
    now = timezone.now()
    return bool(
        ReportExport.objects.filter(
            Q(status=ExportStatus.QUEUED)
            | Q(status=ExportStatus.RUNNING, updated_at__lt=now - STALE),
            pk=export_id,
        ).update(status=ExportStatus.RUNNING, rows_done=0, updated_at=now)
    )


def report_export_fail(export: ReportExport, error: str) -> None:
    # Here, not in services: only the worker fails an export, and services enqueue this
    # module's task, so the import runs one way (services -> tasks).
    ReportExport.objects.filter(pk=export.pk).update(
        status=ExportStatus.FAILED, error=error[:300], updated_at=timezone.now()
    )


class _Chunks:
    """Appends bytes to the export's stored file, a chunk row at a time."""

    def __init__(self, export: ReportExport) -> None:
        self.export = export
        self.index = 0
        self.size = 0

    def add(self, data: bytes) -> None:
        if data:
            ReportExportChunk.objects.create(export=self.export, index=self.index, data=data)
            self.index += 1
            self.size += len(data)


@task()
def report_export_run(*, export_id: int) -> str:
    """Make the export's file. Idempotent: a second run of a claimed or finished export
    does nothing; a run taking over a dead worker's export starts the file again."""
    if not _claim(export_id):
        return "not claimed"
    export = ReportExport.objects.select_related("organisation").get(pk=export_id)
    # As the requester is now, not as they were: a revoked grant ends the export.
    actor = deliverable(export, Permission.VIEW_REPORTS)
    if actor is None:
        report_export_fail(export, NOT_DELIVERED)
        return "not delivered"
    query = parse_transaction_query(export.params)
    rows = transactions_for(actor, query)

    def progress(done: int) -> None:
        ReportExport.objects.filter(pk=export_id, status=ExportStatus.RUNNING).update(
            rows_done=done, rows_total=max(done, export.rows_total), updated_at=timezone.now()
        )

    ReportExportChunk.objects.filter(export=export).delete()  # a dead run's partial file
    out = _Chunks(export)
    try:
        # Written to a temporary file first, then stored: on PostgreSQL the CSV comes from
        # COPY, and the connection can run nothing else until the COPY is over.
        with tempfile.TemporaryFile() as spool:
            if export.format == ExportFormat.CSV:
                for piece in csv_chunks(rows, progress):
                    spool.write(piece)
            else:
                write_xlsx(row_batches(rows), spool, progress)
            spool.seek(0)
            while data := spool.read(BUFFER):
                out.add(data)
    except Exception as exc:  # the admin sees "failed" with the reason, not a spinner forever
        log.exception("report export %s failed", export_id)
        ReportExportChunk.objects.filter(export=export).delete()
        report_export_fail(export, f"The export could not be made ({type(exc).__name__}).")
        return "failed"
    # Rights revoked while it was being made: it is not handed over.
    if deliverable(export, Permission.VIEW_REPORTS) is None:
        ReportExportChunk.objects.filter(export=export).delete()
        report_export_fail(export, NOT_DELIVERED)
        return "not delivered"
    with transaction.atomic():
        ReportExport.objects.filter(pk=export_id).update(
            status=ExportStatus.DONE,
            # What the rows were read with (the requester's reach when it ran, which may
            # be wider than when asked): who may open the file is checked against this.
            scope=scope_of(actor, Permission.VIEW_REPORTS),
            size=out.size,
            finished_at=timezone.now(),
            updated_at=timezone.now(),
        )
    return "done"
