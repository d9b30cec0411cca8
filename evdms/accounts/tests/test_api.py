"""The JSON API as a partner's program sees it: keys, errors, tenancy, OpenAPI."""

from __future__ import annotations

import json

import pytest
from django.core.management import call_command
from django.test import Client

from evdms.accounts.models import Admin, AdminStatus, ApiKey, Role

pytestmark = pytest.mark.django_db


def test_a_key_acts_for_its_organisation_with_its_role(world, api_key_for, client: Client):
    headers = api_key_for(world.org_a, Role.ANALYST, name="BI export")
    body = client.get("/api/v1/me", headers=headers).json()
    assert body["organisation"]["slug"] == "voltlease"
    assert body["role"] == "analyst"
    assert body["key_name"] == "BI export"
    assert ApiKey.objects.get(name="BI export").last_used_at is not None


@pytest.mark.parametrize(
    "header",
    [
        None,
        "Bearer",
        "Bearer nonsense",
        "Basic dXNlcjpwYXNz",
        "Bearer evdms_000000000000_wrongsecret",
        "Bearer evdms_short_x",
    ],
)
def test_a_missing_or_malformed_key_is_a_401_with_a_json_body(db, client: Client, header):
    headers = {"Authorization": header} if header else {}
    response = client.get("/api/v1/me", headers=headers)
    assert response.status_code == 401
    assert "API key" in response.json()["detail"]


def test_a_revoked_key_stops_working(world, api_key_for, client: Client):
    headers = api_key_for(world.org_a)
    assert client.get("/api/v1/me", headers=headers).status_code == 200
    ApiKey.objects.update(revoked_at="2026-01-01T00:00:00Z")
    assert client.get("/api/v1/me", headers=headers).status_code == 401


def test_a_role_without_the_right_gets_403(world, api_key_for, client: Client):
    headers = api_key_for(world.org_a, Role.ANALYST)
    response = client.get("/api/v1/admins", headers=headers)
    assert response.status_code == 403


def test_another_organisations_admin_looks_exactly_like_a_missing_one(
    world, api_key_for, client: Client
):
    headers = api_key_for(world.org_b)
    foreign = client.get(f"/api/v1/admins/{world.otto.pk}", headers=headers)
    missing = client.get("/api/v1/admins/999999", headers=headers)
    assert foreign.status_code == missing.status_code == 404
    assert foreign.json() == missing.json()
    patched = client.patch(
        f"/api/v1/admins/{world.otto.pk}",
        data={"status": "disabled"},
        content_type="application/json",
        headers=headers,
    )
    assert patched.status_code == 404
    world.otto.refresh_from_db()
    assert world.otto.status == AdminStatus.ACTIVE


def test_inviting_through_the_api(
    world, api_key_for, client: Client, mailoutbox, django_capture_on_commit_callbacks
):
    headers = api_key_for(world.org_a)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            "/api/v1/admins",
            data={"email": "Api.Invitee@voltlease.example", "full_name": "Ivy", "role": "analyst"},
            content_type="application/json",
            headers=headers,
        )
    assert response.status_code == 201
    assert response.json()["status"] == "invited"
    assert Admin.objects.get(email="api.invitee@voltlease.example").organisation == world.org_a
    assert mailoutbox[-1].to == ["api.invitee@voltlease.example"]


def test_bad_input_gets_field_level_errors(world, api_key_for, client: Client):
    headers = api_key_for(world.org_a)
    response = client.post(
        "/api/v1/admins",
        data={"email": "not-an-address", "full_name": "", "role": "king"},
        content_type="application/json",
        headers=headers,
    )
    assert response.status_code == 422
    fields = {tuple(e["loc"]) for e in response.json()["detail"]}
    assert {
        ("body", "payload", "email"),
        ("body", "payload", "full_name"),
        ("body", "payload", "role"),
    } <= fields

    service_error = client.post(
        "/api/v1/admins",
        data={"email": "otto@voltlease.example", "full_name": "Otto", "role": "analyst"},
        content_type="application/json",
        headers=headers,
    )
    assert service_error.status_code == 422
    assert service_error.json()["detail"] == [
        {
            "loc": ["body", "email"],
            "msg": "This address is already an admin of your organisation or invited.",
            "type": "value_error",
        }
    ]


def test_malformed_json_is_a_400(world, api_key_for, client: Client):
    response = client.post(
        "/api/v1/admins",
        data="{not json",
        content_type="application/json",
        headers=api_key_for(world.org_a),
    )
    assert response.status_code == 400
    assert "detail" in response.json()


def test_an_oversized_body_is_a_413(world, api_key_for, client: Client, settings):
    big = json.dumps(
        {
            "email": "a@b.example",
            "full_name": "x" * (settings.DATA_UPLOAD_MAX_MEMORY_SIZE + 10),
            "role": "analyst",
        }
    )
    response = client.post(
        "/api/v1/admins",
        data=big,
        content_type="application/json",
        headers=api_key_for(world.org_a),
    )
    assert response.status_code == 413


def test_openapi_and_offline_docs_are_served(db, client: Client):
    spec = client.get("/api/v1/openapi.json").json()
    assert spec["info"]["title"] == "evdms API"
    assert "/api/v1/admins" in spec["paths"]
    docs = client.get("/api/v1/docs").content.decode()
    assert "/static/ninja/swagger-ui-bundle.js" in docs
    assert "cdn" not in docs.lower()
    assert client.get("/static/ninja/swagger-ui-bundle.js").status_code == 200


def test_create_api_key_command_prints_a_working_key(world, client: Client, capsys):
    call_command("create_api_key", "--organisation", "voltlease", "--name", "provisioning")
    key = capsys.readouterr().out.strip()
    assert key.startswith("evdms_")
    assert (
        client.get("/api/v1/me", headers={"Authorization": f"Bearer {key}"}).json()["organisation"][
            "slug"
        ]
        == "voltlease"
    )


def test_create_api_key_command_fails_clearly_for_an_unknown_organisation(db):
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="No organisation"):
        call_command("create_api_key", "--organisation", "nope", "--name", "x")
