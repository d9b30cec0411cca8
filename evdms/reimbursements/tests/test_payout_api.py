"""Operators pay statements through the API with an operator key; organisation keys
never see a batch; bad input is a field-level 422, never a 500."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from evdms.accounts.models import Role
from evdms.notifications.models import OutboundEmail
from evdms.reimbursements.models import Statement

pytestmark = pytest.mark.django_db


@pytest.fixture
def op(operator) -> dict[str, str]:
    out = StringIO()
    call_command("create_api_key", "--operator", operator.email, "--name", "bank sync", stdout=out)
    return {"Authorization": f"Bearer {out.getvalue().strip()}"}


def test_an_operator_pays_a_month_through_the_api(client, op, make_statement):
    make_statement("anna@example.com", total="12.34")
    make_statement("bert@example.com", total="5.00")
    made = client.post(
        "/api/v1/payout-batches",
        {"execution_date": "2026-11-05"},
        content_type="application/json",
        headers=op,
    )
    assert made.status_code == 201
    batch = made.json()
    assert (batch["status"], batch["total"], batch["lines"]) == ("draft", "17.34", 2)
    url = f"/api/v1/payout-batches/{batch['id']}"
    lines = {item["driver_email"]: item for item in batch["items"]}

    xml = client.post(f"{url}/export", headers=op)
    assert xml["Content-Type"] == "application/xml" and b"pain.001.001.09" in xml.content
    assert client.post(f"{url}/export", headers=op).content == xml.content  # the same file

    anna = lines["anna@example.com"]["id"]
    failed = client.post(
        f"{url}/lines/{anna}/failed",
        {"reason": "AC04 closed account"},
        content_type="application/json",
        headers=op,
    ).json()
    assert (failed["status"], failed["pending"], failed["failed"]) == ("exported", 1, 1)
    paid = client.post(f"{url}/paid", headers=op).json()
    assert paid["status"] == "paid" and paid["paid_at"] is not None
    assert {i["driver_email"]: (i["status"], i["failure_reason"]) for i in paid["items"]} == {
        "anna@example.com": ("failed", "AC04 closed account"),
        "bert@example.com": ("paid", ""),
    }
    assert OutboundEmail.objects.filter(template="payout_failed").count() == 1
    listed = client.get("/api/v1/payout-batches?status=paid", headers=op).json()
    assert listed["count"] == 1 and listed["items"][0]["failed"] == 1
    # the organisation sees the outcome on its statements, not the batch
    body = client.get(
        "/api/v1/statements",
        headers={"Authorization": f"Bearer {_org_key(make_statement)}"},
    ).json()
    assert sorted(i["status"] for i in body["items"]) == ["failed", "paid"]


def _org_key(make_statement) -> str:
    from evdms.accounts.services import api_key_create

    organisation = Statement.objects.first().connection.organisation  # type: ignore[union-attr]
    return api_key_create(actor=None, organisation=organisation, name="k", role=Role.ANALYST)[1]


def test_bad_input_gets_field_level_errors(client, op, make_statement):
    def post(url, body):
        return client.post(url, body, content_type="application/json", headers=op)

    nothing = post("/api/v1/payout-batches", {"execution_date": "2026-11-05"})
    assert nothing.status_code == 422
    assert nothing.json()["detail"][0]["msg"] == "No statement is ready to be paid."
    bad_date = post("/api/v1/payout-batches", {"execution_date": "next week"})
    assert bad_date.status_code == 422
    assert bad_date.json()["detail"][0]["loc"][-1] == "execution_date"
    make_statement("anna@example.com")
    batch = post("/api/v1/payout-batches", {"execution_date": "2026-11-05"}).json()
    line = batch["items"][0]["id"]
    url = f"/api/v1/payout-batches/{batch['id']}"
    draft = post(f"{url}/lines/{line}/failed", {"reason": "AC04 closed account"})
    assert draft.status_code == 422 and "Export the batch first" in draft.json()["detail"][0]["msg"]
    client.post(f"{url}/export", headers=op)
    empty = post(f"{url}/lines/{line}/failed", {"reason": " "})
    assert empty.status_code == 422
    assert empty.json()["detail"][0]["loc"] == ["body", "reason"]
    assert post(f"{url}/lines/{line}/failed", {}).status_code == 422
    assert client.get("/api/v1/payout-batches?status=lost", headers=op).status_code == 422
    assert client.get("/api/v1/payout-batches?limit=0", headers=op).status_code == 422
    other = post("/api/v1/payout-batches/999999/lines/1/paid", {})
    assert other.status_code == 404
    assert post(f"/api/v1/payout-batches/999999/lines/{line}/paid", {}).status_code == 404


def test_organisation_keys_never_see_a_batch(client, world, api_key_for, make_statement, op):
    make_statement("anna@example.com")
    client.post(
        "/api/v1/payout-batches",
        {"execution_date": "2026-11-05"},
        content_type="application/json",
        headers=op,
    )
    manager = api_key_for(world.org_a, Role.NETWORK_MANAGER)
    answer = client.get("/api/v1/payout-batches", headers=manager)
    assert answer.status_code == 403
    assert answer.json() == {"detail": "This operation is for platform operators."}


def test_an_operator_key_stops_working_with_its_operator(client, op, operator):
    assert client.get("/api/v1/payout-batches", headers=op).status_code == 200
    operator.is_staff = False
    operator.save()
    assert client.get("/api/v1/payout-batches", headers=op).status_code == 401
    assert client.get("/api/v1/payout-batches").status_code == 401


def test_the_command_makes_operator_keys_only_for_operators(world):
    with pytest.raises(CommandError, match="Only an active platform operator"):
        call_command("create_api_key", "--operator", world.nadia.user.email, "--name", "x")
    with pytest.raises(CommandError, match="either --organisation SLUG or --operator"):
        call_command("create_api_key", "--name", "x")
    with pytest.raises(CommandError, match="No user"):
        call_command("create_api_key", "--operator", "nobody@example.com", "--name", "x")


def test_batch_lists_cost_the_same_queries_for_more_batches_and_lines(client, op, make_statement):
    from django.db import connection as database
    from django.test.utils import CaptureQueriesContext

    def create() -> int:
        return client.post(
            "/api/v1/payout-batches",
            {"execution_date": "2026-11-05"},
            content_type="application/json",
            headers=op,
        ).json()["id"]

    make_statement("anna@example.com")
    first = create()
    client.get("/api/v1/payout-batches", headers=op)
    with CaptureQueriesContext(database) as few:
        client.get("/api/v1/payout-batches", headers=op)
        client.get(f"/api/v1/payout-batches/{first}", headers=op)
    for email in ("bert@example.com", "cleo@example.com", "dirk@example.com"):
        make_statement(email)
    second = create()
    with CaptureQueriesContext(database) as many:
        listed = client.get("/api/v1/payout-batches", headers=op).json()
        detail = client.get(f"/api/v1/payout-batches/{second}", headers=op).json()
    assert listed["count"] == 2 and len(detail["items"]) == 3
    assert len(many) == len(few)


@pytest.mark.parametrize("offset", [10**6, 10**20])
def test_a_batch_list_offset_past_the_end_is_an_empty_page(client, op, offset):
    response = client.get("/api/v1/payout-batches", {"offset": offset}, headers=op)
    assert response.status_code == 200 and response.json()["items"] == []
