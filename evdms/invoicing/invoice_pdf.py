"""An invoice or credit note as PDF/A-3 (fpdf2, pure Python) with its EN 16931 e-invoice
embedded as Factur-X (level EN 16931): one file a person reads and a buyer's system
books.

The layout is the one a finance department expects: the seller at the top, the buyer
("Bill to"), the numbers and dates, the lines (a table whose headings repeat on every
page, so a 2,000-line Transactions invoice stays readable), the VAT summary with the
legal wording of every exemption, the totals, and how to pay (the operator's IBAN and
the structured RF reference the bank matches).

The vendored DejaVu fonts are embedded (PDF/A allows no unembedded font) and carry "€"
and accents, which the core Helvetica of ``statement_pdf`` cannot.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import cast

import facturx
from django.conf import settings
from django.utils import translation
from fpdf import FPDF

from evdms.invoicing.einvoice import invoice_xml
from evdms.invoicing.models import Invoice, InvoiceKind, InvoiceLine, InvoiceVat, VatCategory

FONTS = Path(__file__).resolve().parent / "fonts"
FONT = "DejaVu"
# UN/ECE rec. 20 codes as a reader says them: (one, many).
UNIT_NAMES = {
    "C62": ("", ""),
    "KWH": ("kWh", "kWh"),
    "DAY": ("day", "days"),
    "MON": ("month", "months"),
    "HUR": ("hour", "hours"),
}
CURRENCY_SIGNS = {"EUR": "€", "GBP": "£"}
# The legal wording of each category's note in the VAT summary, when the stored reason
# is blank (it never is for invoices issued by ``services.issue``).
CATEGORY_NOTES = {
    VatCategory.REVERSE_CHARGE: "Reverse charge: VAT to be accounted for by the recipient",
    VatCategory.EXEMPT: "Exempt from VAT",
    VatCategory.OUT_OF_SCOPE: "Not subject to VAT",
}


def money(amount: Decimal, currency: str) -> str:
    sign = CURRENCY_SIGNS.get(currency)
    figure = f"{amount:,.2f}"
    return f"{sign} {figure}" if sign else f"{currency} {figure}"


def long_date(day: date) -> str:
    return f"{day.day} {day:%B %Y}"


def quantity_text(quantity: Decimal, unit: str) -> str:
    if unit == "KWH":
        return f"{quantity:,.3f}"
    normal = quantity.normalize()
    # normalize() writes 100 as 1E+2: show plain digits.
    return f"{normal:f}" if normal == normal.to_integral() else f"{normal:,f}"


def unit_text(quantity: Decimal, unit: str) -> str:
    one, many = UNIT_NAMES.get(unit, (unit, unit))
    return one if abs(quantity) == 1 else many


def price_text(price: Decimal) -> str:
    """At least two decimals, up to the four a unit price has."""
    text = f"{price:,.4f}"
    while text.endswith("0") and len(text.split(".")[1]) > 2:
        text = text[:-1]
    return text


def rate_text(category: str, rate: Decimal) -> str:
    if category == VatCategory.STANDARD:
        return f"{rate.normalize():f}%"
    return category  # AE / E / O: no rate applies, the category says why


def title_of(invoice: Invoice) -> str:
    if invoice.kind == InvoiceKind.CREDIT_NOTE:
        return "Credit note"
    return f"{invoice.get_kind_display()} invoice"


class InvoiceDocument(FPDF):
    """The page frame: the number and "page n of m" at the foot of every page."""

    def __init__(self, invoice: Invoice) -> None:
        super().__init__(format="A4", enforce_compliance="PDF/A-3B")
        self.invoice = invoice
        self.add_font(FONT, "", str(FONTS / "DejaVuSans.ttf"))
        self.add_font(FONT, "B", str(FONTS / "DejaVuSans-Bold.ttf"))
        self.set_auto_page_break(auto=True, margin=18)
        self.alias_nb_pages()
        title = f"{title_of(invoice)} {invoice.number}"
        self.set_title(title)
        self.set_author(invoice.seller.get("name", ""))
        self.set_subject(title)
        self.set_lang("en-GB")

    def footer(self) -> None:
        self.set_y(-13)
        self.set_font(FONT, "", 7.5)
        self.set_text_color(90)
        self.cell(0, 5, f"{self.invoice.number} · page {self.page_no()} of {{nb}}", align="R")
        self.set_text_color(0)


def _address_lines(details: dict[str, str]) -> list[str]:
    place = " ".join(part for part in (details.get("postcode"), details.get("city")) if part)
    return [text for text in (details.get("address"), place, details.get("country")) if text]


def _label_rows(pdf: FPDF, rows: Sequence[tuple[str, str]], label_width: float = 42) -> None:
    for label, value in rows:
        pdf.set_font(FONT, "B", 9)
        pdf.cell(label_width, 5.5, label)
        pdf.set_font(FONT, "", 9)
        pdf.multi_cell(0, 5.5, value, new_x="LMARGIN", new_y="NEXT")


FACTS_X = 100  # the right-hand block of numbers and dates
FACTS_LABEL_WIDTH = 40


def _parties(pdf: InvoiceDocument, invoice: Invoice) -> None:
    seller, buyer = invoice.seller, invoice.buyer_details
    pdf.set_font(FONT, "B", 13)
    pdf.cell(0, 7, seller.get("name", ""), new_x="LMARGIN", new_y="NEXT")
    pdf.set_font(FONT, "", 8.5)
    for text in [
        *_address_lines(seller),
        f"VAT number {seller.get('vat_number', '')}",
        seller.get("email", ""),
    ]:
        if text:
            pdf.cell(0, 4.3, text, new_x="LMARGIN", new_y="NEXT")
    pdf.ln(5)
    pdf.set_font(FONT, "B", 17)
    pdf.cell(0, 9, title_of(invoice), new_x="LMARGIN", new_y="NEXT")
    pdf.ln(2)

    top = pdf.get_y()
    pdf.set_font(FONT, "B", 9)
    pdf.cell(0, 5.5, "Bill to", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font(FONT, "", 9)
    for text in [buyer.get("name", ""), *_address_lines(buyer)]:
        if text:
            pdf.multi_cell(85, 5, text, new_x="LMARGIN", new_y="NEXT")
    if buyer.get("vat_number"):
        pdf.cell(0, 5, f"VAT number {buyer['vat_number']}", new_x="LMARGIN", new_y="NEXT")
    left_bottom = pdf.get_y()

    facts = [
        (
            "Credit note number" if invoice.kind == InvoiceKind.CREDIT_NOTE else "Invoice number",
            invoice.number,
        ),
        ("Issue date", long_date(invoice.issue_date)),
    ]
    if invoice.kind != InvoiceKind.CREDIT_NOTE:
        facts.append(("Due date", long_date(invoice.due_date)))
    facts.append(("Month invoiced", f"{invoice.month:%B %Y}"))
    if invoice.credits is not None:
        facts.append(("Corrects invoice", invoice.credits.number))
        facts.append(("Invoice issued", long_date(invoice.credits.issue_date)))
    if buyer.get("purchase_order_reference"):
        facts.append(("Purchase order", buyer["purchase_order_reference"]))
    if invoice.kind == InvoiceKind.BUNDLE and invoice.driver is not None:
        facts.append(("Driver", invoice.driver.get_full_name()))
    facts.append(("Payment reference", invoice.payment_reference))
    pdf.set_y(top)
    for label, value in facts:
        pdf.set_x(FACTS_X)
        pdf.set_font(FONT, "B", 9)
        pdf.cell(FACTS_LABEL_WIDTH, 5.5, label)
        pdf.set_font(FONT, "", 9)
        pdf.multi_cell(0, 5.5, value, new_x="LMARGIN", new_y="NEXT")
    pdf.set_y(max(left_bottom, pdf.get_y()))
    if invoice.credit_reason:
        pdf.ln(2)
        _label_rows(pdf, [("Reason", invoice.credit_reason)], label_width=20)
    pdf.ln(5)


LINE_WIDTHS = (10, 80, 20, 14, 22, 14, 30)
LINE_HEADINGS = ("#", "Description", "Quantity", "Unit", "Unit price", "VAT", "Amount")


LINE_ALIGN = ("R", "L", "R", "L", "R", "R", "R")
ROW_HEIGHT = 4.6
# Where the text of a row sits: ``text()`` places a baseline, and costs half what
# ``cell()`` does (a 2,000-line invoice has 14,000 of them).
BASELINE = 3.3


def _line_headings(pdf: InvoiceDocument) -> None:
    pdf.set_font(FONT, "B", 8)
    pdf.set_fill_color(235, 235, 235)
    for width, heading, align in zip(LINE_WIDTHS, LINE_HEADINGS, LINE_ALIGN, strict=True):
        pdf.cell(width, 6, heading, border="B", fill=True, align=align)
    pdf.ln()
    pdf.set_font(FONT, "", 8)


def _lines(pdf: InvoiceDocument, invoice: Invoice, lines: Sequence[InvoiceLine]) -> None:
    """The lines table. Drawn text by text (fpdf2's ``table()`` measures and wraps every
    cell, 10 ms a row: 20 s for a 2,000-line invoice); only a description too wide for
    its column is wrapped. On a new page the headings come again."""
    _line_headings(pdf)
    description_width = LINE_WIDTHS[1] - 2 * pdf.c_margin
    for line in lines:
        cells = (
            str(line.position),
            line.description,
            quantity_text(line.quantity, line.unit),
            unit_text(line.quantity, line.unit),
            price_text(line.unit_price),
            rate_text(line.vat_category, line.vat_rate),
            f"{line.net_amount:,.2f}",
        )
        wrapped: list[str] | None = None
        height = ROW_HEIGHT
        if pdf.get_string_width(line.description) > description_width:
            wrapped = cast(
                list[str],
                pdf.multi_cell(
                    LINE_WIDTHS[1], ROW_HEIGHT, line.description, dry_run=True, output="LINES"
                ),
            )
            height = ROW_HEIGHT * len(wrapped)
        if pdf.get_y() + height > pdf.page_break_trigger:
            pdf.add_page()
            _line_headings(pdf)
        top = pdf.get_y()
        baseline = top + BASELINE
        left = pdf.l_margin
        for index, (width, text, align) in enumerate(
            zip(LINE_WIDTHS, cells, LINE_ALIGN, strict=True)
        ):
            if index == 1 and wrapped is not None:
                pdf.set_xy(left, top)
                pdf.multi_cell(width, ROW_HEIGHT, text, align="L")
            elif align == "L":
                pdf.text(left + pdf.c_margin, baseline, text)
            else:
                pdf.text(left + width - pdf.c_margin - pdf.get_string_width(text), baseline, text)
            left += width
        pdf.set_xy(pdf.l_margin, top + height)
        pdf.set_draw_color(215, 215, 215)
        pdf.line(pdf.l_margin, top + height, pdf.l_margin + sum(LINE_WIDTHS), top + height)
        pdf.set_draw_color(0)
    pdf.ln(4)


def _vat_and_totals(
    pdf: InvoiceDocument, invoice: Invoice, vat_lines: Sequence[InvoiceVat]
) -> None:
    currency = invoice.currency
    widths = (70, 40, 40)
    if pdf.will_page_break(12 + 6 * (len(vat_lines) + 4)):
        pdf.add_page()
    pdf.set_font(FONT, "B", 10)
    pdf.cell(0, 7, "VAT summary", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font(FONT, "B", 8.5)
    pdf.set_fill_color(235, 235, 235)
    for width, heading in zip(
        widths, ("Category", f"Taxable amount ({currency})", f"VAT ({currency})"), strict=True
    ):
        pdf.cell(width, 6, heading, border="B", fill=True, align="L" if width == 70 else "R")
    pdf.ln()
    pdf.set_font(FONT, "", 8.5)
    notes: list[str] = []
    for row in vat_lines:
        label = (
            f"Standard rate {row.rate.normalize():f}%"
            if row.category == VatCategory.STANDARD
            else f"{row.get_category_display()} ({row.category})"
        )
        pdf.cell(widths[0], 6, label, border="B")
        pdf.cell(widths[1], 6, f"{row.basis:,.2f}", border="B", align="R")
        pdf.cell(widths[2], 6, f"{row.amount:,.2f}", border="B", align="R")
        pdf.ln()
        if row.category != VatCategory.STANDARD:
            reason = row.exemption_reason or CATEGORY_NOTES.get(VatCategory(row.category), "")
            code = f" ({row.exemption_code})" if row.exemption_code else ""
            notes.append(f"{row.category}: {reason}{code}")
    if any(row.category == VatCategory.REVERSE_CHARGE for row in vat_lines):
        buyer_vat = invoice.buyer_details.get("vat_number", "")
        notes.append(f"Customer's VAT number: {buyer_vat}")
    pdf.ln(2)
    credit = invoice.kind == InvoiceKind.CREDIT_NOTE
    for label, amount, bold in [
        ("Total excl. VAT", invoice.total_excl_vat, False),
        ("VAT", invoice.total_vat, False),
        ("Total credited" if credit else "Total to pay", invoice.total_incl_vat, True),
    ]:
        pdf.set_x(pdf.l_margin + widths[0])
        pdf.set_font(FONT, "B" if bold else "", 10 if bold else 9)
        pdf.cell(widths[1], 6.5, label)
        pdf.cell(widths[2], 6.5, money(amount, currency), align="R", new_x="LMARGIN", new_y="NEXT")
    if notes:
        pdf.ln(2)
        pdf.set_font(FONT, "", 8)
        for note in notes:
            pdf.multi_cell(0, 4.5, note, new_x="LMARGIN", new_y="NEXT")
    pdf.ln(4)


def _payment(pdf: InvoiceDocument, invoice: Invoice) -> None:
    seller = invoice.seller
    if pdf.will_page_break(45):
        pdf.add_page()
    pdf.set_font(FONT, "B", 10)
    pdf.cell(0, 7, "Payment", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font(FONT, "", 9)
    if invoice.kind == InvoiceKind.CREDIT_NOTE:
        corrected = invoice.credits.number if invoice.credits is not None else ""
        pdf.multi_cell(
            0,
            5,
            f"Nothing to pay: this credit note reduces what invoice {corrected} asks by "
            f"{money(invoice.total_incl_vat, invoice.currency)}.",
            new_x="LMARGIN",
            new_y="NEXT",
        )
        pdf.ln(1)
        _label_rows(pdf, [("Reference", invoice.payment_reference)])
        return
    pdf.multi_cell(
        0,
        5,
        f"Please transfer {money(invoice.total_incl_vat, invoice.currency)} by "
        f"{long_date(invoice.due_date)} (SEPA credit transfer), quoting the payment "
        "reference exactly as it is written, so that the payment is matched to this invoice.",
        new_x="LMARGIN",
        new_y="NEXT",
    )
    pdf.ln(1)
    rows = [("Account holder", seller.get("name", "")), ("IBAN", _grouped(seller.get("iban", "")))]
    if seller.get("bic"):
        rows.append(("BIC", seller["bic"]))
    rows.append(("Payment reference", invoice.payment_reference))
    _label_rows(pdf, rows)


def _grouped(iban: str) -> str:
    return " ".join(iban[i : i + 4] for i in range(0, len(iban), 4))


def invoice_pdf_plain(
    invoice: Invoice,
    lines: Sequence[InvoiceLine],
    vat_lines: Sequence[InvoiceVat],
) -> bytes:
    """The PDF/A-3 pages, without the e-invoice."""
    pdf = InvoiceDocument(invoice)
    pdf.add_page()
    _parties(pdf, invoice)
    _lines(pdf, invoice, lines)
    _vat_and_totals(pdf, invoice, vat_lines)
    _payment(pdf, invoice)
    pdf.ln(4)
    pdf.set_font(FONT, "", 7.5)
    pdf.set_text_color(90)
    pdf.multi_cell(
        0,
        4,
        "This PDF carries its EN 16931 e-invoice (Factur-X, CII XML) as an embedded file "
        "for your accounting system.",
        new_x="LMARGIN",
        new_y="NEXT",
    )
    return bytes(pdf.output())


def render_invoice_pdf(invoice: Invoice) -> bytes:
    """The invoice's PDF/A-3 with its e-invoice embedded (Factur-X, EN 16931), in
    English whoever renders it (the worker or an admin's download, in any language): its
    labels are not translated yet, and the e-invoice's words stay as the standard's."""
    with translation.override(settings.LANGUAGE_CODE):
        return _render_invoice_pdf(invoice)


def _render_invoice_pdf(invoice: Invoice) -> bytes:
    lines = list(invoice.lines.all())
    vat_lines = list(invoice.vat_lines.all())
    xml = invoice_xml(invoice, lines, vat_lines)
    plain = invoice_pdf_plain(invoice, lines, vat_lines)
    title = f"{title_of(invoice)} {invoice.number}"
    return bytes(
        facturx.generate_from_binary(
            plain,
            xml,
            flavor="factur-x",
            level="en16931",
            # invoice_xml checked it against the same XSD already.
            check_xsd=False,
            pdf_metadata={
                "author": invoice.seller.get("name", ""),
                "keywords": "Factur-X, Invoice",
                "title": title,
                "subject": f"{title} of {long_date(invoice.issue_date)}, "
                f"{invoice.buyer_details.get('name', '')}",
            },
            lang="en-GB",
        )
    )
