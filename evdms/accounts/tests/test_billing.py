"""Billing details: who the platform's invoices are addressed to.

Voltlease (A) is a customer's lease company here too: Acme (a customer organisation)
granted Voltlease rights, so Acme's Network Manager, Carla, may name Voltlease as the
payer of Acme's invoices. Rival Lease (B) got no grant from Acme.
"""

from __future__ import annotations

import json
from datetime import date

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from evdms.accounts.models import Grant, Organisation, OrganisationKind, Role
from evdms.accounts.services.billing import billing_details_update
from evdms.audit.models import AuditEvent
from evdms.invoicing.services.issue import buyer_of, invoice_issue
from evdms.testing.fixtures import client_for, make_admin, make_grant, make_organisation

pytestmark = pytest.mark.django_db

SETTINGS = "/accounts/settings/"
BILLING_POST = "/accounts/settings/billing/"
API = "/api/v1/organisation/billing"

VALID = {
    "billing_name": "Voltlease B.V.",
    "billing_address": "Keizersgracht 1",
    "billing_postcode": "1015 CJ",
    "billing_city": "Amsterdam",
    "billing_country": "NL",
    "vat_number": "NL 0044.95.445.B01",
    "accounts_payable_email": "AP@Voltlease.example",
    "purchase_order_reference": "PO-2026-17",
    "invoice_payer": "",
}


@pytest.fixture
def acme(world):
    """Acme, a customer organisation that granted rights to Voltlease, and Carla, its
    Network Manager."""
    acme = make_organisation("acme", "Acme", kind=OrganisationKind.CUSTOMER)
    make_grant(grantor=acme, grantee=world.org_a)
    carla = make_admin(acme, "carla@acme.example", Role.NETWORK_MANAGER, full_name="Carla")
    return acme, carla


def _patch(client: Client, headers: dict[str, str], body: object):
    return client.patch(
        API, data=json.dumps(body), content_type="application/json", headers=headers
    )


# --- the Settings page --------------------------------------------------------------


def test_the_settings_page_shows_the_billing_section_with_what_is_stored(world):
    world.org_a.billing_name = "Voltlease B.V."
    world.org_a.vat_number = "NL004495445B01"
    world.org_a.save()
    page = client_for(world.nadia).get(SETTINGS).content.decode()
    assert '<h2 id="billing-heading">Billing</h2>' in page
    assert 'value="Voltlease B.V."' in page
    assert 'value="NL004495445B01"' in page
    assert "Voltlease (invoiced itself)" in page


def test_a_network_manager_saves_the_billing_details_and_they_are_audited(world):
    nadia = client_for(world.nadia)
    response = nadia.post(BILLING_POST, VALID)
    assert response.status_code == 302
    org = Organisation.objects.get(pk=world.org_a.pk)
    assert (org.billing_name, org.billing_postcode, org.billing_country) == (
        "Voltlease B.V.",
        "1015 CJ",
        "NL",
    )
    assert org.vat_number == "NL004495445B01"  # compact
    assert org.accounts_payable_email == "ap@voltlease.example"
    assert org.purchase_order_reference == "PO-2026-17"
    event = AuditEvent.objects.get(action="organisation.update")
    assert event.actor_user == world.nadia.user
    assert event.changes["vat_number"] == ["", "NL004495445B01"]
    assert event.changes["billing_city"] == ["", "Amsterdam"]
    assert "invoice_payer" not in event.changes  # unchanged: not in the record
    assert "Billing details saved." in nadia.get(SETTINGS).content.decode()


def test_errors_are_shown_next_to_their_field_and_nothing_is_saved(world):
    bad = {**VALID, "vat_number": "DE136695977", "accounts_payable_email": "ap@@example"}
    response = client_for(world.nadia).post(BILLING_POST, bad)
    assert response.status_code == 422
    page = response.content.decode()
    vat_field = page.split('id="field-vat_number"')[1].split('id="field-')[0]
    assert "check digits are wrong" in vat_field
    email_field = page.split('id="field-accounts_payable_email"')[1].split('id="field-')[0]
    assert "Enter a valid e-mail address" in email_field
    assert 'value="Voltlease B.V."' in page  # the input is kept
    org = Organisation.objects.get(pk=world.org_a.pk)
    assert org.billing_name == "" and org.billing_city == ""  # nothing half-written
    assert not AuditEvent.objects.filter(action="organisation.update").exists()


