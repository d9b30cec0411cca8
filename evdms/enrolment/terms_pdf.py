"""The signed copy of custom terms, as a PDF (fpdf2: pure Python, no system packages).

Its labels are in the language the driver agreed in (``TermsAcceptance.language``;
the driver's own for an acceptance kept before that was recorded), and it says which:
the record of what they agreed to reads as they read it. The terms themselves are the
organisation's text, as written."""

from __future__ import annotations

from django.utils import translation
from django.utils.translation import gettext as _
from fpdf import FPDF

from evdms.accounts.models import User
from evdms.connections.models import Connection
from evdms.enrolment.models import TermsAcceptance
from evdms.ui.language import supported, user_language


def _latin1(text: str) -> str:
    """The core fonts print Latin-1: an accented name or label prints, anything beyond
    becomes "?"."""
    return text.encode("latin-1", "replace").decode("latin-1")


def _language_name(code: str | None) -> str:
    """The language's own name ("Deutsch"), as the driver saw it chosen."""
    try:
        return str(translation.get_language_info(code or "")["name_local"])
    except KeyError:
        return code or ""


def signed_terms_pdf(acceptance: TermsAcceptance) -> bytes:
    connection = acceptance.membership.connection
    driver = acceptance.driver
    shown = supported(acceptance.language) or user_language(driver, connection.organisation)
    with translation.override(shown):
        return _render(acceptance, connection, driver)


def _render(acceptance: TermsAcceptance, connection: Connection, driver: User) -> bytes:
    pdf = FPDF(format="A4")
    pdf.set_title(
        _("Signed terms and conditions - %(connection)s") % {"connection": connection.name}
    )
    pdf.set_creator("evdms")
    pdf.set_lang(translation.get_language())
    pdf.add_page()
    pdf.set_font("Helvetica", "B", 15)
    pdf.multi_cell(0, 8, _latin1(_("Terms and conditions agreed")), new_x="LMARGIN", new_y="NEXT")
    pdf.ln(2)
    pdf.set_font("Helvetica", "", 10)
    # The terms are ASCII by rule; names are not, so they are reduced to Latin-1 for the
    # core font.
    rows = [
        (_("Driver"), f"{driver.get_full_name()} <{driver.email}>"),
        (_("Connection"), f"{connection.name} ({connection.name_for_drivers})"),
        (_("Organisation"), connection.organisation.name),
        (_("Agreed at (UTC)"), acceptance.accepted_at.strftime("%Y-%m-%d %H:%M:%S")),
        (_("From address"), acceptance.ip_address or _("unknown")),
        (_("SHA-256 of the text"), acceptance.sha256),
        (_("Shown in"), _language_name(translation.get_language())),
    ]
    for label, value in rows:
        pdf.set_font("Helvetica", "B", 10)
        pdf.cell(45, 6, _latin1(label))
        pdf.set_font("Helvetica", "", 10)
        pdf.multi_cell(0, 6, _latin1(value), new_x="LMARGIN", new_y="NEXT")
    pdf.ln(4)
    pdf.set_font("Helvetica", "B", 11)
    pdf.cell(0, 7, _latin1(_("Text")), new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("Courier", "", 9)
    pdf.multi_cell(0, 4.5, acceptance.text, new_x="LMARGIN", new_y="NEXT")
    return bytes(pdf.output())
