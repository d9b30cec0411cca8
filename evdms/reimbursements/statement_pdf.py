"""A reimbursement statement as PDF (fpdf2, pure Python)."""

from __future__ import annotations

from django.utils import timezone
from fpdf import FPDF

from evdms.reimbursements.models import CarryOver, Statement
from evdms.ui import formatting


def _latin1(text: str) -> str:
    return text.encode("latin-1", "replace").decode("latin-1")


def _status(statement: Statement) -> str:
    text = statement.get_status_display()
    if statement.held_reason:
        text += f" ({statement.held_reason})"
    carried = CarryOver.objects.filter(failed_statement=statement).select_related("statement")
    for carry in carried:
        text += f" (added to {carry.statement.reference})"
    return text


def statement_pdf(statement: Statement, *, for_organisation: bool = False) -> bytes:
    """The statement as the driver gets it, or as an admin of the paying organisation
    reads it (``for_organisation``): the same document, but its sessions only when the
    connection shares home charging data, as on the admin's statement page."""
    pdf = FPDF(format="A4")
    pdf.set_title(f"Reimbursement statement {statement.reference}")
    pdf.add_page()
    pdf.set_font("Helvetica", "B", 15)
    pdf.cell(
        0,
        9,
        f"Home charging reimbursement - {statement.month:%B %Y}",
        new_x="LMARGIN",
        new_y="NEXT",
    )
    pdf.set_font("Helvetica", "", 10)
    for label, value in [
        ("Statement", statement.reference),
        ("Driver", f"{statement.driver.get_full_name()} <{statement.driver.email}>"),
        ("Connection", statement.connection.name_for_drivers),
        (
            "Paid to",
            statement.bank_account.masked_iban if statement.bank_account else "no bank details yet",
        ),
        ("Status", _status(statement)),
    ]:
        pdf.set_font("Helvetica", "B", 10)
        pdf.cell(35, 6, label)
        pdf.set_font("Helvetica", "", 10)
        pdf.cell(0, 6, _latin1(value), new_x="LMARGIN", new_y="NEXT")
    pdf.ln(3)
    show_sessions = not for_organisation or statement.connection.home_charging_data_sharing
    if not show_sessions:
        pdf.multi_cell(
            0,
            5,
            "Session details are not shared: the connection's Home Charging Data Sharing "
            "is No. Only what reimbursement needs is shown.",
            new_x="LMARGIN",
            new_y="NEXT",
        )
        pdf.ln(2)
    widths = [38, 22, 28, 22, 28, 30]
    headers = [
        "Session start",
        "kWh",
        "Driver's price" if for_organisation else "Your price",
        "Maximum",
        "Price used",
        f"Amount ({statement.currency})",
    ]
    pdf.set_font("Helvetica", "B", 9)
    for width, header in zip(widths, headers, strict=True):
        pdf.cell(width, 6, header, border=1)
    pdf.ln()
    pdf.set_font("Helvetica", "", 9)
    lines = statement.lines.select_related("session").order_by("session__started_at")
    for line in lines if show_sessions else []:
        started = timezone.localtime(line.session.started_at) if line.session.started_at else None
        cells = [
            (started.strftime("%Y-%m-%d %H:%M") if started else "-")
            + (" late" if line.late else ""),
            formatting.kwh_from_wh(line.energy_wh),
            formatting.price(line.driver_price),
            formatting.price(line.cap),
            formatting.price(line.price_used),
            formatting.amount(line.amount, 4),
        ]
        for index, (width, cell) in enumerate(zip(widths, cells, strict=True)):
            pdf.cell(width, 5.5, cell, border=1, align="R" if index else "L")  # figures right
        pdf.ln()
    for carry in statement.carry_overs.select_related("failed_statement"):
        pdf.cell(sum(widths[:-1]), 5.5, carry.notice, border=1)
        pdf.cell(
            widths[-1],
            5.5,
            formatting.amount(carry.amount),
            border=1,
            align="R",
            new_x="LMARGIN",
            new_y="NEXT",
        )
    pdf.set_font("Helvetica", "B", 10)
    pdf.cell(sum(widths[:-1]), 7, "Total (rounded to the cent)", border=1)
    pdf.cell(
        widths[-1],
        7,
        formatting.amount(statement.total),
        border=1,
        align="R",
        new_x="LMARGIN",
        new_y="NEXT",
    )
    return bytes(pdf.output())
