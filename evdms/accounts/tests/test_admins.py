"""A Network Manager invites, edits, disables and re-enables admins of their organisation."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from evdms.accounts import services
from evdms.accounts.models import Admin, AdminInvitation, AdminStatus, Role
from evdms.audit.models import AuditEvent
from evdms.testing.fixtures import client_for

pytestmark = pytest.mark.django_db


def invite(client: Client, email: str = "new@voltlease.example", role: str = Role.ANALYST):
    return client.post(
        reverse("accounts:admins"), {"full_name": "Nina New", "email": email, "role": role}
    )


def setup_path(mailoutbox) -> str:
    body = mailoutbox[-1].body
    found = re.search(r"http://127\.0\.0\.1:8000(/accounts/setup/\S+/)", body)
    assert found is not None
    return found.group(1)


def test_an_invited_admin_is_invited_gets_a_link_and_becomes_active_by_setting_a_password(
    world, mailoutbox, django_capture_on_commit_callbacks
):
    nadia = client_for(world.nadia)
    with django_capture_on_commit_callbacks(execute=True):
        response = invite(nadia)
    assert response.status_code == 302
    new = Admin.objects.get(email="new@voltlease.example")
    assert (new.organisation, new.role, new.status, new.user) == (
        world.org_a,
        Role.ANALYST,
        AdminStatus.INVITED,
        None,
    )
    listing = nadia.get(reverse("accounts:admins")).content.decode()
    assert "new@voltlease.example" in listing and "Invited" in listing

    assert mailoutbox[-1].to == ["new@voltlease.example"]
    assert "Analyst of Voltlease" in mailoutbox[-1].body
    path = setup_path(mailoutbox)
    visitor = Client()
    page = visitor.get(path)
    assert "Set up your admin account" in page.content.decode()
    weak = visitor.post(
        path, {"full_name": "Nina New", "password": "1234", "password_again": "1234"}
    )
    assert weak.status_code == 200
    assert "too short" in weak.content.decode()
    good = "a long enough passphrase"
    done = visitor.post(path, {"full_name": "Nina New", "password": good, "password_again": good})
    assert done.status_code == 302
    new.refresh_from_db()
    assert new.status == AdminStatus.ACTIVE
    assert new.user is not None and new.user.email == "new@voltlease.example"
    assert new.user.email_confirmed_at is not None  # the link proved the address
    assert (
        visitor.post(
            reverse("accounts:login"), {"username": "new@voltlease.example", "password": good}
        ).status_code
        == 302
    )
    # The link works once.
    assert Client().get(path).status_code == 410


def test_an_expired_set_up_link_is_refused_with_a_clear_page(
    world, mailoutbox, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        invite(client_for(world.nadia))
    AdminInvitation.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    response = Client().get(setup_path(mailoutbox))
    assert response.status_code == 410
    assert "not valid" in response.content.decode()


def test_a_resent_link_replaces_the_old_one(world, mailoutbox, django_capture_on_commit_callbacks):
    nadia = client_for(world.nadia)
    with django_capture_on_commit_callbacks(execute=True):
        invite(nadia)
    first = setup_path(mailoutbox)
    new = Admin.objects.get(email="new@voltlease.example")
    with django_capture_on_commit_callbacks(execute=True):
        nadia.post(reverse("accounts:admin_resend", args=[new.pk]))
    second = setup_path(mailoutbox)
    assert first != second
    assert Client().get(first).status_code == 410
    assert Client().get(second).status_code == 200


def test_inviting_an_address_already_admin_of_the_organisation_is_an_error_next_to_the_field(
    world,
):
    response = invite(client_for(world.nadia), email="OTTO@voltlease.example")
    assert response.status_code == 422
    assert "already an admin of your organisation or invited" in response.content.decode()
    assert Admin.objects.filter(email="otto@voltlease.example").count() == 1


def test_a_role_change_is_saved_and_kept_in_the_history(world):
    nadia = client_for(world.nadia)
    response = nadia.post(
        reverse("accounts:admin_detail", args=[world.ana.pk]), {"role": Role.CONNECTIONS_OFFICER}
    )
    assert response.status_code == 302
    world.ana.refresh_from_db()
    assert world.ana.role == Role.CONNECTIONS_OFFICER
    event = AuditEvent.objects.get(action="admin.change_role")
    assert event.changes == {"role": ["analyst", "connections_officer"]}
    assert event.actor_user == world.nadia.user
    page = nadia.get(reverse("accounts:admin_detail", args=[world.ana.pk])).content.decode()
    assert "Role: Analyst → Connections Officer" in page  # labels, not codes


def test_the_last_network_manager_cannot_be_demoted_or_disabled(world):
    actor = world.actor(world.nadia)
    with pytest.raises(ValidationError, match="last active Network Manager"):
        services.admin_change_role(actor=actor, admin=world.nadia, role=Role.ANALYST)
    response = client_for(world.nadia).post(
        reverse("accounts:admin_detail", args=[world.nadia.pk]), {"role": Role.ANALYST}
    )
    assert response.status_code == 422
    assert "last active Network Manager" in response.content.decode()
    world.nadia.refresh_from_db()
    assert world.nadia.role == Role.NETWORK_MANAGER


def test_an_admin_cannot_disable_themself(world):
    response = client_for(world.nadia).post(
        reverse("accounts:admin_disable", args=[world.nadia.pk]), follow=True
    )
    assert "cannot disable your own account" in response.content.decode()
    world.nadia.refresh_from_db()
    assert world.nadia.status == AdminStatus.ACTIVE


def test_disable_then_enable_restores_access(world):
    nadia = client_for(world.nadia)
    nadia.post(reverse("accounts:admin_disable", args=[world.otto.pk]))
    world.otto.refresh_from_db()
    assert world.otto.status == AdminStatus.DISABLED
    nadia.post(reverse("accounts:admin_enable", args=[world.otto.pk]))
    world.otto.refresh_from_db()
    assert world.otto.status == AdminStatus.ACTIVE
    assert [e.action for e in AuditEvent.objects.order_by("at", "id")] == [
        "admin.disable",
        "admin.enable",
    ]


def test_bob_cannot_touch_voltlease_admins(world):
    bob = client_for(world.bob)
    for name in (
        "accounts:admin_detail",
        "accounts:admin_disable",
        "accounts:admin_enable",
        "accounts:admin_resend",
    ):
        assert bob.post(reverse(name, args=[world.otto.pk])).status_code == 404
    world.otto.refresh_from_db()
    assert world.otto.status == AdminStatus.ACTIVE
    assert "otto@voltlease.example" not in bob.get(reverse("accounts:admins")).content.decode()
