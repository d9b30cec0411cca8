"""The signed copy of custom terms, as a PDF (fpdf2: pure Python, no system packages)."""

from __future__ import annotations

from fpdf import FPDF

from evdms.enrolment.models import TermsAcceptance


def signed_terms_pdf(acceptance: TermsAcceptance) -> bytes:
    membership = acceptance.membership
    connection = membership.connection
    driver = acceptance.driver
    pdf = FPDF(format="A4")
    pdf.set_title(f"Signed terms and conditions - {connection.name}")
    pdf.set_creator("evdms")
    pdf.add_page()
    pdf.set_font("Helvetica", "B", 15)
    pdf.multi_cell(0, 8, "Terms and conditions agreed", new_x="LMARGIN", new_y="NEXT")
    pdf.ln(2)
    pdf.set_font("Helvetica", "", 10)
    # The terms are ASCII by rule; names are not, so they are reduced to Latin-1 for the
    # core font (an accented name prints, anything beyond Latin-1 becomes "?").
    rows = [
        ("Driver", f"{driver.get_full_name()} <{driver.email}>"),
        ("Connection", f"{connection.name} ({connection.name_for_drivers})"),
        ("Organisation", connection.organisation.name),
        ("Agreed at (UTC)", acceptance.accepted_at.strftime("%Y-%m-%d %H:%M:%S")),
        ("From address", acceptance.ip_address or "unknown"),
        ("SHA-256 of the text", acceptance.sha256),
    ]
    for label, value in rows:
        pdf.set_font("Helvetica", "B", 10)
        pdf.cell(45, 6, label)
        pdf.set_font("Helvetica", "", 10)
        pdf.multi_cell(
            0,
            6,
            value.encode("latin-1", "replace").decode("latin-1"),
            new_x="LMARGIN",
            new_y="NEXT",
        )
    pdf.ln(4)
    pdf.set_font("Helvetica", "B", 11)
    pdf.cell(0, 7, "Text", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("Courier", "", 9)
    pdf.multi_cell(0, 4.5, acceptance.text, new_x="LMARGIN", new_y="NEXT")
    return bytes(pdf.output())
