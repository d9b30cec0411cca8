"""An invoice's documents as HTTP downloads, for the pages and the API alike.

The documents themselves are built by ``evdms.invoicing.documents``; it is imported
when a download asks for one, so the pages and the API load without the PDF library.
"""

from __future__ import annotations

from django.http import HttpResponse

from evdms.invoicing.models import Invoice

PDF_TYPE = "application/pdf"
CSV_TYPE = "text/csv; charset=utf-8"


def pdf_bytes(invoice: Invoice) -> bytes:
    """The invoice's PDF: the one rendered when it was issued, when there is one, so a
    download gives the very bytes that were e-mailed; else rendered now (the worker
    has not got to it yet), from the same immutable invoice."""
    stored = Invoice.objects.filter(pk=invoice.pk).values_list("pdf", flat=True).first()
    return bytes(stored) if stored else render_pdf(invoice)


def render_pdf(invoice: Invoice) -> bytes:
    from evdms.invoicing.documents import invoice_pdf

    return invoice_pdf(invoice)


def render_lines_csv(invoice: Invoice) -> str:
    from evdms.invoicing.documents import invoice_lines_csv

    return invoice_lines_csv(invoice)


def _attachment(content: bytes, content_type: str, filename: str) -> HttpResponse:
    response = HttpResponse(content, content_type=content_type)
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    # An invoice is the organisation's business: no shared cache keeps a copy.
    response["Cache-Control"] = "no-store"
    return response


def pdf_response(invoice: Invoice) -> HttpResponse:
    # Invoice numbers are letters, digits and dashes (SERIES_PREFIX-year-number): safe
    # as a file name as they are.
    return _attachment(pdf_bytes(invoice), PDF_TYPE, f"{invoice.number}.pdf")


def lines_csv_response(invoice: Invoice) -> HttpResponse:
    return _attachment(render_lines_csv(invoice).encode("utf-8"), CSV_TYPE, f"{invoice.number}.csv")
