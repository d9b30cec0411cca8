"""The driver's Business / Personal mark on a public session."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from evdms.audit.models import AuditAction, AuditEvent
from evdms.charging.services.sessions import public_session_credit
from evdms.public_charging.services.purpose import PURPOSE_FIXED, session_purpose_set
from evdms.public_charging.tests.sessions_fixtures import (
    PublicWorld,
    at,
    invoiced_line,
    make_public_world,
)
from evdms.testing.fixtures import World


@pytest.fixture
def public_world(world: World) -> PublicWorld:
    return make_public_world(world)


def test_a_session_under_a_paying_connection_starts_business_and_the_driver_marks_it_personal(
    public_world: PublicWorld,
):
    session = public_world.public(public_world.dan, at(3))
    assert session.purpose == "business"
    session_purpose_set(driver=public_world.dan, session=session, purpose="personal")
    session.refresh_from_db()
    assert session.purpose == "personal"
    event = AuditEvent.objects.get(action=AuditAction.CHARGING_SESSION_PURPOSE)
    assert event.organisation_id == public_world.world.org_a.pk
    assert event.changes == {"purpose": ["business", "personal"]}


def test_a_session_under_a_connection_that_pays_nothing_starts_personal(
    public_world: PublicWorld,
):
    assert public_world.public(public_world.eve, at(3)).purpose == "personal"


def test_marking_it_as_it_is_records_nothing(public_world: PublicWorld):
    session = public_world.public(public_world.dan, at(3))
    session_purpose_set(driver=public_world.dan, session=session, purpose="business")
    assert not AuditEvent.objects.filter(action=AuditAction.CHARGING_SESSION_PURPOSE).exists()


def test_once_invoiced_the_purpose_stays(public_world: PublicWorld):
    session = public_world.public(public_world.dan, at(3))
    invoiced_line(session)
    with pytest.raises(ValidationError) as refused:
        session_purpose_set(driver=public_world.dan, session=session, purpose="personal")
    assert refused.value.message_dict == {"purpose": [PURPOSE_FIXED]}
    session.refresh_from_db()
    assert session.purpose == "business"


def test_a_credited_session_cannot_be_marked(public_world: PublicWorld):
    session = public_world.public(public_world.dan, at(3))
    assert public_session_credit(key=session.public_key, reason="credit CDR")
    with pytest.raises(ValidationError) as refused:
        session_purpose_set(driver=public_world.dan, session=session, purpose="personal")
    assert "credited" in refused.value.message_dict["purpose"][0]


@pytest.mark.parametrize("purpose", ["", "private", "BUSINESS", "x" * 500])
def test_only_business_or_personal(public_world: PublicWorld, purpose: str):
    session = public_world.public(public_world.dan, at(3))
    with pytest.raises(ValidationError) as refused:
        session_purpose_set(driver=public_world.dan, session=session, purpose=purpose)
    assert list(refused.value.message_dict) == ["purpose"]
