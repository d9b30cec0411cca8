"""Issue #19: the Home charging pages in the reader's language; the CSV export English."""

from __future__ import annotations

import pytest
from django.urls import reverse

from evdms.accounts.models import User
from evdms.testing.fixtures import client_for, make_connection, make_home_session, make_membership

pytestmark = pytest.mark.django_db


def _main(html: str) -> str:
    """The page's own part (the navigation around it is another app's)."""
    return html.split('<main id="main"', 1)[1].split("</main>", 1)[0]


def _dutch_admin(world):
    assert world.nadia.user is not None
    world.nadia.user.language = "nl"
    world.nadia.user.save(update_fields=["language"])
    return client_for(world.nadia)


def test_the_charging_sessions_page_for_a_dutch_admin_is_dutch(world):
    connection = make_connection(world.org_a, home_charging_data_sharing="yes")
    dan = User.objects.create_user("dan@example.com", "a long passphrase 1")
    make_membership(connection, dan)
    make_home_session(connection, dan, 7_500)
    client = _dutch_admin(world)

    response = client.get(reverse("charging:sessions"))
    assert response["Content-Language"] == "nl"
    html = _main(response.content.decode())
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

    refused = _main(client.get(reverse("charging:sessions") + "?start=gisteren").content.decode())
    assert "De begindatum ‘gisteren’ is geen datum (JJJJ-MM-DD): genegeerd." in refused

    export = client.get(reverse("charging:sessions") + "?export=csv")
    text = b"".join(export.streaming_content).decode()
    assert text.splitlines()[0].lstrip("\ufeff").startswith("Start,End,")
    assert "Completed" in text and "Voltooid" not in text


def test_the_chargers_page_for_a_dutch_admin_is_dutch(world):
    html = _main(_dutch_admin(world).get(reverse("charging:chargers")).content.decode())
    assert "<h1>Thuisladers</h1>" in html and "Een laadpunt registreren" in html
    assert "Nog geen laadpunten geregistreerd." in html and "Register a charger" not in html
