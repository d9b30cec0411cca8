"""Organisation > Grant Rights: a Network Manager grants another organisation, found by
its Organisation ID (or its name, if it granted rights first), rights on all or chosen
connections, and revokes them; both organisations' Network Managers are told."""

from __future__ import annotations

from typing import Any

import pytest
from django.core import mail
from django.test import Client
from django.urls import reverse

from evdms.accounts.models import AdminStatus, Grant, OrganisationKind, Role
from evdms.accounts.permissions import Permission
from evdms.accounts.scope import reach
from evdms.accounts.services.grants import (
    GRANT_GONE,
    NO_CONNECTION,
    NO_RIGHT,
    NO_SUCH_CONNECTION,
    NO_SUCH_GRANTEE,
    NOT_TO_YOURSELF,
)
from evdms.audit.models import AuditEvent
from evdms.notifications.models import OutboundEmail
from evdms.testing.fixtures import World, client_for, make_admin, make_connection, make_organisation

pytestmark = pytest.mark.django_db

GRANTS = "/accounts/grants/"


def grant_form(grantee: str, **overrides: Any) -> dict[str, Any]:
    return {
        "grantee": grantee,
        "rights": ["manage_drivers", "view_transactions"],
        "scope": "all",
        "description": "Lease contract 2026-17",
        **overrides,
    }


def written() -> tuple[int, int, int, int]:
    """Everything a grant or a revocation writes: grants, revoked grants, audit rows
    and e-mails (queued and sent)."""
    return (
        Grant.objects.count(),
        Grant.objects.filter(revoked_at__isnull=False).count(),
        AuditEvent.objects.count(),
        OutboundEmail.objects.count() + len(mail.outbox),
    )


def page_errors(response: Any) -> dict[str, list[str]]:
    return {name: list(errors) for name, errors in response.context["form"].errors.items()}


# --- the Organisation ID --------------------------------------------------------------


def test_the_settings_page_shows_the_organisation_id_and_what_it_is_for(world: World):
    page = client_for(world.nadia).get(reverse("accounts:settings")).content.decode()
    assert world.org_a.public_id in page
    assert "types this ID on its Grant Rights page" in page


def test_the_grant_rights_page_is_in_the_navigation_of_network_managers_only(world: World):
    nadia = client_for(world.nadia).get(reverse("accounts:grants"))
    assert nadia.status_code == 200
    assert "Grant Rights" in [item["label"] for item in nadia.context["nav_items"]]
    assert world.org_a.public_id in nadia.content.decode()
    otto = client_for(world.otto).get(reverse("connections:list"))
    assert "Grant Rights" not in [item["label"] for item in otto.context["nav_items"]]


@pytest.mark.parametrize("who", ["otto", "ana"])
def test_a_connections_officer_or_analyst_gets_403_and_grants_nothing(world: World, who: str):
    client = client_for(getattr(world, who))
    assert client.get(GRANTS).status_code == 403
    before = written()
    assert client.post(GRANTS, grant_form(world.org_b.public_id)).status_code == 403
    assert written() == before


# --- granting -------------------------------------------------------------------------


