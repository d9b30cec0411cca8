"""Issue #19: every string a person reads is marked for translation, and every message
file is complete, compiles and matches its sources.

``NOT_YET_MARKED`` (below) lists the files still holding unmarked English while the
product is being translated, app by app. It only shrinks: a listed file that is clean
fails the test until it is taken off the list, and any other file with unmarked English
fails at once.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

from evdms.testing.untranslated import ROOT, findings_by_file, is_english, template_findings
from evdms.ui.translations import message_files, problems, read_catalog, translated_languages

NOT_YET_MARKED: set[str] = set()

# Apps whose message files are still being translated (entries may be empty).
NOT_YET_TRANSLATED: set[str] = set()


def test_no_english_is_left_unmarked_for_translation():
    found = findings_by_file()
    unmarked = [
        str(f)
        for path, fs in found.items()
        if str(path.relative_to(ROOT)) not in NOT_YET_MARKED
        for f in fs
    ]
    assert not unmarked, "English not marked for translation:\n" + "\n".join(unmarked)


def test_the_list_of_files_still_to_mark_only_shrinks():
    found = {str(path.relative_to(ROOT)) for path in findings_by_file()}
    clean = sorted(NOT_YET_MARKED - found)
    assert not clean, f"these files are marked now: take them off NOT_YET_MARKED: {clean}"


def test_every_message_file_is_complete_and_its_placeholders_match():
    issues = [
        str(problem)
        for path in message_files()
        if path.relative_to(ROOT).parts[0] not in NOT_YET_TRANSLATED
        for problem in problems(path)
    ]
    assert not issues, "\n".join(issues)


def test_every_app_with_strings_speaks_every_language():
    apps = {path.relative_to(ROOT).parts[0] for path in message_files()}
    missing = [
        f"{app}: {language}"
        for app in sorted(apps)
        for language in translated_languages()
        if not (ROOT / app / "locale" / language / "LC_MESSAGES" / "django.po").exists()
    ]
    assert apps and not missing


def _msgids(path: Path) -> set[str]:
    return {
        message.id if isinstance(message.id, str) else message.id[0]
        for message in read_catalog(path)
        if message.id
    }


def test_the_message_files_hold_exactly_the_strings_of_the_sources(tmp_path):
    """Extract afresh (Django's makemessages) from a copy of the sources and compare:
    a string added to a page without ``make messages`` fails here."""
    copy = tmp_path / "src"
    shutil.copytree(
        ROOT, copy / "evdms", ignore=shutil.ignore_patterns("*.mo", "__pycache__", "tests")
    )
    shutil.copy(ROOT.parent / "manage.py", copy / "manage.py")
    stale = []
    for po in (p for p in message_files() if p.parts[-3] == "nl"):
        app = po.relative_to(ROOT).parts[0]
        subprocess.run(
            [
                sys.executable,
                "../../manage.py",
                "makemessages",
                "-l",
                "nl",
                "--no-obsolete",
                "--add-location",
                "never",
                "-i",
                "tests",
                "-i",
                "migrations",
            ],
            cwd=copy / "evdms" / app,
            check=True,
            capture_output=True,
        )
        fresh = _msgids(copy / "evdms" / app / "locale" / "nl" / "LC_MESSAGES" / "django.po")
        for language in translated_languages():
            kept = _msgids(po.parents[2] / language / "LC_MESSAGES" / "django.po")
            if fresh != kept:
                new, gone = sorted(fresh - kept)[:5], sorted(kept - fresh)[:5]
                stale.append(f"{app} {language}: new {new}, gone {gone}")
    assert not stale, "run `make messages` and translate:\n" + "\n".join(stale)


def test_the_reader_finds_english_in_text_attributes_and_filters_but_not_in_marked_text(tmp_path):
    page = tmp_path / "page.html"
    page.write_text(
        '{% load i18n %}<h1>{% translate "Drivers" %}</h1>'
        "<p>{% blocktranslate %}Hello {{ name }}{% endblocktranslate %}</p>"
        '<button title="Remove the driver">×</button>'
        '<td>{{ when|date:"j M Y"|default:"never" }}</td>'
        '<td>{{ when|default:_("never") }}</td>'
        "<p>EUR · kWh · IBAN</p>{% comment %}Not shown{% endcomment %}"
        "<p>Save</p>"
    )
    texts = [finding.text for finding in template_findings(page)]
    assert texts == ["Remove the driver", "never", "Save"]
    assert not is_english("EUR 12.50 · 3 kWh") and is_english("3 kWh charged")
