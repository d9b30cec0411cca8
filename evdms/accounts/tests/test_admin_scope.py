"""Admins and API keys limited to chosen connections, and admins' Connection Alerts:
chosen on the Admins pages, the Settings page, the Security page (one's own alerts),
the API and ``create_api_key``."""

from __future__ import annotations

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import Client
from django.urls import reverse

from evdms.accounts.models import Admin, ApiKey, Grant, Role
from evdms.accounts.permissions import Actor
from evdms.audit.models import AuditEvent
from evdms.testing.fixtures import client_for, make_connection, make_organisation

pytestmark = pytest.mark.django_db

NOT_IN_LIST = "Choose connections from the list."
NONE_CHOSEN = "Choose at least one connection, or All connections."


@pytest.fixture
def scene(world):
    """Voltlease's Home and Fleet; Rival Lease's Rival Home; Sunny Co granted Voltlease
    rights on its Sunny Fleet only (not on Sunny Depot)."""
    sunny = make_organisation("sunny", "Sunny Co")
    sunny_fleet = make_connection(sunny, name="Sunny Fleet", provide_home_charger="no")
    sunny_depot = make_connection(sunny, name="Sunny Depot", provide_home_charger="no")
    grant = Grant.objects.create(
        grantor=sunny, grantee=world.org_a, can_manage_drivers=True, all_connections=False
    )
    grant.connections.set([sunny_fleet])
    return {
        "world": world,
        "home": make_connection(world.org_a, name="Home", provide_home_charger="no"),
        "fleet": make_connection(world.org_a, name="Fleet", provide_home_charger="no"),
        "rival": make_connection(world.org_b, name="Rival Home", provide_home_charger="no"),
        "sunny_fleet": sunny_fleet,
        "sunny_depot": sunny_depot,
    }


def invite(client: Client, role: str = Role.CONNECTIONS_OFFICER, **data):
    return client.post(
        reverse("accounts:admins"),
        {"full_name": "Lina Limited", "email": "lina@voltlease.example", "role": role, **data},
    )


def lina() -> Admin | None:
    return Admin.objects.filter(email="lina@voltlease.example").first()


def names(admin_or_key) -> list[str]:
    return sorted(c.name for c in admin_or_key.connections.all())


# --- inviting -----------------------------------------------------------------------


def test_the_invite_form_offers_own_and_granted_connections_only(scene):
    page = client_for(scene["world"].nadia).get(reverse("accounts:admins")).content.decode()
    assert "All connections, present and future" in page and "Only these:" in page
    assert "Home" in page and "Fleet" in page and "Sunny Fleet (Sunny Co)" in page
    assert "Rival Home" not in page and "Sunny Depot" not in page


def test_an_admin_invited_with_chosen_connections_has_them(
    scene, mailoutbox, django_capture_on_commit_callbacks
):
    client = client_for(scene["world"].nadia)
    with django_capture_on_commit_callbacks(execute=True):
        response = invite(
            client,
            all_connections="chosen",
            connection_ids=[scene["fleet"].pk, scene["sunny_fleet"].pk],
        )
    assert response.status_code == 302
    admin = lina()
    assert admin is not None and admin.all_connections is False
    assert names(admin) == ["Fleet", "Sunny Fleet"]
    assert [m.to for m in mailoutbox] == [["lina@voltlease.example"]]
    event = AuditEvent.objects.get(action="admin.invite", target_id=str(admin.pk))
    assert event.changes["connections"] == [None, ["Fleet", "Sunny Fleet"]]
    listing = client.get(reverse("accounts:admins")).content.decode()
    assert '<th scope="col">Connections</th>' in listing
    assert "<td>Fleet, Sunny Fleet</td>" in listing
    assert "<td>All</td>" in listing  # Nadia and the others


def test_a_network_manager_is_invited_with_all_connections_whatever_is_ticked(scene):
    response = invite(
        client_for(scene["world"].nadia),
        role=Role.NETWORK_MANAGER,
        all_connections="chosen",
        connection_ids=[scene["fleet"].pk],
    )
    assert response.status_code == 302
    admin = lina()
    assert admin is not None and admin.all_connections is True and names(admin) == []