def test_granting_by_organisation_id_gives_the_rights_tells_both_sides_and_is_audited(
    world: World, django_capture_on_commit_callbacks
):
    home = make_connection(world.org_a, name="Voltlease_Home")
    public = make_connection(world.org_a, name="Voltlease_Public")
    make_connection(world.org_a, name="Voltlease_Other")
    make_admin(world.org_a, "nora@voltlease.example", Role.NETWORK_MANAGER)
    make_admin(world.org_a, "gone@voltlease.example", Role.NETWORK_MANAGER, AdminStatus.DISABLED)
    mail.outbox.clear()
    # As people type it: lower case, spaces for dashes, O for 0 and I for 1.
    typed = world.org_b.public_id.lower().replace("-", " ").replace("0", "o").replace("1", "i")

    with django_capture_on_commit_callbacks(execute=True):
        response = client_for(world.nadia).post(
            GRANTS,
            grant_form(typed, scope="chosen", connections=[str(home.pk), str(public.pk)]),
        )

    assert response.status_code == 302
    grant = Grant.objects.get()
    assert (grant.grantor, grant.grantee, grant.created_by) == (
        world.org_a,
        world.org_b,
        world.nadia.user,
    )
    assert [r.value for r in grant.rights] == ["manage_drivers", "view_transactions"]
    assert not grant.all_connections
    assert set(grant.connections.all()) == {home, public}
    assert grant.description == "Lease contract 2026-17"
    # Bob's organisation now reaches exactly those connections for its drivers.
    bob = World.actor(world, world.bob)
    assert reach(bob, Permission.MANAGE_DRIVERS).connections == {home.pk, public.pk}
    assert world.org_a.pk not in reach(bob, Permission.VIEW_INSTALLATIONS).organisation_ids

    event = AuditEvent.objects.get(action="grant.create")
    assert event.organisation == world.org_a
    assert event.actor_label == "nadia@voltlease.example"
    assert event.changes["rights"] == [None, ["Invite and approve drivers", "View transactions"]]

    by_address = {tuple(m.to): m for m in mail.outbox}
    assert set(by_address) == {
        ("nadia@voltlease.example", "nora@voltlease.example"),
        ("bob@rival.example",),
    }
    for message in mail.outbox:
        assert message.subject == "Voltlease granted Rival Lease rights"
        assert "Invite and approve drivers" in message.body
        assert "View transactions" in message.body
        assert "View installation details" not in message.body
        assert "Voltlease_Home, Voltlease_Public" in message.body
        assert "Voltlease_Other" not in message.body
        assert "Lease contract 2026-17" in message.body
    # The grantor's people see who granted; the grantee is told only the organisation.
    assert "nadia" not in by_address[("bob@rival.example",)].body
    assert (
        "(nadia@voltlease.example)"
        in by_address[("nadia@voltlease.example", "nora@voltlease.example")].body
    )

    given = client_for(world.nadia).get(GRANTS).content.decode()
    assert "Rival Lease" in given and "Voltlease_Home, Voltlease_Public" in given
    received = client_for(world.bob).get(GRANTS)
    assert [g.grantor for g in received.context["received"]] == [world.org_a]
    assert "Invite and approve drivers, View transactions" in received.content.decode()


def test_a_grant_on_all_connections_reaches_future_ones(world: World):
    response = client_for(world.nadia).post(
        GRANTS, grant_form(world.org_b.public_id, rights=["view_installations"])
    )
    assert response.status_code == 302
    later = make_connection(world.org_a, name="Made later")
    assert reach(World.actor(world, world.bob), Permission.VIEW_INSTALLATIONS).whole(world.org_a.pk)
    assert Grant.objects.get().all_connections and later.organisation == world.org_a


def test_a_name_finds_only_an_organisation_that_granted_you_rights_first(world: World):
    nadia = client_for(world.nadia)
    refused = nadia.post(GRANTS, grant_form("Rival Lease"))
    assert refused.status_code == 422
    assert page_errors(refused) == {"grantee": [NO_SUCH_GRANTEE]}
    assert not Grant.objects.exists()

    client_for(world.bob).post(
        GRANTS, grant_form(world.org_a.public_id, rights=["view_transactions"])
    )
    assert Grant.objects.filter(grantor=world.org_b, grantee=world.org_a).exists()

    # "Rival Lease" has ten letters of the ID alphabet (I and L read as 1): still a name.
    granted = nadia.post(GRANTS, grant_form("  rival   LEASE "))
    assert granted.status_code == 302
    assert Grant.objects.filter(grantor=world.org_a, grantee=world.org_b).exists()


def test_a_grant_on_other_rights_or_other_connections_is_a_second_grant(world: World):
    home = make_connection(world.org_a, name="Home")
    public = make_connection(world.org_a, name="Public")
    nadia = client_for(world.nadia)
    chosen = {"scope": "chosen", "rights": ["manage_drivers"]}
    assert (
        nadia.post(
            GRANTS, grant_form(world.org_b.public_id, connections=[home.pk], **chosen)
        ).status_code
        == 302
    )
    assert (
        nadia.post(
            GRANTS, grant_form(world.org_b.public_id, connections=[public.pk], **chosen)
        ).status_code
        == 302
    )
    assert (
        nadia.post(
            GRANTS, grant_form(world.org_b.public_id, rights=["view_installations"])
        ).status_code
        == 302
    )
    assert Grant.objects.filter(revoked_at=None).count() == 3


# --- bad input: a clear message, nothing written --------------------------------------


def _installer_id(world: World) -> str:
    return make_organisation("sparkfit", "Sparkfit", kind=OrganisationKind.INSTALLER).public_id


