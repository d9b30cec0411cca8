"""Issue #19: what the product itself wrote about a session (its flags) and about a typed-in
charger password reads in the reader's language; the records and the API stay English."""

from __future__ import annotations

import html

import pytest
from django.urls import reverse
from django.utils import translation

from evdms.accounts.models import User
from evdms.charging.flags import flag_text
from evdms.charging.models import Charger, ChargingSession
from evdms.testing.fixtures import client_for, make_connection, make_home_session, make_membership

pytestmark = pytest.mark.django_db

FLAGS = [
    "energy 95000 Wh above the ceiling of 80000 Wh per session",
    "meter went down: 1200 → 1100 Wh",
    "start timestamp 2031-01-01T00:00:00+00:00 outside 2000-01-01 … 24 h ahead of now; "
    "the time it arrived is used",
    "StopTransaction for an unknown transaction",
]
GERMAN = [
    "Energie 95000 Wh über der Obergrenze von 80000 Wh pro Ladevorgang",
    "Zählerstand gesunken: 1200 → 1100 Wh",
    "Startzeit: Zeitstempel 2031-01-01T00:00:00+00:00 außerhalb von 2000-01-01 … jetzt + 24 h; "
    "die Empfangszeit wird verwendet",
    "StopTransaction für eine unbekannte Transaktion",
]


def _german_admin(world):
    User.objects.filter(pk=world.nadia.user_id).update(language="de")
    return client_for(world.nadia)


def test_a_german_admin_reads_a_held_sessions_flags_in_german(world):
    connection = make_connection(world.org_a, home_charging_data_sharing="yes")
    dan = User.objects.create_user("dan@example.com", "a long passphrase 1")
    make_membership(connection, dan)
    session = make_home_session(connection, dan, 95_000)
    ChargingSession.objects.filter(pk=session.pk).update(flags=FLAGS, review="pending")

    page = html.unescape(_german_admin(world).get(reverse("charging:sessions")).content.decode())

    for german in GERMAN:
        assert german in page, german
    for english in FLAGS:
        assert english not in page, english
    session.refresh_from_db()
    assert session.flags == FLAGS  # the record keeps the core's phrases


def test_a_flag_of_no_known_kind_is_shown_as_written():
    with translation.override("de"):
        assert flag_text("a partner's own words") == "a partner's own words"
        assert flag_text("meter stop 5 Wh below start 9 Wh") == (
            "Zählerstand beim Stopp 5 Wh unter dem beim Start 9 Wh"
        )


def test_a_refused_charger_password_reads_german_on_the_page_and_english_in_the_api(
    world, api_key_for, client
):
    page = html.unescape(
        _german_admin(world)
        .post(
            reverse("charging:charger_register"),
            {"identity": "OWN-1", "serial": "SN", "password": "a" * 20},
        )
        .content.decode()
    )
    assert "Dieses Passwort ist zu leicht zu erraten" in page
    assert "too easy to guess" not in page

    short = html.unescape(
        client_for(world.nadia)
        .post(
            reverse("charging:charger_register"),
            {"identity": "OWN-1", "serial": "SN", "password": "Vx7-kQ2m"},
        )
        .content.decode()
    )
    assert "Verwenden Sie 16 bis 40 Zeichen" in short and "Use 16 to 40" not in short

    answer = client.post(
        "/api/v1/chargers",
        data={"identity": "API-1", "serial": "SN", "password": "a" * 20},
        content_type="application/json",
        headers={**api_key_for(world.org_a), "Accept-Language": "de"},
    )
    assert answer.status_code == 422
    assert answer.json()["detail"][0]["msg"].startswith("This password is too easy to guess")
    assert not Charger.objects.exists()


def test_a_session_reviews_recorded_flags_and_hold_reason_read_in_the_readers_language(world):
    from evdms.audit.models import AuditEvent
    from evdms.audit.presentation import change_rows
    from evdms.charging.services import session_review
    from evdms.charging.services.sessions import sessions_hold
    from evdms.reimbursements.services.statements import BEYOND_LINE

    connection = make_connection(world.org_a, home_charging_data_sharing="yes")
    dan = User.objects.create_user("dan@example.com", "a long passphrase 1")
    make_membership(connection, dan)
    session = make_home_session(connection, dan, 95_000)
    ChargingSession.objects.filter(pk=session.pk).update(flags=FLAGS[:3])
    sessions_hold(session_ids=[session.pk], reason=f"not reimbursed: {BEYOND_LINE}")
    # The review page names the statement run's hold in German too.
    page = html.unescape(_german_admin(world).get(reverse("charging:sessions")).content.decode())
    assert "nicht erstattet: " in page and BEYOND_LINE not in page

    session.refresh_from_db()
    session_review(actor=world.actor(world.nadia), session=session, accept=False)
    review = AuditEvent.objects.get(action="charging_session.reject")
    assert review.changes["flags"] == [None, [*FLAGS[:3], f"not reimbursed: {BEYOND_LINE}"]]
    held = AuditEvent.objects.get(action="charging_session.hold")
    old_row = AuditEvent(
        target_type=review.target_type, changes={"flags": [None, "; ".join(FLAGS[:3])]}
    )
    with translation.override("de"):
        rows = {row.label: row.new for row in change_rows(review)}
        reason = {row.label: row.new for row in change_rows(held)}["Reason"]
        old = change_rows(old_row)[0].new
    assert rows["Flags"].startswith("; ".join(GERMAN[:3]) + "; nicht erstattet: ")
    assert old == "; ".join(GERMAN[:3])  # a row from before the list, its flags apart
    assert reason.startswith("nicht erstattet: ") and "statement" not in reason
