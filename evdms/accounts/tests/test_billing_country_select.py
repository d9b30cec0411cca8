"""The billing country is a select of ISO 3166 countries; what is stored keeps working."""

from __future__ import annotations

import pytest
from django.urls import reverse

from evdms.testing.fixtures import client_for

pytestmark = pytest.mark.django_db


def test_a_stored_country_code_is_shown_selected(world):
    world.org_a.billing_country = "NL"
    world.org_a.save()
    page = client_for(world.nadia).get(reverse("accounts:settings")).content.decode()
    assert '<option value="NL" selected>Netherlands (NL)</option>' in page


def test_a_stored_value_that_is_no_iso_code_is_not_blanked_by_opening_the_page(world):
    """Saved before the rules checked it (e.g. "UK" for the United Kingdom, whose code is
    GB): shown as stored, so saving the form does not silently drop it."""
    world.org_a.billing_country = "UK"
    world.org_a.save()
    page = client_for(world.nadia).get(reverse("accounts:settings")).content.decode()
    assert '<option value="UK" selected>UK (as stored: not an ISO 3166 country)</option>' in page
