"""Stored country codes are shown by name; what is no code is shown as stored."""

from __future__ import annotations

import pytest

from evdms.ui.countries import country_name


@pytest.mark.parametrize(
    ("stored", "shown"),
    [
        ("NL", "Netherlands"),
        ("de", "Germany"),
        ("GB", "United Kingdom"),
        ("TW", "Taiwan"),  # pycountry's common name, not "Taiwan, Province of China"
        ("XX", "XX"),  # not a country: as stored, never blank
        ("Nederland", "Nederland"),
        ("", ""),
        (None, ""),
    ],
)
def test_country_name(stored, shown):
    assert country_name(stored) == shown
