"""Issue #19: the frame every page shares (top bar, error pages, form fields, sizes)
speaks the user's language."""

from __future__ import annotations

import pytest
from django.test import Client
from django.utils import translation

from evdms.accounts.models import User
from evdms.ui.countries import country_choices, country_name
from evdms.ui.forms import size_text

pytestmark = pytest.mark.django_db


def _logged_in(language: str) -> Client:
    user = User.objects.create_user(
        "dirk@example.com", "dirk's passphrase 1", full_name="Dirk Driver", language=language
    )
    client = Client()
    client.force_login(user, backend="evdms.accounts.backends.EmailBackend")
    return client


def test_a_page_that_does_not_exist_is_dutch_for_a_dutch_driver():
    response = _logged_in("nl").get("/no-such-page/", HTTP_ACCEPT_LANGUAGE="en")
    page = response.content.decode()
    assert response.status_code == 404
    assert '<html lang="nl">' in page
    assert "<h1>Niet gevonden</h1>" in page
    assert "Hier is niets, of je hebt er geen toegang toe." in page
    assert "Naar de startpagina" in page
    # The driver's top bar too.
    for dutch in ("Mijn laadregelingen", "Thuisladen", "Vergoeding", "Uitloggen", "Naar de inhoud"):
        assert dutch in page
    for english in ("Not found", "Go to the start page", "My connections", "Log out", "Skip to"):
        assert english not in page


def test_the_error_pages_without_a_request_speak_the_active_language():
    from django.template.loader import render_to_string

    with translation.override("fr"):
        server_error = render_to_string("500.html")
        bad_request = render_to_string("400.html")
    assert '<html lang="fr">' in server_error and "Un problème est survenu" in server_error
    assert "Something" not in server_error
    assert "Aller à la page d'accueil" in bad_request and "Go to" not in bad_request


def test_sizes_and_countries_read_as_the_language_writes_them():
    with translation.override("de"):
        assert size_text(6_000_011) == "5,7 MB (6.000.011 Bytes)"
        assert size_text(1) == "1 Byte"
        assert country_name("NL") == "Niederlande"
        choices = country_choices()
        assert str(choices[0][1]) == "Auswählen…"
        assert ("DE", "Deutschland (DE)") in choices
    with translation.override("fr"):
        assert size_text(5 * 1_048_576) == "5 Mo (5\u202f242\u202f880 octets)"
    assert size_text(6_000_011) == "5.7 MB (6,000,011 bytes)"
    assert country_name("NL") == "Netherlands"
