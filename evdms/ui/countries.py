"""The country select of every form that asks for a country (billing address, a
driver's installation address, an installer's regions): ISO 3166-1 countries from
pycountry (kept up to date with the standard), stored as the two-letter code, shown by
name with the code so people typing "NL" or "Netherlands" in the list both find it."""

from __future__ import annotations

from functools import cache

import pycountry


def country_choices(blank: str = "Select…", *, stored: str = "") -> list[tuple[str, str]]:
    """The select's options. A ``stored`` value that is not (or no longer) an ISO code
    stays an option, so opening and saving a form never blanks it silently; the rules
    then ask for a country from the list."""
    choices = [("", blank), *_countries()]
    if stored and not is_country(stored):
        choices.insert(1, (stored, f"{stored} (as stored: not an ISO 3166 country)"))
    return choices


@cache
def _countries() -> tuple[tuple[str, str], ...]:
    countries = sorted(pycountry.countries, key=lambda c: c.name)
    return tuple((c.alpha_2, f"{c.name} ({c.alpha_2})") for c in countries)


def is_country(code: str) -> bool:
    return len(code) == 2 and pycountry.countries.get(alpha_2=code.upper()) is not None


def country_name(code: str | None) -> str:
    """A stored country as people read it: "Netherlands" for "NL"; a value that is no
    ISO code is shown as stored (never blanked), nothing as nothing."""
    if not code:
        return ""
    country = pycountry.countries.get(alpha_2=code.upper()) if len(code) == 2 else None
    return str(getattr(country, "common_name", None) or country.name) if country else code
