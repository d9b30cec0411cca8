"""What the tests of issue #19 (every page, e-mail and PDF in its reader's language)
share: people speaking a language, logged in, and the reader that finds English left in
what they see.

The reader: every piece of visible text (and the attributes a person reads) that is an
English source message whose translation into the language differs is English left on
the page. A message the language writes the same ("Status", "Postcode") is no sign of
anything, nor one with placeholders (those never show as written), nor one that is
also the language's own word for something else ("Start", German for "Home").
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from functools import cache
from html.parser import HTMLParser
from typing import Any

from django.test import Client
from django.utils import timezone, translation

from evdms.accounts.models import Admin, User
from evdms.ui.translations import message_files, read_catalog

# --- people speaking a language ---------------------------------------------------------

DRIVER_PASSWORD = "dora's passphrase 1"


def speaking(user: User, language: str) -> User:
    """``user``, who chose ``language`` on their Account page ("" for none)."""
    user.language = language
    user.save(update_fields=["language"])
    return user


def logged_in(user: User) -> Client:
    client = Client()
    client.force_login(user, backend="evdms.accounts.backends.EmailBackend")
    return client


def admin_speaking(admin: Admin, language: str) -> Client:
    """A client of ``admin``, logged in, whose account language is ``language``."""
    assert admin.user is not None
    speaking(admin.user, language)
    return logged_in(admin.user)


def driver_speaking(
    language: str,
    *,
    email: str = "dora@example.com",
    full_name: str = "Dora Driver",
    confirmed: bool = False,
) -> User:
    """A driver's account in ``language`` ("" for none), its address confirmed or not."""
    return User.objects.create_user(
        email,
        DRIVER_PASSWORD,
        full_name=full_name,
        language=language,
        email_confirmed_at=timezone.now() if confirmed else None,
    )


def main_part(html: str) -> str:
    """The page's own part (the navigation around it is another app's)."""
    return html.split('<main id="main"', 1)[1].split("</main>", 1)[0]


def translated(language: str, message: str) -> str:
    """``message`` as the product shows it in ``language`` (to find a button by)."""
    with translation.override(language):
        return translation.gettext(message)


# --- English left in what a reader sees -------------------------------------------------

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


def _texts(value: Any) -> list[str]:
    return [str(t) for t in (value if isinstance(value, tuple) else [value])]


@cache
def english_with_translation(language: str) -> frozenset[str]:
    """Every English message whose translation into ``language`` differs, of two
    letters or more, without placeholders, and not the language's own text elsewhere."""
    found: set[str] = set()
    own: set[str] = set()
    for path in message_files():
        if path.parts[-3] != language:
            continue
        for message in read_catalog(path):
            strings = _texts(message.string)
            own.update(" ".join(t.split()) for t in strings if t)
            for english in _texts(message.id):
                if not english or "%" in english or "{" in english or len(english) < 2:
                    continue
                if not re.search(r"[A-Za-z]{2}", english) or english in strings:
                    continue
                found.add(" ".join(english.split()))
    if not found:
        raise LookupError(f"no message files for {language!r}")
    return frozenset(found - own)


def english_in(texts: Iterable[str], language: str) -> list[str]:
    """The texts that are English messages ``language`` translates, sorted."""
    return sorted(set(texts) & english_with_translation(language))


def english_on(response: Any, language: str) -> list[str]:
    """English left on a Django test client's HTML page."""
    if response.status_code != 200 or "html" not in response.get("Content-Type", ""):
        return []
    return english_in(visible_texts(response.content.decode()), language)


def email_texts(subject: str, text_body: str, html_body: str) -> set[str]:
    """What the reader of an e-mail sees: its subject, each line of its text part and
    the visible text of its HTML part."""
    lines = {" ".join(line.split()) for line in f"{subject}\n{text_body}".splitlines()}
    return (lines | visible_texts(html_body)) - {""}


def assert_page_in(page: Any, language: str) -> None:
    """A Playwright page is in ``language``: its ``<html lang>`` says so and none of its
    text is English that the language translates."""
    page.wait_for_load_state("load")
    assert page.locator("html").get_attribute("lang") == language, page.url
    english = english_in(visible_texts(page.content()), language)
    assert english == [], f"{page.url}: English on a page in {language}: {english}"
