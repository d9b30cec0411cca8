"""OCPI's own middleware chain (evdms/ocpi/middleware.py): no session, cookie or CSRF for
partners' machines; the HTTPS, HSTS, Host and framing protections kept; and, with
database connections now kept between requests, a rotated or withdrawn token C refused
on the very next request."""

from __future__ import annotations

import logging
from typing import Any

import pytest
from django.test import Client

from evdms.accounts.keyed_hash import keyed_hash
from evdms.ocpi.models import Partner
from evdms.ocpi.services import new_token, partner_unregister
from evdms.ocpi.tests.conftest import http
from evdms.ocpi.tests.test_tokens_object import make_token
from evdms.ocpi.tests.test_transport import b64, registered
from evdms.ocpi.transport import TOKEN_C_PURPOSE
from evdms.testing.fixtures import World, client_for


def authorize(client: Client, uid: str, token: str | None, **extra: Any) -> Any:
    if token:
        extra["HTTP_AUTHORIZATION"] = b64(token)
    return client.post(
        f"/ocpi/2.2.1/tokens/{uid}/authorize", content_type="application/json", **extra
    )


@pytest.mark.django_db
def test_an_ocpi_answer_sets_no_cookie_even_to_a_logged_in_browser(world: World):
    _, token = registered()
    card = make_token()
    browser = client_for(world.nadia)
    browser.cookies.load({"csrftoken": "x" * 32})

    response = authorize(browser, card.uid, token)

    assert response.status_code == 200 and response.json()["data"]["allowed"] == "ALLOWED"
    assert "Set-Cookie" not in response.headers and not response.cookies
    # The session was never read: the answer does not vary with the cookie.
    assert "Cookie" not in response.headers.get("Vary", "")
    # A log-in to the site is no OCPI credential.
    refused = authorize(browser, card.uid, None)
    assert refused.status_code == 401 and refused.json()["status_code"] == 2000
    # The site's pages still have their session (the same client, the site's chain).
    page = browser.get("/dashboard/")
    assert page.status_code == 200 and "Nadia Manager" in page.content.decode()


@pytest.mark.django_db
def test_an_ocpi_post_needs_no_csrf_token():
    _, token = registered()
    card = make_token()
    strict = Client(enforce_csrf_checks=True)
    assert authorize(strict, card.uid, token).json()["data"]["allowed"] == "ALLOWED"


@pytest.mark.django_db
def test_ocpi_answers_keep_the_security_headers(settings):
    settings.SECURE_HSTS_SECONDS = 3600
    _, token = registered()
    card = make_token()

    response = authorize(Client(), card.uid, token, secure=True)

    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["X-Frame-Options"] == "DENY"
    assert (
        response.headers["Content-Security-Policy"] == "default-src 'none'; frame-ancestors 'none'"
    )
    assert response.headers["Strict-Transport-Security"] == "max-age=3600"
    assert response.headers["Referrer-Policy"] == "same-origin"


@pytest.mark.django_db
def test_plain_http_is_redirected_to_https_when_the_site_is(settings):
    settings.SECURE_SSL_REDIRECT = True
    _, token = registered()
    response = authorize(Client(), make_token().uid, token)
    assert response.status_code == 301
    assert response.headers["Location"].startswith("https://testserver/ocpi/2.2.1/tokens/")


@pytest.mark.django_db
def test_a_host_not_allowed_is_refused(settings):
    settings.ALLOWED_HOSTS = ["evdms.example.org"]
    _, token = registered()
    card = make_token()
    assert authorize(Client(), card.uid, token, HTTP_HOST="evil.example").status_code == 400
    good = authorize(Client(), card.uid, token, HTTP_HOST="evdms.example.org")
    assert good.json()["data"]["allowed"] == "ALLOWED"


@pytest.mark.django_db
def test_an_unknown_token_is_answered_without_a_warning_per_request(caplog):
    _, token = registered()
    with caplog.at_level(logging.WARNING, logger="django.request"):
        response = authorize(Client(), "NOT-OURS-1", token)
    assert response.status_code == 404 and response.json()["status_code"] == 2004
    assert "Not Found" not in caplog.text
    # A URL that is no OCPI endpoint at all is still worth a warning.
    with caplog.at_level(logging.WARNING, logger="django.request"):
        assert Client().get("/ocpi/2.2.1/nothing-here").status_code == 404
    assert "Not Found: /ocpi/2.2.1/nothing-here" in caplog.text


@pytest.mark.django_db(transaction=True)
def test_a_rotated_or_withdrawn_token_c_stops_working_on_the_next_request(platform):
    """Over the live server (its own thread and database connection), right after the
    change is committed: nothing about a partner's credentials is cached."""
    partner, old = registered()
    card = make_token()
    url = f"{platform}/ocpi/2.2.1/tokens/{card.uid}/authorize"
    assert http("POST", url, old).body["data"]["allowed"] == "ALLOWED"

    # What partner_update_credentials stores (its PUT needs the partner's server).
    new = new_token()
    Partner.objects.filter(pk=partner.pk).update(
        token_c_hash=keyed_hash(new, purpose=TOKEN_C_PURPOSE)
    )
    assert http("POST", url, old).status == 401
    assert http("POST", url, new).body["data"]["allowed"] == "ALLOWED"

    partner_unregister(Partner.objects.get(pk=partner.pk))
    refused = http("POST", url, new)
    assert refused.status == 401 and refused.body["status_code"] == 2000


@pytest.mark.django_db
def test_a_token_c_hashed_with_a_retired_key_works_and_is_rehashed(settings):
    """SECRET_KEY rotated, the old one kept as a fallback: the partner's token still
    works, and its stored hash becomes the current key's (only then; not per request)."""
    partner, token = registered()
    old_hash = partner.token_c_hash
    settings.SECRET_KEY_FALLBACKS = [settings.SECRET_KEY]
    settings.SECRET_KEY = "a-new-secret-key-" + "x" * 50
    card = make_token()

    assert authorize(Client(), card.uid, token).json()["data"]["allowed"] == "ALLOWED"
    partner.refresh_from_db()
    assert partner.token_c_hash == keyed_hash(token, purpose=TOKEN_C_PURPOSE) != old_hash
    assert authorize(Client(), card.uid, token).json()["data"]["allowed"] == "ALLOWED"
    # Once the fallback is dropped the token still works: its hash is the current key's.
    settings.SECRET_KEY_FALLBACKS = []
    assert authorize(Client(), card.uid, token).json()["data"]["allowed"] == "ALLOWED"
