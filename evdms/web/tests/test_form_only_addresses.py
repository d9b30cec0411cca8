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
    "address", ["/my/reimbursement/bank-account/", "/my/reimbursement/home-price/"]
)
def test_a_driver_reloading_a_form_address_lands_on_their_reimbursement_page(db, address):
    driver = User.objects.create_user("dan@example.com", "dan's passphrase 12")
    client = Client()
    client.force_login(driver, backend="evdms.accounts.backends.EmailBackend")
    answer = client.get(address)
    assert answer.status_code == 302 and answer["Location"] == "/my/reimbursement/"
    assert client.get("/my/reimbursement/").status_code == 200


def test_the_api_still_answers_405(world, api_key_for, client):
    answer = client.delete("/api/v1/me", headers=api_key_for(world.org_a))
    assert answer.status_code == 405
