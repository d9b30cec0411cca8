"""Connection requests and drivers over the API, with the same rules as the pages."""

from __future__ import annotations

import pytest
from django.utils import timezone

from evdms.accounts.models import Role, User
from evdms.enrolment import services
from evdms.enrolment.models import MembershipStatus
from evdms.testing.fixtures import make_connection

pytestmark = pytest.mark.django_db


def requested(world, email="dan@example.com"):
    connection = make_connection(
        world.org_a, provide_home_charger="no", verification_1_label="Employee ID"
    )
    user = User.objects.create_user(email, "a long passphrase 1", email_confirmed_at=timezone.now())
    return services.membership_request(
        driver=user, connection=connection, answers={"verification_1": "E-1"}
    )


def test_list_approve_and_a_second_decision_is_a_409(
    world, api_key_for, client, mailoutbox, django_capture_on_commit_callbacks
):
    membership = requested(world)
    headers = api_key_for(world.org_a, Role.CONNECTIONS_OFFICER)
    listing = client.get("/api/v1/connection-requests", headers=headers).json()
    assert listing["count"] == 1 and listing["items"][0]["verification_1"] == "E-1"
    with django_capture_on_commit_callbacks(execute=True):
        approved = client.post(
            f"/api/v1/connection-requests/{membership.pk}/approve", headers=headers
        )
    assert approved.status_code == 200 and approved.json()["status"] == "connected"
    assert mailoutbox[-1].to == ["dan@example.com"]
    again = client.post(
        f"/api/v1/connection-requests/{membership.pk}/deny",
        data={},
        content_type="application/json",
        headers=headers,
    )
    assert again.status_code == 409
    assert "already decided" in again.json()["detail"]


def test_deny_with_a_message_and_its_limit(world, api_key_for, client):
    membership = requested(world)
    headers = api_key_for(world.org_a)
    too_long = client.post(
        f"/api/v1/connection-requests/{membership.pk}/deny",
        data={"message": "x" * 1001},
        content_type="application/json",
        headers=headers,
    )
    assert too_long.status_code == 422
    denied = client.post(
        f"/api/v1/connection-requests/{membership.pk}/deny",
        data={"message": "Unknown employee"},
        content_type="application/json",
        headers=headers,
    )
    assert (
        denied.json()["status"] == "denied"
        and denied.json()["denial_message"] == "Unknown employee"
    )


def test_drivers_list_filters_and_remove(world, api_key_for, client):
    membership = requested(world)
    services.membership_approve(actor=world.actor(world.nadia), membership=membership)
    headers = api_key_for(world.org_a)
    assert client.get("/api/v1/drivers?status=connected", headers=headers).json()["count"] == 1
    assert client.get("/api/v1/drivers?status=pending", headers=headers).json()["count"] == 0
    bad = client.get("/api/v1/drivers?status=royal", headers=headers)
    assert bad.status_code == 422
    removed = client.post(f"/api/v1/drivers/{membership.pk}/remove", headers=headers)
    assert removed.json()["status"] == MembershipStatus.REMOVED


def test_an_analyst_key_cannot_decide_and_outsiders_see_nothing(world, api_key_for, client):
    membership = requested(world)
    assert (
        client.post(
            f"/api/v1/connection-requests/{membership.pk}/approve",
            headers=api_key_for(world.org_a, Role.ANALYST),
        ).status_code
        == 403
    )
    outsider = api_key_for(world.org_b)
    assert client.get("/api/v1/connection-requests", headers=outsider).json()["count"] == 0
    assert (
        client.post(
            f"/api/v1/connection-requests/{membership.pk}/approve", headers=outsider
        ).status_code
        == 404
    )
