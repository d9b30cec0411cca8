"""Issue #19: the connection pages in the admin's language; the CSV export stays English."""

from __future__ import annotations

import pytest
from django.urls import reverse

from evdms.testing.fixtures import VALID_CONNECTION, make_connection
from evdms.testing.languages import admin_speaking

pytestmark = pytest.mark.django_db


def test_a_german_admin_reads_the_connection_pages_in_german(world):
    connection = make_connection(world.org_a)
    client = admin_speaking(world.nadia, "de")

    detail = client.get(reverse("connections:detail", args=[connection.pk]))
    html = detail.content.decode()
    assert detail["Content-Language"] == "de"
    for german in (
        "Einladungslink",
        "Link kopieren",
        "Fahrer einladen",
        "Aufgenommene Fahrer",
        "Wallbox (Direktmodell)",
        "Laden zu Hause erstattet (bis zu 0,29\xa0€ pro kWh)",
        "Name der Organisation",
    ):
        assert german in html, german
    for english in ("Invite link", "Copy link", "Connected drivers", "Home charging reimbursed"):
        assert english not in html, english
    assert "Voltlease_Home" in html  # the connection's own name stays as written

    listing = client.get(reverse("connections:list")).content.decode()
    assert "Neues Ladeprogramm" in listing and "1 Ladeprogramm" in listing
    assert "Sichtbare Spalten exportieren (CSV)" in listing
    assert "New Connection" not in listing


def test_a_german_admin_is_told_what_is_wrong_in_german(world):
    client = admin_speaking(world.nadia, "de")
    data = {
        **VALID_CONNECTION,
        "organisation": world.org_a.pk,
        "name": "",
        "max_price_per_kwh": "0",
    }
    response = client.post(reverse("connections:new"), data)
    html = response.content.decode()
    assert response.status_code == 422
    assert "Dieses Feld ist erforderlich." in html
    assert "Geben Sie einen Preis größer als 0 ein." in html
    assert "Bitte korrigieren Sie die unten markierten Felder." in html
    assert "This field is required." not in html


def test_the_csv_export_stays_english_whatever_the_page_language(world):
    make_connection(world.org_a)
    client = admin_speaking(world.nadia, "de")
    response = client.get(reverse("connections:list") + "?export=csv&which=all")
    text = b"".join(response.streaming_content).decode()  # type: ignore[attr-defined]
    header = text.splitlines()[0]
    assert "Connection name" in header and "Approval type" in header
    assert "Enabled" in text and "Aktiv" not in text


def test_a_dutch_admin_types_prices_with_a_decimal_comma(world):
    from decimal import Decimal

    from evdms.connections.models import Connection

    connection = make_connection(world.org_a, max_price_per_kwh="0.325")
    client = admin_speaking(world.nadia, "nl")
    edit = reverse("connections:edit", args=[connection.pk])
    html = client.get(edit).content.decode()
    assert 'placeholder="0,29"' in html and 'placeholder="0.29"' not in html
    assert 'value="0,325"' in html and 'value="1500,00"' in html  # as typed back

    data = {**VALID_CONNECTION, "organisation": world.org_a.pk, "max_price_per_kwh": "0,31"}
    data["installation_standard_price"] = "1500,00"
    assert client.post(edit, data).status_code == 302
    connection = Connection.objects.get(pk=connection.pk)
    assert connection.max_price_per_kwh == Decimal("0.31")
    assert connection.installation_standard_price == Decimal("1500")

    refused = client.post(edit, {**data, "max_price_per_kwh": "goedkoop"})
    assert refused.status_code == 422
    assert "Vul een getal in, bijv. 0,29." in refused.content.decode()
    # "1.500" is 1500 to a Dutch reader, 1.5 to a program: refused, not guessed.
    refused = client.post(edit, {**data, "installation_standard_price": "1.500"})
    assert refused.status_code == 422
    assert "op twee manieren" in refused.content.decode()
    assert Connection.objects.get(pk=connection.pk).installation_standard_price == Decimal("1500")


def test_an_english_admin_is_not_guessed_a_grouped_budget(world):
    connection = make_connection(world.org_a)
    client = admin_speaking(world.nadia, "en-gb")
    data = {**VALID_CONNECTION, "organisation": world.org_a.pk}
    edit = reverse("connections:edit", args=[connection.pk])
    refused = client.post(edit, {**data, "installation_standard_price": "1,500"})
    assert refused.status_code == 422
    assert "could be read two ways" in refused.content.decode()
    assert client.post(edit, {**data, "max_price_per_kwh": "0.31"}).status_code == 302
