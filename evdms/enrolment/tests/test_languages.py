"""Issue #19: the drivers' pages, e-mails and signed PDF in the driver's language; the
organisation's own words (connection names, terms) as written."""

from __future__ import annotations

import hashlib
import io

import pytest
from django.test import Client
from django.urls import reverse
from pypdf import PdfReader

from evdms.accounts.models import User
from evdms.enrolment import services
from evdms.enrolment.models import InvitationStatus, TermsAcceptance
from evdms.enrolment.services.invitations import invitation_batch_create
from evdms.enrolment.tasks import send_invitation_batch
from evdms.notifications.models import OutboundEmail
from evdms.testing.fixtures import client_for, make_connection, make_membership
from evdms.testing.languages import driver_speaking, logged_in, main_part, speaking

pytestmark = pytest.mark.django_db
TERMS = "1. Charge responsibly."


def test_the_public_join_and_sign_up_pages_follow_the_browser_in_dutch(world):
    connection = make_connection(world.org_a)
    visitor = Client(HTTP_ACCEPT_LANGUAGE="nl-NL,nl;q=0.9,en;q=0.5")
    join = visitor.get(reverse("enrolment:join", args=[connection.invite_token]))
    html = main_part(join.content.decode())
    assert join["Content-Language"] == "nl"
    assert "Voltlease Drivers biedt je deze laadvoordelen:" in html
    assert "Thuisladen vergoed (tot €\xa00,29 per kWh)" in html
    assert "Aanmelding versturen" in html  # manual approval: "Ask to join"
    assert "Voltlease_Home" not in html and "Voltlease Drivers" in html  # its own name
    for english in ("offers you these charging benefits", "Ask to join", "Home charging"):
        assert english not in html, english

    account = visitor.get(reverse("enrolment:join_request", args=[connection.invite_token]))
    assert "Account aanmaken" in account.content.decode()

    signup = main_part(visitor.get(reverse("enrolment:signup")).content.decode())
    assert "Maak je bestuurdersaccount aan" in signup and "Kies een wachtwoord" in signup
    assert "Create your driver account" not in signup
    refused = visitor.post(reverse("enrolment:signup"), {"email": "x@example.com"})
    assert refused.status_code == 422 and "Dit veld is verplicht." in refused.content.decode()


def test_a_driver_who_signs_up_on_a_dutch_page_is_written_to_in_dutch(world):
    """The sign-up page's language becomes the account's: the confirmation e-mail and
    every later one are Dutch, though the organisation writes English to anyone who
    chose no language."""
    assert world.org_a.default_language == "en-gb"
    connection = make_connection(world.org_a)
    join = reverse("enrolment:join_request", args=[connection.invite_token])
    visitor = Client(HTTP_ACCEPT_LANGUAGE="nl-NL,nl;q=0.9,en;q=0.5")
    response = visitor.post(
        reverse("enrolment:signup") + "?next=" + join,
        {"full_name": "Daan de Vries", "email": "daan@example.nl", "password": "a long one 123"},
    )
    assert response.status_code == 302
    daan = User.objects.get(email="daan@example.nl")
    assert daan.language == "nl"
    confirmation = OutboundEmail.objects.get(template="driver_confirm_email")
    assert (confirmation.language, confirmation.subject) == ("nl", "Bevestig je e-mailadres")
    assert "Hallo Daan," in confirmation.text_body

    membership = make_membership(connection, daan, status="pending")
    services.membership_approve(actor=world.actor(world.nadia), membership=membership)
    connected = OutboundEmail.objects.get(template="driver_connected")
    assert connected.language == "nl"
    assert connected.subject == "Je bent aangesloten bij Voltlease Drivers"


def test_a_german_driver_reads_my_connections_in_german(world):
    connection = make_connection(world.org_a)
    greta = driver_speaking("de", email="greta@example.com", confirmed=True)
    make_membership(connection, greta)
    page = logged_in(greta).get(reverse("enrolment:my_connections"), HTTP_ACCEPT_LANGUAGE="en")
    html = main_part(page.content.decode())
    assert page["Content-Language"] == "de"
    for german in (
        "Meine Ladeprogramme",
        "Aufgenommen",
        "Angefragt am",
        "Laden zu Hause erstattet (bis zu 0,29\xa0€ pro kWh)",
        "Verlassen",
    ):
        assert german in html, german
    for english in ("My connections", "Requested", "Home charging reimbursed", ">Leave<"):
        assert english not in html, english


