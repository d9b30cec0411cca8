"""Drivers connected to a paying connection before tokens existed get their app token
from the migration; others (not paying, not connected, already holding one) do not."""

from __future__ import annotations

from evdms.public_charging.contract_ids import is_valid
from evdms.public_charging.models import Token
from evdms.public_charging.tests.test_tokens import paying_connection, person
from evdms.testing.fixtures import make_connection, make_membership, make_organisation

BEFORE = [("public_charging", "0001_tokens")]
AFTER = [("public_charging", "0002_app_tokens_for_connected_drivers")]


def test_connected_drivers_of_paying_connections_get_an_app_token(migrate):
    organisation = make_organisation("voltlease", "Voltlease")
    public = paying_connection(organisation)
    # Rows made directly (no enrolment service, so no token yet), as before tokens.
    dan, eva, pia = person("dan@example.com"), person("eva@example.com"), person("p@example.com")
    make_membership(public, dan)
    make_membership(public, pia, "pending")
    make_membership(make_connection(organisation, name="Home"), eva)
    assert not Token.objects.exists()
    migrate(BEFORE)
    migrate(AFTER)
    token = Token.objects.get()
    assert (token.driver_id, token.type, token.valid) == (dan.pk, "APP_USER", True)
    assert is_valid(token.contract_id) and token.visual_number == token.contract_id
    # Running it again (down and up) makes no second token.
    migrate(BEFORE)
    migrate(AFTER)
    assert Token.objects.count() == 1
