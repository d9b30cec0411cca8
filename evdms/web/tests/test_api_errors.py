"""Errors of the API as a partner's program meets them. A request the platform cannot
read is the caller's error, never ours: a broken multipart body, too many fields,
malformed JSON answer 400 on every upload, every API operation and every form page, with
words for people rather than the parser's own; a field-level error names where the field
was (the query string or the body); and the OpenAPI document declares every error answer
of every operation with its body."""

from __future__ import annotations

import re
from io import StringIO
from typing import Any

import pytest
from django.core.management import call_command
from django.test import Client
from django.urls import reverse

from evdms.accounts.models import Role, User
from evdms.api import api
from evdms.testing.fixtures import client_for, make_connection

pytestmark = pytest.mark.django_db

# (Content-Type, body) of multipart requests that cannot be read.
BROKEN_MULTIPART = [
    ("multipart/form-data", b"--x\r\nnot a part"),  # no boundary: Django does not start
    ("multipart/form-data; boundary=", b"--\r\nnot a part"),
    (  # a file cut off in the middle of its base64
        "multipart/form-data; boundary=x",
        b'--x\r\nContent-Disposition: form-data; name="file"; filename="a.xml"\r\n'
        b"Content-Transfer-Encoding: base64\r\n\r\nPGE+PC9h\r\nP\r\n--x--\r\n",
    ),
]
BROKEN_IDS = ["no boundary", "empty boundary", "cut-off base64"]


def _uploads() -> list[str]:
    """Every API operation that takes multipart/form-data, from the OpenAPI document."""
    spec = api.get_openapi_schema(path_prefix="/api/v1/")
    return sorted(
        f"{method.upper()} {path}"
        for path, methods in spec["paths"].items()
        for method, operation in methods.items()
        if "multipart/form-data" in operation.get("requestBody", {}).get("content", {})
    )


def test_the_uploads_are_found_in_the_openapi_document():
    assert {"POST /api/v1/payout-returns", "POST /api/v1/connections/{connection_id}/logo"} <= set(
        _uploads()
    )


@pytest.fixture
def key_for_path(world, api_key_for):
    """The key an operation takes: the operator's for payouts, an installer manager's for
    the installer API, a Network Manager's else."""
    operator = User.objects.create_user(
        "petra@platform.example", "petra's long passphrase", is_staff=True, is_superuser=True
    )
    out = StringIO()
    call_command("create_api_key", "--operator", operator.email, "--name", "bank", stdout=out)
    operator_key = {"Authorization": f"Bearer {out.getvalue().strip()}"}
    organisation_key = api_key_for(world.org_a, Role.NETWORK_MANAGER)
    # The installer API takes an installer company's key.
    installer_key = api_key_for(world.org_a, Role.INSTALLER_MANAGER, name="installer")
    connection = make_connection(world.org_a, name="Uploads")

    def headers_and_url(path: str) -> tuple[dict[str, str], str]:
        url = re.sub(r"\{[^}]+\}", str(connection.pk), path)
        if "/payout" in path or "/invoice-payments" in path:  # the bank's files: operators
            return operator_key, url
        return (installer_key if "/installer/" in path else organisation_key), url

    return headers_and_url


@pytest.mark.parametrize("debug", [False, True], ids=["production", "debug"])
@pytest.mark.parametrize(("content_type", "body"), BROKEN_MULTIPART, ids=BROKEN_IDS)
@pytest.mark.parametrize("operation", _uploads())
def test_a_broken_multipart_body_is_a_400_on_every_upload(
    key_for_path, settings, operation, content_type, body, debug
):
    settings.DEBUG = debug  # ninja answered 500 with a traceback in debug mode
    method, path = operation.split(" ")
    headers, url = key_for_path(path)
    client = Client(raise_request_exception=False)
    response = client.generic(method, url, body, content_type, headers=headers)
    assert response.status_code == 400
    assert response.json() == {
        "detail": [
            {
                "loc": ["body"],
                "msg": "The request body is not valid multipart/form-data.",
                "type": "malformed_body",
            }
        ]
    }


