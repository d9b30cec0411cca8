"""The credentials handshake in both directions, over real HTTP between the CPO
simulator (its own server on a free port) and the platform (pytest-django's live server)."""

from __future__ import annotations

import io
import json
import socket

import pytest
from django.core.management import CommandError, call_command

from evdms.audit.models import AuditEvent
from evdms.ocpi import party, schema
from evdms.ocpi.client import PeerError
from evdms.ocpi.models import Partner, PartnerStatus
from evdms.ocpi.simulator import SimulatedCpo
from evdms.ocpi.tests.conftest import example, http

pytestmark = pytest.mark.django_db(transaction=True)


def add_partner(name: str = "Simulated CPO") -> tuple[str, str]:
    out = io.StringIO()
    call_command("ocpi_partner_add", "--name", name, stdout=out)
    lines = out.getvalue().splitlines()
    assert len(lines) == 2, lines
    assert lines[0].startswith("versions URL: ") and lines[1].startswith("token A: ")
    return lines[0].removeprefix("versions URL: "), lines[1].removeprefix("token A: ")


def test_partner_add_prints_exactly_our_versions_url_and_a_token_a(platform):
    versions_url, token_a = add_partner()
    assert versions_url == f"{platform}/ocpi/versions"
    partner = Partner.objects.get()
    assert partner.status == PartnerStatus.PENDING
    assert token_a not in partner.token_a_hash  # only a keyed hash is stored
    reply = http("GET", versions_url, token_a)
    assert reply.status == 200
    assert reply.body["data"] == [{"version": "2.2.1", "url": f"{platform}/ocpi/2.2.1"}]


def test_a_cpo_registers_with_us_and_token_a_stops_working(platform, cpo):
    versions_url, token_a = add_partner()

    token_c = cpo.register_with(versions_url, token_a)

    partner = Partner.objects.get()
    assert partner.status == PartnerStatus.REGISTERED and partner.registered_at is not None
    assert partner.versions_url == cpo.versions_url
    assert partner.version == "2.2.1"
    assert partner.endpoint_url("credentials") == f"{cpo.base_url}/2.2.1/credentials"
    assert partner.parties() == [("NL", "SIM")]
    assert partner.token_b in cpo.state.accepted_tokens  # we call it with its token B
    assert partner.token_b not in partner.token_b_encrypted  # encrypted at rest
    # We fetched its versions and details with its token B, during its POST.
    assert [(m, p) for m, p, _ in cpo.requests] == [
        ("GET", "/ocpi/cpo/versions"),
        ("GET", "/ocpi/cpo/2.2.1"),
    ]
    # Token A no longer works; token C does, Base64-encoded and plain.
    refused = http("GET", versions_url, token_a)
    assert refused.status == 401 and refused.body["status_code"] == 2000
    assert http("GET", versions_url, token_c).body["status_code"] == 1000
    assert http("GET", versions_url, token_c, plain=True).body["status_code"] == 1000
    assert AuditEvent.objects.filter(action="ocpi_partner.register").count() == 1


def test_a_second_post_is_405_and_the_answer_credentials_follow_the_rules(platform, cpo):
    versions_url, token_a = add_partner()
    token_c = cpo.register_with(versions_url, token_a)
    credentials_url = f"{platform}/ocpi/2.2.1/credentials"

    again = http("POST", credentials_url, token_c, cpo.credentials("another-token"))
    assert again.status == 405
    assert again.body["status_code"] == 2000 and "PUT" in again.body["status_message"]

    ours = http("GET", credentials_url, token_c)
    assert ours.status == 200
    assert schema.check(schema.RESPONSE, ours.body) == []
    assert schema.check(schema.CREDENTIALS, ours.body["data"]) == []
    assert ours.body["data"]["token"] == token_c
    assert ours.body["data"]["url"] == versions_url
    assert ours.body["data"]["roles"] == [
        {
            "role": "EMSP",
            "party_id": "EVD",
            "country_code": "NL",
            "business_details": {"name": "evdms", "website": "http://127.0.0.1:8000"},
        }
    ]


def test_put_rotates_token_c_and_fetches_the_endpoints_again(platform, cpo):
    versions_url, token_a = add_partner()
    old_c = cpo.register_with(versions_url, token_a)
    old_b = Partner.objects.get().token_b
    cpo.requests.clear()

    new_c = cpo.update_credentials()

    assert new_c != old_c
    partner = Partner.objects.get()
    assert partner.status == PartnerStatus.REGISTERED
    assert partner.token_b != old_b and partner.token_b in cpo.state.accepted_tokens
    assert [(m, p) for m, p, _ in cpo.requests] == [
        ("GET", "/ocpi/cpo/versions"),
        ("GET", "/ocpi/cpo/2.2.1"),
    ]
    assert http("GET", versions_url, old_c).status == 401
    assert http("GET", versions_url, new_c).status == 200
    assert AuditEvent.objects.filter(action="ocpi_partner.update").count() == 1


