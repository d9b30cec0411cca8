# French: 3 déc. 2026, 3 déc. 2026 14:30, décembre 2026 ("N": lower-case abbreviations
# that keep juin and juillet apart, where "b" gives "jui" and "jul").
DATE_FORMAT = "j N Y"
TIME_FORMAT = "H:i"
DATETIME_FORMAT = "j N Y H:i"
YEAR_MONTH_FORMAT = "F Y"
MONTH_DAY_FORMAT = "j F"
SHORT_DATE_FORMAT = "d/m/Y"
SHORT_DATETIME_FORMAT = "d/m/Y H:i"
