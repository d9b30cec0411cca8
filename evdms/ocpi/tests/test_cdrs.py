"""The CDRs module over real HTTP: the CPO simulator (registered with us by the
handshake) posts CDRs to the platform on pytest-django's live server.

What a partner sees (status codes, Location, the CDR read back) and what we keep (one
Cdr, one session, flags where a CDR could not be matched)."""

from __future__ import annotations

import copy
import threading
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.conf import settings
from django.utils import timezone

from evdms.accounts.models import User
from evdms.charging.models import ChargingSession, SessionKind, SessionPurpose, SessionStatus
from evdms.enrolment.models import Membership
from evdms.ocpi.client import PeerError
from evdms.ocpi.models import Cdr, Partner, PartnerLocation
from evdms.ocpi.simulator import SimulatedCpo
from evdms.ocpi.tests.conftest import example, http
from evdms.ocpi.tests.test_handshake import add_partner
from evdms.public_charging.models import Token, TokenType
from evdms.testing.fixtures import make_connection, make_membership, make_organisation

pytestmark = pytest.mark.django_db(transaction=True)

STARTED = datetime(2026, 11, 10, 18, 0, tzinfo=UTC)


def public_connection(organisation: Any, name: str) -> Any:
    return make_connection(
        organisation,
        name=name,
        pay_for_public_charging="yes",
        payment_via="direct_invoice_service",
    )


def driver_with_token(
    organisation: Any, connection: Any, email: str, uid: str, *, since: datetime | None = None
) -> tuple[User, Token]:
    driver = User.objects.create_user(email, "a long driver passphrase", full_name="Dana Driver")
    membership = make_membership(connection, driver)
    Membership.objects.filter(pk=membership.pk).update(
        connected_at=since or datetime(2026, 1, 1, tzinfo=UTC)
    )
    token = Token.objects.create(
        organisation=organisation,
        driver=driver,
        type=TokenType.APP_USER,
        uid=uid,
        contract_id=f"NL-EVD-C{uid[-8:]:0>8}-X",
        valid=True,
    )
    return driver, token


@pytest.fixture
def org_a(db: None) -> Any:
    return make_organisation("voltlease", "Voltlease")


@pytest.fixture
def dana(org_a: Any) -> tuple[User, Token]:
    return driver_with_token(
        org_a, public_connection(org_a, "Voltlease public"), "dana@x.example", "APP00001"
    )


@pytest.fixture
def registered(platform: str, cpo: SimulatedCpo) -> SimulatedCpo:
    versions_url, token_a = add_partner()
    cpo.register_with(versions_url, token_a)
    cpo.token_a = token_a  # type: ignore[attr-defined]  # for the "token A after" test
    return cpo


def cdr_body(uid: str = "APP00001", **overrides: Any) -> dict[str, Any]:
    """The spec's example, owned by the simulator's party, naming our token."""
    body = example("cdr_example.json")
    body.update(
        country_code="NL",
        party_id="SIM",
        id="CDR-1",
        session_id="S-1",
        start_date_time="2026-11-10T18:00:00Z",
        end_date_time="2026-11-10T19:58:23Z",
        last_updated="2026-11-10T20:01:13Z",
    )
    body["cdr_token"] = {
        "country_code": settings.OCPI_COUNTRY_CODE,
        "party_id": settings.OCPI_PARTY_ID,
        "uid": uid,
        "type": "APP_USER",
        "contract_id": "NL-EVD-C00000001-X",
    }
    body["charging_periods"][0]["start_date_time"] = "2026-11-10T18:00:00Z"
    body["tariffs"][0].update(country_code="NL", party_id="SIM")
    body.update(overrides)
    return body


def post(cpo: SimulatedCpo, body: Any, **kwargs: Any) -> Any:
    return http(
        "POST", cpo.platform_url("cdrs", "RECEIVER"), cpo.state.platform_token, body, **kwargs
    )


# --- accepted --------------------------------------------------------------------------