def test_an_analyst_cannot_open_or_post_the_settings_billing_form(world):
    ana = client_for(world.ana)
    assert ana.get(SETTINGS).status_code == 403
    assert ana.post(BILLING_POST, VALID).status_code == 403
    assert Organisation.objects.get(pk=world.org_a.pk).billing_name == ""


def test_another_organisations_manager_sees_and_saves_only_their_own(world):
    world.org_a.billing_name = "Voltlease B.V."
    world.org_a.save()
    bob = client_for(world.bob)
    assert "Voltlease B.V." not in bob.get(SETTINGS).content.decode()
    assert bob.post(BILLING_POST, {**VALID, "billing_name": "Rival Lease Ltd"}).status_code == 302
    assert Organisation.objects.get(pk=world.org_a.pk).billing_name == "Voltlease B.V."
    assert Organisation.objects.get(pk=world.org_b.pk).billing_name == "Rival Lease Ltd"


def test_the_payer_offered_is_only_an_organisation_granted_rights(world, acme):
    org, carla = acme
    page = client_for(carla).get(SETTINGS).content.decode()
    assert f'<option value="{world.org_a.pk}">Voltlease</option>' in page
    assert "Rival Lease" not in page
    response = client_for(carla).post(BILLING_POST, {**VALID, "invoice_payer": world.org_b.pk})
    assert response.status_code == 422
    payer_field = response.content.decode().split('id="field-invoice_payer"')[1]
    assert "Select a valid choice" in payer_field.split('id="field-')[0]
    assert (
        client_for(carla).post(BILLING_POST, {**VALID, "invoice_payer": world.org_a.pk}).status_code
        == 302
    )
    assert Organisation.objects.get(pk=org.pk).invoice_payer == world.org_a


# --- the rules (the service) --------------------------------------------------------


def _update(world, **fields):
    return billing_details_update(
        actor=world.actor(world.nadia), organisation=world.org_a, **fields
    )


def _errors(world, **fields) -> dict[str, list[str]]:
    with pytest.raises(ValidationError) as caught:
        _update(world, **fields)
    return caught.value.message_dict


@pytest.mark.parametrize(
    ("vat_number", "country", "expected"),
    [
        ("NL004495445B01", "NL", "NL004495445B01"),
        ("004495445B01", "NL", "NL004495445B01"),  # the billing country's prefix assumed
        ("de 136 695 976", "DE", "DE136695976"),
        ("EL094259216", "GR", "EL094259216"),  # Greece writes EL
        ("DE136695976", "", "DE136695976"),  # no country: any member state's
        ("", "NL", ""),
    ],
)
def test_vat_numbers_are_stored_compact(world, vat_number, country, expected):
    org = _update(world, billing_country=country, vat_number=vat_number)
    assert org.vat_number == expected


def test_a_vat_number_that_fails_its_checksum_is_refused(world):
    errors = _errors(world, billing_country="DE", vat_number="DE136695977")
    assert errors == {
        "vat_number": ["This VAT number's check digits are wrong: check it for a typing error."]
    }


def test_a_vat_number_of_another_country_than_the_billing_country_is_refused(world):
    errors = _errors(world, billing_country="NL", vat_number="DE136695976")
    assert "This is a VAT number of DE, but the billing country is NL" in errors["vat_number"][0]


def test_changing_the_country_under_a_stored_vat_number_is_refused(world):
    _update(world, billing_country="NL", vat_number="NL004495445B01")
    errors = _errors(world, billing_country="BE")
    assert "VAT number of NL, but the billing country is BE" in errors["vat_number"][0]
    assert Organisation.objects.get(pk=world.org_a.pk).billing_country == "NL"


@pytest.mark.parametrize("vat_number", ["XX123", "NL", "123456789", "NL0044\x0095445B01", "N" * 41])
def test_malformed_vat_numbers_are_refused(world, vat_number):
    assert "vat_number" in _errors(world, vat_number=vat_number)


@pytest.mark.parametrize("country", ["XX", "NLD", "nl ", "1A", "N\u202eL"])
def test_a_country_must_be_iso_3166_alpha_2(world, country):
    if country == "nl ":  # lower case and spaces are forgiven
        assert _update(world, billing_country=country).billing_country == "NL"
    else:
        assert "billing_country" in _errors(world, billing_country=country)


