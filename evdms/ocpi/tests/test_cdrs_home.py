"""``home_charging_compensation``: a partner's CDR of the driver's home charging is a
home session, reimbursed by the statement run like our chargers' sessions, and held
when the driver's own charger (ours, over OCPP) reported the same charging."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from evdms.charging.models import ChargingSession, SessionKind, SessionReview
from evdms.enrolment.models import Membership
from evdms.ocpi.simulator import SimulatedCpo
from evdms.ocpi.tests.test_cdrs import cdr_body, driver_with_token, public_connection
from evdms.ocpi.tests.test_handshake import add_partner
from evdms.public_charging.models import Token
from evdms.reimbursements.models import StatementLine
from evdms.reimbursements.tests.conftest import reimbursed_driver
from evdms.testing.fixtures import World

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def registered(platform: str, cpo: SimulatedCpo) -> SimulatedCpo:
    versions_url, token_a = add_partner()
    cpo.register_with(versions_url, token_a)
    return cpo


@pytest.fixture
def dan(world: World):
    """Dan: home charger of ours, bank details, a home price, and an app token."""
    connection = public_connection(world.org_a, "Voltlease home and public")
    dan = reimbursed_driver(world, connection)
    Membership.objects.filter(driver=dan["driver"]).update(
        connected_at=datetime(2026, 1, 1, tzinfo=UTC)
    )
    Token.objects.create(
        organisation=world.org_a,
        driver=dan["driver"],
        type="APP_USER",
        uid="APPDAN01",
        contract_id="NL-EVD-CDAN00001-X",
        valid=True,
    )
    return dan


def test_a_home_compensation_cdr_is_a_home_session_the_statement_run_reimburses(registered, dan):
    from evdms.reimbursements.services.statements import statements_run

    registered.push_cdr(cdr_body(uid="APPDAN01", home_charging_compensation=True))

    session = ChargingSession.objects.get()
    assert session.kind == SessionKind.HOME and session.charger is None
    assert session.driver == dan["driver"] and session.connection == dan["connection"]
    assert session.review == SessionReview.NOT_NEEDED
    assert session.purpose == ""  # purpose is a public session's

    statements_run(date(2026, 11, 1))

    line = StatementLine.objects.get()
    assert line.session == session and line.energy_wh == 15342


def test_it_is_held_when_the_drivers_own_charger_reported_the_same_charging(registered, dan):
    from evdms.reimbursements.services.statements import statements_run

    started = datetime(2026, 11, 10, 17, 30, tzinfo=UTC)
    own = ChargingSession.objects.create(
        organisation_id=dan["charger"].organisation_id,
        charger=dan["charger"],
        driver=dan["driver"],
        connection=dan["connection"],
        transaction_id="OWN-1",
        started_at=started,
        ended_at=started + timedelta(hours=2),
        energy_wh=15000,
        status="completed",
    )

    registered.push_cdr(cdr_body(uid="APPDAN01", home_charging_compensation=True))

    partners = ChargingSession.objects.get(public_key="NL*SIM*S*S-1")
    assert partners.review == SessionReview.PENDING
    assert f"also reported by the driver's charger (session {own.pk})" in partners.flags
    statements_run(date(2026, 11, 1))
    assert [line.session_id for line in StatementLine.objects.all()] == [own.pk]


def test_home_and_public_drivers_tokens_are_not_mixed(registered, world):
    # A public CDR of Dana (no home charger): public, never on a statement.
    from evdms.reimbursements.services.statements import statements_run

    connection = public_connection(world.org_a, "Voltlease public")
    driver_with_token(world.org_a, connection, "dana@x.example", "APP00001")
    registered.push_cdr(cdr_body())
    assert ChargingSession.objects.get().kind == SessionKind.PUBLIC
    statements_run(date(2026, 11, 1))
    assert StatementLine.objects.count() == 0
