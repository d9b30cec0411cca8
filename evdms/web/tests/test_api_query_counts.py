"""Every list operation of the API answers in a number of queries that does not grow with
its rows (no N+1): the same count with one row as with five.

The list operations are found in the OpenAPI document (a GET answering an array or a
page), so a new list endpoint fails here until it has a row maker below.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from itertools import count
from typing import Any

import pytest
from django.db import connection as db_connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from evdms.accounts.models import User
from evdms.accounts.services import api_key_create
from evdms.api import api
from evdms.charging.models import ChargingSession
from evdms.charging.services import charger_register
from evdms.enrolment.models import Invitation, InvitationBatch
from evdms.reimbursements.models import PayoutBatch, Statement
from evdms.testing.fixtures import World, make_admin, make_connection, make_membership

_numbers = count(1)


def list_operations() -> list[str]:
    spec = api.get_openapi_schema(path_prefix="/api/v1/")
    found = []
    for path, methods in spec["paths"].items():
        answer = methods.get("get", {}).get("responses", {}).get(200, {})
        schema = answer.get("content", {}).get("application/json", {}).get("schema", {})
        if schema.get("type") == "array" or schema.get("$ref", "").endswith("Page"):
            found.append(path)
    return sorted(found)


class Rows:
    """What each list needs: a connection of Voltlease sharing home charging data, and
    per row a driver with a charger, a session and a statement."""

    def __init__(self, world: World) -> None:
        self.world = world
        self.connection = make_connection(
            world.org_a, name="Counted", home_charging_data_sharing="yes"
        )
        self.invitations = InvitationBatch.objects.create(connection=self.connection, total=0)

    def driver(self, status: str = "connected") -> User:
        n = next(_numbers)
        driver = User.objects.create_user(f"driver{n}@example.com", "a long passphrase here")
        make_membership(self.connection, driver, status)
        return driver

    def session(self) -> ChargingSession:
        driver = self.driver()
        n = next(_numbers)
        charger, _ = charger_register(
            actor=None,
            organisation=self.world.org_a,
            identity=f"Q-{n}",
            serial="S",
            driver=driver,
        )
        started = datetime(2026, 10, 1, 18, tzinfo=UTC) + timedelta(days=n % 20)
        return ChargingSession.objects.create(
            charger=charger,
            organisation_id=charger.organisation_id,
            driver=driver,
            connection=self.connection,
            transaction_id=f"Q-{n}",
            started_at=started,
            ended_at=started + timedelta(hours=2),
            energy_wh=1_000 * n,
            status="completed",
        )

    def admin(self) -> None:
        make_admin(self.world.org_a, f"admin{next(_numbers)}@voltlease.example")

    def plain_connection(self) -> None:
        # Without connected drivers: a count of 0 once made a query of its own per row.
        make_connection(self.world.org_a, name=f"Listed {next(_numbers)}")

    def request(self) -> None:
        self.driver("pending")

    def invitation(self) -> None:
        n = next(_numbers)
        Invitation.objects.create(
            batch=self.invitations,
            connection=self.connection,
            email=f"invitee{n}@example.com",
            token=f"token-{n}",
        )

    def charger(self) -> None:
        self.session()

    def statement(self) -> None:
        driver = self.session().driver
        assert driver is not None
        Statement.objects.create(
            driver=driver,
            connection=self.connection,
            month=date(2026, 10, 1),
            currency="EUR",
            total=Decimal("10.00"),
            status="ready",
        )

    def installation_job(self) -> None:
        from evdms.enrolment.models import Membership
        from evdms.installations.models import InstallationJob

        driver = self.driver()
        InstallationJob.objects.create(
            organisation=self.world.org_a,
            connection=self.connection,
            membership=Membership.objects.get(driver=driver, connection=self.connection),
            driver=driver,
        )

    def payout_batch(self) -> None:
        PayoutBatch.objects.create(execution_date=date(2026, 11, 5))

    def installer_job(self) -> None:
        """A job assigned to Voltlease acting as an installer company too (the world's
        installer admins are Voltlease's), listed with an installer manager's key."""
        from evdms.installations.models import InstallerCompany
        from evdms.testing.installations import make_job

        company, _ = InstallerCompany.objects.get_or_create(organisation=self.world.org_a)
        n = next(_numbers)
        driver = User.objects.create_user(f"homeowner{n}@example.com", "a long passphrase here")
        make_job(self.connection, driver, company)

    def charging_token(self) -> None:
        from evdms.public_charging.models import Token

        n = next(_numbers)
        Token.objects.create(
            organisation=self.world.org_a,
            driver=self.driver(),
            type="RFID",
            uid=f"04{n:08X}",
            contract_id=f"NL-EVD-C{n:08d}-0",
        )

    def fee_schedule(self) -> None:
        from evdms.invoicing.services.fees import fee_schedule_create

        n = next(_numbers)
        fee_schedule_create(
            actor_label="query count",
            organisation=self.world.org_a,
            valid_from=date(2000 + n // 12, n % 12 + 1, 1),
        )

    def invoice(self) -> None:
        """A Services invoice of its own month, with a line (the list reads no lines)."""
        from evdms.invoicing.models import InvoiceKind, LineSource
        from evdms.invoicing.services.issue import DraftLine, invoice_issue

        n = next(_numbers)
        invoice_issue(
            organisation=self.world.org_a,
            kind=InvoiceKind.SERVICES,
            month=date(2000 + n // 12, n % 12 + 1, 1),
            lines=[
                DraftLine(
                    source=LineSource.DRIVER_FEE,
                    description="Monthly fee",
                    quantity=Decimal(1),
                    unit_price=Decimal("5.00"),
                )
            ],
        )


ROW_MAKERS: dict[str, Callable[[Rows], object]] = {
    "/api/v1/admins": Rows.admin,
    "/api/v1/connections": Rows.plain_connection,
    "/api/v1/connection-requests": Rows.request,
    "/api/v1/drivers": Rows.driver,
    "/api/v1/connections/{connection_id}/invitations": Rows.invitation,
    "/api/v1/chargers": Rows.charger,
    "/api/v1/charging-sessions": Rows.session,
    "/api/v1/statements": Rows.statement,
    "/api/v1/payout-batches": Rows.payout_batch,
    "/api/v1/reports/transactions": Rows.session,
    "/api/v1/installations": Rows.installation_job,
    "/api/v1/installer/jobs": Rows.installer_job,
    "/api/v1/charging-tokens": Rows.charging_token,
    "/api/v1/organisations/{organisation_id}/fee-schedules": Rows.fee_schedule,
    "/api/v1/invoices": Rows.invoice,
}
# Platform operators' lists: called with an operator's key.
OPERATOR_LISTS = {"/api/v1/payout-batches", "/api/v1/organisations/{organisation_id}/fee-schedules"}


def test_every_list_operation_is_counted_here():
    assert list_operations() == sorted(ROW_MAKERS)


def _items(body: Any) -> list[Any]:
    return body if isinstance(body, list) else body["items"]


@pytest.mark.parametrize("path", sorted(ROW_MAKERS))
def test_a_list_answers_in_as_many_queries_with_five_rows_as_with_one(world, path):
    rows = Rows(world)
    make = ROW_MAKERS[path]
    if path in OPERATOR_LISTS:
        from evdms.accounts.services.operator_keys import operator_api_key_create

        petra = User.objects.create_user(
            "petra@platform.example", "petra's passphrase", is_staff=True
        )
        key = operator_api_key_create(operator=petra, name="query count")[1]
    else:
        role = "installer_manager" if path.startswith("/api/v1/installer/") else "network_manager"
        key = api_key_create(actor=None, organisation=world.org_a, name="query count", role=role)[1]
    client = Client(headers={"Authorization": f"Bearer {key}"})
    url = path.replace("{connection_id}", str(rows.connection.pk)).replace(
        "{organisation_id}", str(world.org_a.pk)
    )

    def listed() -> tuple[int, int]:
        with CaptureQueriesContext(db_connection) as queries:
            response = client.get(url)
        assert response.status_code == 200, response.content
        return len(_items(response.json())), len(queries)

    make(rows)
    # The key's first use is recorded once (an extra write), so count from the second.
    listed()
    few, queries_with_few = listed()
    for _ in range(4):
        make(rows)
    many, queries_with_many = listed()
    assert many == few + 4
    assert queries_with_many == queries_with_few
