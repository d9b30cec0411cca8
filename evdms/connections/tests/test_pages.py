"""The connection pages as admins and visitors see them."""

from __future__ import annotations

import csv
import io
import re
from decimal import Decimal

import pytest
from django.db import connection as db_connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from PIL import Image

from evdms.accounts.models import User
from evdms.audit.models import AuditEvent
from evdms.connections.models import Connection
from evdms.connections.selectors import invite_url as connection_invite_url
from evdms.testing.fixtures import (
    VALID_CONNECTION,
    client_for,
    make_connection,
    make_grant,
    make_membership,
)

pytestmark = pytest.mark.django_db


def form_data(world, **overrides):
    return {**VALID_CONNECTION, "organisation": world.org_a.pk, "enabled": "on", **overrides}


def field_errors(response) -> dict[str, list[str]]:
    html = response.content.decode()
    found: dict[str, list[str]] = {}
    for name, message in re.findall(r'id="id_(\w+)_error"[^>]*>([^<]*)<', html):
        found.setdefault(name, []).append(message)
    return found


def png(size=(60, 30)) -> io.BytesIO:
    out = io.BytesIO()
    Image.new("RGB", size, (0, 90, 50)).save(out, format="PNG")
    out.seek(0)
    out.name = "logo.gif"  # the name is irrelevant; the content decides
    return out


def test_a_connections_officer_creates_a_connection_with_a_logo(world):
    otto = client_for(world.otto)
    page = otto.get(reverse("connections:new")).content.decode()
    # The page's fields, in its sections' order, with its labels; every field of the
    # reference page is in one section.
    from evdms.connections.forms import FIELD_ORDER, SECTIONED

    order = re.findall(r'id="field-(\w+)"', page)
    assert order == [name for name in SECTIONED if name != "remove_logo"]
    assert sorted(order) == sorted(FIELD_ORDER)
    for label in [
        "Organisation Name",
        "Organisation Name for Drivers",
        "Connection Name",
        "Connection Type",
        "Customer ID",
        "Enable",
        "Connection Logo",
        "Verify drivers by",
        "Request Additional Info",
        "Customer Support Email",
        "Provide Home Charger",
        "Home warranty and labour",
        "Installation Handled By",
        "Installation Payment Model",
        "Reimburse Home Charging",
        "Max Price For Reimbursement",
        "Home Charging Data Sharing",
        "Pay For Public Charging",
        "Payment via",
        "Approval type",
        "Send notifications when a driver connects",
        "Web Only",
        "Custom terms and conditions",
        "Send signed Ts and Cs to",
        "Terms and Conditions",
    ]:
        assert label in page, label
    assert '<option value="employer" disabled' in page
    response = otto.post(reverse("connections:new"), {**form_data(world), "logo": png()})
    assert response.status_code == 302
    connection = Connection.objects.get(name="Voltlease_Home")
    assert connection.has_logo and connection.created_by == world.otto.user
    logo = Client().get(reverse("connections:join_logo", args=[connection.invite_token]))
    assert logo["Content-Type"] == "image/png"
    assert Image.open(io.BytesIO(logo.content)).size == (60, 30)


def test_errors_are_shown_next_to_their_fields_and_input_is_kept(world):
    response = client_for(world.nadia).post(
        reverse("connections:new"),
        form_data(
            world, name="", max_price_per_kwh="lots", support_email="nope", logo=png((61, 30))
        ),
    )
    assert response.status_code == 422
    errors = field_errors(response)
    assert errors["name"] == ["This field is required."]
    assert errors["max_price_per_kwh"] == ["Enter a number, e.g. 0.29."]
    assert errors["support_email"][0].startswith("“nope” is not a valid e-mail address")
    assert errors["logo"] == ["The logo must be exactly 60 × 30 pixels; this one is 61 × 30."]
    assert 'value="Voltlease Drivers"' in response.content.decode()
    assert Connection.objects.count() == 0


def test_connection_names_are_unique_within_an_organisation_only(world):
    make_connection(world.org_a, name="ABC_Public")
    response = client_for(world.nadia).post(
        reverse("connections:new"), form_data(world, name="abc_public")
    )
    assert field_errors(response)["name"] == [
        "A connection with this name exists in this organisation."
    ]
    make_connection(world.org_b, name="ABC_Public")  # another organisation may use it


