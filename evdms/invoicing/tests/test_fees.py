"""Fee schedules: set by platform operators (Petra) from a month on, history kept.

Voltlease (A) is the organisation charged; Nadia, its Network Manager, must never reach
the operators' fee schedule API with Voltlease's own key.
"""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.test import Client

from evdms.accounts.models import OrganisationKind, Role, User
from evdms.accounts.services.operator_keys import operator_api_key_create
from evdms.audit.models import AuditEvent
from evdms.invoicing.models import FeeSchedule
from evdms.invoicing.selectors import fee_schedules_in_force
from evdms.invoicing.services.fees import fee_schedule_create
from evdms.invoicing.services.issue import invoice_issue
from evdms.testing.concurrency import at_once
from evdms.testing.fixtures import make_organisation

pytestmark = pytest.mark.django_db

NOV = date(2026, 11, 1)
ADD = "/platform-admin/invoicing/feeschedule/add/"


@pytest.fixture
def petra(db) -> User:
    return User.objects.create_user("petra@platform.example", "petra's passphrase", is_staff=True)


@pytest.fixture
def operator_key(petra) -> dict[str, str]:
    return {"Authorization": f"Bearer {operator_api_key_create(operator=petra, name='t')[1]}"}


def _create(world, valid_from=NOV, **fees) -> FeeSchedule:
    return fee_schedule_create(
        actor_label="petra@platform.example",
        organisation=world.org_a,
        valid_from=valid_from,
        **fees,
    )


def _errors(world, valid_from=NOV, **fees) -> dict[str, list[str]]:
    with pytest.raises(ValidationError) as caught:
        _create(world, valid_from, **fees)
    return caught.value.message_dict


def _issue_services_invoice(world, month: date) -> None:
    invoice_issue(organisation=world.org_a, kind="services", month=month, lines=[])


# --- the service --------------------------------------------------------------------


def test_a_schedule_is_stored_with_its_fees_and_audited(world, petra):
    schedule = fee_schedule_create(
        actor_label="petra@platform.example",
        organisation=world.org_a,
        valid_from=NOV,
        operator=petra,
        driver_fee="4.50",
        driver_fee_pro_rata=False,
        warranty_fee=Decimal("7.25"),
        reimbursement_fee_basis="percent",
        reimbursement_fee="2.5",
        public_fee=1,
    )
    stored = FeeSchedule.objects.get(pk=schedule.pk)
    assert (stored.driver_fee, stored.warranty_fee) == (Decimal("4.5"), Decimal("7.25"))
    assert stored.driver_fee_pro_rata is False
    assert (stored.reimbursement_fee_basis, stored.reimbursement_fee) == ("percent", Decimal("2.5"))
    assert (stored.public_fee_basis, stored.public_fee) == ("per_item", Decimal(1))
    assert stored.currency == "EUR"
    assert stored.created_by == "petra@platform.example"
    event = AuditEvent.objects.get(action="fee_schedule.set")
    assert event.organisation == world.org_a
    assert event.actor_user == petra
    assert event.changes["valid_from"] == [None, "2026-11-01"]
    assert event.changes["driver_fee"] == [None, "4.50"]
    assert event.changes["reimbursement_fee_basis"] == [None, "percent"]


@pytest.mark.parametrize("day", [date(2026, 11, 2), date(2026, 11, 30), date(2026, 12, 31)])
def test_valid_from_must_be_the_first_of_a_month(world, day):
    errors = _errors(world, day)
    assert errors["valid_from"][0].startswith(
        "A fee schedule applies from the first day of a month"
    )
    assert f"use {day.replace(day=1).isoformat()}" in errors["valid_from"][0]
    assert not FeeSchedule.objects.exists()


def test_a_datetime_is_not_a_month(world):
    assert "valid_from" in _errors(world, datetime(2026, 11, 1, tzinfo=UTC))


