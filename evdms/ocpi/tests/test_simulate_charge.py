"""``simulate_cpo --charge``: the simulator plays a whole public charge against the live
platform over real HTTP (authorise, location, live session, CDR), and the driver's
session is there as a partner would leave it."""

from __future__ import annotations

import io
from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.utils import timezone

from evdms.charging.models import ChargingSession, SessionKind, SessionStatus
from evdms.enrolment.models import Membership
from evdms.ocpi import party
from evdms.ocpi.models import Cdr, PartnerLocation
from evdms.ocpi.services import partner_add
from evdms.ocpi.tests.pushing import make_driver_token
from evdms.public_charging.models import TokenBlock


@pytest.mark.django_db(transaction=True)
def test_simulate_cpo_charges_with_a_token_and_the_driver_has_the_session(platform):
    token = make_driver_token("CHARGEAA01")
    # Connected since yesterday: the charge (two hours, ending now) is under the membership.
    Membership.objects.filter(driver=token.driver).update(
        connected_at=timezone.now() - timedelta(days=1)
    )
    blocked = make_driver_token("BLOCKEDB02", email="bo@driver.example", org_slug="other")
    blocked.blocked, blocked.valid = TokenBlock.LOST, False
    blocked.save()
    _, token_a = partner_add(name="Charging CPO")
    out = io.StringIO()
    call_command(
        "simulate_cpo",
        "--register",
        party.versions_url(),
        "--token",
        token_a,
        "--charge",
        token.uid,
        "--charge",
        blocked.uid,
        "--exit",
        stdout=out,
    )
    lines = out.getvalue().splitlines()
    assert lines[1].startswith(f"charge {token.uid}: session S-") and "accepted" in lines[1]
    assert lines[2].startswith(f"charge {blocked.uid}: refused (") and "BLOCKED" in lines[2]

    session = ChargingSession.objects.get(driver=token.driver)
    assert session.kind == SessionKind.PUBLIC and session.status == SessionStatus.COMPLETED
    assert session.energy_wh == 21_500
    assert session.cost_excl_vat == Decimal("8.39") and session.cost_incl_vat == Decimal("10.15")
    assert session.currency == "EUR"
    assert session.location_name == "Simulated CPO Stationsplein"
    assert "Stationsplein 1" in session.location_address and "Utrecht" in session.location_address
    assert session.organisation_id == token.organisation_id
    # One CDR, matched; the location kept; nothing for the blocked card.
    cdr = Cdr.objects.get()
    assert cdr.charging_session_id == session.pk, cdr.flags
    assert not cdr.needs_attention, cdr.flags
    assert PartnerLocation.objects.filter(object_id="SIM-LOC-1").exists()
    assert not ChargingSession.objects.filter(driver=blocked.driver).exists()