def test_an_analyst_reads_but_cannot_create_or_edit(world):
    connection = make_connection(world.org_a)
    ana = client_for(world.ana)
    assert ana.get(reverse("connections:list")).status_code == 200
    assert ana.get(reverse("connections:detail", args=[connection.pk])).status_code == 200
    assert "New Connection" not in ana.get(reverse("connections:list")).content.decode()
    assert ana.get(reverse("connections:new")).status_code == 403
    assert (
        ana.post(
            reverse("connections:edit", args=[connection.pk]), form_data(world, name="X")
        ).status_code
        == 403
    )


def test_editing_records_who_changed_what_and_shows_it(world):
    connection = make_connection(world.org_a)
    nadia = client_for(world.nadia)
    response = nadia.post(
        reverse("connections:edit", args=[connection.pk]),
        form_data(
            world, name="Voltlease_Home_2025", max_price_per_kwh="0.31", customer_id="CRM-42"
        ),
    )
    assert response.status_code == 302
    event = AuditEvent.objects.filter(action="connection.update").get()
    assert event.actor_user == world.nadia.user
    assert event.changes["name"] == ["Voltlease_Home", "Voltlease_Home_2025"]
    assert event.changes["max_price_per_kwh"] == ["0.2900", "0.31"]
    assert event.changes["customer_id"] == ["", "CRM-42"]
    page = nadia.get(reverse("connections:detail", args=[connection.pk])).content.decode()
    assert "Connection Name: Voltlease_Home → Voltlease_Home_2025" in page


def test_changing_benefits_with_connected_drivers_needs_confirmation(world):
    connection = make_connection(world.org_a)
    driver = User.objects.create_user("driver@example.com", "driver passphrase 1")
    make_membership(connection, driver)
    nadia = client_for(world.nadia)
    edit_page = nadia.get(reverse("connections:edit", args=[connection.pk])).content.decode()
    assert "1 driver is connected" in edit_page
    assert "Revise Benefits" in edit_page
    url = reverse("connections:edit", args=[connection.pk])
    refused = nadia.post(url, form_data(world, max_price_per_kwh="0.20"))
    assert refused.status_code == 422
    assert "whose benefits would change" in refused.content.decode()
    connection.refresh_from_db()
    assert str(connection.max_price_per_kwh) == "0.2900"
    # Non-benefit changes need no confirmation.
    assert nadia.post(url, form_data(world, customer_id="CRM-1")).status_code == 302
    confirmed = nadia.post(
        url, form_data(world, max_price_per_kwh="0.20", confirm_benefit_change="on")
    )
    assert confirmed.status_code == 302
    connection.refresh_from_db()
    assert str(connection.max_price_per_kwh) == "0.2000"


def test_disabling_closes_the_invite_link_and_enabling_reopens_it(world):
    connection = make_connection(world.org_a, name_for_drivers="Volt Drivers")
    link = reverse("enrolment:join", args=[connection.invite_token])
    assert "Volt Drivers" in Client().get(link).content.decode()
    nadia = client_for(world.nadia)
    nadia.post(reverse("connections:toggle", args=[connection.pk]), {"enabled": "no"})
    closed = Client().get(link)
    assert closed.status_code == 410
    assert "not accepting drivers" in closed.content.decode()
    nadia.post(reverse("connections:toggle", args=[connection.pk]), {"enabled": "yes"})
    assert Client().get(link).status_code == 200
    assert [e.action for e in AuditEvent.objects.order_by("id")][-2:] == [
        "connection.disable",
        "connection.enable",
    ]


def test_the_landing_page_shows_benefits_and_respects_web_only(world):
    connection = make_connection(
        world.org_a, pay_for_public_charging="yes", payment_via="direct_invoice_service"
    )
    page = Client().get(reverse("enrolment:join", args=[connection.invite_token])).content.decode()
    assert "Home charging reimbursed (up to €0.29 per kWh)" in page
    assert "Public charging paid" in page
    assert "Open in the app" in page
    web_only = make_connection(world.org_a, name="Web", web_only="yes")
    page = Client().get(reverse("enrolment:join", args=[web_only.invite_token])).content.decode()
    assert "Open in the app" not in page and "evdms://" not in page


def test_an_unknown_or_tampered_link_is_a_404(world):
    connection = make_connection(world.org_a)
    assert Client().get(reverse("enrolment:join", args=["nope"])).status_code == 404
    assert (
        Client().get(reverse("enrolment:join", args=[connection.invite_token + "x"])).status_code
        == 404
    )


