"""The demo's public charging: the demo CPO, months of its CDRs, business and personal,
one credited; seeding twice adds nothing."""

from __future__ import annotations

import pytest

from evdms.accounts.demo import seed_accounts
from evdms.charging.models import ChargingSession
from evdms.connections.demo import seed_connections
from evdms.enrolment.demo import seed_drivers
from evdms.installations.demo import seed_installers
from evdms.ocpi.models import Cdr, Partner
from evdms.public_charging.demo_sessions import seed_public_sessions
from evdms.public_charging.tests.sessions_fixtures import driver_client

pytestmark = pytest.mark.django_db


def test_the_demo_has_a_registered_cpo_and_months_of_public_sessions():
    seed_accounts()
    seed_connections()
    seed_installers()
    seed_drivers()
    made = seed_public_sessions()
    partner = Partner.objects.get(name="Demo CPO")
    assert partner.status == "registered"
    assert partner.parties() == [("NL", "DCP")]
    sessions = ChargingSession.objects.filter(kind="public")
    assert made == sessions.count() > 10
    assert {s.purpose for s in sessions} == {"business", "personal"}
    assert all(s.connection is not None and s.connection.pay_for_public_charging for s in sessions)
    months = {s.started_at.strftime("%Y-%m") for s in sessions if s.started_at}
    assert len(months) >= 3
    [credited] = sessions.filter(status="credited")
    credit = Cdr.objects.get(credit=True)
    assert credit.credits is not None and credit.credits.charging_session == credited
    assert credit.body["total_cost"]["incl_vat"] < 0
    # One CDR per final session, its body a CDR of that session.
    for session in sessions:
        cdr = Cdr.objects.get(charging_session=session, credit=False)
        assert cdr.body["cdr_location"]["name"] == session.location_name
        assert cdr.body["total_cost"]["incl_vat"] == float(session.cost_incl_vat or 0)
        assert cdr.body["currency"] == session.currency == "EUR"
        assert cdr.body["party_id"] == "DCP" and cdr.token_uid
    # The driver's page shows them.
    driver = sessions.select_related("driver").order_by("pk")[0].driver
    assert driver is not None
    text = driver_client(driver).get("/my/public-charging/").content.decode()
    assert "Demo CPO" in text
    # Seeding again changes nothing.
    assert seed_public_sessions() == 0
    assert ChargingSession.objects.filter(kind="public").count() == made
    assert Cdr.objects.filter(credit=True).count() == 1