@pytest.mark.parametrize(
    ("which", "message"),
    [
        ("nothing", NONE_CHOSEN),
        ("another organisation's", NOT_IN_LIST),
        ("a grantor's not granted", NOT_IN_LIST),
        ("missing", NOT_IN_LIST),
    ],
)
def test_a_bad_choice_of_connections_is_a_field_error_and_invites_nobody(
    scene, mailoutbox, django_capture_on_commit_callbacks, which, message
):
    ids = {
        "nothing": [],
        "another organisation's": [scene["rival"].pk],
        "a grantor's not granted": [scene["sunny_depot"].pk],
        "missing": [999_999],
    }[which]
    with django_capture_on_commit_callbacks(execute=True):
        response = invite(
            client_for(scene["world"].nadia), all_connections="chosen", connection_ids=ids
        )
    assert response.status_code == 422
    page = response.content.decode()
    assert 'id="field-connection_ids"' in page and message in page
    assert lina() is None
    assert mailoutbox == []


def test_the_service_refuses_another_organisations_connection_like_a_missing_one(scene):
    from django.core.exceptions import ValidationError

    from evdms.accounts.services import admin_invite

    actor = scene["world"].actor(scene["world"].nadia)
    messages = []
    for pk in (scene["rival"].pk, 999_999):
        with pytest.raises(ValidationError) as caught:
            admin_invite(
                actor=actor,
                email="lina@voltlease.example",
                full_name="Lina",
                role=Role.CONNECTIONS_OFFICER,
                all_connections=False,
                connection_ids=[pk],
            )
        messages.append(caught.value.message_dict["connection_ids"][0].replace(str(pk), "N"))
    assert messages[0] == messages[1] == "Choose connections from the list: N is not one of them."
    assert lina() is None


# --- an admin's page ----------------------------------------------------------------


def test_a_network_manager_narrows_and_widens_an_admins_connections(scene):
    world = scene["world"]
    client = client_for(world.nadia)
    url = reverse("accounts:admin_detail", args=[world.otto.pk])
    response = client.post(
        url,
        {
            "role": Role.CONNECTIONS_OFFICER,
            "all_connections": "chosen",
            "connection_ids": [scene["home"].pk, scene["fleet"].pk],
            "connection_alerts": "daily",
        },
    )
    assert response.status_code == 302
    world.otto.refresh_from_db()
    assert world.otto.all_connections is False and names(world.otto) == ["Fleet", "Home"]
    assert world.otto.connection_alerts == "daily"
    assert world.actor(world.otto).connection_ids == frozenset(
        {scene["home"].pk, scene["fleet"].pk}
    )
    changed = AuditEvent.objects.get(action="admin.change_connections")
    assert changed.changes == {"connections": ["All connections", ["Fleet", "Home"]]}
    assert AuditEvent.objects.get(action="admin.change_connection_alerts").changes == {
        "connection_alerts": ["off", "daily"]
    }
    page = client.get(url).content.decode()
    assert "Connections: All connections → Fleet, Home" in page

    client.post(url, {"role": Role.CONNECTIONS_OFFICER, "all_connections": "all"})
    world.otto.refresh_from_db()
    assert world.otto.all_connections is True and names(world.otto) == []
    assert AuditEvent.objects.filter(action="admin.change_connections").count() == 2


def test_a_refused_list_leaves_the_role_unsaved_too(scene):
    world = scene["world"]
    response = client_for(world.nadia).post(
        reverse("accounts:admin_detail", args=[world.otto.pk]),
        {"role": Role.ANALYST, "all_connections": "chosen", "connection_ids": []},
    )
    assert response.status_code == 422
    assert NONE_CHOSEN in response.content.decode()
    world.otto.refresh_from_db()
    assert world.otto.role == Role.CONNECTIONS_OFFICER and world.otto.all_connections is True
    assert not AuditEvent.objects.filter(action__startswith="admin.change").exists()


def test_a_network_managers_page_says_why_there_is_no_choice(scene):
    world = scene["world"]
    page = (
        client_for(world.nadia)
        .get(reverse("accounts:admin_detail", args=[world.nadia.pk]))
        .content.decode()
    )
    assert "A Network Manager always has all connections" in page
    assert 'name="connection_ids"' not in page


def test_becoming_a_network_manager_drops_the_list(scene):
    world = scene["world"]
    world.otto.all_connections = False
    world.otto.save()
    world.otto.connections.set([scene["home"]])
    client_for(world.nadia).post(
        reverse("accounts:admin_detail", args=[world.otto.pk]), {"role": Role.NETWORK_MANAGER}
    )
    world.otto.refresh_from_db()
    assert world.otto.role == Role.NETWORK_MANAGER
    assert world.otto.all_connections is True and names(world.otto) == []
    event = AuditEvent.objects.get(action="admin.change_role")
    assert event.changes["connections"] == [["Home"], "All connections"]


