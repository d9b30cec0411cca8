"""Sign-up does not tell who has an account (issue #18: it answered "An account with
this address exists"): the visitor sees the same page for a new address and for one
with an account, whose owner is e-mailed instead. A visitor who came from an invitation
e-mailed to that address has proven it: no second confirmation is asked."""

from __future__ import annotations

import re
import secrets
from datetime import timedelta
from unittest import mock
from urllib.parse import quote

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from evdms.accounts.models import User
from evdms.enrolment.models import Invitation, InvitationBatch
from evdms.enrolment.tests.test_join import driver, driver_client
from evdms.notifications.models import OutboundEmail
from evdms.testing.fixtures import make_connection

pytestmark = pytest.mark.django_db


def without_tokens(html: str) -> str:
    """A page without its CSRF tokens (each client has its own)."""
    html = re.sub(r'"X-CSRFToken": "[^"]+"', "", html)
    return re.sub(r'name="csrfmiddlewaretoken" value="[^"]+"', "", html)


def sign_up(email: str, next_url: str = "", client: Client | None = None):
    client = client or Client()
    url = reverse("enrolment:signup") + ("?next=" + quote(next_url) if next_url else "")
    posted = client.post(
        url, {"full_name": "Sam Someone", "email": email, "password": "a long passphrase 9"}
    )
    shown = client.get(posted["Location"]) if posted.status_code == 302 else posted
    return posted, without_tokens(shown.content.decode().replace(email.lower(), "ADDRESS"))


def invitation(connection, email: str) -> Invitation:
    batch = InvitationBatch.objects.create(connection=connection, total=1)
    return Invitation.objects.create(
        batch=batch, connection=connection, email=email, token=secrets.token_urlsafe(16)
    )


def test_an_address_with_an_account_gets_the_same_answer_as_a_new_one(db):
    driver("owner@example.com")
    old_posted, old_page = sign_up("Owner@Example.com")
    new_posted, new_page = sign_up("newcomer@example.com")
    assert old_posted.status_code == new_posted.status_code == 302
    assert old_posted["Location"] == new_posted["Location"]
    assert old_page == new_page
    assert "Check your e-mail" in new_page
    assert "exists" not in old_page and "Log in instead" not in old_page
    # Nothing changed on the existing account (its password is not the one typed).
    owner = User.objects.get(email="owner@example.com")
    assert owner.full_name == "Dan Driver" and not owner.check_password("a long passphrase 9")
    assert User.objects.filter(email="newcomer@example.com").exists()


def test_the_owner_of_the_address_is_emailed_instead(db):
    driver("owner@example.com")
    sign_up("owner@example.com", next_url="/my/connections/")
    email = OutboundEmail.objects.get(to=["owner@example.com"])
    assert email.template == "driver_account_exists"
    assert "You already have one" in email.text_body
    assert "/login/?next=/my/connections/" in email.text_body
    assert reverse("accounts:password_reset") in email.text_body
    # The new address gets its confirmation link, not this.
    sign_up("newcomer@example.com")
    assert OutboundEmail.objects.get(to=["newcomer@example.com"]).template == (
        "driver_confirm_email"
    )


def test_the_owner_is_emailed_at_most_once_an_hour_and_the_visitor_cannot_tell(db):
    """Anyone can sign up with anyone's address: its owner is not flooded."""
    driver("owner@example.com")
    first_posted, first_page = sign_up("owner@example.com")
    start = timezone.now()
    with mock.patch("django.utils.timezone.now", return_value=start + timedelta(minutes=59)):
        again_posted, again_page = sign_up("OWNER@example.com")
    assert OutboundEmail.objects.filter(to=["owner@example.com"]).count() == 1
    with mock.patch("django.utils.timezone.now", return_value=start + timedelta(minutes=61)):
        later_posted, later_page = sign_up("owner@example.com")
    sent = OutboundEmail.objects.filter(to=["owner@example.com"])
    assert [e.template for e in sent] == ["driver_account_exists"] * 2
    # The same answer whether an e-mail went out or not.
    answers = [(p.status_code, p["Location"]) for p in (first_posted, again_posted, later_posted)]
    assert answers[0] == answers[1] == answers[2]
    assert first_page == again_page == later_page
    # Another address with an account has its own hour.
    driver("other@example.com")
    sign_up("other@example.com")
    assert OutboundEmail.objects.filter(to=["other@example.com"]).count() == 1


def test_the_visitor_is_not_logged_in_to_either(db):
    driver("owner@example.com")
    for address in ("owner@example.com", "newcomer@example.com"):
        client = Client()
        sign_up(address, client=client)
        assert "_auth_user_id" not in client.session


def test_an_invited_driver_is_not_asked_to_confirm_the_address_again(world):
    connection = make_connection(world.org_a, approval_type="auto")
    invited = invitation(connection, "Ivy@Example.com")
    join = (
        reverse("enrolment:join_request", args=[connection.invite_token])
        + "?invitation="
        + invited.token
    )
    client = Client()
    posted, _ = sign_up("ivy@example.com", next_url=join, client=client)
    assert posted.status_code == 302 and posted["Location"] == join
    ivy = User.objects.get(email="ivy@example.com")
    assert ivy.email_confirmed_at is not None
    assert not OutboundEmail.objects.filter(template="driver_confirm_email").exists()
    page = client.get(join).content.decode()
    assert "Confirm your e-mail address" not in page


def test_an_invitation_for_another_address_proves_nothing(world):
    connection = make_connection(world.org_a)
    invited = invitation(connection, "ivy@example.com")
    join = (
        reverse("enrolment:join_request", args=[connection.invite_token])
        + "?invitation="
        + invited.token
    )
    posted, _ = sign_up("mallory@example.com", next_url=join)
    assert posted["Location"].startswith(reverse("enrolment:signup_sent"))
    assert User.objects.get(email="mallory@example.com").email_confirmed_at is None


def test_an_unconfirmed_driver_following_their_invitation_is_confirmed(world):
    connection = make_connection(world.org_a)
    dan = driver("dan@example.com", confirmed=False)
    invited = invitation(connection, "dan@example.com")
    page = driver_client(dan).get(
        reverse("enrolment:join_request", args=[connection.invite_token])
        + "?invitation="
        + invited.token
    )
    assert "Confirm your e-mail address" not in page.content.decode()
    dan.refresh_from_db()
    assert dan.email_confirmed_at is not None


def test_a_bad_password_is_refused_alike_for_both(db):
    driver("owner@example.com")
    answers = []
    for address in ("owner@example.com", "newcomer@example.com"):
        response = Client().post(
            reverse("enrolment:signup"),
            {"full_name": "Sam", "email": address, "password": "123"},
        )
        answers.append(
            (response.status_code, without_tokens(response.content.decode().replace(address, "A")))
        )
    assert answers[0] == answers[1] and answers[0][0] == 422
    assert not User.objects.filter(email="newcomer@example.com").exists()