def _operator_id(world: World) -> str:
    return make_organisation("platform", "Platform", kind=OrganisationKind.OPERATOR).public_id


def _rival_connection(world: World) -> dict[str, Any]:
    return {"scope": "chosen", "connections": [make_connection(world.org_b, name="Rival").pk]}


BAD_INPUT = [
    ("own ID", lambda w: grant_form(w.org_a.public_id), "grantee", NOT_TO_YOURSELF),
    ("own name", lambda w: grant_form("voltlease"), "grantee", NOT_TO_YOURSELF),
    ("unknown ID", lambda w: grant_form("ORG-00000-00000"), "grantee", NO_SUCH_GRANTEE),
    ("not an ID", lambda w: grant_form("ORG-123"), "grantee", NO_SUCH_GRANTEE),
    ("installer company", lambda w: grant_form(_installer_id(w)), "grantee", NO_SUCH_GRANTEE),
    ("platform operator", lambda w: grant_form(_operator_id(w)), "grantee", NO_SUCH_GRANTEE),
    ("no right", lambda w: grant_form(w.org_b.public_id, rights=[]), "rights", NO_RIGHT),
    (
        "chosen, none chosen",
        lambda w: grant_form(w.org_b.public_id, scope="chosen"),
        "connections",
        NO_CONNECTION,
    ),
    (
        "another organisation's connection",
        lambda w: grant_form(w.org_b.public_id, **_rival_connection(w)),
        "connections",
        NO_SUCH_CONNECTION,
    ),
    (
        "a missing connection",
        lambda w: grant_form(w.org_b.public_id, scope="chosen", connections=["999999"]),
        "connections",
        NO_SUCH_CONNECTION,
    ),
]


@pytest.mark.parametrize(
    ("case", "form", "field", "message"), BAD_INPUT, ids=[c[0] for c in BAD_INPUT]
)
def test_bad_input_gets_its_message_next_to_the_field_and_writes_nothing(
    world: World, django_capture_on_commit_callbacks, case, form, field, message
):
    data = form(world)
    before = written()
    with django_capture_on_commit_callbacks(execute=True):
        response = client_for(world.nadia).post(GRANTS, data)
    assert response.status_code == 422
    assert page_errors(response)[field] == [message]
    assert message in response.content.decode()
    assert written() == before


def test_an_unknown_id_and_an_installer_company_get_the_same_answer(world: World):
    """Nothing on the page tells an existing ID that cannot receive grants from one that
    does not exist."""
    nadia = client_for(world.nadia)
    unknown = nadia.post(GRANTS, grant_form("ORG-00000-00000"))
    installer = nadia.post(GRANTS, grant_form(_installer_id(world)))
    assert page_errors(unknown) == page_errors(installer) == {"grantee": [NO_SUCH_GRANTEE]}


def test_a_right_given_twice_on_a_shared_connection_names_the_standing_grant(
    world: World, django_capture_on_commit_callbacks
):
    home = make_connection(world.org_a, name="Home")
    public = make_connection(world.org_a, name="Public")
    nadia = client_for(world.nadia)
    nadia.post(
        GRANTS,
        grant_form(
            world.org_b.public_id,
            rights=["view_transactions"],
            scope="chosen",
            connections=[home.pk, public.pk],
            description="Fleet deal",
        ),
    )
    before = written()
    for overrides in (
        {"scope": "chosen", "connections": [public.pk]},  # a shared connection
        {"scope": "all"},  # all covers the chosen ones
    ):
        with django_capture_on_commit_callbacks(execute=True):
            response = nadia.post(
                GRANTS,
                grant_form(
                    world.org_b.public_id,
                    rights=["view_transactions", "manage_drivers"],
                    **overrides,
                ),
            )
        assert response.status_code == 422
        (message,) = page_errors(response)["rights"]
        assert message.startswith("Rival Lease already has View transactions on these connections")
        assert "“Fleet deal”" in message
        assert "Invite and approve drivers" not in message
    assert written() == before


# --- revoking -------------------------------------------------------------------------


def _grant_to_rival(world: World) -> Grant:
    response = client_for(world.nadia).post(GRANTS, grant_form(world.org_b.public_id))
    assert response.status_code == 302
    return Grant.objects.get()