@pytest.mark.parametrize("field", ["driver_fee", "warranty_fee", "reimbursement_fee", "public_fee"])
@pytest.mark.parametrize("value", ["-0.01", Decimal("-5"), -1])
def test_a_negative_fee_is_refused(world, field, value):
    assert _errors(world, **{field: value}) == {field: ["A fee cannot be negative."]}
    assert not FeeSchedule.objects.exists()
    assert not AuditEvent.objects.exists()


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("abc", "Enter an amount"),
        ("NaN", "Enter an amount"),
        ("Infinity", "Enter an amount"),
        (1.5, "Enter an amount"),  # a float: never for money
        ("1.00001", "at most 4 decimal places"),
        ("100000000", "Use at most 99999999.9999"),
    ],
)
def test_a_fee_that_is_not_an_amount_is_refused(world, value, message):
    assert message in _errors(world, driver_fee=value)["driver_fee"][0]


@pytest.mark.parametrize("field", ["reimbursement_fee", "public_fee"])
def test_a_percentage_is_at_most_100(world, field):
    basis = f"{field}_basis"
    assert _errors(world, **{basis: "percent", field: "100.01"}) == {
        field: ["A percentage is at most 100."]
    }
    # The same amount per item is a fee, not a percentage.
    assert _create(world, **{basis: "per_item", field: "100.01"}).pk


def test_an_unknown_basis_and_a_foreign_currency_are_refused(world):
    errors = _errors(world, public_fee_basis="per_kwh", currency="GBP")
    assert set(errors) == {"public_fee_basis", "currency"}
    assert "EUR" in errors["currency"][0]


def test_an_installer_company_has_no_fee_schedule(world):
    installer = make_organisation("fitters", "Fitters", kind=OrganisationKind.INSTALLER)
    with pytest.raises(ValidationError) as caught:
        fee_schedule_create(actor_label="p", organisation=installer, valid_from=NOV)
    assert "organisation" in caught.value.message_dict


def test_a_second_schedule_for_the_same_month_is_refused_as_overlapping(world):
    first = _create(world, driver_fee="4.00")
    errors = _errors(world, driver_fee="5.00")
    assert errors["valid_from"][0].startswith("Overlapping dates: Voltlease has a fee schedule")
    assert "November 2026" in errors["valid_from"][0]
    assert list(FeeSchedule.objects.all()) == [first]
    assert AuditEvent.objects.filter(action="fee_schedule.set").count() == 1


@pytest.mark.django_db(transaction=True)
def test_two_operators_setting_the_same_month_at_once_make_one_schedule(world):
    refused: list[str] = []

    def attempt(fee: str) -> None:
        try:
            _create(world, driver_fee=fee)
        except ValidationError as exc:
            refused.extend(exc.messages)

    at_once(lambda: attempt("4.00"), lambda: attempt("5.00"))
    assert FeeSchedule.objects.count() == 1
    assert AuditEvent.objects.filter(action="fee_schedule.set").count() == 1
    assert len(refused) == 1 and refused[0].startswith("Overlapping dates")


def test_a_change_applies_from_a_later_month_and_the_history_stays(world):
    _create(world, driver_fee="4.00")
    _create(world, date(2027, 2, 1), driver_fee="5.00")
    _create(world, date(2026, 9, 1), driver_fee="3.00")  # nothing invoiced yet: allowed
    in_force = {
        month: fee_schedules_in_force([world.org_a.pk], month)[world.org_a.pk].driver_fee
        for month in (date(2026, 10, 1), date(2026, 12, 1), date(2027, 3, 1))
    }
    assert in_force == {
        date(2026, 10, 1): Decimal("3.00"),
        date(2026, 12, 1): Decimal("4.00"),
        date(2027, 3, 1): Decimal("5.00"),
    }
    assert FeeSchedule.objects.count() == 3


def test_a_month_already_invoiced_keeps_its_schedule(world):
    _create(world, driver_fee="4.00")
    _issue_services_invoice(world, date(2026, 12, 1))
    for month in (date(2026, 12, 1), date(2026, 12, 1).replace(month=11), date(2026, 6, 1)):
        errors = _errors(world, month, driver_fee="9.00")
        assert "December 2026 is invoiced already" in errors["valid_from"][0]
        assert "from January 2027 on" in errors["valid_from"][0]
    assert _create(world, date(2027, 1, 1), driver_fee="9.00").driver_fee == Decimal("9.00")
    assert list(FeeSchedule.objects.values_list("driver_fee", flat=True)) == [
        Decimal("9.00"),
        Decimal("4.00"),
    ]


