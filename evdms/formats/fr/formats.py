# French: 3 déc. 2026, 3 déc. 2026 14:30, décembre 2026 ("N": lower-case abbreviations
# that keep juin and juillet apart, where "b" gives "jui" and "jul").
DATE_FORMAT = "j N Y"
TIME_FORMAT = "H:i"
DATETIME_FORMAT = "j N Y H:i"
YEAR_MONTH_FORMAT = "F Y"
MONTH_DAY_FORMAT = "j F"
SHORT_DATE_FORMAT = "d/m/Y"
SHORT_DATETIME_FORMAT = "d/m/Y H:i"
# Digits grouped by a narrow no-break space ("12 345", U+202F), as CLDR (and so Babel,
# which writes money) groups French: one separator for counts, energy and money on
# pages, e-mails and PDFs (DejaVu, the PDF font, has the glyph). Django's own French
# is a no-break space (U+00A0), which made "1 815,00 €" and "12 345 kWh" differ.
THOUSAND_SEPARATOR = "\u202f"
