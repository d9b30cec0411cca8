"""The third dimension of the route test: grants and connection scopes.

For every page and API operation that takes an object of Voltlease (organisation A),
generated from the URL conf and the API as in ``test_routes``:

- Rival Lease (B), holding a grant from Voltlease of one right on all its connections,
  reaches the object exactly when the route's permission needs that right (or any right:
  seeing connections, the dashboard), and otherwise gets what a missing object gives;
- with a grant of every right on chosen connections, it reaches an object of those
  connections and not one outside them;
- an admin (and an API key) of Voltlease limited to chosen connections reaches an object
  of those connections only, and one of no connection (an unlinked charger, an export of
  the whole organisation, an invoice) not at all.

A new route that takes an object fails here until its maker says which connection the
object belongs to (``BOUND`` / ``UNBOUND`` below).
"""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.test import Client

from evdms.accounts.models import GrantRight, Role
from evdms.accounts.permissions import INSTALLER_PERMISSIONS, ROLE_PERMISSIONS, Permission
from evdms.accounts.scope import ANY_RIGHT, RIGHT_FOR
from evdms.accounts.services import api_key_create
from evdms.connections.models import Connection
from evdms.testing.fixtures import World, client_for, make_connection, make_grant
from evdms.web.tests.test_routes import (
    OBJECT_MAKERS,
    _call,
    _for_operators,
    _permission_of,
    api_operations,
    fill,
    protected_page_routes,
)

# URL arguments whose object belongs to one of Voltlease's connections (its drivers'
# memberships, statements, installation jobs, tokens …): a grant or a scope on that
# connection reaches it.
BOUND = {
    "connection_id",
    "membership_id",
    "batch_id",
    "statement_id",
    "job_id",
    "document_id",
    "token_id",
}
# Objects of the whole organisation, of no connection: only an actor reaching every
# connection of Voltlease reaches them (a charger linked to no driver, a held session of
# it, an export of everything) — and some never through a grant (exports, invoices,
# admins, keys: the organisation's own).
UNBOUND = {
    "charger_id",
    "session_id",
    "export_id",
    "installation_export_id",
    "invoice_id",
    "admin_id",
    "key_id",
    "grant_id",
}
NEVER_THROUGH_A_GRANT = {
    "export_id",
    "installation_export_id",
    "invoice_id",
    "admin_id",
    "key_id",
    "grant_id",
}
# Operators' objects: organisation roles never reach their routes (test_routes).
OPERATORS = {"organisation_id", "fee_schedule_id", "payout_batch_id", "payout_line_id"}


def _args(pattern: str) -> set[str]:
    return set(re.findall(r"<(?:\w+:)?(\w+)>", pattern)) | set(re.findall(r"\{(\w+)\}", pattern))


def test_every_url_argument_says_whether_its_object_belongs_to_a_connection():
    known = BOUND | UNBOUND | OPERATORS
    assert set(OBJECT_MAKERS) <= known, f"say where these belong: {set(OBJECT_MAKERS) - known}"


def _granted(permission: Permission, right: str | None) -> bool:
    """Whether a grant of ``right`` (None: every right) lets a route needing
    ``permission`` reach the grantor's objects."""
    if permission in ANY_RIGHT:
        return True
    needed = RIGHT_FOR.get(permission)
    return needed is not None and (right is None or needed == right)


def _organisation_routes(routes: list[tuple[str, str, Any]]) -> list[tuple[str, str, Any]]:
    return [
        r
        for r in routes
        if "<" in r[1] and r[2] not in INSTALLER_PERMISSIONS and not (_args(r[1]) & OPERATORS)
    ]


PAGES = _organisation_routes(protected_page_routes())
OPERATIONS = [
    (method, path, op)
    for method, path, op in api_operations()
    if "{" in path
    and not _for_operators(op)
    and _permission_of(op) not in INSTALLER_PERMISSIONS
    and not (_args(path) & OPERATORS)
]


def _api_url(path: str, world: World) -> str:
    return re.sub(r"\{(\w+)\}", lambda m: str(OBJECT_MAKERS[m.group(1)](world)), path)


def _missing_api(path: str) -> str:
    return re.sub(r"\{(\w+)\}", "999999", path)


def _reaches_page(response: Any) -> bool:
    assert response.status_code < 500, response.content[:300]
    return response.status_code not in (403, 404)


def _api_check(key: str, method: str, url: str, path: str, expected: bool) -> None:
    """Reaches the object (as the role matrix test asks), or answers exactly what a
    missing object answers (a 404, or the 422 of a body checked first)."""
    response = _call(Client(), method, url, key)
    assert response.status_code < 500, response.content[:300]
    if expected:
        assert response.status_code not in (401, 403, 404), response.content[:300]
        return
    missing = _call(Client(), method, _missing_api(path), key)
    assert response.status_code in (404, 422), response.content[:300]
    assert (response.status_code, response.json()) == (missing.status_code, missing.json())