def test_another_organisations_invoices_do_not_close_a_month(world):
    invoice_issue(organisation=world.org_b, kind="services", month=NOV, lines=[])
    assert _create(world).valid_from == NOV


# --- the operator API ----------------------------------------------------------------


def _post(client: Client, headers, org_id: int, body: object):
    return client.post(
        f"/api/v1/organisations/{org_id}/fee-schedules",
        data=json.dumps(body),
        content_type="application/json",
        headers=headers,
    )


def test_the_operator_api_round_trip(world, operator_key, client: Client):
    created = _post(
        client,
        operator_key,
        world.org_a.pk,
        {
            "valid_from": "2026-11-01",
            "driver_fee": "4.50",
            "public_fee_basis": "percent",
            "public_fee": 3,
        },
    )
    assert created.status_code == 201, created.content
    body = created.json()
    assert body["organisation_id"] == world.org_a.pk
    assert body["valid_from"] == "2026-11-01"
    assert Decimal(body["driver_fee"]) == Decimal("4.50")
    assert (body["public_fee_basis"], Decimal(body["public_fee"])) == ("percent", Decimal(3))
    assert body["created_by"] == "petra@platform.example (operator API)"
    assert client.get(f"/api/v1/fee-schedules/{body['id']}", headers=operator_key).json() == body
    _post(client, operator_key, world.org_a.pk, {"valid_from": "2027-01-01", "driver_fee": "5"})
    listing = client.get(
        f"/api/v1/organisations/{world.org_a.pk}/fee-schedules", headers=operator_key
    ).json()
    assert listing["count"] == 2
    assert [item["valid_from"] for item in listing["items"]] == ["2027-01-01", "2026-11-01"]
    assert AuditEvent.objects.filter(action="fee_schedule.set").count() == 2


def test_the_operator_api_answers_422_per_field_and_writes_nothing(
    world, operator_key, client: Client
):
    response = _post(
        client,
        operator_key,
        world.org_a.pk,
        {"valid_from": "2026-11-15", "driver_fee": "-1", "public_fee": "x"},
    )
    assert response.status_code == 422
    detail = {tuple(e["loc"]): e["msg"] for e in response.json()["detail"]}
    assert set(detail) == {("body", "valid_from"), ("body", "driver_fee"), ("body", "public_fee")}
    assert detail[("body", "driver_fee")] == "A fee cannot be negative."
    assert not FeeSchedule.objects.exists()
    assert not AuditEvent.objects.filter(action="fee_schedule.set").exists()


def test_the_operator_api_refuses_an_overlapping_month(world, operator_key, client: Client):
    assert _post(client, operator_key, world.org_a.pk, {"valid_from": "2026-11-01"}).status_code
    again = _post(client, operator_key, world.org_a.pk, {"valid_from": "2026-11-01"})
    assert again.status_code == 422
    assert again.json()["detail"][0]["msg"].startswith("Overlapping dates")
    assert FeeSchedule.objects.count() == 1


def test_a_missing_organisation_or_schedule_is_404(world, operator_key, client: Client):
    assert _post(client, operator_key, 999_999, {"valid_from": "2026-11-01"}).status_code == 404
    assert client.get("/api/v1/fee-schedules/999999", headers=operator_key).status_code == 404
    listing = client.get("/api/v1/organisations/999999/fee-schedules", headers=operator_key)
    assert listing.status_code == 404


def test_an_organisation_key_gets_403_and_learns_nothing(world, api_key_for, client: Client):
    schedule = _create(world)
    nadia = api_key_for(world.org_a, Role.NETWORK_MANAGER)
    answers = [
        client.get(f"/api/v1/fee-schedules/{schedule.pk}", headers=nadia),
        client.get("/api/v1/fee-schedules/999999", headers=nadia),
        client.get(f"/api/v1/organisations/{world.org_a.pk}/fee-schedules", headers=nadia),
        _post(client, nadia, world.org_a.pk, {"valid_from": "2027-01-01"}),
    ]
    assert [a.status_code for a in answers] == [403, 403, 403, 403]
    assert len({a.content for a in answers}) == 1
    assert FeeSchedule.objects.count() == 1


