"""The documents of an issued invoice, as the pages, the API and the e-mail serve them.

The PDF is rendered once and kept in ``Invoice.pdf``: the Factur-X embedding stamps the
time it was made, so a second rendering would differ by a few bytes, and a finance
department that downloads an invoice twice must get the same file (the one e-mailed).
Two workers (or a download racing the e-mail) may render at once; only the first store
wins (a conditional update where ``pdf`` is still empty) and both return the stored one.

The CSV is made from the immutable lines on every request: the same lines give the
same text.
"""

from __future__ import annotations

from evdms.invoicing.invoice_pdf import render_invoice_pdf
from evdms.invoicing.lines_csv import lines_csv
from evdms.invoicing.models import Invoice


def _stored_pdf(invoice_id: int) -> bytes | None:
    stored = Invoice.objects.filter(pk=invoice_id).values_list("pdf", flat=True).first()
    return None if stored is None else bytes(stored)  # PostgreSQL gives a memoryview


def invoice_pdf(invoice: Invoice) -> bytes:
    """The invoice's PDF/A-3 with its embedded e-invoice: the stored one, or rendered and
    stored now (once, whoever else renders it at the same time)."""
    stored = _stored_pdf(invoice.pk)
    if stored is not None:
        return stored
    rendered = render_invoice_pdf(invoice)
    won = Invoice.objects.filter(pk=invoice.pk, pdf__isnull=True).update(pdf=rendered)
    if not won:  # another worker stored its rendering first: that one is the document
        rendered = _stored_pdf(invoice.pk) or rendered
    invoice.pdf = rendered
    return rendered


def invoice_lines_csv(invoice: Invoice) -> str:
    """The invoice's lines as CSV text (formula-guarded)."""
    return lines_csv(invoice.lines.all())
