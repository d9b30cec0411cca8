"""Making an installation report export in the worker, with progress the page shows.
The export and its file are the reports area's (``ReportExport`` with ``report`` set to
``installations``); only the rows are this report's."""

from __future__ import annotations

import logging
import tempfile

from django.db import transaction
from django.utils import timezone
from django_tasks import task

from evdms.accounts.permissions import Permission
from evdms.installations.exports import csv_chunks, row_batches, write_xlsx
from evdms.installations.report import installations_for, parse_installation_query
from evdms.reports.export_scope import NOT_DELIVERED, deliverable, scope_of
from evdms.reports.exports import BUFFER
from evdms.reports.models import ExportFormat, ExportStatus, ReportExport, ReportExportChunk
from evdms.reports.tasks import _Chunks, _claim, report_export_fail

log = logging.getLogger(__name__)
REPORT = "installations"


@task()
def installation_export_run(*, export_id: int) -> str:
    """Make the export's file. Idempotent, as the transaction report's: a second run of a
    claimed or finished export does nothing."""
    if not ReportExport.objects.filter(pk=export_id, report=REPORT).exists():
        return "not claimed"
    if not _claim(export_id):
        return "not claimed"
    export = ReportExport.objects.select_related("organisation").get(pk=export_id)
    # As the requester is now, not as they were: a revoked grant ends the export.
    actor = deliverable(export, Permission.VIEW_INSTALLATIONS)
    if actor is None:
        report_export_fail(export, NOT_DELIVERED)
        return "not delivered"
    rows = installations_for(actor, parse_installation_query(export.params))

    def progress(done: int) -> None:
        ReportExport.objects.filter(pk=export_id, status=ExportStatus.RUNNING).update(
            rows_done=done, rows_total=max(done, export.rows_total), updated_at=timezone.now()
        )

    ReportExportChunk.objects.filter(export=export).delete()
    out = _Chunks(export)
    try:
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
        log.exception("installation export %s failed", export_id)
        ReportExportChunk.objects.filter(export=export).delete()
        report_export_fail(export, f"The export could not be made ({type(exc).__name__}).")
        return "failed"
    if (
        deliverable(export, Permission.VIEW_INSTALLATIONS) is None
    ):  # revoked while it was being made
        ReportExportChunk.objects.filter(export=export).delete()
        report_export_fail(export, NOT_DELIVERED)
        return "not delivered"
    with transaction.atomic():
        ReportExport.objects.filter(pk=export_id).update(
            status=ExportStatus.DONE,
            # What the rows were read with (the requester's reach when it ran, which may
            # be wider than when asked): who may open the file is checked against this.
            scope=scope_of(actor, Permission.VIEW_INSTALLATIONS),
            size=out.size,
            finished_at=timezone.now(),
            updated_at=timezone.now(),
        )
    return "done"
