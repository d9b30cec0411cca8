"""Issue #19: a French driver's public charging page is French."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from evdms.public_charging.tests.sessions_fixtures import at, driver_client, make_public_world
from evdms.testing.fixtures import World
from evdms.testing.languages import speaking

pytestmark = pytest.mark.django_db


def test_a_french_drivers_public_charging_page_is_french(world: World):
    public_world = make_public_world(world)
    dan = speaking(public_world.dan, "fr")
    public_world.public(dan, at(3), wh=12_345, minutes=45, cost="1234.5678")
    public_world.public(dan, timezone.now() - timedelta(minutes=20), final=False)
    client = driver_client(dan)
    response = client.get("/my/public-charging/", HTTP_ACCEPT_LANGUAGE="en")
    page = response.content.decode()
    assert response["Content-Language"] == "fr"
    for french in [
        "Ma recharge publique",
        "La recharge sur les réseaux publics avec votre jeton de recharge.",
        "Tous les mois",
        "En cours de recharge",
        "Sessions passées",
        "Date/heure",
        "Coût TTC",
        'data-label="Usage"',
        "en charge",
        "1\u202f234,57\xa0€",  # grouped as in French, half-up to the cent
        "12,345",  # kWh
        "Enregistrer",
    ]:
        assert french in page, french
    for english in [
        "My public charging",
        "Charging now",
        "Past sessions",
        "Every month",
        "Cost incl. VAT",
        "Purpose",
        "To be settled by you",
        "not priced yet",
    ]:
        assert english not in page, english

    session = public_world.public(dan, at(4))
    client.post(f"/my/public-charging/{session.pk}/purpose/", {"purpose": "personal"})
    after = client.get("/my/public-charging/").content.decode()
    assert "La session est marquée personnelle." in after and "À régler par vous" in after
