"""Every e-mail's subject and plain-text part come out as typed, and its HTML part
escaped (issue #18: an organisation named ``Walk & Co's`` gave the subject
``Walk &amp; Co&#x27;s … invites you``).

Each e-mail kind is rendered with a context in which every value — names, messages,
addresses, whatever the template reads — is text full of the characters HTML escapes.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from evdms.notifications.services import email_render

TRICKY = 'Walk & Co\'s "XX" <b>'
ESCAPES = ("&amp;", "&#x27;", "&#39;", "&quot;", "&lt;", "&gt;")
ROOT = Path(__file__).resolve().parents[2]
_MOMENT = datetime(2026, 12, 1, 9, 30, tzinfo=UTC)


def _kinds() -> list[str]:
    return sorted(
        {
            path.name.removesuffix(".subject.txt")
            for path in ROOT.glob("*/templates/notifications/email/*.subject.txt")
        }
    )


class Anything(str):
    """Text that is also any object a template may walk into: every attribute, item or
    element is the same text again (ids and counts are numbers, so URLs still reverse)."""

    def __new__(cls) -> Anything:
        return super().__new__(cls, TRICKY)

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__"):
            raise AttributeError(name)
        if name in ("pk", "id") or name.endswith(("_id", "_pk", "count", "total")):
            return 1
        if hasattr(_MOMENT, name):  # a date filter reads .month, .utcoffset() …
            return getattr(_MOMENT, name)
        return Anything()

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return self

    def __getitem__(self, key: Any) -> Any:
        if isinstance(key, str) and key.endswith("count"):  # a template's ``a.count``
            return 1  # a number, as ``{% blocktranslate count %}`` needs
        return Anything()

    def __iter__(self) -> Any:
        return iter([Anything()])


def _context(kind: str) -> dict[str, Any]:
    """Every name the kind's templates use, as ``Anything``."""
    words: set[str] = set()
    for path in ROOT.glob(f"*/templates/notifications/email/{kind}.*"):
        for tag in re.findall(r"\{[{%](.*?)[}%]\}", path.read_text(), flags=re.S):
            words.update(re.findall(r"(?<![.'\"\w])([a-z_][a-z0-9_]*)", tag))
    context: dict[str, Any] = {word: Anything() for word in words - {"site_url"}}
    if "count" in context:
        context["count"] = 2  # a plural's number
    return context


@pytest.mark.django_db
@pytest.mark.parametrize("kind", _kinds())
def test_the_subject_and_text_are_as_typed_and_the_html_escaped(kind):
    email = email_render(to=["x@example.com"], template=kind, context=_context(kind))
    for part in (email.subject, email.text_body):
        assert not any(escape in part for escape in ESCAPES), (kind, part[:400])
    if TRICKY in email.html_body or "&amp;" in email.html_body:
        assert TRICKY not in email.html_body  # the HTML part keeps escaping what it shows


def test_every_kind_is_covered():
    assert len(_kinds()) >= 20