def test_too_many_fields_in_a_form_or_a_query_is_a_400(key_for_path, settings):
    settings.DATA_UPLOAD_MAX_NUMBER_FIELDS = 10
    headers, url = key_for_path("/api/v1/connections/{connection_id}/logo")
    client = Client(raise_request_exception=False)
    form = client.post(url, {f"f{i}": "1" for i in range(20)}, headers=headers)
    query = client.get("/api/v1/connections", {f"f{i}": "1" for i in range(20)}, headers=headers)
    for response in (form, query):
        assert response.status_code == 400
        assert response.json()["detail"][0]["msg"] == "The request has too many fields or files."


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ("[" * 100_000, "Malformed JSON body: it is nested too deeply."),
        ('{"reason": ' + "9" * 5000 + "}", "Malformed JSON body: a number is too large."),
        ('{"reason": "AC04"', "Malformed JSON body."),
        (b'{"reason": "\xff"}', "Malformed JSON body."),
    ],
    ids=["deep", "long number", "cut off", "not UTF-8"],
)
def test_malformed_json_is_a_400_that_says_so_plainly(key_for_path, settings, body, message):
    settings.DEBUG = True  # where the parser's own words ("maximum recursion…") showed
    headers, _ = key_for_path("/api/v1/payout")
    response = Client().post(
        "/api/v1/payout-batches/1/lines/1/failed",
        body,
        content_type="application/json",
        headers=headers,
    )
    assert response.status_code == 400
    assert response.json() == {
        "detail": [{"loc": ["body"], "msg": message, "type": "malformed_body"}]
    }


def test_a_query_parameter_error_is_located_in_the_query(world, api_key_for, client: Client):
    headers = api_key_for(world.org_a)
    paging = client.get("/api/v1/connections", {"limit": 0}, headers=headers)
    status = client.get("/api/v1/statements.csv", {"status": "lost"}, headers=headers)
    assert paging.status_code == status.status_code == 422
    assert paging.json()["detail"][0]["loc"] == ["query", "limit"]
    assert status.json()["detail"][0]["loc"] == ["query", "status"]
    # A field of the body stays in the body (an address already among our admins).
    body = client.post(
        "/api/v1/admins",
        {"email": "nadia@voltlease.example", "full_name": "N", "role": "analyst"},
        content_type="application/json",
        headers=headers,
    )
    assert body.json()["detail"][0]["loc"] == ["body", "email"]


def _form_pages(world) -> list[str]:
    connection = make_connection(world.org_a, name="Forms")
    return [
        reverse("connections:new"),  # takes a logo upload
        reverse("enrolment:invite", args=[connection.pk]),  # takes a CSV upload
        reverse("accounts:login"),
        reverse("admin:reimbursements_payoutbatch_returns"),  # the bank's file
    ]


@pytest.mark.parametrize("debug", [False, True], ids=["production", "debug"])
@pytest.mark.parametrize(("content_type", "body"), BROKEN_MULTIPART, ids=BROKEN_IDS)
def test_a_form_post_with_a_broken_multipart_body_is_a_400_page(
    world, settings, content_type, body, debug
):
    settings.DEBUG = debug
    world.nadia.user.is_staff = world.nadia.user.is_superuser = True
    world.nadia.user.save()
    client = client_for(world.nadia)
    client.raise_request_exception = False
    for url in _form_pages(world):
        response = client.generic("POST", url, body, content_type)
        assert response.status_code == 400, url
        assert "nothing was saved" in response.content.decode(), url


def _declared(client: Client) -> dict[str, dict[str, Any]]:
    spec = client.get("/api/v1/openapi.json").json()
    return {
        f"{method.upper()} {path}": operation
        for path, methods in spec["paths"].items()
        for method, operation in methods.items()
    }


def _body_of(operation: dict[str, Any], status: int) -> str:
    return operation["responses"][str(status)]["content"]["application/json"]["schema"]["$ref"]


def test_every_operation_declares_its_error_answers_with_their_bodies(db, client: Client):
    operations = _declared(client)
    message, fields = "#/components/schemas/ErrorOut", "#/components/schemas/FieldErrorsOut"
    for name, operation in operations.items():
        where = {p["in"] for p in operation.get("parameters", [])}
        if "requestBody" in operation:
            where.add("body")
        assert _body_of(operation, 401) == _body_of(operation, 403) == message, name
        if "path" in where:
            assert _body_of(operation, 404) == message, name
        if where & {"query", "body"}:
            assert _body_of(operation, 400) == fields, name
        if where:
            assert _body_of(operation, 422) == fields, name
        if "body" in where:
            assert _body_of(operation, 413) == message, name
    for decision in (
        "POST /api/v1/connection-requests/{membership_id}/approve",
        "POST /api/v1/connection-requests/{membership_id}/deny",
        "POST /api/v1/drivers/{membership_id}/remove",
    ):
        assert _body_of(operations[decision], 409) == message
    assert "400" not in operations["GET /api/v1/me"]["responses"]  # it takes nothing to misread
