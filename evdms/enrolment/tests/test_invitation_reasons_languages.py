"""Issue #19: why a line of an invitation list was refused reads in the admin's language,
in our own words about the address (never the address checker's English explanation);
the batch keeps English, as the API returns it."""

from __future__ import annotations

import html

import pytest
from django.urls import reverse

from evdms.accounts.models import User
from evdms.enrolment.models import InvitationBatch
from evdms.testing.fixtures import client_for, make_connection

pytestmark = pytest.mark.django_db


def test_refused_addresses_read_german_for_a_german_admin(world):
    connection = make_connection(world.org_a, provide_home_charger="no", approval_type="auto")
    User.objects.filter(pk=world.otto.user_id).update(language="de")
    client = client_for(world.otto)
    response = client.post(
        reverse("enrolment:invite", args=[connection.pk]),
        {"addresses": "anna@example.com\nnot-an-address\nben@example"},
    )
    assert response.status_code == 302
    batch = InvitationBatch.objects.get()
    assert [r["reason"] for r in batch.rejected] == [
        "An e-mail address needs an @.",
        "The part after the @ is not a valid domain name.",
    ]
    # A batch from before our own words keeps the checker's explanation: read as ours too.
    batch.rejected = [
        *batch.rejected,
        {
            "line": 4,
            "value": "a b@x.example",
            "reason": "The email address contains invalid characters before the @-sign: SPACE.",
        },
    ]
    batch.save(update_fields=["rejected"])

    page = html.unescape(client.get(response["Location"]).content.decode())

    for german in (
        "Eine E-Mail-Adresse braucht ein @.",
        "Der Teil nach dem @ ist kein gültiger Domainname.",
        "So wird keine E-Mail-Adresse geschrieben.",
    ):
        assert german in page, german
    for english in ("@-sign", "needs an @", "not a valid domain", "invalid characters"):
        assert english not in page, english
