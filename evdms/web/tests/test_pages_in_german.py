"""Issue #19: every page and every e-mail, rendered for a German reader, holds no
English the message files translate.

The static reader (``evdms.testing.untranslated``) finds text a template or form leaves
unmarked; this finds what is marked but still comes out in English when the page is
rendered: a string translated once at import time, a label built from English pieces,
a view that renders outside the reader's language. Every page an organisation's admin,
a driver or a visitor can open (the routes of ``test_routes``) is rendered for a user
whose language is German, and each piece of visible text that is an English message
with a different German translation is reported with its page.
"""

from __future__ import annotations

import pytest
from django.test import Client

from evdms.accounts.models import Role, User
from evdms.accounts.permissions import ROLE_PERMISSIONS
from evdms.notifications.services import email_render
from evdms.notifications.tests.test_text_not_escaped import _context, _kinds
from evdms.testing.fixtures import client_for
from evdms.testing.languages import (
    email_texts,
    english_in,
    english_on,
    logged_in,
    speaking,
    visible_texts,
)
from evdms.web.tests.test_routes import fill, page_routes, protected_page_routes


def _role_with(permission) -> Role:
    return next(role for role in Role if permission in ROLE_PERMISSIONS[role])


def _routes(access: str) -> list[tuple[str, str]]:
    return [(n, p) for n, p, c in page_routes() if getattr(c, "access", None) == access]


@pytest.mark.django_db
@pytest.mark.parametrize(("name", "pattern", "permission"), protected_page_routes())
def test_every_admin_page_reads_german_for_a_german_admin(world, name, pattern, permission):
    admin = world.admin_of_role(_role_with(permission))
    assert admin.user is not None
    url = fill(pattern, world)
    speaking(admin.user, "de")
    response = client_for(admin).get(url)
    assert response.status_code < 500
    assert english_on(response, "de") == []


@pytest.mark.django_db
@pytest.mark.parametrize(("name", "pattern"), _routes("login"))
def test_every_page_of_a_driver_reads_german_for_a_german_driver(world, name, pattern):
    url = fill(pattern, world)  # Dora's things, where the page is about one
    dora = User.objects.filter(email="dora@example.com").first()
    dora = speaking(
        dora or User.objects.create_user("dora@example.com", "dora's passphrase 1"), "de"
    )
    response = logged_in(dora).get(url)
    assert response.status_code < 500
    assert english_on(response, "de") == []


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("name", "pattern"), [(n, p) for n, p in _routes("public") if "<" not in p]
)
def test_every_public_page_reads_german_for_a_german_browser(name, pattern):
    response = Client(HTTP_ACCEPT_LANGUAGE="de").get("/" + pattern)
    assert response.status_code < 500
    assert english_on(response, "de") == []


def test_the_reader_of_pages_finds_english_text_and_titles_but_not_scripts():
    page = (
        '<main><h1>Fahrer</h1><button title="Remove the driver">×</button>'
        "<script>var x = 'Drivers';</script><p>  Bank   details </p></main>"
    )
    assert visible_texts(page) == {"Fahrer", "Remove the driver", "×", "Bank details"}


@pytest.mark.django_db
@pytest.mark.parametrize("kind", _kinds())
def test_every_email_reads_german_for_a_german_recipient(kind):
    email = email_render(to=["x@example.com"], template=kind, context=_context(kind), language="de")
    shown = email_texts(email.subject, email.text_body, email.html_body)
    assert english_in(shown, "de") == []
    assert 'lang="de"' in email.html_body
