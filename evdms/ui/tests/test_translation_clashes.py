"""Issue #19: one English string, one translation, whichever app's message file holds it.

Django merges every app's message files into one catalogue per language (grouped by
plural rule, in the order of INSTALLED_APPS), and where two apps translate the same
(context, msgid) differently one of them wins on every page: the German date filter of
the charging sessions ended "An" (to a person), an installer's quote had a "Zeile".
Where the meaning is the same, the translations are made the same; where it differs,
the string gets a context in the code (``pgettext``, ``{% translate "To" context
"date range" %}``) and so an entry of its own.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from pathlib import Path

from babel.messages.catalog import Message

from evdms.ui.translations import message_files, read_catalog

# What the merged catalogue is keyed by: gettext looks a plural message up by its
# singular msgid (and the count), a singular one by its msgid, each under its context.
Key = tuple[str | None, str, bool]


def _key(message: Message) -> Key:
    if isinstance(message.id, tuple):
        return (message.context, str(message.id[0]), True)
    return (message.context, str(message.id), False)


def _compiled(message: Message) -> bool:
    """In the .mo file: translated and not fuzzy (the completeness test reports the rest)."""
    strings = message.string if isinstance(message.string, tuple) else (message.string,)
    return bool(message.id) and all(strings) and not message.fuzzy


def _order(item: tuple[tuple[str, Key], object]) -> tuple[str, str, str, bool]:
    (language, (context, msgid, plural)), _translations = item
    return (language, msgid, context or "", plural)


def clashes(paths: Iterable[Path]) -> list[str]:
    """Each (language, context, msgid) two apps translate differently, with every app's
    translation. ``paths`` are ``<app>/locale/<language>/LC_MESSAGES/django.po``."""
    found: dict[tuple[str, Key], dict[tuple[str, ...], list[str]]] = defaultdict(
        lambda: defaultdict(list)
    )
    shown: dict[Key, str] = {}
    for path in paths:
        app, language = path.parents[3].name, path.parents[1].name
        for message in read_catalog(path):
            if not _compiled(message):
                continue
            key = _key(message)
            strings = message.string if isinstance(message.string, tuple) else (message.string,)
            found[language, key][tuple(str(s) for s in strings)].append(app)
            ids = message.id if isinstance(message.id, tuple) else (message.id,)
            shown[key] = " / ".join(repr(str(i)) for i in ids)
    return [
        f"{language} {'' if key[0] is None else f'[{key[0]}] '}{shown[key]}: "
        + "; ".join(
            f"{', '.join(sorted(apps))} {' / '.join(map(repr, strings))}"
            for strings, apps in sorted(translations.items(), key=lambda item: sorted(item[1]))
        )
        for (language, key), translations in sorted(found.items(), key=_order)
        if len(translations) > 1
    ]


def test_no_two_apps_translate_the_same_message_differently():
    found = clashes(message_files())
    assert not found, (
        "translated differently in two apps (same meaning: make them the same; "
        "another meaning: give the string a context):\n" + "\n".join(found)
    )


def _po(root: Path, app: str, language: str, entries: str) -> Path:
    path = root / app / "locale" / language / "LC_MESSAGES" / "django.po"
    path.parent.mkdir(parents=True)
    header = 'msgid ""\nmsgstr ""\n"Content-Type: text/plain; charset=UTF-8\\n"\n'
    header += '"Plural-Forms: nplurals=2; plural=(n != 1);\\n"\n\n'
    path.write_text(header + entries, encoding="utf-8")
    return path


def test_the_reader_finds_a_message_two_apps_translate_differently_but_not_one_in_context(
    tmp_path,
):
    charging = _po(
        tmp_path,
        "charging",
        "de",
        'msgid "Home"\nmsgstr "Zu Hause"\n\n'
        'msgctxt "date range"\nmsgid "To"\nmsgstr "Bis"\n\n'
        'msgid "Save"\nmsgstr "Speichern"\n\n'
        'msgid "%(n)s session"\nmsgid_plural "%(n)s sessions"\n'
        'msgstr[0] "%(n)s Ladevorgang"\nmsgstr[1] "%(n)s Ladevorgänge"\n\n'
        '#, fuzzy\nmsgid "Note"\nmsgstr "Notiz"\n',
    )
    ui = _po(
        tmp_path,
        "ui",
        "de",
        'msgid "Home"\nmsgstr "Start"\n\n'
        'msgid "To"\nmsgstr "An"\n\n'
        'msgid "Save"\nmsgstr "Speichern"\n\n'
        'msgid "%(n)s session"\nmsgid_plural "%(n)s sessions"\n'
        'msgstr[0] "%(n)s Sitzung"\nmsgstr[1] "%(n)s Sitzungen"\n\n'
        'msgid "Note"\nmsgstr "Hinweis"\n',
    )
    assert clashes([charging, ui]) == [
        "de '%(n)s session' / '%(n)s sessions': charging '%(n)s Ladevorgang' / "
        "'%(n)s Ladevorgänge'; ui '%(n)s Sitzung' / '%(n)s Sitzungen'",
        "de 'Home': charging 'Zu Hause'; ui 'Start'",
    ]