def test_the_driver_connected_email_to_a_french_driver_is_in_french(world):
    connection = make_connection(world.org_a)
    francois = driver_speaking("fr", email="francois@example.com", confirmed=True)
    membership = make_membership(connection, francois, status="pending")
    services.membership_approve(actor=world.actor(world.nadia), membership=membership)
    email = OutboundEmail.objects.get(template="driver_connected")
    assert email.to == ["francois@example.com"] and email.language == "fr"
    # The benefits are ours to say: in French, the connection's name as written.
    assert "Recharge à domicile remboursée (jusqu'à 0,29\xa0€ par kWh)" in email.text_body
    assert "Voltlease Drivers" in email.text_body
    # An English driver of the same organisation still reads English.
    emma = driver_speaking("", email="emma@example.com", confirmed=True)
    other = make_membership(make_connection(world.org_b), emma, status="pending")
    services.membership_approve(actor=world.actor(world.bob), membership=other)
    english = OutboundEmail.objects.get(template="driver_connected", to=["emma@example.com"])
    assert english.language == "en-gb"
    assert "Home charging reimbursed (up to €0.29 per kWh)" in english.text_body


def test_an_invitation_is_in_the_organisations_language_even_to_an_address_with_an_account(
    world, django_capture_on_commit_callbacks
):
    """The invitation goes in the organisation's default language: the address an admin
    typed is never looked up among the platform's accounts."""
    world.org_a.default_language = "nl"
    world.org_a.save(update_fields=["default_language"])
    connection = make_connection(world.org_a)
    driver_speaking("de", email="greta@example.com", confirmed=True)
    batch = invitation_batch_create(
        actor=world.actor(world.nadia),
        connection=connection,
        text="greta@example.com\nnew@example.com",
    )
    send_invitation_batch.call(batch_id=batch.pk)
    languages = {
        email.to[0]: email.language
        for email in OutboundEmail.objects.filter(template="driver_invitation")
    }
    assert languages == {"greta@example.com": "nl", "new@example.com": "nl"}
    assert batch.invitations.filter(status=InvitationStatus.SENT).count() == 2


def test_the_signed_terms_pdf_is_labelled_in_the_drivers_language(world):
    connection = make_connection(
        world.org_a,
        custom_terms_enabled="yes",
        terms_text=TERMS,
        signed_terms_recipients="hr@voltlease.example",
    )
    greta = driver_speaking("de", email="greta@example.com", confirmed=True)
    membership = make_membership(connection, greta)
    TermsAcceptance.objects.create(
        membership=membership,
        driver=greta,
        text=TERMS,
        sha256=hashlib.sha256(TERMS.encode()).hexdigest(),
    )
    response = client_for(world.nadia).get(reverse("enrolment:signed_terms", args=[membership.pk]))
    text = PdfReader(io.BytesIO(response.content)).pages[0].extract_text()
    assert "Akzeptierte Nutzungsbedingungen" in text and "Fahrer" in text
    assert "unbekannt" in text and "Terms and conditions agreed" not in text
    assert TERMS in text  # the organisation's terms, as written


def test_the_signed_terms_record_the_language_they_were_shown_in(world):
    """Agreed on a German page: the copy stays German and says so, even after the
    driver switches to French."""
    from django.utils import translation

    connection = make_connection(
        world.org_a, custom_terms_enabled="yes", terms_text=TERMS, signed_terms_recipients=""
    )
    greta = driver_speaking("de", email="greta@example.com", confirmed=True)
    membership = make_membership(connection, greta)
    with translation.override("de"):  # the join page's language
        acceptance = services.terms_accept(membership=membership, ip_address="192.0.2.1")
    assert acceptance.language == "de"
    speaking(greta, "fr")
    response = client_for(world.nadia).get(reverse("enrolment:signed_terms", args=[membership.pk]))
    text = PdfReader(io.BytesIO(response.content)).pages[0].extract_text()
    assert "Akzeptierte Nutzungsbedingungen" in text
    assert "Angezeigt in" in text and "Deutsch" in text
