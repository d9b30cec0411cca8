"""The font of every PDF a person reads that shows money: DejaVu Sans, vendored in
``fonts/`` and embedded (PDF/A allows no unembedded font). Unlike the Latin-1 core
fonts of fpdf2 it carries "€", "£" and the non-breaking spaces CLDR puts in amounts
("1.815,00 €", "1 815,00 €"; evdms/ui/formatting.py), and every accent."""

from __future__ import annotations

from pathlib import Path

from fpdf import FPDF

FONTS = Path(__file__).resolve().parent / "fonts"
FONT = "DejaVu"


def add_fonts(pdf: FPDF) -> None:
    """Make ``FONT`` (regular and bold) available to ``pdf.set_font``."""
    pdf.add_font(FONT, "", str(FONTS / "DejaVuSans.ttf"))
    pdf.add_font(FONT, "B", str(FONTS / "DejaVuSans-Bold.ttf"))
