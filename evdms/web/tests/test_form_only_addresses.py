"""A GET of an address that only takes a form — a reload after an error, a bookmark —
goes to the form's page instead of the browser's blank "HTTP ERROR 405" (issue #18).
The API and OCPI keep answering 405 in their own envelopes."""

from __future__ import annotations

import pytest
from django.test import Client

from evdms.accounts.models import User
from evdms.testing.fixtures import client_for

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("address", "page"),
    [
        ("/requests/decide/", "/requests/"),
        ("/drivers/remove/", "/drivers/"),
        ("/connections/columns/", "/connections/"),
    ],
)
def test_an_admin_reloading_a_form_address_lands_on_its_page(world, address, page):
    client = client_for(world.nadia)
    answer = client.get(address)
    assert answer.status_code == 302 and answer["Location"] == page
    assert client.get(page).status_code == 200


@pytest.mark.parametrize(
    ("address", "form"),
    [
        ("/my/reimbursement/bank-account/", 'id="bank-details"'),
        ("/my/reimbursement/home-price/", 'id="home-price"'),
    ],
)
def test_a_driver_reloading_a_form_address_stays_on_that_forms_page(db, address, form):
    """The driver's bank-account and home-price forms have pages of their own: the
    address a form with errors is shown at survives a reload (the middleware stays for
    the pure action addresses above)."""
    driver = User.objects.create_user("dan@example.com", "dan's passphrase 12")
    client = Client()
    client.force_login(driver, backend="evdms.accounts.backends.EmailBackend")
    answer = client.get(address)
    assert answer.status_code == 200
    html = answer.content.decode()
    assert form in html and "card-open" in html


def test_the_api_still_answers_405(world, api_key_for, client):
    answer = client.delete("/api/v1/me", headers=api_key_for(world.org_a))
    assert answer.status_code == 405
