"""Issue #19: "… ago" reads as each language writes it, the whole phrase translated
(German needs the dative after "vor": "vor 2 Tagen", not "vor 2 Tage")."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from django.template import Context, Template
from django.utils import translation

from evdms.ui.time_ago import time_ago

NOW = datetime(2026, 12, 3, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("language", "delta", "expected"),
    [
        ("en-gb", timedelta(days=2, hours=3), "2 days ago"),
        ("en-gb", timedelta(days=1), "1 day ago"),
        ("en-gb", timedelta(seconds=20), "just now"),
        ("de", timedelta(days=2, hours=3), "vor 2 Tagen"),
        ("de", timedelta(days=1), "vor 1 Tag"),
        ("de", timedelta(days=65), "vor 2 Monaten"),
        ("de", timedelta(days=800), "vor 2 Jahren"),
        ("de", timedelta(hours=5), "vor 5 Stunden"),
        ("de", timedelta(minutes=1), "vor 1 Minute"),
        ("nl", timedelta(days=2), "2 dagen geleden"),
        ("nl", timedelta(hours=3), "3 uur geleden"),
        ("nl", timedelta(days=14), "2 weken geleden"),
        ("fr", timedelta(days=2), "il y a 2 jours"),
        ("fr", timedelta(days=1), "il y a 1 jour"),
        ("fr", timedelta(minutes=40), "il y a 40 minutes"),
        ("fr", timedelta(seconds=5), "à l'instant"),
    ],
)
def test_how_long_ago_reads_as_the_language_writes_it(language, delta, expected):
    with translation.override(language):
        assert time_ago(NOW - delta, now=NOW) == expected


def test_a_moment_a_little_ahead_of_the_clock_is_now():
    assert time_ago(NOW + timedelta(seconds=3), now=NOW) == "just now"


def test_the_template_filter_writes_the_whole_phrase():
    moment = datetime.now(UTC) - timedelta(days=2, minutes=1)
    with translation.override("de"):
        text = Template("{% load evdms %}{{ moment|ago }}").render(Context({"moment": moment}))
    assert text == "vor 2 Tagen"