@pytest.mark.parametrize(
    "address", ["not an address", "ap@", "ap@example..com", "a b@example.com", "ap@-x.example"]
)
def test_a_bad_accounts_payable_address_is_refused(world, address):
    errors = _errors(world, accounts_payable_email=address)
    assert errors["accounts_payable_email"][0].startswith("Enter a valid e-mail address")


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("billing_name", "Volt\nlease", "control character"),
        ("billing_address", "Keizersgracht\t1", "control character"),
        ("billing_city", "Amster\u202edam", "control character"),  # right-to-left override
        ("purchase_order_reference", "PO\x00", "control character"),
        ("billing_name", "V" * 201, "at most 200 characters"),
        ("billing_postcode", "1" * 21, "at most 20 characters"),
        ("billing_city", "A" * 101, "at most 100 characters"),
        ("purchase_order_reference", "P" * 101, "at most 100 characters"),
    ],
)
def test_text_with_control_characters_or_too_long_is_refused(world, field, value, message):
    assert message in _errors(world, **{field: value})[field][0]


def test_a_non_breaking_space_is_kept_as_a_plain_space(world):
    assert _update(world, billing_name="Voltlease\u00a0B.V. ").billing_name == "Voltlease B.V."


def test_every_wrong_field_is_named_at_once_and_nothing_is_written(world):
    errors = _errors(
        world,
        billing_name="Voltlease B.V.",
        billing_country="ZZ",
        vat_number="NL004495445B02x",
        accounts_payable_email="nope",
    )
    assert set(errors) == {"billing_country", "vat_number", "accounts_payable_email"}
    assert Organisation.objects.get(pk=world.org_a.pk).billing_name == ""
    assert not AuditEvent.objects.exists()


def test_a_payer_without_a_grant_is_refused_like_a_missing_organisation(world, acme):
    org, carla = acme
    actor = world.actor(carla)
    answers = []
    for payer in (world.org_b.pk, 999_999, str(world.org_b.pk), "abc"):
        with pytest.raises(ValidationError) as caught:
            billing_details_update(actor=actor, organisation=org, invoice_payer=payer)
        answers.append(caught.value.message_dict)
    assert all(a == answers[0] for a in answers)
    assert "no such organisation" in answers[0]["invoice_payer"][0]


def test_a_revoked_grant_no_longer_lets_the_payer_be_named(world, acme):
    org, carla = acme
    Grant.objects.update(revoked_at=timezone.now())
    with pytest.raises(ValidationError):
        billing_details_update(
            actor=world.actor(carla), organisation=org, invoice_payer=world.org_a.pk
        )


def test_only_the_managing_role_may_change_them(world):
    for admin in (world.ana, world.otto):
        with pytest.raises(PermissionDenied):
            billing_details_update(
                actor=world.actor(admin), organisation=world.org_a, billing_name="X"
            )
    with pytest.raises(PermissionDenied):  # Bob manages Rival Lease, not Voltlease
        billing_details_update(
            actor=world.actor(world.bob), organisation=world.org_a, billing_name="X"
        )
    assert Organisation.objects.get(pk=world.org_a.pk).billing_name == ""


# --- who is invoiced ----------------------------------------------------------------


def test_an_organisation_is_invoiced_itself_unless_it_named_a_payer(world, acme):
    org, carla = acme
    assert buyer_of(org) == org
    billing_details_update(actor=world.actor(carla), organisation=org, invoice_payer=world.org_a.pk)
    org.refresh_from_db()
    assert buyer_of(org) == world.org_a


def test_once_the_grant_to_the_payer_is_revoked_the_organisation_is_invoiced_itself(world, acme):
    org, carla = acme
    billing_details_update(
        actor=world.actor(carla),
        organisation=org,
        invoice_payer=world.org_a.pk,
        billing_name="Acme Holding B.V.",
    )
    Grant.objects.filter(grantor=org).update(revoked_at=timezone.now())
    org.refresh_from_db()
    invoice = invoice_issue(organisation=org, kind="services", month=date(2026, 11, 1), lines=[])
    assert invoice.buyer == org
    assert invoice.buyer_details["name"] == "Acme Holding B.V."


# --- the API ------------------------------------------------------------------------


