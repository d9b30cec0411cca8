"""Issue #19: the log-in, account and admin pages, their messages and the accounts
e-mails in the reader's language."""

from __future__ import annotations

import html

import pytest
from django.core.exceptions import ValidationError
from django.template.loader import render_to_string
from django.test import Client
from django.urls import reverse
from django.utils import translation

from evdms.accounts.models import User
from evdms.accounts.services.billing import clean_vat_number
from evdms.notifications.models import OutboundEmail
from evdms.testing.fixtures import client_for

pytestmark = pytest.mark.django_db


def _text(response) -> str:
    return html.unescape(response.content.decode())


def test_the_log_in_page_is_german_for_a_german_browser():
    page = _text(Client().get(reverse("accounts:login"), HTTP_ACCEPT_LANGUAGE="de-DE,de;q=0.9"))
    assert '<html lang="de">' in page
    for german in ("<title>Anmelden · evdms</title>", "<h1>Anmelden</h1>", "E-Mail-Adresse"):
        assert german in page, german
    assert "Passwort vergessen?" in page and "Zum Inhalt springen" in page
    for english in ("Log in", "Forgotten your password?", "E-mail address", "Skip to content"):
        assert english not in page, english


def test_a_wrong_password_is_refused_in_dutch():
    User.objects.create_user("dora@example.com", "dora's passphrase 1", full_name="Dora")
    page = _text(
        Client().post(
            reverse("accounts:login"),
            {"username": "dora@example.com", "password": "wrong"},
            HTTP_ACCEPT_LANGUAGE="nl",
        )
    )
    assert "Dit e-mailadres en wachtwoord horen niet bij een account." in page


def test_a_french_network_manager_reads_the_admins_page_and_its_messages_in_french(world):
    User.objects.filter(pk=world.nadia.user_id).update(language="fr")
    client = client_for(world.nadia)
    page = _text(client.get(reverse("accounts:admins")))
    for french in (
        "<h1>Administrateurs</h1>",
        "Administrateurs de Voltlease",
        "Inviter un administrateur",
        "Gestionnaire de réseau",  # the role of an admin, from the model's choices
        "Chargé des programmes",
        "Envoyer l'invitation",
        "Tableau de bord",  # the navigation
    ):
        assert french in page, french
    for english in ("Invite an admin", "Send invitation", "Last log-in", "Network Manager"):
        assert english not in page, english
    response = client.post(
        reverse("accounts:admins"),
        {"full_name": "Fay", "email": "fay@voltlease.example", "role": "analyst"},
        follow=True,
    )
    assert "Invitation envoyée à fay@voltlease.example." in _text(response)
    dashboard = _text(client.get(reverse("web:dashboard")))
    assert "vous êtes Gestionnaire de réseau" in dashboard


def test_a_german_network_manager_sees_settings_and_the_service_refusals_in_german(world):
    User.objects.filter(pk=world.nadia.user_id).update(language="de")
    client = client_for(world.nadia)
    page = _text(client.get(reverse("accounts:settings")))
    for german in ("<h1>Einstellungen</h1>", "API-Schlüssel", "Rechnungsdaten speichern"):
        assert german in page, german
    refused = _text(
        client.post(reverse("accounts:billing_update"), {"vat_number": "NL000000000B00"})
    )
    assert "Geben Sie eine EU-USt.-IdNr. mit Länderkennung ein, z. B. NL004495445B01." in refused
    # The API keeps its English whatever the page's language was.
    with pytest.raises(ValidationError) as english:
        clean_vat_number("NL000000000B00", "")
    assert english.value.messages[0].startswith("Enter an EU VAT number")


def test_a_password_reset_e_mail_to_a_german_user_is_german(
    world, django_capture_on_commit_callbacks
):
    User.objects.filter(pk=world.otto.user_id).update(language="de")
    with django_capture_on_commit_callbacks(execute=True):
        response = Client().post(
            reverse("accounts:password_reset"),
            {"email": "otto@voltlease.example"},
            HTTP_ACCEPT_LANGUAGE="en",  # whoever asks: the e-mail is in the owner's language
        )
    assert response.status_code == 302
    email = OutboundEmail.objects.get(template="password_reset")
    assert email.language == "de"
    assert '<html lang="de">' in email.html_body
    with translation.override("de"):
        subject = render_to_string("notifications/email/password_reset.subject.txt", using="text")
    assert email.subject == " ".join(subject.split())


def test_the_grant_e_mails_go_to_each_network_manager_in_their_language(
    world, django_capture_on_commit_callbacks
):
    User.objects.filter(pk=world.bob.user_id).update(language="nl")
    with django_capture_on_commit_callbacks(execute=True):
        response = client_for(world.nadia).post(
            reverse("accounts:grants"),
            {
                "grantee": world.org_b.public_id,
                "rights": ["manage_drivers"],
                "scope": "all",
                "description": "",
            },
        )
    assert response.status_code == 302
    sent = {e.to[0]: e for e in OutboundEmail.objects.filter(template="grant_created")}
    assert sent["bob@rival.example"].language == "nl"
    assert sent["nadia@voltlease.example"].language == "en-gb"
    assert "alle laadregelingen van Voltlease, nu en in de toekomst" in (
        sent["bob@rival.example"].text_body
    )
    assert "Bestuurders uitnodigen en goedkeuren" in sent["bob@rival.example"].text_body
