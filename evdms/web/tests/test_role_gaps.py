"""Two role gaps the walkthrough found (issue #18): an Analyst was offered the invite
link and QR codes, and a Connections Officer saw per-session home-charging energy
(Officers do not see reports)."""

from __future__ import annotations

import pytest
from django.urls import reverse

from evdms.accounts.models import Role, User
from evdms.testing.fixtures import (
    client_for,
    make_connection,
    make_home_session,
    make_membership,
)

pytestmark = pytest.mark.django_db


def test_an_analyst_sees_no_invite_link_nor_qr_code(world):
    connection = make_connection(world.org_a, name="Fleet")
    page = client_for(world.ana).get(reverse("connections:detail", args=[connection.pk]))
    text = page.content.decode()
    assert page.status_code == 200 and "Fleet" in text
    assert "Copy link" not in text and "QR" not in text
    assert connection.invite_token not in text
    qr = reverse("connections:qr_svg", args=[connection.pk])
    assert client_for(world.ana).get(qr).status_code == 403
    officer = client_for(world.otto).get(reverse("connections:detail", args=[connection.pk]))
    assert "Copy link" in officer.content.decode()  # inviting is the Officer's work


def test_a_connections_officer_sees_no_charging_sessions(world, api_key_for, client):
    connection = make_connection(world.org_a, name="Fleet", home_charging_data_sharing="yes")
    driver = User.objects.create_user("dan@example.com", "dan's passphrase 12")
    make_membership(connection, driver)
    charger = make_home_session(connection, driver, 12_345).charger
    sessions = reverse("charging:sessions")
    assert "12.345" in client_for(world.ana).get(sessions).content.decode()
    officer = client_for(world.otto).get(sessions).content.decode()
    assert "12.345" not in officer and "dan@example.com" not in officer
    detail = reverse("charging:charger_detail", args=[charger.pk])
    assert "12.345" not in client_for(world.otto).get(detail).content.decode()
    key = api_key_for(world.org_a, Role.CONNECTIONS_OFFICER)
    assert client.get("/api/v1/charging-sessions", headers=key).status_code == 403


def test_inviting_an_admin_offers_the_least_powerful_role_first(world):
    page = client_for(world.nadia).get(reverse("accounts:admins"))
    form = page.context["form"]
    assert form["role"].value() == Role.ANALYST
    detail = client_for(world.nadia).get(reverse("accounts:admin_detail", args=[world.otto.pk]))
    assert detail.context["form"]["role"].value() == Role.CONNECTIONS_OFFICER  # as it is
