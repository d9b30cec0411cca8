"""A driver's journey: sign up, confirm, ask to join, get approved or denied, leave."""

from __future__ import annotations

import hashlib
import io
import re

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from evdms.accounts.models import User
from evdms.enrolment import services
from evdms.enrolment.models import Membership, MembershipStatus, TermsAcceptance
from evdms.testing.concurrency import at_once
from evdms.testing.fixtures import client_for, make_connection

pytestmark = pytest.mark.django_db

TERMS = "1. Charge responsibly.\n2. Report faults within 5 days."


def driver(email="dan@example.com", confirmed=True) -> User:
    user = User.objects.create_user(email, "dan's long passphrase", full_name="Dan Driver")
    if confirmed:
        user.email_confirmed_at = timezone.now()
        user.save()
    return user


def driver_client(user: User) -> Client:
    client = Client()
    client.force_login(user, backend="evdms.accounts.backends.EmailBackend")
    return client


def request_url(connection) -> str:
    return reverse("enrolment:join_request", args=[connection.invite_token])


def test_a_new_driver_signs_up_confirms_and_joins_an_auto_connection(
    world, mailoutbox, django_capture_on_commit_callbacks
):
    connection = make_connection(
        world.org_a,
        approval_type="auto",
        verification_1_label="Employee ID",
        notify_on_connect="yes",
    )
    visitor = Client()
    landing = visitor.get(
        reverse("enrolment:join", args=[connection.invite_token])
    ).content.decode()
    assert request_url(connection) in landing
    assert "Create an account" in visitor.get(request_url(connection)).content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        signed_up = visitor.post(
            reverse("enrolment:signup") + "?next=" + request_url(connection),
            {
                "full_name": "Dan Driver",
                "email": "Dan@Example.com",
                "password": "dan's long passphrase",
            },
        )
    # Not logged in yet: the page after sign-up is the same whether the address had an
    # account or not (test_signup_privacy), so it only says "check your e-mail".
    assert signed_up.status_code == 302
    assert signed_up["Location"].startswith(reverse("enrolment:signup_sent"))
    assert "Check your e-mail" in visitor.get(signed_up["Location"]).content.decode()
    found = re.search(r"http://127\.0\.0\.1:8000(/confirm/\S+)", mailoutbox[-1].body)
    assert found is not None
    confirmed = visitor.get(found.group(1))
    assert confirmed.status_code == 302 and confirmed["Location"].startswith(
        reverse("accounts:login")
    )
    logged_in = visitor.post(
        confirmed["Location"], {"username": "dan@example.com", "password": "dan's long passphrase"}
    )
    assert logged_in.status_code == 302 and logged_in["Location"] == request_url(connection)
    with django_capture_on_commit_callbacks(execute=True):
        joined = visitor.post(
            request_url(connection),
            {
                "verification_1": " E-1234 ",
                "phone": "+31 6 1234 5678",
                "address": "Main street 1",
                "postcode": "1234 AB",
                "city": "Utrecht",
                "country": "nl",
            },
        )
    assert joined.status_code == 302, joined.content.decode()
    membership = Membership.objects.get()
    assert membership.status == MembershipStatus.CONNECTED
    assert membership.verification_1 == "E-1234" and membership.country == "NL"
    subjects = {m.subject: m.to for m in mailoutbox}
    assert subjects["You are connected to Voltlease Drivers"] == ["dan@example.com"]
    assert subjects["A driver connected to Voltlease_Home"] == ["support@voltlease.example"]
    mine = visitor.get(reverse("enrolment:my_connections")).content.decode()
    assert "Voltlease Drivers" in mine and "Connected" in mine


