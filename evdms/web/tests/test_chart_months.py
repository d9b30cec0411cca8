"""Issue #19: the dashboard charts name their months as each language abbreviates them,
with the whole year ("Dez. 2026", "dec 2026", "déc. 2026"), not a fixed "M y"."""

from __future__ import annotations

import html
import re

import pytest
from django.urls import reverse
from django.utils import timezone

from evdms.accounts.models import User
from evdms.reports.dashboard import last_months
from evdms.testing.fixtures import client_for

pytestmark = pytest.mark.django_db

# Every month of a year as the language's chart writes it.
MONTHS = {
    "en-gb": "Jan Feb Mar Apr May Jun Jul Aug Sep Oct Nov Dec",
    "de": "Jan. Feb. März April Mai Juni Juli Aug. Sept. Okt. Nov. Dez.",
    "nl": "jan feb mrt apr mei jun jul aug sep okt nov dec",
    "fr": "jan. fév. mars avr. mai juin juil. août sept. oct. nov. déc.",
}


def axis_labels(page: str) -> list[str]:
    return [html.unescape(t) for t in re.findall(r'<text class="axis"[^>]*>([^<]+)</text>', page)]


@pytest.mark.parametrize("language", list(MONTHS))
def test_the_charts_months_read_as_the_language_abbreviates_them(world, language):
    User.objects.filter(pk=world.ana.user_id).update(language=language)
    page = client_for(world.ana).get(reverse("web:dashboard")).content.decode()
    names = MONTHS[language].split()
    expected = [f"{names[m.month - 1]} {m.year}" for m in last_months(timezone.localdate())]
    labels = axis_labels(page)
    assert labels, "the dashboard has its charts"
    # Each chart (home and public energy) labels the same twelve months, oldest first.
    assert labels[: len(expected)] == expected
    assert set(labels) == set(expected)