def test_revoking_ends_the_rights_at_once_tells_both_sides_and_is_kept_in_the_history(
    world: World, django_capture_on_commit_callbacks
):
    grant = _grant_to_rival(world)
    mail.outbox.clear()
    url = reverse("accounts:grant_revoke", args=[grant.pk])
    with django_capture_on_commit_callbacks(execute=True):
        response = client_for(world.nadia).post(url)
    assert response.status_code == 302
    grant.refresh_from_db()
    assert grant.revoked_at is not None and grant.revoked_by == world.nadia.user
    assert not reach(World.actor(world, world.bob), Permission.MANAGE_DRIVERS).whole(world.org_a.pk)
    event = AuditEvent.objects.get(action="grant.revoke")
    assert (event.organisation, event.actor_label) == (world.org_a, "nadia@voltlease.example")

    assert sorted(m.to[0] for m in mail.outbox) == ["bob@rival.example", "nadia@voltlease.example"]
    for message in mail.outbox:
        assert message.subject == "Voltlease revoked the rights it granted Rival Lease"
        assert "Invite and approve drivers" in message.body

    page = client_for(world.nadia).get(GRANTS)
    assert page.context["given"] == [] and page.context["given_revoked"] == [grant]
    assert "Nadia Manager" in page.content.decode()  # who revoked
    assert client_for(world.bob).get(GRANTS).context["received_revoked"] == [grant]

    before = written()
    again = client_for(world.nadia).post(url)
    assert again.status_code == 404
    assert GRANT_GONE in again.content.decode()
    assert written() == before


def test_another_organisation_cannot_revoke_a_grant_even_one_it_received(world: World):
    grant = _grant_to_rival(world)
    before = written()
    url = reverse("accounts:grant_revoke", args=[grant.pk])
    foreign = client_for(world.bob).post(url)
    missing = client_for(world.bob).post(reverse("accounts:grant_revoke", args=[999999]))
    assert foreign.status_code == missing.status_code == 404
    assert GRANT_GONE in foreign.content.decode() and GRANT_GONE in missing.content.decode()
    assert written() == before
    assert Grant.objects.get().revoked_at is None


def test_revoke_takes_post_only(world: World):
    grant = _grant_to_rival(world)
    answer = client_for(world.nadia).get(reverse("accounts:grant_revoke", args=[grant.pk]))
    assert answer.status_code == 302 and answer["Location"] == reverse("accounts:grants")


# --- the API --------------------------------------------------------------------------


def _post(client: Client, url: str, headers: dict[str, str], body: dict[str, Any] | None = None):
    import json

    return client.post(
        url, json.dumps(body or {}), content_type="application/json", headers=headers
    )


def test_the_api_grants_lists_and_revokes(
    world: World, api_key_for, client: Client, django_capture_on_commit_callbacks
):
    home = make_connection(world.org_a, name="Home")
    nadia_key = api_key_for(world.org_a, Role.NETWORK_MANAGER, name="CRM")
    with django_capture_on_commit_callbacks(execute=True):
        created = _post(
            client,
            "/api/v1/grants",
            nadia_key,
            {
                "grantee": world.org_b.public_id,
                "rights": ["edit_connections"],
                "all_connections": False,
                "connections": [home.pk],
                "description": "Sister entity",
            },
        )
    assert created.status_code == 201, created.content
    body = created.json()
    assert body["grantee"] == {"name": "Rival Lease", "organisation_id": world.org_b.public_id}
    assert body["rights"] == ["edit_connections"]
    assert body["connections"] == [{"id": home.pk, "name": "Home"}]
    assert body["created_by"] is None  # an API key, not a person
    assert Grant.objects.get().can_edit_connections
    assert AuditEvent.objects.get(action="grant.create").actor_label == "api_key:CRM"
    assert sorted(m.to[0] for m in mail.outbox) == ["bob@rival.example", "nadia@voltlease.example"]

    bob_key = api_key_for(world.org_b, Role.NETWORK_MANAGER)
    listing = client.get("/api/v1/grants", headers=bob_key).json()
    assert listing["given"] == []
    assert [g["id"] for g in listing["received"]] == [body["id"]]
    assert listing["received"][0]["grantor"]["name"] == "Voltlease"

    foreign = _post(client, f"/api/v1/grants/{body['id']}/revoke", bob_key)
    missing = _post(client, "/api/v1/grants/999999/revoke", bob_key)
    assert foreign.status_code == missing.status_code == 404
    assert foreign.json() == missing.json() == {"detail": GRANT_GONE}

    revoked = _post(client, f"/api/v1/grants/{body['id']}/revoke", nadia_key)
    assert revoked.status_code == 200
    assert revoked.json()["revoked_at"] is not None
    again = _post(client, f"/api/v1/grants/{body['id']}/revoke", nadia_key)
    assert again.status_code == 404 and again.json() == {"detail": GRANT_GONE}


