"""Logging in and out, lockout, disabled admins and password reset, as a person sees them."""

from __future__ import annotations

import re

import pytest
from django.test import Client
from django.urls import reverse

from evdms.accounts.models import Role, User
from evdms.accounts.services import admin_disable, admin_invite
from evdms.notifications.models import OutboundEmail
from evdms.testing.fixtures import PASSWORD, client_for

pytestmark = pytest.mark.django_db


def log_in(client: Client, email: str, password: str):
    return client.post(reverse("accounts:login"), {"username": email, "password": password})


def test_an_admin_logs_in_by_email_in_any_case_and_lands_on_the_dashboard(world):
    client = Client()
    response = log_in(client, "NADIA@Voltlease.example", PASSWORD)
    assert response.status_code == 302
    page = client.get(response["Location"], follow=True)
    assert page.redirect_chain[-1][0] == reverse("web:dashboard")
    assert "Voltlease" in page.content.decode()


def test_a_wrong_password_says_so_without_saying_whether_the_account_exists(world):
    wrong = log_in(Client(), "nadia@voltlease.example", "not the password")
    missing = log_in(Client(), "nobody@voltlease.example", "not the password")
    assert wrong.status_code == missing.status_code == 200
    for response in (wrong, missing):
        assert "do not match an account" in response.content.decode()


def test_repeated_failures_lock_the_account_with_a_clear_message(world, settings):
    client = Client()
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        assert log_in(client, "nadia@voltlease.example", "wrong").status_code == 200
    locked = log_in(client, "nadia@voltlease.example", "wrong")
    assert locked.status_code == 429
    assert "temporarily locked" in locked.content.decode()
    # Even the right password is refused while locked ...
    assert log_in(Client(), "nadia@voltlease.example", PASSWORD).status_code == 429
    # ... but another account is not affected.
    assert log_in(Client(), "otto@voltlease.example", PASSWORD).status_code == 302


def test_logout_ends_the_session(world):
    client = client_for(world.nadia)
    assert client.get(reverse("web:dashboard")).status_code == 200
    assert client.post(reverse("accounts:logout")).status_code == 302
    response = client.get(reverse("web:dashboard"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("accounts:login"))


def test_a_disabled_admin_cannot_log_in_and_their_open_session_ends(world):
    otto_session = client_for(world.otto)
    assert otto_session.get(reverse("web:dashboard")).status_code == 200

    admin_disable(actor=world.actor(world.nadia), admin=world.otto)

    assert otto_session.get(reverse("web:dashboard")).status_code == 302
    response = log_in(Client(), "otto@voltlease.example", PASSWORD)
    assert response.status_code == 200
    assert "do not match an account" in response.content.decode()


def test_an_invited_admin_has_no_account_to_log_in_with_until_they_accept(world):
    admin_invite(
        actor=world.actor(world.nadia),
        email="new@voltlease.example",
        full_name="Nina New",
        role=Role.ANALYST,
    )
    assert not User.objects.filter(email="new@voltlease.example").exists()
    assert log_in(Client(), "new@voltlease.example", PASSWORD).status_code == 200


def test_password_reset_sends_a_link_that_sets_a_new_password(
    world, django_capture_on_commit_callbacks, mailoutbox
):
    client = Client()
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("accounts:password_reset"), {"email": "nadia@voltlease.example"}
        )
    assert response.status_code == 302
    assert len(mailoutbox) == 1
    message = mailoutbox[0]
    assert message.to == ["nadia@voltlease.example"]
    assert OutboundEmail.objects.get().status == "sent"
    found = re.search(r"http://\S+/accounts/password-reset/\S+/", message.body)
    assert found is not None
    link = found.group(0)
    path = link.split("127.0.0.1:8000", 1)[1]
    form_page = client.get(path, follow=True)
    assert "Choose a new password" in form_page.content.decode()
    new_password = "a much better passphrase 2026"
    done = client.post(
        form_page.redirect_chain[-1][0],
        {"new_password1": new_password, "new_password2": new_password},
    )
    assert done.status_code == 302
    assert log_in(Client(), "nadia@voltlease.example", new_password).status_code == 302


