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

import re
from functools import cache
from html.parser import HTMLParser

import pytest
from django.test import Client

from evdms.accounts.models import Role, User
from evdms.accounts.permissions import ROLE_PERMISSIONS
from evdms.notifications.services import email_render
from evdms.notifications.tests.test_text_not_escaped import _context, _kinds
from evdms.testing.fixtures import client_for
from evdms.ui.translations import message_files, read_catalog
from evdms.web.tests.test_routes import fill, page_routes, protected_page_routes

# Text read by people, in tags' visible attributes too.
_SHOWN_ATTRIBUTES = {"title", "aria-label", "placeholder", "alt"}
_HIDDEN_TAGS = {"script", "style", "template"}


class _VisibleText(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.texts: list[str] = []
        self._hidden = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _HIDDEN_TAGS:
            self._hidden += 1
        self.texts += [v for k, v in attrs if k in _SHOWN_ATTRIBUTES and v]

    def handle_endtag(self, tag: str) -> None:
        if tag in _HIDDEN_TAGS and self._hidden:
            self._hidden -= 1

    def handle_data(self, data: str) -> None:
        if not self._hidden:
            self.texts.append(data)


def visible_texts(page: str) -> set[str]:
    parser = _VisibleText()
    parser.feed(page)
    return {" ".join(t.split()) for t in parser.texts if t.strip()}


@cache
def english_with_german() -> frozenset[str]:
    """Every English message whose German differs (a word both languages write alike,
    "Status", is no sign of anything), without placeholders (those never show as
    they are written) and of two letters or more; nor one that is also German for
    something else ("Start", German for "Home")."""
    found: set[str] = set()
    german: set[str] = set()
    for path in message_files():
        if path.parts[-3] != "de":
            continue
        for message in read_catalog(path):
            ids = [str(t) for t in (message.id if isinstance(message.id, tuple) else [message.id])]
            strings = [
                str(t)
                for t in (message.string if isinstance(message.string, tuple) else [message.string])
            ]
            german.update(" ".join(t.split()) for t in strings if t)
            for english in ids:
                if not english or "%" in english or "{" in english or len(english) < 2:
                    continue
                if not re.search(r"[A-Za-z]{2}", english) or english in strings:
                    continue
                found.add(" ".join(english.split()))
    return frozenset(found - german)


def english_on(response) -> list[str]:
    if response.status_code != 200 or "html" not in response.get("Content-Type", ""):
        return []
    return sorted(visible_texts(response.content.decode()) & english_with_german())


def _german(user: User) -> User:
    user.language = "de"
    user.save(update_fields=["language"])
    return user


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
    _german(admin.user)
    response = client_for(admin).get(url)
    assert response.status_code < 500
    assert english_on(response) == []


@pytest.mark.django_db
@pytest.mark.parametrize(("name", "pattern"), _routes("login"))
def test_every_page_of_a_driver_reads_german_for_a_german_driver(world, name, pattern):
    url = fill(pattern, world)  # Dora's things, where the page is about one
    dora = User.objects.filter(email="dora@example.com").first()
    dora = _german(dora or User.objects.create_user("dora@example.com", "dora's passphrase 1"))
    client = Client()
    client.force_login(dora, backend="evdms.accounts.backends.EmailBackend")
    response = client.get(url)
    assert response.status_code < 500
    assert english_on(response) == []


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("name", "pattern"), [(n, p) for n, p in _routes("public") if "<" not in p]
)
def test_every_public_page_reads_german_for_a_german_browser(name, pattern):
    response = Client(HTTP_ACCEPT_LANGUAGE="de").get("/" + pattern)
    assert response.status_code < 500
    assert english_on(response) == []


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
    lines = {" ".join(line.split()) for line in f"{email.subject}\n{email.text_body}".splitlines()}
    shown = lines | visible_texts(email.html_body)
    assert sorted(shown & english_with_german()) == []
    assert 'lang="de"' in email.html_body
