"""The country select of every form that asks for a country (billing address, a
driver's installation address, an installer's regions): ISO 3166-1 countries from
pycountry (kept up to date with the standard), stored as the two-letter code, shown by
name with the code so people typing "NL" or "Netherlands" in the list both find it.

Names are in the active language, from the ISO 3166 translations pycountry ships
("Niederlande (NL)"), and sorted as that language spells them."""

from __future__ import annotations

import gettext
import unicodedata
from functools import cache
from typing import Any

import pycountry
from django.utils import translation
from django.utils.translation import gettext as _

from evdms.ui.forms import PLACEHOLDER


@cache
def _catalogue(language: str) -> gettext.NullTranslations:
    code = language.split("-")[0]
    if code == "en":
        return gettext.NullTranslations()
    return gettext.translation("iso3166-1", pycountry.LOCALES_DIR, [code], fallback=True)


def _name(english: str) -> str:
    return _catalogue(translation.get_language() or "en").gettext(english)


def country_choices(blank: Any = PLACEHOLDER, *, stored: str = "") -> list[tuple[str, Any]]:
    """The select's options. A ``stored`` value that is not (or no longer) an ISO code
    stays an option, so opening and saving a form never blanks it silently; the rules
    then ask for a country from the list."""
    choices: list[tuple[str, Any]] = [("", blank), *_countries(translation.get_language() or "")]
    if stored and not is_country(stored):
        label = _("%(stored)s (as stored: not an ISO 3166 country)") % {"stored": stored}
        choices.insert(1, (stored, label))
    return choices


@cache
def _countries(language: str) -> tuple[tuple[str, str], ...]:
    named = [(c.alpha_2, _name(c.name)) for c in pycountry.countries]
    named.sort(key=lambda pair: _sort_key(pair[1]))
    return tuple((code, f"{name} ({code})") for code, name in named)


def _sort_key(name: str) -> str:
    """ "Émirats" among the E's, not after "Zimbabwe"."""
    letters = unicodedata.normalize("NFKD", name.casefold())
    return "".join(c for c in letters if not unicodedata.combining(c))


def is_country(code: str) -> bool:
    return len(code) == 2 and pycountry.countries.get(alpha_2=code.upper()) is not None


def country_name(code: str | None) -> str:
    """A stored country as people read it: "Netherlands" for "NL" (in the active
    language); a value that is no ISO code is shown as stored (never blanked), nothing
    as nothing."""
    if not code:
        return ""
    country = pycountry.countries.get(alpha_2=code.upper()) if len(code) == 2 else None
    if country is None:
        return code
    return _name(str(getattr(country, "common_name", None) or country.name))
