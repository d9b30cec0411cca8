"""HTTP responses for exports: made at once (small) or read back from the worker's
chunks (large). Both stream: memory stays flat whatever the size."""

from __future__ import annotations

from collections.abc import Iterator

from django.http import FileResponse, Http404, StreamingHttpResponse

from evdms.reports.exports import csv_chunks, row_batches, stamp, xlsx_file
from evdms.reports.models import ExportFormat, ExportStatus, ReportExport, ReportExportChunk
from evdms.reports.transactions import ReportRows

CSV_TYPE = "text/csv; charset=utf-8"
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def small_export(rows: ReportRows, fmt: str) -> StreamingHttpResponse | FileResponse:
    name = f"transactions-{stamp()}.{fmt}"
    response: StreamingHttpResponse | FileResponse
    if fmt == ExportFormat.CSV:
        response = StreamingHttpResponse(csv_chunks(rows), content_type=CSV_TYPE)
        response["Content-Disposition"] = f'attachment; filename="{name}"'
    else:
        response = FileResponse(
            xlsx_file(row_batches(rows)),
            as_attachment=True,
            filename=name,
            content_type=XLSX_TYPE,
        )
    response["Cache-Control"] = "no-store"
    return response


def _chunks(export: ReportExport) -> Iterator[bytes]:
    ids = list(ReportExportChunk.objects.filter(export=export).values_list("pk", flat=True))
    for pk in ids:  # one chunk in memory at a time
        data = ReportExportChunk.objects.filter(pk=pk).values_list("data", flat=True).get()
        yield bytes(data)


def export_download(export: ReportExport) -> StreamingHttpResponse:
    if export.status != ExportStatus.DONE:
        raise Http404
    response = StreamingHttpResponse(
        _chunks(export), content_type=CSV_TYPE if export.format == ExportFormat.CSV else XLSX_TYPE
    )
    response["Content-Disposition"] = f'attachment; filename="{export.filename}"'
    response["Content-Length"] = str(export.size)
    response["Cache-Control"] = "no-store"
    return response