@pytest.mark.parametrize(
    ("answers", "field", "message"),
    [
        ({"verification_1": ""}, "verification_1", "Enter your Employee ID."),
        ({"verification_1": "x" * 101}, "verification_1", "Use at most 100 characters."),
        (
            {"verification_1": "E1", "agree_terms": ""},
            "agree_terms",
            "Tick the box to agree to the terms and conditions.",
        ),
        (
            {"verification_1": "E1", "agree_terms": "on", "phone": ""},
            "phone",
            "Enter your phone number.",
        ),
        (
            {"verification_1": "E1", "agree_terms": "on", "phone": "call me"},
            "phone",
            "Enter a phone number of digits, spaces and +.",
        ),
    ],
)
def test_bad_answers_get_a_message_next_to_the_field_and_nothing_is_written(
    world, answers, field, message
):
    connection = make_connection(
        world.org_a,
        verification_1_label="Employee ID",
        custom_terms_enabled="yes",
        terms_text=TERMS,
    )
    full = {
        "phone": "0612345678",
        "address": "Main street 1",
        "postcode": "1234",
        "city": "Utrecht",
        **answers,
    }
    response = driver_client(driver()).post(request_url(connection), full)
    assert response.status_code == 422
    assert message in response.content.decode().replace("&#x27;", "'")
    assert Membership.objects.count() == 0 and TermsAcceptance.objects.count() == 0


def test_terms_acceptance_is_kept_and_a_signed_pdf_is_sent(
    world, mailoutbox, django_capture_on_commit_callbacks
):
    connection = make_connection(
        world.org_a,
        custom_terms_enabled="yes",
        terms_text=TERMS,
        signed_terms_recipients="hr@voltlease.example, legal@voltlease.example",
    )
    dan = driver()
    page = driver_client(dan).get(request_url(connection)).content.decode()
    assert "1. Charge responsibly." in page
    with django_capture_on_commit_callbacks(execute=True):
        driver_client(dan).post(
            request_url(connection),
            {
                "agree_terms": "on",
                "phone": "0612345678",
                "address": "Main street 1",
                "postcode": "1234",
                "city": "Utrecht",
            },
            REMOTE_ADDR="198.51.100.7",
            HTTP_USER_AGENT="TestPhone",
        )
    acceptance = TermsAcceptance.objects.get()
    assert acceptance.text == TERMS
    assert acceptance.sha256 == hashlib.sha256(TERMS.encode()).hexdigest()
    assert acceptance.ip_address == "198.51.100.7" and acceptance.user_agent == "TestPhone"
    assert acceptance.driver == dan
    signed = next(m for m in mailoutbox if m.subject.startswith("Terms and conditions agreed"))
    assert sorted(signed.to) == ["hr@voltlease.example", "legal@voltlease.example"]
    _name, content, content_type = signed.attachments[0]
    assert content_type == "application/pdf" and content.startswith(b"%PDF")
    from pypdf import PdfReader

    text = PdfReader(io.BytesIO(content)).pages[0].extract_text()
    assert "Dan Driver" in text and acceptance.sha256 in text and "Charge responsibly" in text


def test_manual_approval_pending_then_approved(
    world, mailoutbox, django_capture_on_commit_callbacks
):
    connection = make_connection(
        world.org_a, verification_1_label="Employee ID", verification_2_label="Licence plate"
    )
    dan = driver()
    with django_capture_on_commit_callbacks(execute=True):
        driver_client(dan).post(
            request_url(connection),
            {
                "verification_1": "E-7",
                "verification_2": "AB-123-C",
                "phone": "0612345678",
                "address": "Main street 1",
                "postcode": "1234",
                "city": "Utrecht",
            },
        )
    membership = Membership.objects.get()
    assert membership.status == MembershipStatus.PENDING
    assert mailoutbox[-1].subject == "Your request to join Voltlease Drivers"
    otto = client_for(world.otto)
    dashboard = otto.get(reverse("web:dashboard")).content.decode()
    assert re.search(r'class="count">1<', dashboard)  # pending count in the navigation
    page = otto.get(reverse("enrolment:requests")).content.decode()
    assert "E-7" in page and "AB-123-C" in page
    with django_capture_on_commit_callbacks(execute=True):
        otto.post(
            reverse("enrolment:requests_decide") + f"?id={membership.pk}", {"decision": "approve"}
        )
    membership.refresh_from_db()
    assert (
        membership.status == MembershipStatus.CONNECTED and membership.decided_by == world.otto.user
    )
    # (the home charger installation that starts now e-mails the support address too)
    assert [m.to for m in mailoutbox if m.subject == "You are connected to Voltlease Drivers"] == [
        ["dan@example.com"]
    ]


