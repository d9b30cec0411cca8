"""Every table of every page sits in a scrolling .table-wrap: on a phone a table wider
than the screen scrolls inside its own box instead of widening the page (app.css lets
no table cell break a word, so a table can be wider than a phone)."""

from __future__ import annotations

import re
from pathlib import Path

EVDMS = Path(__file__).resolve().parents[2]
# E-mails carry their own inline layout for mail clients; they are not pages.
NOT_PAGES = ("/email/",)
WRAP = re.compile(r'<div class="table-wrap"[^>]*>\s*$')


def _unwrapped_tables(text: str) -> list[int]:
    lines = []
    for match in re.finditer(r"<table\b", text):
        if not WRAP.search(text[: match.start()]):
            lines.append(text.count("\n", 0, match.start()) + 1)
    return lines


def test_every_table_in_a_page_template_is_in_a_table_wrap():
    unwrapped = [
        f"{path.relative_to(EVDMS)}:{line}"
        for path in sorted(EVDMS.rglob("templates/**/*.html"))
        if not any(part in path.as_posix() for part in NOT_PAGES)
        for line in _unwrapped_tables(path.read_text(encoding="utf-8"))
    ]
    assert unwrapped == []


def test_the_check_finds_a_bare_table():
    assert _unwrapped_tables("<p>x</p>\n<table><tr><td>1</td></tr></table>") == [2]
    assert _unwrapped_tables('<div class="table-wrap">\n<table></table></div>') == []