def test_the_spec_example_is_accepted_stored_and_read_back(platform):
    with SimulatedCpo(country_code="BE", party_id="BEC") as belgian:
        versions_url, token_a = add_partner("Belgian CPO")
        belgian.register_with(versions_url, token_a)
        cdr = example("cdr_example.json")

        reply = post(belgian, cdr)

        assert reply.status == 201 and reply.body["status_code"] == 1000
        location = reply.headers["location"]
        assert location == f"{platform}/ocpi/2.2.1/cdrs/BE/BEC/12345"
        assert belgian.get_cdr(location) == cdr
        # Its token is another eMSP's (DE*TNM): kept for the operator, not a session.
        stored = Cdr.objects.get()
        assert stored.needs_attention and stored.charging_session is None
        assert stored.flags == ["token of another eMSP: DE*TNM 012345678"]
        assert ChargingSession.objects.count() == 0


def test_a_cdr_for_our_driver_makes_her_public_session_with_the_partners_figures(
    registered, dana, org_a
):
    driver, _ = dana
    PartnerLocation.objects.create(
        partner=Partner.objects.get(),
        country_code="NL",
        party_id="SIM",
        object_id="LOC1",
        name="Gent Zuid",
        operator_name="Zuid Charging",
    )

    location = registered.push_cdr(cdr_body())

    session = ChargingSession.objects.get()
    assert session.organisation == org_a and session.driver == driver
    assert session.kind == SessionKind.PUBLIC and session.status == SessionStatus.COMPLETED
    assert session.public_key == "NL*SIM*S*S-1"
    assert session.energy_wh == 15342  # 15.342 kWh, exactly
    assert session.cost_excl_vat == Decimal("4.0000") and session.cost_incl_vat == Decimal("4.4")
    assert session.currency == "EUR"
    assert session.operator == "Zuid Charging"
    assert session.location_name == "Gent Zuid"
    assert session.location_address == "F.Rooseveltlaan 3A, 9000 Gent, BEL"
    assert session.purpose == SessionPurpose.BUSINESS
    assert session.started_at == STARTED
    assert session.connection is not None and session.connection.organisation == org_a
    cdr = Cdr.objects.get()
    assert cdr.charging_session == session and not cdr.needs_attention and cdr.flags == []
    assert location.endswith("/ocpi/2.2.1/cdrs/NL/SIM/CDR-1")


def test_a_retransmission_answers_the_same_location_and_stores_nothing_new(registered, dana):
    first = post(registered, cdr_body())
    again = post(registered, cdr_body(total_energy=99.0))  # a CDR is never changed

    assert (first.status, again.status) == (201, 200)
    assert again.body["status_code"] == 1000
    assert again.headers["location"] == first.headers["location"]
    assert Cdr.objects.count() == 1 and ChargingSession.objects.count() == 1
    assert ChargingSession.objects.get().energy_wh == 15342