def test_a_post_of_the_role_alone_keeps_a_limited_admins_connections(scene):
    world = scene["world"]
    world.otto.all_connections = False
    world.otto.save()
    world.otto.connections.set([scene["home"]])
    client_for(world.nadia).post(
        reverse("accounts:admin_detail", args=[world.otto.pk]), {"role": Role.ANALYST}
    )
    world.otto.refresh_from_db()
    assert world.otto.role == Role.ANALYST and world.otto.all_connections is False
    assert names(world.otto) == ["Home"]


# --- one's own connection alerts ----------------------------------------------------


def test_an_admin_sets_their_own_connection_alerts_on_the_security_page(scene):
    world = scene["world"]
    client = client_for(world.otto)
    page = client.get(reverse("accounts:two_factor")).content.decode()
    assert "Connection alerts" in page and "A daily digest" in page
    response = client.post(
        reverse("accounts:connection_alerts"), {"connection_alerts": "immediate"}
    )
    assert response.status_code == 302
    world.otto.refresh_from_db()
    assert world.otto.connection_alerts == "immediate"
    event = AuditEvent.objects.get(action="admin.change_connection_alerts")
    assert event.actor_user == world.otto.user
    assert event.changes == {"connection_alerts": ["off", "immediate"]}

    bad = client.post(reverse("accounts:connection_alerts"), {"connection_alerts": "hourly"})
    assert bad.status_code == 422 and "Select a valid choice" in bad.content.decode()
    world.otto.refresh_from_db()
    assert world.otto.connection_alerts == "immediate"


def test_an_analyst_is_offered_no_connection_alerts(scene):
    page = client_for(scene["world"].ana).get(reverse("accounts:two_factor")).content.decode()
    assert "Connection alerts" not in page


def test_an_admin_cannot_set_anothers_alerts_without_managing_admins(scene):
    world = scene["world"]
    from django.core.exceptions import PermissionDenied

    from evdms.accounts.services import admin_change_connection_alerts

    with pytest.raises(PermissionDenied):
        admin_change_connection_alerts(
            actor=world.actor(world.otto), admin=world.ana, alerts="daily"
        )
    world.ana.refresh_from_db()
    assert world.ana.connection_alerts == "off"


# --- the API ------------------------------------------------------------------------


def api_post(client: Client, headers, **data):
    return client.post(
        "/api/v1/admins",
        data={
            "email": "lina@voltlease.example",
            "full_name": "Lina",
            "role": "connections_officer",
            **data,
        },
        content_type="application/json",
        headers=headers,
    )


def api_patch(client: Client, headers, admin: Admin, **data):
    return client.patch(
        f"/api/v1/admins/{admin.pk}", data=data, content_type="application/json", headers=headers
    )


def test_the_api_invites_with_chosen_connections_and_alerts(scene, client, api_key_for):
    headers = api_key_for(scene["world"].org_a)
    response = api_post(
        client,
        headers,
        connection_ids=[scene["sunny_fleet"].pk, scene["home"].pk],
        connection_alerts="daily",
    )
    assert response.status_code == 201
    body = response.json()
    assert body["all_connections"] is False
    assert body["connection_ids"] == sorted([scene["sunny_fleet"].pk, scene["home"].pk])
    assert body["connection_alerts"] == "daily"
    admin = lina()
    assert admin is not None and names(admin) == ["Home", "Sunny Fleet"]


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"all_connections": False}, NONE_CHOSEN),
        ({"all_connections": False, "connection_ids": []}, NONE_CHOSEN),
        ({"connection_ids": ["rival"]}, "Choose connections from the list: N is not one of them."),
        ({"connection_ids": [999_999]}, "Choose connections from the list: N is not one of them."),
        (
            {"all_connections": True, "connection_ids": ["home"]},
            "Leave this out for all connections, or set all_connections false.",
        ),
    ],
)
def test_the_api_refuses_a_bad_choice_field_by_field(scene, client, api_key_for, data, message):
    ids = [scene[i].pk if isinstance(i, str) else i for i in data.get("connection_ids", [])]
    payload = {**data, **({"connection_ids": ids} if "connection_ids" in data else {})}
    response = api_post(client, api_key_for(scene["world"].org_a), **payload)
    assert response.status_code == 422
    [error] = response.json()["detail"]
    assert error["loc"] == ["body", "connection_ids"]
    assert error["msg"].replace(str(ids[0]) if ids else "-", "N") == message
    assert lina() is None