def test_invite_links_are_stable_and_unguessable(world):
    first = make_connection(world.org_a, name="One")
    second = make_connection(world.org_a, name="Two")
    assert len(first.invite_token) >= 32 and first.invite_token != second.invite_token
    client_for(world.nadia).post(
        reverse("connections:edit", args=[first.pk]), form_data(world, name="One renamed")
    )
    first.refresh_from_db()
    assert Connection.objects.get(pk=first.pk).invite_token == first.invite_token


def test_qr_codes_encode_the_invite_link(world):
    connection = make_connection(world.org_a)
    nadia = client_for(world.nadia)
    svg = nadia.get(reverse("connections:qr_svg", args=[connection.pk]))
    assert svg["Content-Type"] == "image/svg+xml"
    assert b'xmlns="http://www.w3.org/2000/svg"' in svg.content
    # segno is deterministic: the image is the QR code of exactly the invite link.
    import segno

    expected = io.BytesIO()
    segno.make(connection_invite_url(connection), error="m").save(
        expected, kind="svg", scale=6, title=f"Invite link of {connection.name}"
    )
    assert svg.content == expected.getvalue()
    png_response = nadia.get(reverse("connections:qr_png", args=[connection.pk]))
    assert png_response["Content-Type"] == "image/png"
    assert Image.open(io.BytesIO(png_response.content)).format == "PNG"


def test_a_granted_lease_company_manages_its_customers_connections(world):
    customer = type(world.org_a).objects.create(slug="acme", name="Acme", kind="customer")
    make_grant(grantor=customer, grantee=world.org_a)
    nadia = client_for(world.nadia)
    assert (
        f'<option value="{customer.pk}">Acme</option>'
        in nadia.get(reverse("connections:new")).content.decode()
    )
    response = nadia.post(
        reverse("connections:new"), form_data(world, organisation=customer.pk, name="Acme_Home")
    )
    assert response.status_code == 302
    assert Connection.objects.get(name="Acme_Home").organisation == customer
    # Bob's organisation is not among Nadia's: a tampered choice is refused.
    refused = nadia.post(
        reverse("connections:new"), form_data(world, organisation=world.org_b.pk, name="Sneaky")
    )
    assert field_errors(refused)["organisation"] == [
        "Choose one of the organisations you manage connections for."
    ]


# --- the list -----------------------------------------------------------------------


@pytest.fixture
def listed(world):
    make_connection(
        world.org_a,
        name="ABC Company_Public",
        customer_id="C-1",
        pay_for_public_charging="yes",
        payment_via="direct_invoice_service",
        provide_home_charger="no",
    )
    make_connection(
        world.org_a, name="ABC Company_Home", customer_id="C-1", verification_1_label="Employee ID"
    )
    make_connection(
        world.org_a, name="Zeta_Home", customer_id="C-2", approval_type="auto", enabled="no"
    )
    make_connection(world.org_b, name="Rival_Home")
    return client_for(world.nadia)


def names_in(response) -> list[str]:
    return re.findall(r'href="/connections/\d+/">([^<]+)</a>', response.content.decode())


def test_the_list_shows_only_own_connections_sorted_by_name(listed):
    assert names_in(listed.get(reverse("connections:list"))) == [
        "ABC Company_Home",
        "ABC Company_Public",
        "Zeta_Home",
    ]
    assert names_in(listed.get(reverse("connections:list") + "?sort=-name")) == [
        "Zeta_Home",
        "ABC Company_Public",
        "ABC Company_Home",
    ]


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("f0_col=name&f0_op=contains&f0_val=abc", ["ABC Company_Home", "ABC Company_Public"]),
        ("f0_col=name&f0_op=not_contains&f0_val=abc", ["Zeta_Home"]),
        ("f0_col=name&f0_op=is&f0_val=zeta_home", ["Zeta_Home"]),
        ("f0_col=status&f0_op=is&f0_val=Disabled", ["Zeta_Home"]),
        ("f0_col=approval_type&f0_op=is&f0_val=auto", ["Zeta_Home"]),
        ("f0_col=benefits&f0_op=contains&f0_val=public", ["ABC Company_Public"]),
        (
            "f0_col=customer_id&f0_op=is&f0_val=C-1&f1_col=name&f1_op=contains&f1_val=home&match=all",
            ["ABC Company_Home"],
        ),
        (
            "f0_col=customer_id&f0_op=is&f0_val=C-2&f1_col=name&f1_op=contains&f1_val=public&match=any",
            ["ABC Company_Public", "Zeta_Home"],
        ),
        ("f0_col=verification_1_label&f0_op=contains&f0_val=employee", ["ABC Company_Home"]),
        (
            "f0_col=connection_type&f0_op=is&f0_val=Leasing Company",
            ["ABC Company_Home", "ABC Company_Public", "Zeta_Home"],
        ),
    ],
)
def test_filters(listed, query, expected):
    assert names_in(listed.get(reverse("connections:list") + "?" + query)) == expected