# --- the Django admin ---------------------------------------------------------------


def _admin_form(world, **overrides) -> dict[str, object]:
    return {
        "organisation": world.org_a.pk,
        "valid_from": "2026-11-01",
        "driver_fee": "4.50",
        "driver_fee_pro_rata": "on",
        "warranty_fee": "0",
        "reimbursement_fee_basis": "per_item",
        "reimbursement_fee": "0.50",
        "public_fee_basis": "percent",
        "public_fee": "2",
        **overrides,
    }


def test_an_operator_creates_a_schedule_in_the_admin_through_the_service(world, admin_client):
    response = admin_client.post(ADD, _admin_form(world))
    assert response.status_code == 302, response.content.decode()[:3000]
    schedule = FeeSchedule.objects.get()
    assert (schedule.driver_fee, schedule.public_fee) == (Decimal("4.50"), Decimal(2))
    assert schedule.created_by == "admin@example.com"
    assert AuditEvent.objects.get(action="fee_schedule.set").actor_label == "admin@example.com"
    listing = admin_client.get("/platform-admin/invoicing/feeschedule/").content.decode()
    assert "Voltlease" in listing and "2026-11" in listing


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        ({"valid_from": "2026-11-15"}, "valid_from", "first day of a month"),
        ({"driver_fee": "-1"}, "driver_fee", "A fee cannot be negative."),
        ({"public_fee": "150"}, "public_fee", "A percentage is at most 100."),
    ],
)
def test_the_admin_shows_the_services_message_next_to_the_field(
    world, admin_client, overrides, field, message
):
    response = admin_client.post(ADD, _admin_form(world, **overrides))
    assert response.status_code == 200
    errors = response.context["adminform"].form.errors
    assert any(message in text for text in errors[field])
    assert not FeeSchedule.objects.exists()


def test_the_admin_refuses_an_overlapping_month(world, admin_client):
    _create(world)
    response = admin_client.post(ADD, _admin_form(world))
    assert response.status_code == 200
    assert "Overlapping dates" in response.context["adminform"].form.errors["valid_from"][0]
    assert FeeSchedule.objects.count() == 1


def test_the_admin_offers_only_organisations_the_platform_invoices(world, admin_client):
    make_organisation("fitters", "Fitters", kind=OrganisationKind.INSTALLER)
    page = admin_client.get(ADD).content.decode()
    assert "Voltlease" in page and "Fitters" not in page


def test_a_schedule_is_read_only_in_the_admin(world, admin_client):
    schedule = _create(world, driver_fee="4.00")
    url = f"/platform-admin/invoicing/feeschedule/{schedule.pk}/change/"
    page = admin_client.get(url)
    assert page.status_code == 200
    assert b'name="driver_fee"' not in page.content  # shown, not an input
    admin_client.post(url, _admin_form(world, driver_fee="9.00"))
    assert FeeSchedule.objects.get().driver_fee == Decimal("4.00")
    delete = admin_client.post(
        f"/platform-admin/invoicing/feeschedule/{schedule.pk}/delete/", {"post": "yes"}
    )
    assert delete.status_code == 403
    assert FeeSchedule.objects.count() == 1


@pytest.mark.parametrize(
    "query",
    [
        "valid_from__year=9999",
        "valid_from__year=9999&valid_from__month=12",
        "valid_from__year=99999999999999999999",
    ],
)
def test_a_hand_made_year_in_the_admin_list_is_wrong_parameters_not_an_error(
    world, admin_client, query
):
    _create(world)
    listing = admin_client.get(f"/platform-admin/invoicing/feeschedule/?{query}", follow=True)
    # The admin's own answer to parameters it cannot use: the list again, with ?e=1.
    assert listing.status_code == 200
    assert listing.redirect_chain[-1][0].endswith("?e=1")