def test_put_and_delete_before_registration_are_405(platform, cpo):
    _, token_a = add_partner()
    url = f"{platform}/ocpi/2.2.1/credentials"
    put = http("PUT", url, token_a, cpo.credentials("x" * 20))
    delete = http("DELETE", url, token_a)
    assert (put.status, delete.status) == (405, 405)
    assert Partner.objects.get().status == PartnerStatus.PENDING


def test_delete_unregisters_and_every_token_stops(platform, cpo):
    versions_url, token_a = add_partner()
    token_c = cpo.register_with(versions_url, token_a)

    cpo.unregister()

    partner = Partner.objects.get()
    assert partner.status == PartnerStatus.UNREGISTERED
    assert partner.token_b_encrypted == partner.token_c_hash == ""
    assert http("GET", versions_url, token_c).status == 401
    assert http("GET", versions_url, token_a).status == 401


def test_registration_fails_with_3001_when_its_versions_cannot_be_reached(platform, cpo):
    versions_url, token_a = add_partner()
    with socket.socket() as spare:
        spare.bind(("127.0.0.1", 0))
        closed_port = spare.getsockname()[1]
    body = cpo.credentials("its-token-b")
    body["url"] = f"http://127.0.0.1:{closed_port}/ocpi/versions"

    reply = http("POST", f"{platform}/ocpi/2.2.1/credentials", token_a, body)

    assert reply.status == 200 and reply.body["status_code"] == 3001
    assert "could not be reached" in reply.body["status_message"]
    assert Partner.objects.get().status == PartnerStatus.PENDING
    assert http("GET", versions_url, token_a).status == 200  # it may try again


class OldCpo(SimulatedCpo):
    """Offers only 2.1.1."""

    def versions(self):
        return [{"version": "2.1.1", "url": f"{self.base_url}/2.1.1"}]


class CpoWithoutCredentials(SimulatedCpo):
    def version_details(self):
        return {
            "version": "2.2.1",
            "endpoints": [
                {"identifier": "locations", "role": "SENDER", "url": f"{self.base_url}/loc"}
            ],
        }


@pytest.mark.parametrize(
    ("simulator", "status", "message"),
    [
        (OldCpo, 3001, "No OCPI 2.2.1 among the partner's versions (2.1.1)"),
        (CpoWithoutCredentials, 3003, "has no credentials module"),
    ],
    ids=["no 2.2.1", "no credentials module"],
)
def test_registration_refused_when_the_partner_lacks_what_we_need(
    platform, simulator, status, message
):
    versions_url, token_a = add_partner()
    with simulator() as cpo:
        with pytest.raises(PeerError, match=f"OCPI status {status}"):
            cpo.register_with(versions_url, token_a)
        accepted = cpo.issue_token_a()
        reply = http(
            "POST", f"{platform}/ocpi/2.2.1/credentials", token_a, cpo.credentials(accepted)
        )
    assert reply.body["status_code"] == status
    assert message in reply.body["status_message"]
    assert Partner.objects.get().status == PartnerStatus.PENDING


@pytest.mark.parametrize(
    "name",
    [
        "credentials_example.json",
        "credentials_example2.json",
        "credentials_example3.json",
        "credentials_example4.json",
    ],
)
def test_the_spec_credentials_examples_register(platform, cpo, name):
    """Each example, with its token and URL pointed at the simulator, registers; its
    roles (one to three parties) are kept."""
    _, token_a = add_partner()
    body = example(name)
    token_b = cpo.issue_token_a()  # a token the simulator accepts from us
    body["token"], body["url"] = token_b, cpo.versions_url

    reply = http("POST", f"{platform}/ocpi/2.2.1/credentials", token_a, body)

    assert reply.status == 200, reply.body
    assert reply.body["status_code"] == 1000
    assert schema.check(schema.CREDENTIALS, reply.body["data"]) == []
    partner = Partner.objects.get()
    assert partner.parties() == [(r["country_code"], r["party_id"]) for r in body["roles"]]
    assert partner.token_b == token_b


def test_we_register_with_a_cpo_by_command(platform, cpo):
    token_a = cpo.issue_token_a()
    out = io.StringIO()

    call_command(
        "ocpi_partner_connect",
        "--name",
        "Simulated CPO",
        "--versions-url",
        cpo.versions_url,
        f"--token={token_a}",
        stdout=out,
    )

    assert out.getvalue() == "Registered with Simulated CPO (NL*SIM), OCPI 2.2.1.\n"
    partner = Partner.objects.get()
    assert partner.status == PartnerStatus.REGISTERED
    assert partner.endpoint_url("credentials") == f"{cpo.base_url}/2.2.1/credentials"
    # The simulator's new token is our token B; its token A no longer works there.
    assert cpo.state.accepted_tokens == {partner.token_b}
    # It fetched our versions and details with the token C we sent it, and that token
    # goes on working for it.
    assert cpo.state.platform_versions_url == f"{platform}/ocpi/versions"
    assert [e["identifier"] for e in cpo.state.platform_endpoints] == [
        identifier for identifier, _, _ in party.MODULES
    ]
    assert http("GET", f"{platform}/ocpi/versions", cpo.state.platform_token).status == 200
    assert (
        schema.check_value(
            schema.Field("list", schema=schema.CREDENTIALS_ROLE), cpo.state.platform_roles, "roles"
        )
        == []
    )
    assert AuditEvent.objects.filter(action="ocpi_partner.connect").count() == 1


