"""The connections API: same rules and messages as the form, field-level 422s, tenancy."""

from __future__ import annotations

import io
import re

import pytest
from django.test import Client
from django.urls import reverse
from PIL import Image

from evdms.accounts.models import Role, User
from evdms.connections.models import Connection
from evdms.connections.tests.test_pages import field_errors, form_data
from evdms.testing.fixtures import VALID_CONNECTION, client_for, make_connection, make_membership

pytestmark = pytest.mark.django_db

API_VALID = {
    "name_for_drivers": "Voltlease Drivers",
    "name": "Voltlease_Home",
    "support_email": "support@voltlease.example",
    "provide_home_charger": True,
    "installation_handled_by": "certified_installer",
    "installation_payment_model": "direct",
    "installation_standard_price": "1500.00",
    "reimburse_home_charging": True,
    "max_price_per_kwh": "0.29",
    "approval_type": "manual",
}


def post(client: Client, headers, body):
    return client.post(
        "/api/v1/connections", data=body, content_type="application/json", headers=headers
    )


def api_errors(response) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for error in response.json()["detail"]:
        found.setdefault(error["loc"][-1], []).append(error["msg"])
    return found


def test_create_read_update_list(world, api_key_for, client):
    headers = api_key_for(world.org_a, Role.CONNECTIONS_OFFICER)
    created = post(client, headers, {**API_VALID, "payment_via": "direct_invoice_service"})
    assert created.status_code == 201, created.content
    body = created.json()
    assert body["organisation"] == {"id": world.org_a.pk, "name": "Voltlease"}
    assert body["max_price_per_kwh"] == "0.2900"
    assert body["payment_via"] == ""  # public charging is not paid: ignored, stored empty
    assert body["currency"] == "EUR"
    assert body["invite_url"].startswith("http://127.0.0.1:8000/join/")
    assert body["connected_drivers"] == 0
    read = client.get(f"/api/v1/connections/{body['id']}", headers=headers).json()
    assert read == body
    patched = client.patch(
        f"/api/v1/connections/{body['id']}",
        data={"customer_id": "CRM-7", "enabled": False},
        content_type="application/json",
        headers=headers,
    ).json()
    assert patched["customer_id"] == "CRM-7" and patched["enabled"] is False
    assert patched["max_price_per_kwh"] == "0.2900"  # untouched fields keep their values
    listing = client.get("/api/v1/connections?search=crm-7", headers=headers).json()
    assert listing["count"] == 1 and listing["items"][0]["id"] == body["id"]


def test_an_analyst_key_reads_but_cannot_write(world, api_key_for, client):
    connection = make_connection(world.org_a)
    headers = api_key_for(world.org_a, Role.ANALYST)
    assert client.get(f"/api/v1/connections/{connection.pk}", headers=headers).status_code == 200
    assert post(client, headers, API_VALID).status_code == 403


def test_another_organisations_connection_is_invisible(world, api_key_for, client):
    connection = make_connection(world.org_a)
    headers = api_key_for(world.org_b)
    assert client.get(f"/api/v1/connections/{connection.pk}", headers=headers).status_code == 404
    assert client.get("/api/v1/connections", headers=headers).json()["count"] == 0
    refused = post(client, headers, {**API_VALID, "organisation": world.org_a.pk})
    assert api_errors(refused) == {
        "organisation": ["Choose one of the organisations you manage connections for."]
    }


# Bad inputs, each as a person types it in the form and as a program sends it.
BAD_INPUTS = [
    ({"name": ""}, {"name": ""}, "name"),
    ({"support_email": "nope"}, {"support_email": "nope"}, "support_email"),
    ({"max_price_per_kwh": "abc"}, {"max_price_per_kwh": "abc"}, "max_price_per_kwh"),
    ({"max_price_per_kwh": "0.12345"}, {"max_price_per_kwh": "0.12345"}, "max_price_per_kwh"),
    ({"max_price_per_kwh": "0"}, {"max_price_per_kwh": 0}, "max_price_per_kwh"),
    ({"max_price_per_kwh": ""}, {"max_price_per_kwh": None}, "max_price_per_kwh"),
    ({"connection_type": "employer"}, {"connection_type": "employer"}, "connection_type"),
    (
        {"installation_payment_model": ""},
        {"installation_payment_model": None},
        "installation_payment_model",
    ),
    (
        {"installation_payment_model": "budget"},
        {"installation_payment_model": "budget"},
        "installation_budget",
    ),
    ({"pay_for_public_charging": "yes"}, {"pay_for_public_charging": True}, "payment_via"),
    (
        {"custom_terms_enabled": "yes", "terms_text": "<i>x</i>"},
        {"custom_terms_enabled": True, "terms_text": "<i>x</i>"},
        "terms_text",
    ),
    (
        {"custom_terms_enabled": "yes", "terms_text": "Caf\u00e9"},
        {"custom_terms_enabled": True, "terms_text": "Caf\u00e9"},
        "terms_text",
    ),
    (
        {
            "custom_terms_enabled": "yes",
            "terms_text": "ok",
            "signed_terms_recipients": "a@b.example, bad",
        },
        {
            "custom_terms_enabled": True,
            "terms_text": "ok",
            "signed_terms_recipients": ["a@b.example", "bad"],
        },
        "signed_terms_recipients",
    ),
    ({"approval_type": "sometimes"}, {"approval_type": "sometimes"}, "approval_type"),
    (
        {"installation_standard_price": ""},
        {"installation_standard_price": None},
        "installation_standard_price",
    ),
    (
        {"installation_standard_price": "-1"},
        {"installation_standard_price": -1},
        "installation_standard_price",
    ),
    (
        {"home_warranty_and_labour": "yes", "installation_warranty_months": "0"},
        {"home_warranty_and_labour": True, "installation_warranty_months": 0},
        "installation_warranty_months",
    ),
    (
        {"home_warranty_and_labour": "yes", "installation_warranty_months": "121"},
        {"home_warranty_and_labour": True, "installation_warranty_months": "121"},
        "installation_warranty_months",
    ),
]


