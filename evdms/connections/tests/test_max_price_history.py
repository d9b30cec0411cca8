"""The Max Price For Reimbursement is kept with the moment it applies from."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from unittest import mock

import pytest

from evdms.accounts.models import Role
from evdms.accounts.permissions import Actor
from evdms.connections.models import MaxPriceChange
from evdms.connections.selectors import max_price_histories, max_price_in_force
from evdms.connections.services import connection_update
from evdms.testing.fixtures import make_connection

pytestmark = pytest.mark.django_db


def update_at(connection, moment: datetime, **changes):
    actor = Actor(organisation=connection.organisation, role=Role.NETWORK_MANAGER)
    with mock.patch("django.utils.timezone.now", return_value=moment):
        return connection_update(
            actor=actor, connection=connection, changes=changes, confirm_benefit_change=True
        )


def test_a_new_connection_records_its_maximum_and_each_change_is_kept_with_its_moment(world):
    created = datetime(2026, 9, 1, tzinfo=UTC)
    with mock.patch("django.utils.timezone.now", return_value=created):
        connection = make_connection(world.org_a, max_price_per_kwh="0.30")
    lowered = datetime(2026, 10, 15, 9, tzinfo=UTC)
    update_at(connection, lowered, max_price_per_kwh="0.25")
    update_at(connection, datetime(2026, 10, 16, tzinfo=UTC), support_email="help@volt.example")
    assert list(
        MaxPriceChange.objects.filter(connection=connection).values_list(
            "max_price_per_kwh", "valid_from"
        )
    ) == [(Decimal("0.3000"), created), (Decimal("0.2500"), lowered)]
    history = max_price_histories([connection.pk])[connection.pk]
    assert max_price_in_force(history, datetime(2026, 10, 15, 8, 59, tzinfo=UTC)) == Decimal("0.30")
    assert max_price_in_force(history, lowered) == Decimal("0.25")


def test_stopping_reimbursement_is_recorded_as_no_maximum(world):
    connection = make_connection(world.org_a, max_price_per_kwh="0.30")
    stopped = datetime(2026, 11, 1, tzinfo=UTC)
    update_at(connection, stopped, reimburse_home_charging="no", max_price_per_kwh="")
    history = max_price_histories([connection.pk])[connection.pk]
    assert max_price_in_force(history, stopped) is None


def test_a_connection_without_recorded_changes_has_its_current_maximum_for_all_time(world):
    connection = make_connection(world.org_a, max_price_per_kwh="0.31")
    MaxPriceChange.objects.all().delete()  # e.g. written before the history was kept
    history = max_price_histories([connection.pk])[connection.pk]
    assert max_price_in_force(history, datetime(2020, 1, 1, tzinfo=UTC)) == Decimal("0.31")
