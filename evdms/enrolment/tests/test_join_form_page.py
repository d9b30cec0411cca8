"""The driver's join form as a driver meets it: required answers marked, the country a
choice from ISO 3166 stored as its two-letter code."""

from __future__ import annotations

import re

import pytest

from evdms.enrolment.models import Membership
from evdms.enrolment.tests.test_join import driver, driver_client, request_url
from evdms.testing.fixtures import make_connection

pytestmark = pytest.mark.django_db

ANSWERS = {
    "verification_1": "E-1234",
    "phone": "+31 6 1234 5678",
    "address": "Main street 1",
    "postcode": "1234 AB",
    "city": "Utrecht",
}


@pytest.fixture
def home_connection(world):
    return make_connection(
        world.org_a,
        approval_type="auto",
        verification_1_label="Employee ID",
        custom_terms_enabled="yes",
        terms_text="Charge responsibly.",
    )


def label_of(page: str, name: str) -> str:
    found = re.search(rf'<label (?:class="check" )?for="id_{name}">(.*?)</label>', page, re.S)
    assert found, name
    return found.group(1)


def test_required_join_answers_are_marked(home_connection):
    page = driver_client(driver()).get(request_url(home_connection)).content.decode()
    for name in ("verification_1", "phone", "address", "postcode", "city", "agree_terms"):
        assert 'class="required"' in label_of(page, name), name
        assert "(required)" in label_of(page, name), name
    assert 'class="required"' not in label_of(page, "country")


def test_the_country_is_a_choice_of_iso_countries_stored_as_its_code(home_connection):
    client = driver_client(driver())
    page = client.get(request_url(home_connection)).content.decode()
    select = re.search(r'<select name="country"[^>]*>(.*?)</select>', page, re.S)
    assert select, "the country is not a select"
    assert '<option value="NL">Netherlands (NL)</option>' in select.group(1)
    assert '<option value="DE">Germany (DE)</option>' in select.group(1)
    assert len(re.findall("<option", select.group(1))) > 240

    refused = client.post(
        request_url(home_connection), {**ANSWERS, "agree_terms": "on", "country": "XX"}
    )
    assert refused.status_code == 422 or refused.status_code == 200
    assert "Choose a country from the list" in refused.content.decode()
    assert not Membership.objects.exists()

    joined = client.post(
        request_url(home_connection), {**ANSWERS, "agree_terms": "on", "country": "BE"}
    )
    assert joined.status_code == 302
    assert Membership.objects.get().country == "BE"
