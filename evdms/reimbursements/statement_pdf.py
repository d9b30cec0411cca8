"""A reimbursement statement as PDF (fpdf2, pure Python).

The driver's copy is in the driver's language (their own choice, else the organisation's
default) with times in the organisation's zone, whether it is downloaded from a page or
attached to the monthly e-mail in the worker; the organisation's copy is in the language
of the admin reading it. Its amounts read as on every page (evdms/ui/formatting.py), the
total with its currency ("1.234,50 €"), in the embedded DejaVu font that carries "€" and
the non-breaking spaces of amounts (evdms/ui/pdf_fonts.py)."""

from __future__ import annotations

from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from fpdf import FPDF

from evdms.reimbursements.models import CarryOver, Statement
from evdms.ui import formatting
from evdms.ui.language import email_context, organisation_time_zone, user_language
from evdms.ui.pdf_fonts import FONT, add_fonts


def _status(statement: Statement) -> str:
    text = statement.get_status_display()
    if statement.held_reason:
        text += f" ({statement.held_reason_display})"
    carried = CarryOver.objects.filter(failed_statement=statement).select_related("statement")
    for carry in carried:
        text += " (" + _("added to %(reference)s") % {"reference": carry.statement.reference} + ")"
    return text


def statement_pdf(statement: Statement, *, for_organisation: bool = False) -> bytes:
    """The statement as the driver gets it, or as an admin of the paying organisation
    reads it (``for_organisation``): the same document, but its sessions only when the
    connection shares home charging data, as on the admin's statement page."""
    if for_organisation:
        return _statement_pdf(statement, for_organisation=True)
    organisation = statement.connection.organisation
    with email_context(
        user_language(statement.driver, organisation), organisation_time_zone(organisation)
    ):
        return _statement_pdf(statement, for_organisation=False)


def _statement_pdf(statement: Statement, *, for_organisation: bool) -> bytes:
    pdf = FPDF(format="A4")
    add_fonts(pdf)
    pdf.set_title(_("Reimbursement statement %(reference)s") % {"reference": statement.reference})
    pdf.add_page()
    pdf.set_font(FONT, "B", 15)
    pdf.cell(
        0,
        9,
        _("Home charging reimbursement - %(month)s")
        % {"month": date_format(statement.month, "YEAR_MONTH_FORMAT")},
        new_x="LMARGIN",
        new_y="NEXT",
    )
    pdf.set_font(FONT, "", 10)
    for label, value in [
        (_("Statement"), statement.reference),
        (_("Driver"), f"{statement.driver.get_full_name()} <{statement.driver.email}>"),
        (_("Connection"), statement.connection.name_for_drivers),
        (
            _("Paid to"),
            statement.bank_account.masked_iban
            if statement.bank_account
            else _("no bank details yet"),
        ),
        (_("Status"), _status(statement)),
    ]:
        pdf.set_font(FONT, "B", 10)
        pdf.cell(45, 6, label)
        pdf.set_font(FONT, "", 10)
        pdf.cell(0, 6, value, new_x="LMARGIN", new_y="NEXT")
    pdf.ln(3)
    show_sessions = not for_organisation or statement.connection.home_charging_data_sharing
    if not show_sessions:
        pdf.multi_cell(
            0,
            5,
            _(
                "Session details are not shared: the connection's Home Charging Data "
                "Sharing is No. Only what reimbursement needs is shown."
            ),
            new_x="LMARGIN",
            new_y="NEXT",
        )
        pdf.ln(2)
    widths = [38, 22, 28, 22, 28, 30]
    headers = [
        _("Session start"),
        "kWh",
        _("Driver's price") if for_organisation else _("Your price"),
        _("Maximum"),
        _("Price used"),
        _("Amount (%(currency)s)") % {"currency": statement.currency},
    ]
    pdf.set_font(FONT, "B", 9)
    for width, header in zip(widths, headers, strict=True):
        pdf.cell(width, 6, header, border=1)
    pdf.ln()
    pdf.set_font(FONT, "", 9)
    late = _("late")
    lines = statement.lines.select_related("session").order_by("session__started_at")
    for line in lines if show_sessions else []:
        started = timezone.localtime(line.session.started_at) if line.session.started_at else None
        cells = [
            (date_format(started, "SHORT_DATETIME_FORMAT") if started else "-")
            + (f" {late}" if line.late else ""),
            formatting.kwh_from_wh(line.energy_wh),
            formatting.price(line.driver_price),
            formatting.price(line.cap),
            formatting.price(line.price_used),
            formatting.amount(line.amount, 4),
        ]
        for index, (width, cell) in enumerate(zip(widths, cells, strict=True)):
            # figures right
            pdf.cell(width, 5.5, cell, border=1, align="R" if index else "L")
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
    pdf.set_font(FONT, "B", 10)
    # The total with its currency takes two columns: "9.999.999.999,99 €" is 41 mm wide.
    pdf.cell(sum(widths[:-2]), 7, _("Total (rounded to the cent)"), border=1)
    pdf.cell(
        sum(widths[-2:]),
        7,
        formatting.money(statement.total, statement.currency),
        border=1,
        align="R",
        new_x="LMARGIN",
        new_y="NEXT",
    )
    return bytes(pdf.output())
