"""The project's local date formats (settings.FORMAT_MODULE_PATH), one per language.

Templates name them (``date:"DATE_FORMAT"``, ``"DATETIME_FORMAT"``, ``"YEAR_MONTH_FORMAT"``)
instead of writing a pattern, so every page and e-mail shows a day the same way in each
language; the times are in the organisation's zone (the active time zone). Patterns with no
standard name (a day with the weekday, with seconds) are translatable patterns
(``date:_("j F Y")``) in each app's message files. Names not set here fall back to Django's
own format module for the language; the input formats are Django's.
"""
