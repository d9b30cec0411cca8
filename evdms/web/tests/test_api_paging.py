"""Every list in the API pages the same way, and no offset reaches a 500: past the end,
even beyond the database's integers, is an empty page."""

from __future__ import annotations

import pytest

from evdms.testing.fixtures import make_connection

pytestmark = pytest.mark.django_db

LISTS = [
    "/api/v1/connections",
    "/api/v1/connection-requests",
    "/api/v1/drivers",
    "/api/v1/connections/{connection}/invitations",
    "/api/v1/charging-sessions",
    "/api/v1/statements",
    "/api/v1/reports/transactions",
    "/api/v1/charging-tokens",
]


@pytest.mark.parametrize("path", LISTS)
@pytest.mark.parametrize("offset", [10**6, 10**20])
def test_an_offset_past_the_end_is_an_empty_page(world, client, api_key_for, path, offset):
    connection = make_connection(world.org_a, name="Paged")
    url = path.format(connection=connection.pk)
    response = client.get(url, {"offset": offset}, headers=api_key_for(world.org_a))
    assert response.status_code == 200, response.content
    assert response.json()["items"] == []


@pytest.mark.parametrize("path", LISTS)
@pytest.mark.parametrize("params", [{"offset": -1}, {"limit": 0}, {"limit": 10**6}])
def test_bad_paging_is_a_field_level_422(world, client, api_key_for, path, params):
    url = path.format(connection=make_connection(world.org_a, name="Paged").pk)
    response = client.get(url, params, headers=api_key_for(world.org_a))
    assert response.status_code == 422
    assert [d["loc"][-1] for d in response.json()["detail"]] == ["limit"]