def test_api_bad_input_gets_field_level_errors_and_writes_nothing(
    world: World, api_key_for, client: Client
):
    headers = api_key_for(world.org_a, Role.NETWORK_MANAGER)
    rival = make_connection(world.org_b, name="Rival")
    before = written()
    unknown = _post(client, "/api/v1/grants", headers, {"grantee": "ORG-00000-00000", "rights": []})
    assert unknown.status_code == 422
    assert {(tuple(e["loc"]), e["msg"]) for e in unknown.json()["detail"]} == {
        (("body", "grantee"), NO_SUCH_GRANTEE),
        (("body", "rights"), NO_RIGHT),
    }
    wrong_right = _post(
        client, "/api/v1/grants", headers, {"grantee": world.org_b.public_id, "rights": ["all"]}
    )
    assert wrong_right.status_code == 422
    foreign = _post(
        client,
        "/api/v1/grants",
        headers,
        {
            "grantee": world.org_b.public_id,
            "rights": ["manage_drivers"],
            "all_connections": False,
            "connections": [rival.pk],
        },
    )
    assert foreign.status_code == 422
    assert foreign.json()["detail"][0]["loc"] == ["body", "connections"]
    assert foreign.json()["detail"][0]["msg"] == NO_SUCH_CONNECTION
    assert written() == before


@pytest.mark.parametrize("role", [Role.ANALYST, Role.CONNECTIONS_OFFICER])
def test_an_api_key_without_manage_grants_gets_403(world: World, api_key_for, client: Client, role):
    headers = api_key_for(world.org_a, role)
    assert client.get("/api/v1/grants", headers=headers).status_code == 403
    refused = _post(
        client,
        "/api/v1/grants",
        headers,
        {"grantee": world.org_b.public_id, "rights": ["manage_drivers"]},
    )
    assert refused.status_code == 403
    assert not Grant.objects.exists()


def test_a_name_of_two_grantors_asks_for_the_organisation_id(world: World):
    for slug in ("acme-nl", "acme-be"):
        acme = make_organisation(slug, "Acme")
        Grant.objects.create(grantor=acme, grantee=world.org_a, can_view_transactions=True)
    before = written()
    response = client_for(world.nadia).post(GRANTS, grant_form("Acme"))
    assert response.status_code == 422
    assert page_errors(response) == {
        "grantee": [
            "Several organisations of this name granted you rights: type the Organisation ID "
            "of the one you mean."
        ]
    }
    assert written() == before


def test_the_page_and_the_api_list_in_as_many_queries_with_many_grants_as_with_one(
    world: World, api_key_for
):
    from django.db import connection as db_connection
    from django.test.utils import CaptureQueriesContext

    nadia = client_for(world.nadia)
    api = Client(headers=api_key_for(world.org_a, Role.NETWORK_MANAGER))

    def add_grants(n: int) -> None:
        for _ in range(n):
            other = make_organisation(f"org-{Grant.objects.count()}", "Other")
            connection = make_connection(world.org_a, name=f"C{Grant.objects.count()}")
            given = Grant.objects.create(
                grantor=world.org_a,
                grantee=other,
                can_manage_drivers=True,
                all_connections=False,
                created_by=world.nadia.user,
            )
            given.connections.set([connection])
            Grant.objects.create(grantor=other, grantee=world.org_a, can_view_transactions=True)
        Grant.objects.filter(pk=given.pk).update(revoked_by=world.nadia.user)

    def queries(url: str, client: Client) -> int:
        with CaptureQueriesContext(db_connection) as captured:
            assert client.get(url).status_code == 200
        return len(captured)

    add_grants(1)
    api.get("/api/v1/grants")  # the key's "last used" is written on its first call only
    page_one, api_one = queries(GRANTS, nadia), queries("/api/v1/grants", api)
    add_grants(4)
    assert len(api.get("/api/v1/grants").json()["given"]) == 5
    assert (queries(GRANTS, nadia), queries("/api/v1/grants", api)) == (page_one, api_one)
