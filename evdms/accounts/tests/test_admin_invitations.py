"""Inviting an admin never reaches an account the organisation does not own.

Voltlease (Nadia) invites addresses that already have accounts elsewhere: Dora, a driver
of Rival Lease; Bob, Rival Lease's Network Manager; Petra, a platform operator. Each
invitation answers exactly as one to an address nobody has, and nothing happens to
their accounts until the owner accepts, logged in as that account.
"""

from __future__ import annotations

import re

import pytest
from django.test import Client
from django.urls import reverse

from evdms.accounts.models import Admin, AdminStatus, Role, User
from evdms.accounts.permissions import Actor
from evdms.testing.fixtures import (
    PASSWORD,
    client_for,
    make_admin,
    make_connection,
    make_membership,
    password_hash,
)

pytestmark = pytest.mark.django_db

TYPED_NAME = "Typed By Nadia"


@pytest.fixture
def others(world):
    """Accounts Voltlease does not own, by the name of their address's owner."""
    dora = User.objects.create(email="dora@example.com", full_name="Dora Driver")
    dora.password = password_hash()
    dora.save()
    make_membership(make_connection(world.org_b, name="Rival_Home"), dora)
    petra = User.objects.create(
        email="petra@platform.example",
        full_name="Petra Operator",
        password=password_hash(),
        is_staff=True,
        is_superuser=True,
    )
    for user in (dora, petra, world.bob.user):  # they have used their accounts
        Client().post(reverse("accounts:login"), {"username": user.email, "password": PASSWORD})
    return {
        "driver": dora,
        "admin elsewhere": world.bob.user,
        "operator": petra,
    }


def logs_in(email: str) -> bool:
    response = Client().post(reverse("accounts:login"), {"username": email, "password": PASSWORD})
    return response.status_code == 302


def api_invite(client: Client, headers: dict[str, str], email: str):
    return client.post(
        "/api/v1/admins",
        data={"email": email, "full_name": TYPED_NAME, "role": "analyst"},
        content_type="application/json",
        headers=headers,
    )


def invitation_link(mailoutbox) -> str:
    found = re.search(r"http://127\.0\.0\.1:8000(/accounts/setup/\S+/)", mailoutbox[-1].body)
    assert found is not None
    return found.group(1)


def standing(user: User) -> tuple[object, ...]:
    user.refresh_from_db()
    admin = Admin.objects.filter(user=user).first()
    return (
        user.full_name,
        user.is_active,
        user.is_staff,
        admin and (admin.organisation_id, admin.role, admin.status),
        sorted(user.memberships.values_list("organisation_id", "status")),
    )


@pytest.mark.parametrize("who", ["driver", "admin elsewhere", "operator"])
def test_inviting_someone_elses_account_through_the_api_answers_as_for_an_unknown_address(
    world, others, api_key_for, client, who
):
    target = others[who]
    before = standing(target)
    headers = api_key_for(world.org_a)

    unknown = api_invite(client, headers, "nobody@example.com")
    known = api_invite(client, headers, target.email.upper())

    assert unknown.status_code == known.status_code == 201
    body, unknown_body = known.json(), unknown.json()
    for answer in (body, unknown_body):
        answer.pop("id")
        answer.pop("created_at")
    assert body == {**unknown_body, "email": target.email}
    assert body == {
        "email": target.email,
        "full_name": TYPED_NAME,
        "role": "analyst",
        "status": "invited",
        "last_login": None,
        "all_connections": True,
        "connection_ids": [],
        "connection_alerts": "off",
    }
    assert standing(target) == before
    assert not Admin.objects.filter(user=target, organisation=world.org_a).exists()


@pytest.mark.parametrize("who", ["driver", "admin elsewhere", "operator"])
def test_disabling_such_an_invitation_changes_nothing_for_the_account(
    world, others, api_key_for, client, who
):
    target = others[who]
    before = standing(target)
    headers = api_key_for(world.org_a)
    invitation_id = api_invite(client, headers, target.email).json()["id"]
    target_session = Client()
    target_session.force_login(target, backend="evdms.accounts.backends.EmailBackend")

    patched = client.patch(
        f"/api/v1/admins/{invitation_id}",
        data={"status": "disabled"},
        content_type="application/json",
        headers=headers,
    )

    assert patched.status_code == 200
    assert patched.json()["status"] == "disabled" and patched.json()["last_login"] is None
    assert standing(target) == before
    assert logs_in(target.email)
    assert target_session.get(reverse("web:home")).status_code == 302  # still logged in
    assert "_auth_user_id" in target_session.session


@pytest.mark.parametrize("who", ["driver", "admin elsewhere", "operator"])
def test_inviting_someone_elses_account_on_the_page_shows_only_what_was_typed(world, others, who):
    target = others[who]
    before = standing(target)
    nadia = client_for(world.nadia)

    response = nadia.post(
        reverse("accounts:admins"),
        {"full_name": TYPED_NAME, "email": target.email, "role": Role.ANALYST},
        follow=True,
    )

    assert response.redirect_chain[-1][0] == reverse("accounts:admins")
    page = response.content.decode()
    assert f"Invitation sent to {target.email}." in page
    assert TYPED_NAME in page and target.full_name not in page
    invitation = Admin.objects.get(organisation=world.org_a, email=target.email)
    detail = nadia.get(reverse("accounts:admin_detail", args=[invitation.pk])).content.decode()
    assert "Invited" in detail and target.full_name not in detail
    nadia.post(reverse("accounts:admin_disable", args=[invitation.pk]))
    assert standing(target) == before
    assert logs_in(target.email)