def test_password_reset_for_an_unknown_address_looks_the_same_and_sends_nothing(
    db, mailoutbox, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = Client().post(
            reverse("accounts:password_reset"), {"email": "who@nowhere.example"}
        )
    assert response.status_code == 302
    assert mailoutbox == []


def test_the_login_form_has_csrf_protection(world):
    client = Client(enforce_csrf_checks=True)
    response = client.post(
        reverse("accounts:login"), {"username": "nadia@voltlease.example", "password": PASSWORD}
    )
    assert response.status_code == 403


def test_pages_carry_a_content_security_policy_without_unsafe_inline(world):
    response = Client().get(reverse("accounts:login"))
    policy = response["Content-Security-Policy"]
    assert "default-src 'self'" in policy
    assert "script-src 'self'" in policy
    assert "unsafe-inline" not in policy


@pytest.mark.parametrize(
    ("locked_as", "tried_as"),
    [
        ("nadia@voltlease.example", "NADIA@Voltlease.EXAMPLE"),
        ("Nadia@VoltLease.example", "nadia@voltlease.example"),
        ("nadia@voltlease.example", "  nadia@voltlease.example  "),
        ("  NADIA@voltlease.example", "Nadia@Voltlease.Example "),
    ],
)
def test_the_lockout_holds_for_the_account_whatever_the_spelling_of_its_address(
    world, settings, locked_as, tried_as
):
    for _ in range(settings.AXES_FAILURE_LIMIT):
        log_in(Client(), locked_as, "wrong")
    response = log_in(Client(), tried_as, PASSWORD)
    assert response.status_code == 429
    assert "temporarily locked" in response.content.decode()


def test_failures_in_different_spellings_add_up_to_one_lockout(world, settings):
    spellings = ["nadia@voltlease.example", "NADIA@VOLTLEASE.EXAMPLE", " Nadia@Voltlease.example"]
    for attempt in range(settings.AXES_FAILURE_LIMIT):
        log_in(Client(), spellings[attempt % len(spellings)], "wrong")
    assert log_in(Client(), "nadia@voltlease.example", PASSWORD).status_code == 429


def ask_for_reset(email: str, ip: str = "192.0.2.10"):
    return Client(REMOTE_ADDR=ip).post(reverse("accounts:password_reset"), {"email": email})


@pytest.mark.parametrize("email", ["nadia@voltlease.example", "who@nowhere.example"])
def test_password_reset_requests_beyond_the_limit_send_nothing_and_say_so_for_any_address(
    world, settings, mailoutbox, django_capture_on_commit_callbacks, email
):
    """Known and unknown addresses get the same answers, so the limit tells nobody
    whether an address has an account."""
    with django_capture_on_commit_callbacks(execute=True):
        answers = [
            ask_for_reset(email if n % 2 else email.upper(), ip=f"192.0.2.{n}")
            for n in range(settings.PASSWORD_RESET_LIMIT_PER_ADDRESS)
        ]
        throttled = ask_for_reset(f"  {email.title()} ", ip="198.51.100.7")
    assert [a.status_code for a in answers] == [302] * settings.PASSWORD_RESET_LIMIT_PER_ADDRESS
    sent = len(mailoutbox)
    assert sent == (settings.PASSWORD_RESET_LIMIT_PER_ADDRESS if "nadia" in email else 0)
    assert throttled.status_code == 429
    assert "Too many password-reset requests" in throttled.content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        assert ask_for_reset(email).status_code == 429
    assert len(mailoutbox) == sent


def test_one_client_asking_for_many_addresses_is_throttled_and_others_are_not(
    world, settings, mailoutbox, django_capture_on_commit_callbacks
):
    for n in range(settings.PASSWORD_RESET_LIMIT_PER_CLIENT):
        assert ask_for_reset(f"guess{n}@voltlease.example", ip="203.0.113.5").status_code == 302
    with django_capture_on_commit_callbacks(execute=True):
        refused = ask_for_reset("nadia@voltlease.example", ip="203.0.113.5")
    assert refused.status_code == 429
    assert mailoutbox == []
    with django_capture_on_commit_callbacks(execute=True):
        assert ask_for_reset("nadia@voltlease.example", ip="203.0.113.6").status_code == 302
    assert len(mailoutbox) == 1


def test_behind_the_proxy_the_client_is_the_address_the_proxy_added(world, settings):
    settings.BEHIND_PROXY = True
    for n in range(settings.PASSWORD_RESET_LIMIT_PER_CLIENT):
        # The first entry is made up by the client; the proxy appended the real one.
        response = Client(
            REMOTE_ADDR="10.0.0.1", HTTP_X_FORWARDED_FOR=f"10.9.9.{n}, 203.0.113.5"
        ).post(reverse("accounts:password_reset"), {"email": f"guess{n}@voltlease.example"})
        assert response.status_code == 302
    same_client = Client(REMOTE_ADDR="10.0.0.1", HTTP_X_FORWARDED_FOR="203.0.113.5")
    other_client = Client(REMOTE_ADDR="10.0.0.1", HTTP_X_FORWARDED_FOR="203.0.113.6")
    url = reverse("accounts:password_reset")
    assert same_client.post(url, {"email": "nadia@voltlease.example"}).status_code == 429
    assert other_client.post(url, {"email": "nadia@voltlease.example"}).status_code == 302


def test_a_reset_can_be_asked_for_again_once_the_hour_has_passed(
    world, settings, mailoutbox, django_capture_on_commit_callbacks
):
    from datetime import timedelta

    from evdms.accounts.models import PasswordResetRequest

    for _ in range(settings.PASSWORD_RESET_LIMIT_PER_ADDRESS):
        ask_for_reset("nadia@voltlease.example")
    assert ask_for_reset("nadia@voltlease.example").status_code == 429
    for request in PasswordResetRequest.objects.all():
        request.requested_at -= settings.PASSWORD_RESET_LIMIT_WINDOW + timedelta(seconds=1)
        request.save()
    with django_capture_on_commit_callbacks(execute=True):
        assert ask_for_reset("nadia@voltlease.example").status_code == 302
    assert len(mailoutbox) == 1


def test_a_spelling_the_reset_form_matches_to_the_same_account_shares_its_limit(
    world, settings, django_capture_on_commit_callbacks
):
    """Django's reset form finds accounts by NFKC and case folding, where the long s
    "ſ" is an "s": such a spelling reaches Nadia's inbox, so it counts as hers."""
    with django_capture_on_commit_callbacks(execute=True):
        for n in range(settings.PASSWORD_RESET_LIMIT_PER_ADDRESS):
            ask_for_reset("nadia@voltleaſe.example", ip=f"192.0.2.{n}")
        throttled = ask_for_reset("nadia@voltlease.example", ip="198.51.100.7")
    assert throttled.status_code == 429
