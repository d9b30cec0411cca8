"""The transport rules every OCPI view shares: the envelope, tokens (Base64 and plain),
401s, message ids, routing headers, body limits, JSON checks, crashes, pagination."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime, timedelta

import pytest
from django.http import HttpResponse
from django.test import Client, RequestFactory
from django.utils import timezone

from evdms.ocpi import party, schema
from evdms.ocpi.models import Partner, PartnerStatus
from evdms.ocpi.services import new_token, partner_add, partner_reactivate, partner_suspend
from evdms.ocpi.tests.conftest import example
from evdms.ocpi.transport import (
    OcpiError,
    OcpiRequest,
    Status,
    ocpi_endpoint,
    ocpi_response,
    paginate,
    paginated_response,
    parse_timestamp,
    timestamp,
    token_candidates,
)

pytestmark = pytest.mark.django_db

VERSIONS = "/ocpi/versions"
CREDENTIALS = "/ocpi/2.2.1/credentials"


def b64(token: str) -> str:
    return "Token " + base64.b64encode(token.encode()).decode()


@pytest.fixture
def token_a() -> str:
    return partner_add(name="Pending CPO")[1]


def registered(token_c: str | None = None) -> tuple[Partner, str]:
    """A registered partner (as after a handshake) and the token C it calls us with."""
    from evdms.accounts.keyed_hash import keyed_hash
    from evdms.ocpi.transport import TOKEN_C_PURPOSE

    token_c = token_c or new_token()
    partner = Partner.objects.create(
        name="Registered CPO",
        status=PartnerStatus.REGISTERED,
        registered_at=timezone.now(),
        token_c_hash=keyed_hash(token_c, purpose=TOKEN_C_PURPOSE),
        roles=[{"role": "CPO", "country_code": "DE", "party_id": "ABC"}],
    )
    return partner, token_c


def test_the_token_is_accepted_base64_encoded_and_plain(client: Client, token_a: str):
    encoded = client.get(VERSIONS, HTTP_AUTHORIZATION=b64(token_a))
    plain = client.get(VERSIONS, HTTP_AUTHORIZATION=f"Token {token_a}")
    assert encoded.status_code == plain.status_code == 200
    assert encoded.json()["data"] == plain.json()["data"]


def test_a_token_that_happens_to_be_valid_base64_is_still_found_plain(client: Client):
    _, token = registered("abcd1234")  # also valid Base64 (of other bytes)
    assert client.get(VERSIONS, HTTP_AUTHORIZATION="Token abcd1234").status_code == 200
    assert client.get(VERSIONS, HTTP_AUTHORIZATION=b64(token)).status_code == 200


@pytest.mark.parametrize(
    "header",
    [None, "", "Token", "Bearer abc", "Token d3Jvbmc=", "Token wrong-token"],
    ids=["missing", "empty", "no token", "other scheme", "unknown base64", "unknown plain"],
)
def test_a_missing_or_unknown_token_is_401_in_the_envelope(client: Client, token_a, header):
    extra = {} if header is None else {"HTTP_AUTHORIZATION": header}
    response = client.get(VERSIONS, **extra)
    assert response.status_code == 401
    body = response.json()
    assert body["status_code"] == 2000 and "data" not in body
    assert schema.check(schema.RESPONSE, body) == []


def test_message_ids_are_echoed_and_made_when_missing(client: Client, token_a: str):
    response = client.get(
        VERSIONS,
        HTTP_AUTHORIZATION=b64(token_a),
        HTTP_X_REQUEST_ID="req-1",
        HTTP_X_CORRELATION_ID="corr-1",
    )
    assert (response["X-Request-ID"], response["X-Correlation-ID"]) == ("req-1", "corr-1")
    refused = client.get(VERSIONS, HTTP_X_REQUEST_ID="req-2", HTTP_X_CORRELATION_ID="corr-2")
    assert (refused["X-Request-ID"], refused["X-Correlation-ID"]) == ("req-2", "corr-2")
    fresh = client.get(VERSIONS, HTTP_AUTHORIZATION=b64(token_a))
    assert len(fresh["X-Request-ID"]) == 36 and len(fresh["X-Correlation-ID"]) == 36


def test_configuration_modules_carry_no_routing_headers(client: Client, token_a: str):
    response = client.get(
        VERSIONS, HTTP_AUTHORIZATION=b64(token_a), HTTP_OCPI_FROM_COUNTRY_CODE="DE"
    )
    assert not [h for h in response.headers if h.lower().startswith("ocpi-")]


def test_our_versions_and_details_follow_the_spec(client: Client, token_a: str):
    versions = client.get(VERSIONS, HTTP_AUTHORIZATION=b64(token_a)).json()
    assert schema.check(schema.RESPONSE, versions) == []
    assert schema.check_versions(versions["data"]) == []
    details = client.get("/ocpi/2.2.1", HTTP_AUTHORIZATION=b64(token_a)).json()
    assert schema.check(schema.VERSION_DETAILS, details["data"]) == []
    assert details["data"]["version"] == "2.2.1"
    # Credentials first; the functional modules (tokens, cdrs, …) follow.
    assert details["data"]["endpoints"][0] == {
        "identifier": "credentials",
        "role": "SENDER",
        "url": "http://127.0.0.1:8000/ocpi/2.2.1/credentials",
    }
    assert {
        "identifier": "cdrs",
        "role": "RECEIVER",
        "url": "http://127.0.0.1:8000/ocpi/2.2.1/cdrs",
    } in details["data"]["endpoints"]
    # Every module we implement, each with its role, once (modules add lines to MODULES).
    listed = [(e["identifier"], e["role"]) for e in details["data"]["endpoints"]]
    assert listed == [(identifier, role) for identifier, role, _ in party.MODULES]


def test_a_body_over_one_mib_is_refused_with_2001(client: Client, token_a: str):
    body = json.dumps({"token": "x", "padding": "y" * 2_000_000})
    response = client.post(
        CREDENTIALS, body, content_type="application/json", HTTP_AUTHORIZATION=b64(token_a)
    )
    assert response.status_code == 413
    assert response.json()["status_code"] == 2001
    assert Partner.objects.get().status == PartnerStatus.PENDING


def test_ten_mib_is_refused_before_it_is_read(client: Client, token_a: str):
    body = "[" + "1," * 5_000_000 + "1]"
    response = client.post(
        CREDENTIALS, body, content_type="application/json", HTTP_AUTHORIZATION=b64(token_a)
    )
    assert response.status_code == 413 and response.json()["status_code"] == 2001


@pytest.mark.parametrize("body", ['{"token": ', "not json", "\xff"], ids=["cut", "text", "bytes"])
def test_malformed_json_is_http_400_with_2001(client: Client, token_a: str, body: str):
    response = client.post(
        CREDENTIALS, body, content_type="application/json", HTTP_AUTHORIZATION=b64(token_a)
    )
    assert response.status_code == 400
    assert response.json()["status_code"] == 2001


@pytest.mark.parametrize(
    ("body", "problem"),
    [
        ({}, "token: required"),
        ({"token": "a b", "url": "https://x.example/v", "roles": []}, "roles: at least 1"),
        (
            {"token": "t" * 65, "url": "https://x.example/v", "roles": []},
            "token: at most 64 characters",
        ),
        (
            {
                "token": "tok",
                "url": "ftp://x.example/v",
                "roles": [
                    {
                        "role": "CPO",
                        "party_id": "ABCD",
                        "country_code": "NL",
                        "business_details": {"name": "X"},
                    }
                ],
            },
            "url: must be an http(s) URL",
        ),
        (
            {
                "token": "tok",
                "url": "https://x.example/v",
                "roles": [
                    {
                        "role": "DRIVER",
                        "party_id": "ABC",
                        "country_code": "NL",
                        "business_details": {},
                    }
                ],
            },
            "roles[0].role: must be one of CPO",
        ),
    ],
    ids=["empty", "no roles", "long token", "ftp url", "bad role"],
)
def test_invalid_credentials_are_2001_naming_the_field(client, token_a, body, problem):
    response = client.post(
        CREDENTIALS,
        json.dumps(body),
        content_type="application/json",
        HTTP_AUTHORIZATION=b64(token_a),
    )
    # Valid JSON reaching an existing resource: no HTTP error, the OCPI code tells.
    assert response.status_code == 200
    assert response.json()["status_code"] == 2001
    assert problem in response.json()["status_message"]


def test_a_wrong_method_is_405_in_the_envelope(client: Client, token_a: str):
    response = client.patch(CREDENTIALS, "{}", HTTP_AUTHORIZATION=b64(token_a))
    assert response.status_code == 405 and response.json()["status_code"] == 2000
    assert response["Allow"] == "GET, POST, PUT, DELETE"


def test_an_unknown_ocpi_url_is_404_in_the_envelope(client: Client):
    response = client.get("/ocpi/2.2.1/nothing-here", HTTP_X_REQUEST_ID="r")
    assert response.status_code == 404
    assert response.json()["status_code"] == 2000 and response["X-Request-ID"] == "r"


# --- a functional module, as the next modules will be: built from the same decorator ---


@ocpi_endpoint(methods=("GET", "PUT"))
def functional(request: OcpiRequest, fail: str = "") -> HttpResponse:
    if fail == "crash":
        raise RuntimeError("a bug")
    if fail == "ocpi":
        raise OcpiError(Status.UNKNOWN_TOKEN, "Unknown token", http_status=404)
    return ocpi_response({"partner": request.ocpi.partner.name})


def test_token_a_is_refused_on_a_functional_module(rf: RequestFactory, token_a: str):
    response = functional(rf.get("/ocpi/x", HTTP_AUTHORIZATION=b64(token_a)))
    assert response.status_code == 401


def test_routing_headers_are_answered_swapped_on_functional_modules(rf: RequestFactory):
    _, token = registered()
    request = rf.get(
        "/ocpi/x",
        HTTP_AUTHORIZATION=b64(token),
        HTTP_OCPI_FROM_COUNTRY_CODE="de",
        HTTP_OCPI_FROM_PARTY_ID="abc",
        HTTP_OCPI_TO_COUNTRY_CODE="NL",
        HTTP_OCPI_TO_PARTY_ID="EVD",
    )
    response = functional(request)
    assert response.status_code == 200
    assert response["OCPI-to-country-code"] == "DE" and response["OCPI-to-party-id"] == "ABC"
    assert response["OCPI-from-country-code"] == "NL"
    assert response["OCPI-from-party-id"] == "EVD"
    bare = functional(rf.get("/ocpi/x", HTTP_AUTHORIZATION=b64(token)))
    assert bare["OCPI-from-party-id"] == "EVD" and "OCPI-to-party-id" not in bare


def test_a_crash_is_a_3000_envelope_never_an_html_page(rf: RequestFactory, caplog):
    _, token = registered()
    response = functional(rf.get("/ocpi/x", HTTP_AUTHORIZATION=b64(token)), fail="crash")
    assert response.status_code == 200 and response["Content-Type"] == "application/json"
    assert json.loads(response.content)["status_code"] == 3000
    assert "a bug" in caplog.text
    unknown = functional(rf.get("/ocpi/x", HTTP_AUTHORIZATION=b64(token)), fail="ocpi")
    assert unknown.status_code == 404 and json.loads(unknown.content)["status_code"] == 2004


def test_a_suspended_partner_is_refused_until_reactivated(rf: RequestFactory):
    partner, token = registered()
    assert partner_suspend(partner)
    assert functional(rf.get("/ocpi/x", HTTP_AUTHORIZATION=b64(token))).status_code == 401
    assert partner_reactivate(partner)
    assert functional(rf.get("/ocpi/x", HTTP_AUTHORIZATION=b64(token))).status_code == 200
    assert Partner.objects.get().status == PartnerStatus.REGISTERED


def test_last_traffic_is_written_at_most_once_a_minute(rf, django_assert_num_queries):
    _, token = registered()
    functional(rf.get("/ocpi/x", HTTP_AUTHORIZATION=b64(token)))
    first = Partner.objects.get().last_traffic_at
    assert first is not None
    with django_assert_num_queries(1):  # the token look-up only: no write
        functional(rf.get("/ocpi/x", HTTP_AUTHORIZATION=b64(token)))
    assert Partner.objects.get().last_traffic_at == first
    Partner.objects.update(last_traffic_at=first - timedelta(minutes=2))
    functional(rf.get("/ocpi/x", HTTP_AUTHORIZATION=b64(token)))
    later = Partner.objects.get().last_traffic_at
    assert later is not None and later > first - timedelta(seconds=1)


# --- timestamps ---------------------------------------------------------------------


def test_timestamps_are_rfc_3339_utc_with_z():
    moment = datetime(2026, 3, 29, 1, 30, tzinfo=UTC)
    assert timestamp(moment) == "2026-03-29T01:30:00Z"
    assert timestamp(moment.replace(microsecond=120_000)) == "2026-03-29T01:30:00.120Z"
    assert parse_timestamp("2015-06-29T20:39:09Z") == datetime(2015, 6, 29, 20, 39, 9, tzinfo=UTC)
    assert parse_timestamp("2016-12-29T17:45:09.2") == datetime(
        2016, 12, 29, 17, 45, 9, 200_000, tzinfo=UTC
    )
    for wrong in ("2015-06-29T20:39:09+00:00", "2015-06-29", "yesterday"):
        with pytest.raises(ValueError):
            parse_timestamp(wrong)


def test_token_candidates():
    assert token_candidates(b64("example-token")) == ["example-token", b64("example-token")[6:]]
    assert token_candidates("Token plain-token") == ["plain-token"]
    assert token_candidates("Basic abc") == []


# --- pagination ------------------------------------------------------------------------


@pytest.fixture
def five_partners() -> list[Partner]:
    start = datetime(2026, 1, 1, tzinfo=UTC)
    return [
        Partner.objects.create(name=f"P{i}", created_at=start + timedelta(days=i)) for i in range(5)
    ]


def _page(rf: RequestFactory, query: str):
    request = rf.get(f"/ocpi/2.2.1/tokens?{query}")
    page = paginate(request, Partner.objects.all(), date_field="created_at", default_limit=2)
    return paginated_response(page, [p.name for p in page.objects])


def test_pagination_pages_with_total_limit_and_next_link(rf, five_partners, settings):
    settings.SITE_URL = "https://evdms.example.org"
    first = _page(rf, "")
    assert json.loads(first.content)["data"] == ["P0", "P1"]
    assert (first["X-Total-Count"], first["X-Limit"]) == ("5", "2")
    assert first["Link"] == (
        '<https://evdms.example.org/ocpi/2.2.1/tokens?offset=2&limit=2>; rel="next"'
    )
    last = _page(rf, "offset=4&limit=2")
    assert json.loads(last.content)["data"] == ["P4"]
    assert "Link" not in last


def test_date_from_is_inclusive_date_to_exclusive_and_the_link_keeps_them(
    rf, five_partners, settings
):
    settings.SITE_URL = "https://evdms.example.org"
    query = "date_from=2026-01-02T00:00:00Z&date_to=2026-01-05T00:00:00Z&limit=1"
    response = _page(rf, query)
    assert json.loads(response.content)["data"] == ["P1"]
    assert response["X-Total-Count"] == "3"  # days 2, 3, 4; not day 5
    assert response["Link"] == (
        "<https://evdms.example.org/ocpi/2.2.1/tokens?offset=1&limit=1"
        "&date_from=2026-01-02T00%3A00%3A00Z&date_to=2026-01-05T00%3A00%3A00Z>; "
        'rel="next"'
    )


def test_the_server_caps_the_limit(rf, five_partners):
    request = rf.get("/ocpi/2.2.1/tokens?limit=2000")
    page = paginate(request, Partner.objects.all(), date_field="created_at", max_limit=3)
    response = paginated_response(page, [p.name for p in page.objects])
    assert response["X-Limit"] == "3" and len(json.loads(response.content)["data"]) == 3


@pytest.mark.parametrize(
    "query", ["offset=-1", "limit=ten", "date_from=2026-01-02", "date_to=2026-01-02T00:00+01:00"]
)
def test_bad_paging_parameters_are_2001(rf, five_partners, query):
    with pytest.raises(OcpiError) as error:
        paginate(rf.get(f"/x?{query}"), Partner.objects.all(), date_field="created_at")
    assert error.value.status == Status.INVALID_PARAMETERS


# --- the spec's examples as input -----------------------------------------------------


@pytest.mark.parametrize(
    "name",
    [
        "credentials_example.json",
        "credentials_example2.json",
        "credentials_example3.json",
        "credentials_example4.json",
    ],
)
def test_credentials_examples_conform(name):
    assert schema.check(schema.CREDENTIALS, example(name)) == []


def test_versions_and_details_examples_conform():
    assert schema.check_versions(example("versions_info_example.json")) == []
    assert schema.check(schema.VERSION_DETAILS, example("version_details_example.json")) == []
    assert schema.check(schema.VERSION_DETAILS, example("version_details_example2.json")) == []
    for name in (
        "transport_and_format_version_info_example.json",
        "transport_and_format_version_details_example.json",
    ):
        assert schema.check(schema.RESPONSE, example(name)) == []
