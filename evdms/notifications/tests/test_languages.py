"""E-mails in their recipient's language (issue #19): subject, text and HTML parts
translated, the HTML part declaring its language, and dates with the language's month
names and format, whatever language was active where the e-mail was caused."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from types import SimpleNamespace
from typing import Any

import pytest
from django.utils import translation

from evdms.notifications.moments import moment_text
from evdms.notifications.services import email_render

MOMENT = datetime(2026, 12, 1, 9, 30, tzinfo=UTC)  # 10:30 in Amsterdam

# Text of the English e-mails that must not be left in a translated one.
ENGLISH = (
    "Hello",
    "If the button does not work",
    "This message was sent by the platform",
    "You are connected",
    "You are now connected",
    "See your connections",
    "reimbursement statement",
    "home charging",
    "It will be paid",
    "attached as a PDF",
    "December",
    "invites you",
)


def _driver() -> SimpleNamespace:
    return SimpleNamespace(get_short_name="Anna", get_full_name="Anna Berg", email="a@example.com")


def _connection() -> SimpleNamespace:
    return SimpleNamespace(
        name="Home", name_for_drivers="Voltlease", benefits=["Home charging reimbursed"]
    )


def _context(template: str) -> dict[str, Any]:
    if template == "driver_invitation":
        return {"connection": _connection(), "link": "https://evdms.example/join/abc/"}
    if template == "driver_connected":
        return {"connection": _connection(), "membership": SimpleNamespace(driver=_driver())}
    if template == "reimbursement_statement":
        statement = SimpleNamespace(
            driver=_driver(),
            reference="RS-2026-12-0001",
            month=date(2026, 12, 1),
            total=Decimal("42.50"),
            currency="EUR",
            lines=SimpleNamespace(count=3),
            carry_overs=SimpleNamespace(all=[]),
            status="ready",
            held_reason="",
            bank_account=SimpleNamespace(iban_last4="4300"),
        )
        return {"statement": statement}
    if template == "driver_removed":
        return {
            "connection": _connection(),
            "membership": SimpleNamespace(driver=_driver(), ended_at=MOMENT),
        }
    if template == "driver_moved":
        # Written where an admin with an English page moved the driver: the moment is
        # put into words only when the e-mail is.
        with translation.override("en-gb"):
            moved_at = moment_text(MOMENT)
        return {
            "connection": _connection(),
            "old_connection": SimpleNamespace(name="Home 2025"),
            "membership": SimpleNamespace(driver=_driver()),
            "moved_at": moved_at,
        }
    raise AssertionError(template)


EXPECTED = {
    ("driver_invitation", "de"): (
        "Voltlease lädt Sie zu Ladeleistungen ein",
        ["Guten Tag,", "Voltlease lädt Sie zu seinen Leistungen für das Laden"],
        ["Teilnehmen", "Falls die Schaltfläche nicht funktioniert"],
    ),
    ("driver_invitation", "fr"): (
        "Voltlease vous invite à des avantages de recharge",
        ["Bonjour,", "Voltlease vous invite à profiter de ses avantages de recharge"],
        ["Rejoindre", "Si le bouton ne fonctionne pas"],
    ),
    ("driver_connected", "de"): (
        "Sie sind bei Voltlease aufgenommen",
        ["Guten Tag Anna,", "Sie sind jetzt bei Voltlease aufgenommen. Ihre Leistungen:"],
        ["Ihre Ladeprogramme ansehen:", "/my/connections/"],
    ),
    ("driver_connected", "fr"): (
        "Vous êtes inscrit à Voltlease",
        ["Bonjour Anna,", "Vous êtes désormais inscrit à Voltlease."],
        ["Voir vos programmes de recharge\u00a0:"],
    ),
    ("reimbursement_statement", "de"): (
        "Ihre Erstattung für das Laden zu Hause für Dezember 2026",
        [
            "Ihre Erstattungsabrechnung RS-2026-12-0001 für Dezember 2026:",
            "für 3 Ladevorgänge zu Hause.",
            "Sie wird auf das Konto mit der Endung 4300 ausgezahlt.",
        ],
        ["Die Erstattungsabrechnung ist als PDF angehängt."],
    ),
    ("reimbursement_statement", "fr"): (
        "Votre remboursement de recharge à domicile pour décembre 2026",
        [
            "Votre relevé de remboursement RS-2026-12-0001 pour décembre 2026\u00a0:",
            "pour 3 sessions de recharge à domicile.",
        ],
        ["Le relevé de remboursement est joint en PDF."],
    ),
}


@pytest.mark.parametrize(("template", "language"), sorted(EXPECTED))
def test_an_email_is_written_in_its_recipients_language(template, language):
    subject, in_both, in_html = EXPECTED[template, language]
    email = email_render(
        to=["a@example.com"], template=template, context=_context(template), language=language
    )
    assert email.language == language
    assert email.subject == subject
    assert "\n" not in email.subject
    for part in (email.text_body, email.html_body):
        for text in in_both:
            assert text in part, (template, language, part)
        for english in ENGLISH:
            assert english not in part, (template, language, english)
    for text in in_html:
        assert text in email.html_body
    assert f'<html lang="{language}">' in email.html_body
    assert not any(english in email.subject for english in ENGLISH)


def test_the_english_email_is_unchanged():
    email = email_render(
        to=["a@example.com"],
        template="reimbursement_statement",
        context=_context("reimbursement_statement"),
    )
    assert email.subject == "Your home charging reimbursement for December 2026"
    assert (
        "Your reimbursement statement RS-2026-12-0001 for December 2026: €42.50 for 3 home"
        " charging sessions." in email.text_body
    )
    assert '<html lang="en-gb">' in email.html_body


def test_a_german_email_writes_its_dates_in_german():
    removed = email_render(
        to=["a@example.com"],
        template="driver_removed",
        context=_context("driver_removed"),
        language="de",
    )
    for part in (removed.text_body, removed.html_body):
        assert "endeten am 1. Dezember 2026, 10:30." in part
    moved = email_render(
        to=["a@example.com"],
        template="driver_moved",
        context=_context("driver_moved"),
        language="de",
    )
    for part in (moved.text_body, moved.html_body):
        assert "am 1. Dezember 2026, 10:30 CET (Europe/Amsterdam) von" in part
        assert "December" not in part


@pytest.mark.parametrize(
    ("language", "text"),
    [
        ("en-gb", "1 December 2026 10:30 CET (Europe/Amsterdam)"),
        ("nl", "1 december 2026 10:30 CET (Europe/Amsterdam)"),
        ("de", "1. Dezember 2026, 10:30 CET (Europe/Amsterdam)"),
        ("fr", "1 décembre 2026 à 10:30 CET (Europe/Amsterdam)"),
    ],
)
def test_a_moment_is_written_in_the_active_language(language, text):
    made = moment_text(MOMENT)  # in words only when read, in the language active then
    with translation.override(language):
        assert str(made) == text
        assert str(moment_text(MOMENT)) == text
