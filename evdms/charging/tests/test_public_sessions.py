"""The session core's two entries for roaming partners' records: ``public_session_record``
and ``public_session_credit`` (the OCPI adapters have their own tests over HTTP)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from evdms.accounts.models import User
from evdms.charging import bounds
from evdms.charging.models import (
    ChargingSession,
    SessionKind,
    SessionPurpose,
    SessionReview,
    SessionStatus,
)
from evdms.charging.services import charger_register
from evdms.charging.services.sessions import (
    PartnerRecord,
    public_session_credit,
    public_session_record,
)
from evdms.enrolment.models import Membership
from evdms.testing.fixtures import World, make_connection, make_membership

pytestmark = pytest.mark.django_db

START = datetime(2026, 11, 10, 18, 0, tzinfo=UTC)


@pytest.fixture
def dana(world: World) -> User:
    connection = make_connection(
        world.org_a,
        name="Voltlease public",
        pay_for_public_charging="yes",
        payment_via="direct_invoice_service",
    )
    driver = User.objects.create_user("dana@x.example", "a long passphrase", full_name="Dana")
    membership = make_membership(connection, driver)
    Membership.objects.filter(pk=membership.pk).update(
        connected_at=datetime(2026, 1, 1, tzinfo=UTC)
    )
    return driver


def record(world: World, driver: User, **overrides: object) -> PartnerRecord:
    values: dict[str, object] = {
        "key": "NL*SIM*S*S-1",
        "organisation_id": world.org_a.pk,
        "driver_id": driver.pk,
        "transaction_id": "S-1",
        "started_at": START,
        "ended_at": START + timedelta(hours=2),
        "energy_wh": 15342,
        "completed": True,
        "final": True,
        "token": "APP00001",
        "operator": "Zuid Charging",
        "location_name": "Gent Zuid",
        "location_address": "F.Rooseveltlaan 3A, 9000 Gent, BEL",
        "cost_excl_vat": Decimal("4.00"),
        "cost_incl_vat": Decimal("4.40"),
        "currency": "EUR",
    }
    values.update(overrides)
    return PartnerRecord(**values)  # type: ignore[arg-type]


def test_a_record_makes_a_public_business_session_of_the_membership_in_force(world, dana):
    session = public_session_record(record(world, dana))

    session.refresh_from_db()
    assert session.kind == SessionKind.PUBLIC and session.status == SessionStatus.COMPLETED
    assert session.organisation == world.org_a and session.driver == dana
    assert session.connection is not None and session.connection.name == "Voltlease public"
    assert session.purpose == SessionPurpose.BUSINESS
    assert (session.energy_wh, session.cost_excl_vat, session.cost_incl_vat) == (
        15342,
        Decimal("4.0000"),
        Decimal("4.4000"),
    )
    assert (session.operator, session.location_name, session.currency) == (
        "Zuid Charging",
        "Gent Zuid",
        "EUR",
    )
    assert session.id_tag == "APP00001" and session.charger is None


def test_the_same_record_twice_is_one_session(world, dana):
    first = public_session_record(record(world, dana))
    again = public_session_record(record(world, dana))
    assert first.pk == again.pk and ChargingSession.objects.count() == 1
    assert again.flags.count("final record received") == 1


def test_a_live_report_after_the_final_record_changes_nothing(world, dana):
    public_session_record(record(world, dana))
    public_session_record(record(world, dana, final=False, completed=False, energy_wh=99))
    assert ChargingSession.objects.get().energy_wh == 15342


def test_a_live_report_then_the_final_record_land_on_one_row(world, dana):
    live = public_session_record(
        record(world, dana, final=False, completed=False, ended_at=None, energy_wh=1000)
    )
    assert live.status == SessionStatus.ACTIVE
    final = public_session_record(record(world, dana))
    assert final.pk == live.pk and final.energy_wh == 15342
    assert final.status == SessionStatus.COMPLETED


def test_without_a_membership_at_the_start_it_is_kept_flagged_and_personal(world, dana):
    session = public_session_record(
        record(world, dana, started_at=datetime(2025, 6, 1, tzinfo=UTC))
    )
    assert session.connection is None
    assert "no membership at the session's start" in session.flags
    assert session.purpose == SessionPurpose.PERSONAL


def test_a_driver_of_organisation_b_only_gets_no_membership_of_a(world):
    connection_b = make_connection(world.org_b, name="Rival public")
    driver = User.objects.create_user("rob@x.example", "a long passphrase", full_name="Rob")
    make_membership(connection_b, driver)
    session = public_session_record(record(world, driver, started_at=datetime.now(UTC)))
    # The record says organisation A: B's membership never attributes it.
    assert session.organisation == world.org_a and session.connection is None


def test_a_credit_cancels_the_session_once(world, dana):
    public_session_record(record(world, dana))
    assert public_session_credit(key="NL*SIM*S*S-1", reason="credited by CDR C-1")
    assert public_session_credit(key="NL*SIM*S*S-1", reason="credited by CDR C-1")
    session = ChargingSession.objects.get()
    assert session.status == SessionStatus.CREDITED
    assert session.flags.count("credited by CDR C-1") == 1
    # A credited session stays so, whatever is reported afterwards.
    public_session_record(record(world, dana, energy_wh=1))
    assert ChargingSession.objects.get().status == SessionStatus.CREDITED


def test_a_credit_of_an_unknown_key_is_false(world, dana):
    assert public_session_credit(key="NL*SIM*S*NOPE", reason="credit") is False


def test_a_home_record_is_a_home_session_held_when_the_drivers_charger_saw_it(world, dana):
    charger, _ = charger_register(
        actor=None, organisation=world.org_a, identity="D-1", serial="S", driver=dana
    )
    own = ChargingSession.objects.create(
        organisation=world.org_a,
        charger=charger,
        driver=dana,
        transaction_id="1",
        started_at=START - timedelta(minutes=30),
        ended_at=START + timedelta(hours=1),
        energy_wh=10_000,
        status="completed",
    )
    session = public_session_record(record(world, dana, home=True))
    assert session.kind == SessionKind.HOME and session.purpose == ""
    assert session.review == SessionReview.PENDING
    assert f"also reported by the driver's charger (session {own.pk})" in session.flags


def test_a_home_record_beyond_what_a_home_charger_delivers_is_held(world, dana):
    session = public_session_record(
        record(world, dana, home=True, energy_wh=90_000_000, ended_at=START + timedelta(hours=1))
    )
    assert session.review == SessionReview.PENDING
    assert any(flag.startswith("energy ") for flag in session.flags)


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"key": ""}, "key"),
        ({"key": "K" * 101}, "key"),
        ({"energy_wh": -1}, "energy_wh"),
        ({"energy_wh": bounds.SESSION_WH_STORABLE + 1}, "energy_wh"),
        ({"token": "T" * 37}, "token"),
    ],
)
def test_values_no_column_holds_are_refused_before_anything_is_stored(world, dana, change, field):
    with pytest.raises(bounds.Unstorable) as refused:
        public_session_record(replace(record(world, dana), **change))
    assert refused.value.field == field
    assert ChargingSession.objects.count() == 0