def _chosen(world: World, inside: bool) -> list[Connection]:
    """Every connection of Voltlease so far (those of the objects), or another one."""
    if inside:
        return list(Connection.objects.filter(organisation=world.org_a))
    return [make_connection(world.org_a, name="Other")]


# --- a grant of one right, on all connections ------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize("right", list(GrantRight))
@pytest.mark.parametrize(("name", "pattern", "permission"), PAGES)
def test_a_grantee_reaches_a_page_exactly_when_its_right_allows(
    world, right, name, pattern, permission
):
    url = fill(pattern, world)
    make_grant(world.org_a, world.org_b, rights=(right,))
    expected = _granted(permission, right) and not (_args(pattern) & NEVER_THROUGH_A_GRANT)
    response = client_for(world.bob).post(url)
    assert _reaches_page(response) == expected, f"{right}: {name} answered {response.status_code}"
    if not expected:
        assert response.status_code == 404  # exactly like a missing object


@pytest.mark.django_db
@pytest.mark.parametrize("right", list(GrantRight))
@pytest.mark.parametrize(("method", "path", "operation"), OPERATIONS)
def test_a_grantee_key_reaches_an_operation_exactly_when_its_right_allows(
    world, right, method, path, operation
):
    url = _api_url(path, world)  # the objects first
    make_grant(world.org_a, world.org_b, rights=(right,))
    _, key = api_key_create(
        actor=None, organisation=world.org_b, name="g", role=Role.NETWORK_MANAGER
    )
    permission = _permission_of(operation)
    assert permission is not None
    expected = _granted(permission, right) and not (_args(path) & NEVER_THROUGH_A_GRANT)
    _api_check(key, method, url, path, expected)


# --- a grant of every right on chosen connections ------------------------------------


def _bound(pattern: str) -> bool:
    args = _args(pattern)
    return bool(args) and args <= BOUND


@pytest.mark.django_db
@pytest.mark.parametrize("inside", [True, False], ids=["on-its-connection", "on-another"])
@pytest.mark.parametrize(("name", "pattern", "permission"), PAGES)
def test_a_grant_on_chosen_connections_reaches_only_their_objects(
    world, inside, name, pattern, permission
):
    url = fill(pattern, world)
    chosen = _chosen(world, inside)
    make_grant(world.org_a, world.org_b, connections=chosen)
    expected = inside and _bound(pattern) and _granted(permission, None)
    response = client_for(world.bob).post(url)
    assert _reaches_page(response) == expected, f"{name} answered {response.status_code}"


# --- an admin or key of Voltlease limited to chosen connections ----------------------


def _limitable_roles(permission: Permission) -> list[str]:
    # A Network Manager always has all connections; the other roles can be limited.
    return [
        r for r in (Role.CONNECTIONS_OFFICER, Role.ANALYST) if permission in ROLE_PERMISSIONS[r]
    ]


def _page_cases() -> list[tuple[str, str, str, Permission]]:
    return [
        (role, name, pattern, permission)
        for name, pattern, permission in PAGES
        for role in _limitable_roles(permission)
    ]


@pytest.mark.django_db
@pytest.mark.parametrize("inside", [True, False], ids=["its-connection", "another"])
@pytest.mark.parametrize(("role", "name", "pattern", "permission"), _page_cases())
def test_a_limited_admin_reaches_only_the_objects_of_their_connections(
    world, inside, role, name, pattern, permission
):
    url = fill(pattern, world)
    admin = world.admin_of_role(role)
    admin.all_connections = False
    admin.save(update_fields=["all_connections"])
    chosen = _chosen(world, inside)
    admin.connections.set(chosen)
    expected = inside and _bound(pattern)
    response = client_for(admin).post(url)
    assert _reaches_page(response) == expected, f"{name} answered {response.status_code}"
    if not expected:
        assert response.status_code == 404


def _api_cases() -> list[tuple[str, str, str, Any]]:
    cases = []
    for method, path, op in OPERATIONS:
        permission = _permission_of(op)
        assert permission is not None
        cases += [(role, method, path, op) for role in _limitable_roles(permission)]
    return cases


@pytest.mark.django_db
@pytest.mark.parametrize("inside", [True, False], ids=["its-connection", "another"])
@pytest.mark.parametrize(("role", "method", "path", "operation"), _api_cases())
def test_a_limited_api_key_reaches_only_the_objects_of_its_connections(
    world, inside, role, method, path, operation
):
    url = _api_url(path, world)
    key_row, key = api_key_create(actor=None, organisation=world.org_a, name="lim", role=role)
    key_row.all_connections = False
    key_row.save(update_fields=["all_connections"])
    chosen = _chosen(world, inside)
    key_row.connections.set(chosen)
    _api_check(key, method, url, path, inside and _bound(path))