def _connect(url: str, token: str) -> None:
    call_command(
        "ocpi_partner_connect",
        "--name",
        "X",
        "--versions-url",
        url,
        f"--token={token}",
        stdout=io.StringIO(),
    )


def test_connect_failures_say_why_and_leave_nothing(platform, cpo):
    with socket.socket() as spare:
        spare.bind(("127.0.0.1", 0))
        closed = f"http://127.0.0.1:{spare.getsockname()[1]}/ocpi/versions"
    with pytest.raises(CommandError, match=r"Not registered with X: Versions: GET .* could not"):
        _connect(closed, "whatever")
    with pytest.raises(CommandError, match="answered HTTP 401"):
        _connect(cpo.versions_url, "not-the-token-it-gave")
    with OldCpo() as old, pytest.raises(CommandError, match=r"No OCPI 2\.2\.1"):
        _connect(old.versions_url, old.issue_token_a())
    assert Partner.objects.count() == 0


class RefusingCpo(SimulatedCpo):
    def handle_credentials(self, method, rest, token, body):
        from evdms.ocpi.simulator import Answer

        return Answer(None, 3003, "We need a tokens module")


def test_a_refused_post_leaves_nothing_half_written(platform):
    with RefusingCpo() as cpo, pytest.raises(CommandError, match=r"Refused: .*3003"):
        _connect(cpo.versions_url, cpo.issue_token_a())
    assert Partner.objects.count() == 0
    assert AuditEvent.objects.filter(action__startswith="ocpi_partner").count() == 0


def test_simulate_cpo_command_registers_and_keeps_what_it_learnt(platform, tmp_path):
    versions_url, token_a = add_partner()
    out = io.StringIO()
    state = tmp_path / "cpo.json"

    call_command(
        "simulate_cpo",
        "--register",
        versions_url,
        f"--token={token_a}",
        "--exit",
        "--state",
        str(state),
        stdout=out,
    )

    token_c = out.getvalue().strip().removeprefix("registered; token C: ")
    assert json.loads(state.read_text())["platform_token"] == token_c
    assert Partner.objects.get().status == PartnerStatus.REGISTERED
    assert http("GET", versions_url, token_c).status == 200


def test_a_party_already_registered_by_another_partner_is_refused(platform, cpo):
    versions_url, token_a = add_partner("First")
    cpo.register_with(versions_url, token_a)
    _, second_a = add_partner("Second")
    with (
        SimulatedCpo(party_id="SIM") as twin,  # the same NL*SIM
        pytest.raises(PeerError, match=r"2001 Party NL\*SIM is already registered"),
    ):
        twin.register_with(versions_url, second_a)
    assert Partner.objects.get(name="Second").status == PartnerStatus.PENDING


def test_a_trailing_slash_is_accepted(platform, cpo):
    versions_url, token_a = add_partner()
    assert http("GET", versions_url + "/", token_a).body["status_code"] == 1000
    assert http("GET", f"{platform}/ocpi/2.2.1/", token_a).body["status_code"] == 1000


def test_a_two_mb_body_over_real_http_is_413_with_2001(platform):
    _, token_a = add_partner()
    reply = http(
        "POST",
        f"{platform}/ocpi/2.2.1/credentials",
        token_a,
        {"token": "x", "padding": "y" * 2_000_000},
        headers={"X-Request-ID": "big-1", "X-Correlation-ID": "big-c"},
    )
    assert reply.status == 413 and reply.body["status_code"] == 2001
    assert (reply.headers["x-request-id"], reply.headers["x-correlation-id"]) == ("big-1", "big-c")


class ExampleCpo(SimulatedCpo):
    """Serves the spec's own versions and version details examples (its 2.2.1 URL
    pointed at this server; the endpoints' URLs left as the example has them)."""

    details_example = "version_details_example.json"

    def versions(self):
        listed = example("versions_info_example.json")
        for entry in listed:
            entry["url"] = f"{self.base_url}/{entry['version']}"
        return listed

    def version_details(self):
        return example(self.details_example)


class ExampleCpo2(ExampleCpo):
    details_example = "version_details_example2.json"


@pytest.mark.parametrize("simulator", [ExampleCpo, ExampleCpo2], ids=["details 1", "details 2"])
def test_the_spec_versions_and_details_examples_are_understood(platform, simulator):
    versions_url, token_a = add_partner()
    with simulator() as cpo:
        cpo.register_with(versions_url, token_a)
    partner = Partner.objects.get()
    assert partner.status == PartnerStatus.REGISTERED
    assert partner.endpoints == example(simulator.details_example)["endpoints"]
    assert partner.endpoint_url("credentials") == "https://example.com/ocpi/2.2/credentials"