def test_standard_price_and_warranty_length_through_the_api(world, api_key_for, client):
    headers = api_key_for(world.org_a, Role.CONNECTIONS_OFFICER)
    created = post(
        client,
        headers,
        {
            **API_VALID,
            "installation_standard_price": 1249.5,
            "home_warranty_and_labour": True,
            "installation_warranty_months": 36,
        },
    )
    assert created.status_code == 201, created.content
    body = created.json()
    assert body["installation_standard_price"] == "1249.50"
    assert body["installation_warranty_months"] == 36
    patched = client.patch(
        f"/api/v1/connections/{body['id']}",
        data={"installation_payment_model": "budget", "installation_budget": "900"},
        content_type="application/json",
        headers=headers,
    ).json()
    # Not the Direct Model any more: the standard price no longer applies and is cleared.
    assert patched["installation_standard_price"] is None
    assert patched["installation_budget"] == "900.00"
    assert patched["installation_warranty_months"] == 36


@pytest.mark.parametrize(("form_input", "api_input", "field"), BAD_INPUTS)
def test_the_api_and_the_form_refuse_the_same_input_with_the_same_message(
    world, api_key_for, client, form_input, api_input, field
):
    api_response = post(client, api_key_for(world.org_a), {**API_VALID, **api_input})
    assert api_response.status_code == 422
    api_message = api_errors(api_response)[field]
    form_response = client_for(world.nadia).post(
        reverse("connections:new"),
        {**VALID_CONNECTION, "organisation": world.org_a.pk, **form_input},
    )
    html = form_response.content.decode()
    form_message = re.findall(rf'id="id_{field}_error"[^>]*>([^<]*)<', html)
    import html as html_lib

    assert [html_lib.unescape(m) for m in form_message] == api_message
    assert Connection.objects.count() == 0


def logo_file(size=(60, 30), fmt="PNG") -> io.BytesIO:
    out = io.BytesIO()
    Image.new("RGB", size, (1, 2, 3)).save(out, format=fmt)
    out.seek(0)
    out.name = "logo.png"
    return out


def test_logo_upload_by_multipart_and_removal(world, api_key_for, client):
    connection = make_connection(world.org_a)
    headers = api_key_for(world.org_a)
    url = f"/api/v1/connections/{connection.pk}/logo"
    bad = client.post(url, {"file": logo_file((61, 30))}, headers=headers)
    assert bad.status_code == 422
    assert api_errors(bad) == {
        "logo": ["The logo must be exactly 60 × 30 pixels; this one is 61 × 30."]
    }
    good = client.post(url, {"file": logo_file(fmt="JPEG")}, headers=headers)
    assert good.status_code == 200 and good.json()["has_logo"] is True
    assert client.get(good.json()["logo_url"]).status_code == 200
    removed = client.delete(url, headers=headers)
    assert removed.json()["has_logo"] is False and removed.json()["logo_url"] is None


def test_a_large_logo_is_refused_with_its_real_size_on_the_page_and_the_api(
    world, api_key_for, client
):
    """Only half a megabyte and a byte is read, but the message gives the whole file's."""
    connection = make_connection(world.org_a)
    heavy = io.BytesIO(logo_file().getvalue() + b"\x00" * 2_500_000)
    heavy.name = "logo.png"
    size = len(heavy.getvalue())
    expected = [
        f"The logo must be at most 0.5 MB (524,288 bytes); this file is {size:,} bytes "
        f"({size / 1_048_576:.2f} MB), {size - 524_288:,} bytes too large."
    ]
    api = client.post(
        f"/api/v1/connections/{connection.pk}/logo",
        {"file": heavy},
        headers=api_key_for(world.org_a),
    )
    assert api.status_code == 422 and api_errors(api) == {"logo": expected}
    heavy.seek(0)
    page = client_for(world.nadia).post(
        reverse("connections:edit", args=[connection.pk]),
        {**form_data(world), "logo": heavy},
    )
    assert page.status_code == 422 and field_errors(page)["logo"] == expected


def test_changing_benefits_with_connected_drivers_needs_confirmation(world, api_key_for, client):
    connection = make_connection(world.org_a)
    driver = User.objects.create_user("driver@example.com", "driver passphrase 1")
    make_membership(connection, driver)
    headers = api_key_for(world.org_a)
    url = f"/api/v1/connections/{connection.pk}"
    refused = client.patch(
        url, data={"max_price_per_kwh": "0.2"}, content_type="application/json", headers=headers
    )
    assert refused.status_code == 422
    assert "whose benefits would change" in api_errors(refused)["confirm_benefit_change"][0]
    ok = client.patch(
        url,
        data={"max_price_per_kwh": "0.2", "confirm_benefit_change": True},
        content_type="application/json",
        headers=headers,
    )
    assert ok.status_code == 200 and ok.json()["max_price_per_kwh"] == "0.2000"
    assert ok.json()["connected_drivers"] == 1


def test_list_paging_is_checked(world, api_key_for, client):
    headers = api_key_for(world.org_a)
    response = client.get("/api/v1/connections?limit=0", headers=headers)
    assert response.status_code == 422
    assert client.get("/api/v1/connections?offset=abc", headers=headers).status_code == 422