def test_unknown_filters_and_sorts_are_reported_not_fatal(listed):
    response = listed.get(
        reverse("connections:list") + "?f0_col=secret&f0_val=x&sort=password&match=some&page=999999"
    )
    assert response.status_code == 200
    page = response.content.decode()
    assert (
        "Unknown column" in page and "Cannot sort by" in page and "Match must be all or any" in page
    )


def test_columns_can_be_hidden_and_the_choice_is_remembered(listed, world):
    listed.post(reverse("connections:columns"), {"columns": ["name", "status", "customer_id"]})
    page = listed.get(reverse("connections:list")).content.decode()
    header = page[page.index("<thead>") : page.index("</thead>")]
    assert "Customer ID" in header and "Benefits" not in header and "Approval type" not in header
    # Another admin keeps the default columns.
    other = client_for(world.otto).get(reverse("connections:list")).content.decode()
    assert "Benefits" in other[other.index("<thead>") : other.index("</thead>")]


def test_csv_export_of_visible_or_all_columns(listed):
    listed.post(reverse("connections:columns"), {"columns": ["name", "customer_id"]})
    visible = listed.get(
        reverse("connections:list")
        + "?export=csv&which=visible&f0_col=name&f0_op=contains&f0_val=ABC"
    )
    rows = list(csv.reader(io.StringIO(b"".join(visible.streaming_content).decode("utf-8-sig"))))
    assert rows == [
        ["Connection name", "Customer ID"],
        ["ABC Company_Home", "C-1"],
        ["ABC Company_Public", "C-1"],
    ]
    everything = listed.get(reverse("connections:list") + "?export=csv&which=all")
    rows = list(csv.reader(io.StringIO(b"".join(everything.streaming_content).decode("utf-8-sig"))))
    assert rows[0][0] == "Invite link" and "Org name" in rows[0] and len(rows) == 4
    assert rows[1][0].startswith("http://127.0.0.1:8000/join/")


def test_the_list_uses_a_fixed_number_of_queries(world):
    nadia = client_for(world.nadia)
    make_connection(world.org_a, name="First")
    nadia.get(reverse("connections:list"))  # warm up the session and preferences
    with CaptureQueriesContext(db_connection) as few:
        nadia.get(reverse("connections:list"))
    for i in range(20):
        connection = make_connection(world.org_a, name=f"Many {i}")
        driver = User.objects.create_user(f"d{i}@example.com", "driver passphrase 1")
        make_membership(connection, driver)
    with CaptureQueriesContext(db_connection) as many:
        response = nadia.get(reverse("connections:list"))
    assert len(many) == len(few)
    assert re.search(r"<td>\s*1\s*</td>", response.content.decode())  # counted in the same query


def test_the_form_asks_the_standard_price_for_direct_and_the_warranty_length(world):
    nadia = client_for(world.nadia)
    page = nadia.get(reverse("connections:new")).content.decode()
    assert "Standard installation package price (EUR, incl. VAT)" in page
    shown = re.search(r'id="field-installation_standard_price" data-show-when="([^"]+)"', page)
    assert shown and "direct" in shown.group(1)
    shown = re.search(r'id="field-installation_warranty_months" data-show-when="([^"]+)"', page)
    assert shown and "home_warranty_and_labour" in shown.group(1)
    refused = nadia.post(
        reverse("connections:new"), form_data(world, installation_standard_price="")
    )
    assert field_errors(refused)["installation_standard_price"] == ["This field is required."]
    assert not Connection.objects.exists()
    nadia.post(
        reverse("connections:new"),
        form_data(
            world,
            installation_standard_price="1499.99",
            home_warranty_and_labour="yes",
            installation_warranty_months="48",
        ),
    )
    connection = Connection.objects.get()
    assert connection.installation_standard_price == Decimal("1499.99")
    assert connection.installation_warranty_months == 48
    detail = nadia.get(reverse("connections:detail", args=[connection.pk])).content.decode()
    assert "standard package €1,499.99 incl. VAT" in detail and "48 months" in detail
    edit = nadia.get(reverse("connections:edit", args=[connection.pk])).content.decode()
    assert 'value="1499.99"' in edit and 'value="48"' in edit