def test_concurrent_retransmissions_store_one_cdr_and_one_session(registered, dana):
    replies: list[Any] = []

    def send() -> None:
        replies.append(post(registered, cdr_body()))

    threads = [threading.Thread(target=send) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sorted(r.body["status_code"] for r in replies) == [1000] * 6
    assert len({r.headers["location"] for r in replies}) == 1
    assert Cdr.objects.count() == 1 and ChargingSession.objects.count() == 1


def test_without_a_session_id_the_cdr_keys_its_own_session(registered, dana):
    body = cdr_body()
    del body["session_id"]
    registered.push_cdr(body)
    assert ChargingSession.objects.get().public_key == "NL*SIM*C*CDR-1"


# --- kept, flagged ---------------------------------------------------------------------


def test_an_unknown_token_is_kept_flagged_and_accepted(registered, dana):
    reply = post(registered, cdr_body(uid="NOBODY01"))

    assert reply.status == 201 and reply.body["status_code"] == 1000
    cdr = Cdr.objects.get()
    assert cdr.needs_attention and cdr.charging_session is None
    assert cdr.flags == [
        f"unknown token: {settings.OCPI_COUNTRY_CODE}*{settings.OCPI_PARTY_ID} NOBODY01"
    ]
    assert cdr.body["cdr_token"]["uid"] == "NOBODY01"  # as received
    assert ChargingSession.objects.count() == 0


def test_a_session_before_the_drivers_membership_is_kept_flagged(registered, org_a):
    connection = public_connection(org_a, "Voltlease public")
    driver_with_token(
        org_a, connection, "late@x.example", "APP00002", since=datetime(2026, 11, 20, tzinfo=UTC)
    )

    registered.push_cdr(cdr_body(uid="APP00002"))

    session = ChargingSession.objects.get()
    assert session.connection is None
    assert "no membership at the session's start" in session.flags
    cdr = Cdr.objects.get()
    assert cdr.needs_attention and cdr.flags == ["no membership at the session's start"]


def test_a_token_of_organisation_a_puts_the_session_in_a_only(registered, org_a):
    org_b = make_organisation("rival-lease", "Rival Lease")
    driver, _ = driver_with_token(
        org_a, public_connection(org_a, "Voltlease public"), "both@x.example", "APP00003"
    )
    membership_b = make_membership(public_connection(org_b, "Rival public"), driver)
    Membership.objects.filter(pk=membership_b.pk).update(
        connected_at=datetime(2025, 1, 1, tzinfo=UTC)
    )

    registered.push_cdr(cdr_body(uid="APP00003"))

    session = ChargingSession.objects.get()
    assert session.organisation == org_a
    assert session.connection is not None and session.connection.organisation == org_a
    assert not ChargingSession.objects.filter(organisation=org_b).exists()


# --- refused ---------------------------------------------------------------------------


def _without(name: str) -> dict[str, Any]:
    body = cdr_body()
    del body[name]
    return body


def _far(delta: timedelta) -> dict[str, Any]:
    at = timezone.now() + delta
    text = at.strftime("%Y-%m-%dT%H:%M:%SZ")
    return cdr_body(start_date_time=text, end_date_time=text)


BAD = {
    "missing total_cost": (lambda: _without("total_cost"), "total_cost: required"),
    "missing cdr_token.uid": (
        lambda: {**cdr_body(), "cdr_token": {"country_code": "NL", "party_id": "EVD"}},
        "cdr_token.uid: required",
    ),
    "negative energy": (lambda: cdr_body(total_energy=-1.5), "total_energy: must not be negative"),
    "end before start": (
        lambda: cdr_body(end_date_time="2026-11-10T17:00:00Z"),
        "end_date_time: must not be before start_date_time",
    ),
    "far past": (
        lambda: cdr_body(start_date_time="2009-12-31T23:00:00Z"),
        "start_date_time: timestamp 2009-12-31",
    ),
    "far future": (lambda: _far(timedelta(days=30)), "start_date_time: timestamp"),
    "currency not ISO 4217": (lambda: cdr_body(currency="XYZ"), "currency: must be an ISO 4217"),
    "currency lower case": (lambda: cdr_body(currency="eur"), "currency: must be an ISO 4217"),
    "energy beyond any session": (
        lambda: cdr_body(total_energy=100_001),
        "total_energy: at most 100000 kWh",
    ),
    "not a number": (lambda: cdr_body(total_energy="15"), "total_energy: must be a number"),
    "negative price": (
        lambda: cdr_body(total_cost={"excl_vat": -4, "incl_vat": -4.4}),
        "total_cost.excl_vat: must not be negative",
    ),
    "long id": (lambda: cdr_body(id="X" * 37), "id: at most 36 characters"),
    "credit without reference": (
        lambda: cdr_body(credit=True, total_cost={"excl_vat": -4}),
        "credit_reference_id: required",
    ),
    "bad enum": (lambda: cdr_body(auth_method="MAGIC"), "auth_method: must be one of"),
    "no charging periods": (
        lambda: cdr_body(charging_periods=[]),
        "charging_periods: at least 1 item(s)",
    ),
    "another party's CDR": (
        lambda: cdr_body(country_code="DE", party_id="XXX"),
        "DE*XXX is not one of your parties",
    ),
    "not an object": (lambda: ["a", "list"], "body: must be an object"),
}


@pytest.mark.parametrize("case", BAD)
def test_bad_input_is_2001_naming_the_field_and_nothing_is_stored(registered, dana, case):
    make, message = BAD[case]

    reply = post(registered, make())

    # Valid JSON reached the OCPI layer: HTTP 200, the OCPI status tells (status codes).
    assert reply.status == 200, reply.body
    assert reply.body["status_code"] == 2001
    assert message in reply.body["status_message"]
    assert "location" not in reply.headers
    assert Cdr.objects.count() == 0 and ChargingSession.objects.count() == 0


def test_every_problem_is_named_at_once(registered, dana):
    reply = post(registered, cdr_body(currency="XYZ", end_date_time="2026-11-10T17:00:00Z"))
    assert reply.body["status_code"] == 2001
    assert "currency:" in reply.body["status_message"]
    assert "end_date_time:" in reply.body["status_message"]


def test_ten_megabytes_of_json_is_refused_before_it_is_read(registered, dana):
    body = cdr_body(remark="x" * 10_000_000)
    reply = post(registered, body)
    assert reply.status == 413 and reply.body["status_code"] == 2001
    assert Cdr.objects.count() == 0


def test_not_json_is_http_400(registered, dana):
    reply = post(registered, None, raw=b"{not json")
    assert reply.status == 400 and reply.body["status_code"] == 2001


def test_a_wrong_token_and_token_a_after_registration_are_401(registered, dana):
    url = registered.platform_url("cdrs", "RECEIVER")
    for token in ("not-a-token-of-ours", registered.token_a):
        reply = http("POST", url, token, cdr_body())
        assert reply.status == 401 and reply.body["status_code"] == 2000
    assert Cdr.objects.count() == 0


def test_put_patch_delete_are_405(registered, dana):
    url = registered.platform_url("cdrs", "RECEIVER")
    for method in ("PUT", "PATCH", "DELETE"):
        reply = http(method, url, registered.state.platform_token, cdr_body())
        assert reply.status == 405 and reply.body["status_code"] == 2000


# --- credit CDRs -----------------------------------------------------------------------


def credit_of(original: dict[str, Any], cdr_id: str = "CDR-1-C") -> dict[str, Any]:
    credit = copy.deepcopy(original)
    credit.update(
        id=cdr_id,
        credit=True,
        credit_reference_id=original["id"],
        total_cost={"excl_vat": -4.00, "incl_vat": -4.40},
    )
    return credit


def test_a_credit_cdr_credits_the_session(registered, dana):
    original = cdr_body()
    registered.push_cdr(original)

    location = registered.push_cdr(credit_of(original))

    session = ChargingSession.objects.get()
    assert session.status == SessionStatus.CREDITED
    assert "credited by CDR CDR-1-C" in session.flags
    credit = Cdr.objects.get(object_id="CDR-1-C")
    assert credit.credits == Cdr.objects.get(object_id="CDR-1")
    assert credit.charging_session == session and not credit.needs_attention
    assert registered.get_cdr(location)["credit_reference_id"] == "CDR-1"
    # The credit once more: nothing changes.
    registered.push_cdr(credit_of(original))
    assert Cdr.objects.count() == 2 and ChargingSession.objects.count() == 1


def test_a_credit_before_its_original_waits_flagged_and_applies_when_it_arrives(registered, dana):
    original = cdr_body()
    registered.push_cdr(credit_of(original))
    credit = Cdr.objects.get()
    assert credit.needs_attention and credit.flags == ["credits CDR CDR-1, not received yet"]

    registered.push_cdr(original)

    credit.refresh_from_db()
    assert credit.credits is not None and credit.credits.object_id == "CDR-1"
    assert not credit.needs_attention and credit.flags == []
    assert ChargingSession.objects.get().status == SessionStatus.CREDITED


def test_a_credit_of_an_unmatched_cdr_is_linked_and_needs_nothing(registered, dana):
    original = cdr_body(uid="NOBODY01")
    registered.push_cdr(original)
    registered.push_cdr(credit_of(original))
    credit = Cdr.objects.get(object_id="CDR-1-C")
    assert credit.credits is not None and credit.charging_session is None
    assert credit.flags == ["credits a CDR without a session"] and not credit.needs_attention


# --- the CDR read back: its partner only -----------------------------------------------


def test_another_partner_cannot_read_a_cdr_and_sees_a_404(registered, dana, platform):
    location = registered.push_cdr(cdr_body())
    with SimulatedCpo(party_id="OTH") as other:
        versions_url, token_a = add_partner("Other CPO")
        other.register_with(versions_url, token_a)

        with pytest.raises(PeerError, match="HTTP 404"):
            other.get_cdr(location)
        missing = http("GET", f"{platform}/ocpi/2.2.1/cdrs/NL/SIM/NOPE", other.state.platform_token)
        foreign = http("GET", location, other.state.platform_token)
        assert (missing.status, missing.body["status_code"]) == (404, 2000)
        assert (foreign.status, foreign.body) == (
            missing.status,
            {**missing.body, "timestamp": foreign.body["timestamp"]},
        )
        # Nor post one in the first partner's name.
        reply = post(other, cdr_body(id="CDR-2"))
        assert reply.body["status_code"] == 2001
    assert registered.get_cdr(location)["id"] == "CDR-1"


def test_the_version_details_list_the_cdrs_receiver(registered, platform):
    assert registered.platform_url("cdrs", "RECEIVER") == f"{platform}/ocpi/2.2.1/cdrs"


def test_after_a_credit_the_reissued_cdr_makes_a_session_of_its_own(registered, dana):
    original = cdr_body()
    registered.push_cdr(original)
    registered.push_cdr(credit_of(original))

    registered.push_cdr(cdr_body(id="CDR-2", total_cost={"excl_vat": 3.0, "incl_vat": 3.3}))

    credited, reissued = ChargingSession.objects.order_by("pk")
    assert credited.status == SessionStatus.CREDITED
    assert reissued.status == SessionStatus.COMPLETED
    assert reissued.public_key == "NL*SIM*C*CDR-2" and reissued.cost_excl_vat == Decimal(3)
    assert Cdr.objects.get(object_id="CDR-2").charging_session == reissued


def test_a_second_cdr_for_a_closed_session_is_kept_flagged_not_counted_twice(registered, dana):
    registered.push_cdr(cdr_body())

    registered.push_cdr(cdr_body(id="CDR-2", total_energy=30.0))

    session = ChargingSession.objects.get()
    assert session.energy_wh == 15342
    second = Cdr.objects.get(object_id="CDR-2")
    assert second.charging_session is None and second.needs_attention
    assert second.flags == ["session S-1 is already closed by another CDR: not counted twice"]


def test_the_cdr_closes_the_live_session_the_sessions_module_reported(registered, dana, org_a):
    from evdms.charging.services.sessions import PartnerRecord, public_session_record

    driver, _ = dana
    live = public_session_record(
        PartnerRecord(
            key="NL*SIM*S*S-1",
            organisation_id=org_a.pk,
            driver_id=driver.pk,
            transaction_id="S-1",
            started_at=STARTED,
            energy_wh=2000,
            completed=True,  # even a session reported COMPLETED (and final) is not a CDR
            final=True,
        )
    )

    registered.push_cdr(cdr_body())

    session = ChargingSession.objects.get()
    assert session.pk == live.pk and session.energy_wh == 15342
    assert session.cost_incl_vat == Decimal("4.4")
    assert Cdr.objects.get().charging_session == session
