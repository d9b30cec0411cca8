"""The message files: where they are, compiling them, and what is wrong with them.

Each app keeps its own ``locale/<language>/LC_MESSAGES/django.po`` (Django finds them
through INSTALLED_APPS), so the apps are translated independently. They are compiled
with Babel, not GNU gettext's msgfmt: running the product needs no system package.
``make messages`` extracts new strings (that does use gettext's xgettext, through
Django's makemessages: a developer's step, never a user's).
"""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from django.conf import settings

SOURCE_LANGUAGE = "en-gb"
ROOT = Path(__file__).resolve().parents[1]  # the evdms package


def translated_languages() -> list[str]:
    """Every language but the source one: nl, de, fr."""
    return [code for code, _name in settings.LANGUAGES if code != SOURCE_LANGUAGE]


def message_files() -> list[Path]:
    return sorted(ROOT.glob("*/locale/*/LC_MESSAGES/django.po"))


def read_catalog(path: Path) -> Catalog:
    language = path.parent.parent.name
    with path.open("rb") as file:
        return read_po(file, locale=language, abort_invalid=True)


def compile_file(path: Path) -> Path:
    """``django.po`` → ``django.mo`` beside it, written whole or not at all (test
    workers may compile at once). Fuzzy entries are left out, as msgfmt does."""
    catalog = read_catalog(path)
    target = path.with_suffix(".mo")
    handle, temporary = tempfile.mkstemp(dir=path.parent, suffix=".mo-new")
    try:
        with os.fdopen(handle, "wb") as file:
            write_mo(file, catalog, use_fuzzy=False)
        os.replace(temporary, target)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return target


def compile_all() -> list[Path]:
    return [compile_file(path) for path in message_files()]


@dataclass(frozen=True)
class Problem:
    path: Path
    message: str
    what: str

    def __str__(self) -> str:
        return f"{self.path.relative_to(ROOT.parent)}: {self.message!r}: {self.what}"


def problems(path: Path) -> list[Problem]:
    """What keeps a message file from being complete: an entry without a translation,
    a fuzzy one, or one whose placeholders differ from the source's."""
    catalog = read_catalog(path)
    found: list[Problem] = []
    for message in catalog:
        if not message.id:
            continue  # the header
        source = message.id if isinstance(message.id, str) else message.id[0]
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        if not all(strings):
            found.append(Problem(path, source, "not translated"))
        elif message.fuzzy:
            found.append(Problem(path, source, "fuzzy (to be checked)"))
    for message, errors in catalog.check():
        source = message.id if isinstance(message.id, str) else message.id[0]
        found.extend(Problem(path, source, str(error)) for error in errors)
    return found