def test_the_owner_of_an_account_accepts_only_logged_in_as_that_account(
    world, others, mailoutbox, django_capture_on_commit_callbacks
):
    dora = others["driver"]
    with django_capture_on_commit_callbacks(execute=True):
        client_for(world.nadia).post(
            reverse("accounts:admins"),
            {"full_name": TYPED_NAME, "email": dora.email, "role": Role.CONNECTIONS_OFFICER},
        )
    link = invitation_link(mailoutbox)
    assert "Log in as dora@example.com to accept" in mailoutbox[-1].body

    anonymous = Client()
    page = anonymous.get(link).content.decode()
    assert "To accept, log in as dora@example.com" in page
    assert "Choose a password" not in page  # no way to set a password on her account
    anonymous.post(link, {"full_name": "X", "password": "p" * 20, "password_again": "p" * 20})
    someone_else = client_for(world.bob)
    someone_else.post(link)
    invitation = Admin.objects.get(email=dora.email)
    assert (invitation.status, invitation.user) == (AdminStatus.INVITED, None)
    dora.refresh_from_db()
    assert dora.check_password(PASSWORD)

    owner = Client()
    owner.post(
        f"{reverse('accounts:login')}?next={link}", {"username": dora.email, "password": PASSWORD}
    )
    assert "Accept the invitation" in owner.get(link).content.decode()
    accepted = owner.post(link)

    assert accepted.status_code == 302 and accepted["Location"] == reverse("web:dashboard")
    invitation.refresh_from_db()
    assert (invitation.status, invitation.user, invitation.full_name) == (
        AdminStatus.ACTIVE,
        dora,
        "Dora Driver",
    )
    actor = Actor.for_user(User.objects.get(pk=dora.pk))
    assert actor is not None and actor.organisation == world.org_a
    assert owner.get(reverse("web:dashboard")).status_code == 200
    assert Client().get(link).status_code == 410  # used


@pytest.mark.parametrize(
    ("who", "reason"),
    [
        ("admin elsewhere", "already an admin of an organisation"),
        ("operator", "account cannot be an organisation"),
    ],
)
def test_an_account_that_cannot_become_an_admin_here_is_refused_when_accepting(
    world, others, mailoutbox, django_capture_on_commit_callbacks, who, reason
):
    target = others[who]
    before = standing(target)
    with django_capture_on_commit_callbacks(execute=True):
        client_for(world.nadia).post(
            reverse("accounts:admins"),
            {"full_name": TYPED_NAME, "email": target.email, "role": Role.NETWORK_MANAGER},
        )
    link = invitation_link(mailoutbox)
    owner = Client()
    owner.force_login(target, backend="evdms.accounts.backends.EmailBackend")

    assert reason in owner.get(link).content.decode()
    refused = owner.post(link)

    assert refused.status_code == 409 and reason in refused.content.decode()
    assert standing(target) == before
    assert Admin.objects.get(email=target.email, organisation=world.org_a).user is None


def test_disabling_an_admin_leaves_them_a_driver_of_their_connections(world, others):
    dora = others["driver"]
    admin = Admin.objects.create(
        user=dora,
        email=dora.email,
        full_name=dora.full_name,
        organisation=world.org_a,
        role=Role.ANALYST,
        status=AdminStatus.ACTIVE,
    )
    session = Client()
    session.force_login(dora, backend="evdms.accounts.backends.EmailBackend")
    assert session.get(reverse("web:dashboard")).status_code == 200

    client_for(world.nadia).post(reverse("accounts:admin_disable", args=[admin.pk]))

    assert session.get(reverse("web:dashboard")).status_code == 403  # no admin rights
    assert session.get(reverse("enrolment:my_connections")).status_code == 200
    assert logs_in(dora.email)
    assert list(dora.memberships.values_list("status", flat=True)) == ["connected"]


def test_disabling_an_admin_who_is_a_platform_operator_leaves_the_operator_alone(world):
    # An operator who is an organisation's admin (made before invitations had to be
    # accepted, or by hand in the Django admin).
    admin = make_admin(world.org_a, "petra@platform.example", Role.ANALYST)
    petra = User.objects.get(email="petra@platform.example")
    User.objects.filter(pk=petra.pk).update(is_staff=True, is_superuser=True)

    client_for(world.nadia).post(reverse("accounts:admin_disable", args=[admin.pk]))

    admin.refresh_from_db()
    assert admin.status == AdminStatus.DISABLED
    assert logs_in("petra@platform.example")
    operator = Client()
    operator.force_login(petra, backend="evdms.accounts.backends.EmailBackend")
    assert operator.get("/platform-admin/").status_code == 200
