"""Issue #19: the Home charging pages in the reader's language; the CSV export English."""

from __future__ import annotations

import pytest
from django.urls import reverse

from evdms.accounts.models import User
from evdms.testing.fixtures import make_connection, make_home_session, make_membership
from evdms.testing.languages import admin_speaking, main_part

pytestmark = pytest.mark.django_db


def test_the_charging_sessions_page_for_a_dutch_admin_is_dutch(world):
    connection = make_connection(world.org_a, home_charging_data_sharing="yes")
    dan = User.objects.create_user("dan@example.com", "a long passphrase 1")
    make_membership(connection, dan)
    make_home_session(connection, dan, 7_500)
    client = admin_speaking(world.nadia, "nl")

    response = client.get(reverse("charging:sessions"))
    assert response["Content-Language"] == "nl"
    html = main_part(response.content.decode())
    for dutch in (
        "<h1>Thuisladen</h1>",
        "Aangehouden voor beoordeling",
        "Er wacht geen laadsessie op beoordeling.",
        "1 laadsessie",
        "Voltooid",  # the session's status
        "Energie (kWh)",
        "Per maand (laadregelingen zonder gegevensdeling)",
        "Toepassen",
    ):
        assert dutch in html, dutch
    for english in ("Home charging", "Held for review", "Completed", "Apply", "Nothing yet"):
        assert english not in html, english

    refused = client.get(reverse("charging:sessions") + "?start=gisteren").content.decode()
    refused = main_part(refused)
    assert "De begindatum ‘gisteren’ is geen datum (JJJJ-MM-DD): genegeerd." in refused

    export = client.get(reverse("charging:sessions") + "?export=csv")
    text = b"".join(export.streaming_content).decode()  # type: ignore[attr-defined]
    assert text.splitlines()[0].lstrip("\ufeff").startswith("Start,End,")
    assert "Completed" in text and "Voltooid" not in text


def test_the_chargers_page_for_a_dutch_admin_is_dutch(world):
    client = admin_speaking(world.nadia, "nl")
    html = main_part(client.get(reverse("charging:chargers")).content.decode())
    assert "<h1>Thuisladers</h1>" in html and "Een laadpunt registreren" in html
    assert "Nog geen laadpunten geregistreerd." in html and "Register a charger" not in html