def test_the_api_round_trip(world, acme, api_key_for, client: Client):
    org, _ = acme
    manager = api_key_for(org, Role.NETWORK_MANAGER)
    body = {k: v for k, v in VALID.items() if k != "invoice_payer"}
    response = _patch(client, manager, {**body, "invoice_payer": world.org_a.pk})
    assert response.status_code == 200, response.content
    read = client.get(API, headers=api_key_for(org, Role.ANALYST, name="bi")).json()
    assert read == response.json()
    assert read["vat_number"] == "NL004495445B01"
    assert read["accounts_payable_email"] == "ap@voltlease.example"
    assert read["invoice_payer"] == {"id": world.org_a.pk, "name": "Voltlease"}
    assert read["payer_choices"] == [{"id": world.org_a.pk, "name": "Voltlease"}]
    event = AuditEvent.objects.get(action="organisation.update")
    assert event.actor_label == "api_key:test"
    assert event.changes["invoice_payer"] == [None, "Voltlease"]
    # Only the fields sent change; null: invoiced itself again.
    response = _patch(client, manager, {"invoice_payer": None})
    assert response.json()["invoice_payer"] is None
    assert response.json()["billing_city"] == "Amsterdam"


def test_the_api_answers_422_per_field_and_writes_nothing(world, acme, api_key_for, client):
    org, _ = acme
    response = _patch(
        client,
        api_key_for(org),
        {
            "billing_country": "NL",
            "vat_number": "DE136695976",
            "accounts_payable_email": "ap@",
            "invoice_payer": world.org_b.pk,
            "billing_name": "Acme",
        },
    )
    assert response.status_code == 422
    detail = {tuple(e["loc"]): e["msg"] for e in response.json()["detail"]}
    assert set(detail) == {
        ("body", "vat_number"),
        ("body", "accounts_payable_email"),
        ("body", "invoice_payer"),
    }
    assert "VAT number of DE" in detail[("body", "vat_number")]
    missing = _patch(client, api_key_for(org, name="2"), {"invoice_payer": 999_999}).json()
    ungranted = _patch(client, api_key_for(org, name="3"), {"invoice_payer": world.org_b.pk})
    assert ungranted.json() == missing
    assert Organisation.objects.get(pk=org.pk).billing_name == ""


def test_once_the_grant_is_revoked_the_api_shows_no_payer(world, acme, api_key_for, client):
    org, _ = acme
    headers = api_key_for(org)
    _patch(client, headers, {"invoice_payer": world.org_a.pk})
    Grant.objects.filter(grantor=org).update(revoked_at=timezone.now())
    read = client.get(API, headers=headers).json()
    assert (read["invoice_payer"], read["payer_choices"]) == (None, [])


def test_the_api_refuses_a_wrongly_typed_value_with_422(world, api_key_for, client):
    response = _patch(client, api_key_for(world.org_a), {"billing_name": ["a list"]})
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["body", "payload", "billing_name"]


def test_an_analyst_reads_but_cannot_change_and_others_see_only_their_own(
    world, api_key_for, client
):
    world.org_b.billing_name = "Rival Lease Ltd"
    world.org_b.save()
    analyst = api_key_for(world.org_a, Role.ANALYST)
    assert client.get(API, headers=analyst).json()["billing_name"] == ""
    assert _patch(client, analyst, {"billing_name": "X"}).status_code == 403
    officer = api_key_for(world.org_a, Role.CONNECTIONS_OFFICER, name="officer")
    assert client.get(API, headers=officer).status_code == 403
    # Bob's key reads and edits Rival Lease's, never Voltlease's.
    bob = api_key_for(world.org_b, Role.NETWORK_MANAGER)
    assert client.get(API, headers=bob).json()["billing_name"] == "Rival Lease Ltd"
    assert _patch(client, bob, {"billing_name": "Rival Lease plc"}).status_code == 200
    assert Organisation.objects.get(pk=world.org_a.pk).billing_name == ""
    assert Organisation.objects.get(pk=world.org_b.pk).billing_name == "Rival Lease plc"


def test_the_organisation_form_no_longer_holds_the_accounts_payable_address(world):
    """It moved to Billing; saving the organisation form leaves it as it is."""
    world.org_a.accounts_payable_email = "ap@voltlease.example"
    world.org_a.save()
    response = client_for(world.nadia).post(
        reverse("accounts:settings"), {"name": "Voltlease", "currency": "EUR"}
    )
    assert response.status_code == 302
    assert Organisation.objects.get(pk=world.org_a.pk).accounts_payable_email == (
        "ap@voltlease.example"
    )