def test_the_api_changes_an_admins_connections_and_ignores_a_list_for_a_network_manager(
    scene, client, api_key_for
):
    world = scene["world"]
    headers = api_key_for(world.org_a)
    body = api_patch(client, headers, world.otto, connection_ids=[scene["fleet"].pk]).json()
    assert body["all_connections"] is False and body["connection_ids"] == [scene["fleet"].pk]
    listed = {a["email"]: a for a in client.get("/api/v1/admins", headers=headers).json()}
    assert listed["otto@voltlease.example"]["connection_ids"] == [scene["fleet"].pk]

    body = api_patch(client, headers, world.otto, all_connections=True).json()
    assert body["all_connections"] is True and body["connection_ids"] == []

    body = api_patch(client, headers, world.nadia, connection_ids=[scene["fleet"].pk]).json()
    assert body["all_connections"] is True and body["connection_ids"] == []
    world.nadia.refresh_from_db()
    assert world.nadia.all_connections is True and names(world.nadia) == []


def test_an_api_patch_refused_on_connections_changes_nothing(scene, client, api_key_for):
    world = scene["world"]
    response = api_patch(
        client,
        api_key_for(world.org_a),
        world.otto,
        role="analyst",
        connection_ids=[scene["rival"].pk],
        connection_alerts="daily",
    )
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["body", "connection_ids"]
    world.otto.refresh_from_db()
    assert world.otto.role == Role.CONNECTIONS_OFFICER
    assert world.otto.all_connections is True and world.otto.connection_alerts == "off"


# --- API keys -----------------------------------------------------------------------


def test_an_api_key_made_for_chosen_connections_acts_on_them_only(scene):
    world = scene["world"]
    client = client_for(world.nadia)
    response = client.post(
        reverse("accounts:api_key_create"),
        {
            "name": "CRM sync",
            "role": Role.CONNECTIONS_OFFICER,
            "all_connections": "chosen",
            "connection_ids": [scene["fleet"].pk],
        },
    )
    assert response.status_code == 200 and "Copy it now" in response.content.decode()
    key = ApiKey.objects.get(name="CRM sync")
    assert key.all_connections is False and names(key) == ["Fleet"]
    assert Actor.for_api_key(key).connection_ids == frozenset({scene["fleet"].pk})
    assert AuditEvent.objects.get(action="api_key.create").changes["connections"] == [
        None,
        ["Fleet"],
    ]
    page = client.get(reverse("accounts:settings")).content.decode()
    assert "<td>Fleet</td>" in page


def test_an_api_key_with_no_connection_chosen_is_not_made(scene):
    response = client_for(scene["world"].nadia).post(
        reverse("accounts:api_key_create"),
        {"name": "CRM sync", "role": Role.ANALYST, "all_connections": "chosen"},
    )
    assert response.status_code == 422 and NONE_CHOSEN in response.content.decode()
    assert not ApiKey.objects.filter(name="CRM sync").exists()


def test_create_api_key_takes_connections(scene, capsys):
    call_command(
        "create_api_key",
        "--organisation",
        "voltlease",
        "--name",
        "fleet only",
        "--role",
        "analyst",
        "--connection",
        str(scene["fleet"].pk),
        "--connection",
        str(scene["home"].pk),
    )
    assert capsys.readouterr().out.startswith("evdms_")
    key = ApiKey.objects.get(name="fleet only")
    assert key.all_connections is False and names(key) == ["Fleet", "Home"]

    with pytest.raises(CommandError, match="not one of them"):
        call_command(
            "create_api_key",
            "--organisation",
            "voltlease",
            "--name",
            "rival",
            "--role",
            "analyst",
            "--connection",
            str(scene["rival"].pk),
        )
    with pytest.raises(CommandError, match="Network Manager key always has all"):
        call_command(
            "create_api_key",
            "--organisation",
            "voltlease",
            "--name",
            "manager",
            "--connection",
            str(scene["fleet"].pk),
        )
    assert not ApiKey.objects.filter(name__in=["rival", "manager"]).exists()
