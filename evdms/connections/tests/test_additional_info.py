"""Taking back "Request Additional Info": the connection's second question for drivers.

Decided: removing the question stops asking it of drivers who join from then on; the
answers drivers already gave stay on their requests (the Drivers page, its export and the
reports keep showing them under Driver verification 2), since they identified the car
the driver was approved for. The change is recorded like any other edit."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from evdms.accounts.models import User
from evdms.audit.models import AuditEvent
from evdms.connections.models import Connection
from evdms.enrolment.models import Membership
from evdms.testing.fixtures import VALID_CONNECTION, client_for, make_connection, make_membership

pytestmark = pytest.mark.django_db


def form_data(world, **overrides):
    return {**VALID_CONNECTION, "organisation": world.org_a.pk, "enabled": "on", **overrides}


@pytest.fixture
def asking(world):
    connection = make_connection(
        world.org_a, verification_1_label="Employee ID", verification_2_label="Licence plate"
    )
    alice = User.objects.create_user("alice@example.com", "a long passphrase 1")
    membership = make_membership(connection, alice)
    membership.verification_1, membership.verification_2 = "E-1", "AB-12-CD"
    membership.save()
    return connection, membership


def test_the_edit_page_offers_to_remove_the_question(world, asking):
    connection, _ = asking
    page = client_for(world.otto).get(reverse("connections:edit", args=[connection.pk]))
    html = page.content.decode()
    assert "Remove this question" in html
    assert "Answers drivers already gave are kept." in html
    # Without script: emptying the field does it, and the page says so.
    assert "<noscript>" in html and "empty the field and save" in html


def test_removing_the_question_stops_asking_it_and_keeps_the_answers_given(world, asking):
    connection, membership = asking
    otto = client_for(world.otto)
    response = otto.post(
        reverse("connections:edit", args=[connection.pk]),
        form_data(world, verification_1_label="Employee ID", verification_2_label=""),
    )
    assert response.status_code == 302  # no benefit changed: no confirmation needed
    connection.refresh_from_db()
    assert connection.verification_2_label == ""
    event = AuditEvent.objects.get(action="connection.update")
    assert event.changes["verification_2_label"][0] == "Licence plate"
    assert not event.changes["verification_2_label"][1]

    membership.refresh_from_db()
    assert membership.verification_2 == "AB-12-CD"
    drivers = otto.get(reverse("enrolment:drivers")).content.decode()
    assert "AB-12-CD" in drivers

    # A driver joining now is not asked, and an answer sent anyway is not kept.
    dan = User.objects.create_user("dan@example.com", "dan's long passphrase")
    dan.email_confirmed_at = timezone.now()
    dan.save()
    driver = Client()
    driver.force_login(dan, backend="evdms.accounts.backends.EmailBackend")
    url = reverse("enrolment:join_request", args=[connection.invite_token])
    form = driver.get(url).content.decode()
    assert "Employee ID" in form and "Licence plate" not in form
    driver.post(
        url,
        {
            "verification_1": "E-2",
            "verification_2": "XX-99-YY",
            "phone": "0612345678",
            "address": "Main street 1",
            "postcode": "1234",
            "city": "Utrecht",
        },
    )
    joined = Membership.objects.get(driver=dan)
    assert joined.verification_1 == "E-2" and joined.verification_2 == ""


def test_the_api_removes_the_question_too(world, asking, api_key_for):
    connection, membership = asking
    response = Client().patch(
        f"/api/v1/connections/{connection.pk}",
        {"verification_2_label": ""},
        content_type="application/json",
        headers=api_key_for(world.org_a),
    )
    assert response.status_code == 200, response.content
    assert response.json()["verification_2_label"] == ""
    assert Connection.objects.get(pk=connection.pk).verification_2_label == ""
    membership.refresh_from_db()
    assert membership.verification_2 == "AB-12-CD"