def test_bulk_deny_with_a_message(world, mailoutbox, django_capture_on_commit_callbacks):
    connection = make_connection(world.org_a, provide_home_charger="no")
    ids = []
    for i in range(3):
        services.membership_request(
            driver=driver(f"d{i}@example.com"), connection=connection, answers={}
        )
    ids = list(Membership.objects.values_list("pk", flat=True))
    with django_capture_on_commit_callbacks(execute=True):
        client_for(world.nadia).post(
            reverse("enrolment:requests_decide"),
            {"decision": "deny", "ids": ids[:2], "message": "Not an employee."},
        )
    statuses = sorted(Membership.objects.values_list("status", flat=True))
    assert statuses == ["denied", "denied", "pending"]
    denied = [m for m in mailoutbox if "was not approved" in m.body]
    assert len(denied) == 2 and all("Not an employee." in m.body for m in denied)


def test_two_admins_deciding_at_once_never_both_win(world):
    connection = make_connection(world.org_a, provide_home_charger="no")
    membership = services.membership_request(driver=driver(), connection=connection, answers={})
    services.membership_approve(actor=world.actor(world.nadia), membership=membership)
    with pytest.raises(services.AlreadyDecided):
        services.membership_deny(actor=world.actor(world.otto), membership=membership)
    response = client_for(world.otto).post(
        reverse("enrolment:requests_decide") + f"?id={membership.pk}",
        {"decision": "deny"},
        follow=True,
    )
    assert "already been decided by someone else" in response.content.decode()
    membership.refresh_from_db()
    assert membership.status == MembershipStatus.CONNECTED


@pytest.mark.django_db(transaction=True)
def test_concurrent_approve_and_deny_in_two_threads_decide_once(world):
    connection = make_connection(world.org_a, provide_home_charger="no")
    membership = services.membership_request(driver=driver(), connection=connection, answers={})
    results: list[str] = []

    def decide(action, actor):
        def attempt() -> None:
            try:
                action(actor=actor, membership=membership)
                results.append("won")
            except services.AlreadyDecided:
                results.append("lost")

        return attempt

    at_once(
        decide(services.membership_approve, world.actor(world.nadia)),
        decide(services.membership_deny, world.actor(world.otto)),
    )
    assert sorted(results) == ["lost", "won"]


def test_submitting_twice_makes_one_request(world):
    connection = make_connection(world.org_a, provide_home_charger="no")
    client = driver_client(driver())
    first = client.post(request_url(connection), {})
    second = client.post(request_url(connection), {})
    assert first.status_code == second.status_code == 302
    assert Membership.objects.count() == 1


def test_one_connection_per_organisation_at_a_time(world):
    first = make_connection(world.org_a, name="First", provide_home_charger="no")
    second = make_connection(world.org_a, name="Second", provide_home_charger="no")
    elsewhere = make_connection(world.org_b, name="Elsewhere", provide_home_charger="no")
    client = driver_client(driver())
    client.post(request_url(first), {})
    refused = client.post(request_url(second), {})
    assert refused.status_code == 422
    assert "one connection per organisation at a time" in refused.content.decode()
    assert (
        client.post(request_url(elsewhere), {}).status_code == 302
    )  # another organisation is fine
    # After withdrawing, the driver may ask elsewhere in the same organisation.
    pending = Membership.objects.get(connection=first)
    client.post(reverse("enrolment:withdraw", args=[pending.pk]))
    assert client.post(request_url(second), {}).status_code == 302


def test_a_disabled_connection_refuses_requests(world):
    connection = make_connection(world.org_a, enabled="no")
    response = driver_client(driver()).post(request_url(connection), {})
    assert response.status_code == 410
    assert Membership.objects.count() == 0


def test_an_unknown_link_is_a_404(db):
    assert Client().get(reverse("enrolment:join_request", args=["tampered"])).status_code == 404


def test_a_bad_or_old_confirmation_link_is_refused(db):
    assert Client().get(reverse("enrolment:confirm_email", args=["nonsense"])).status_code == 410


def test_a_driver_leaves_and_the_benefits_end(world):
    connection = make_connection(world.org_a, provide_home_charger="no", approval_type="auto")
    dan = driver()
    client = driver_client(dan)
    client.post(request_url(connection), {})
    membership = Membership.objects.get()
    client.post(reverse("enrolment:leave", args=[membership.pk]))
    membership.refresh_from_db()
    assert membership.status == MembershipStatus.REMOVED and membership.ended_at is not None
    assert membership.ended_reason == "Left"
