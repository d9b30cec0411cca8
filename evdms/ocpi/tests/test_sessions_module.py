"""The Sessions module (we are the Receiver), over real HTTP between CPO simulators and
the live platform: the spec's examples, a live session shown to its driver, tenancy
between partners, bad input, and the CDR's final word."""

from __future__ import annotations

import copy
from datetime import timedelta
from typing import Any

import pytest
from django.conf import settings as django_settings
from django.utils import timezone

from evdms.charging.models import ChargingSession, SessionKind, SessionStatus
from evdms.charging.services.sessions import PartnerRecord, public_session_record
from evdms.ocpi import party, sessions
from evdms.ocpi.keys import session_key
from evdms.ocpi.models import PartnerSession
from evdms.ocpi.tests.conftest import example, http
from evdms.ocpi.tests.pushing import make_driver_token, mutations, registered_cpos
from evdms.ocpi.transport import OcpiError, timestamp
from evdms.testing.concurrency import at_once

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def cpos(platform):
    yield from registered_cpos()


def live_session(uid: str = "APP-DANA-1", **changes: Any) -> dict[str, Any]:
    """A session of NL*SIM started ten minutes ago with one of our tokens."""
    started = timezone.now() - timedelta(minutes=10)
    session = {
        "country_code": "NL",
        "party_id": "SIM",
        "id": "S-1",
        "start_date_time": timestamp(started),
        "kwh": 1.5,
        "cdr_token": {
            "country_code": django_settings.OCPI_COUNTRY_CODE,
            "party_id": django_settings.OCPI_PARTY_ID,
            "uid": uid,
            "type": "APP_USER",
            "contract_id": "NL-EVD-C00000001",
        },
        "auth_method": "AUTH_REQUEST",
        "location_id": "LOC1",
        "evse_uid": "3256",
        "connector_id": "1",
        "currency": "EUR",
        "total_cost": {"excl_vat": 0.45, "incl_vat": 0.54},
        "status": "ACTIVE",
        "last_updated": timestamp(),
    }
    session.update(changes)
    return session


def sim_location() -> dict[str, Any]:
    location = copy.deepcopy(example("location_example.json"))
    location.update(country_code="NL", party_id="SIM", operator={"name": "Simulated Charging"})
    return location


def test_our_version_details_list_the_three_receivers(platform, cpos):
    cpo = cpos("NL", "SIM")
    modules = {(e["identifier"], e["role"]) for e in cpo.state.platform_endpoints}
    assert {("sessions", "RECEIVER"), ("locations", "RECEIVER"), ("tariffs", "RECEIVER")} <= modules
    assert party.absolute("ocpi:sessions") == f"{platform}/ocpi/2.2.1/sessions"
    # The module URLs themselves hold no object: the answer says where objects are.
    for module in ("sessions", "locations", "tariffs"):
        reply = http("GET", cpo.platform_url(module), cpo.state.platform_token)
        assert reply.status == 404 and reply.body["status_code"] == 2000
        assert "{country_code}/{party_id}" in reply.body["status_message"]


@pytest.mark.parametrize(
    "name", ["session_example_1_simple_start.json", "session_example_2_short_finished.json"]
)
def test_the_spec_session_examples_are_accepted_and_read_back(cpos, name):
    session = example(name)
    cpo = cpos(session["country_code"], session["party_id"])

    answer = cpo.push_session(session)

    assert answer["status_code"] == 1000 and answer["http_status"] == 201
    read = cpo.send_platform(
        "GET", "sessions", f"/{session['country_code']}/{session['party_id']}/101"
    )
    assert read["status_code"] == 1000 and read["data"] == session
    again = cpo.push_session(session)  # a replacement: HTTP 200 this time
    assert again["status_code"] == 1000 and again["http_status"] == 200
    assert PartnerSession.objects.count() == 1


@pytest.mark.parametrize(
    "name", ["session_patch_example_total_cost.json", "session_patch_example_charging_period.json"]
)
def test_the_spec_session_patch_examples_are_accepted_after_a_put(cpos, name):
    session = example("session_example_2_short_finished.json")
    cpo = cpos("BE", "BEC")
    assert cpo.push_session(session)["status_code"] == 1000
    patch = example(name)

    answer = cpo.patch_session(session, patch)

    assert answer["status_code"] == 1000 and answer["http_status"] == 200
    stored = PartnerSession.objects.get().body
    assert stored["total_cost"] == patch["total_cost"]
    assert stored["last_updated"] == patch["last_updated"]
    if "charging_periods" in patch:  # a PATCH adds charging periods, never replaces them
        assert stored["charging_periods"] == session["charging_periods"] + patch["charging_periods"]
        assert stored["kwh"] == 15.0
    else:
        assert stored["charging_periods"] == session["charging_periods"]


def test_a_live_session_with_our_token_is_the_drivers_active_public_session(cpos):
    token = make_driver_token("APP-DANA-1")
    cpo = cpos("NL", "SIM")
    assert cpo.push_location(sim_location())["status_code"] == 1000

    answer = cpo.push_session(live_session())

    assert answer["status_code"] == 1000
    charging = ChargingSession.objects.get()
    assert charging.driver_id == token.driver_id
    assert charging.organisation_id == token.organisation_id
    assert charging.kind == SessionKind.PUBLIC and charging.status == SessionStatus.ACTIVE
    assert charging.public_key == session_key("NL", "SIM", "S-1")
    assert charging.location_name == "Gent Zuid"
    assert charging.location_address == "F.Rooseveltlaan 3A, 9000 Gent, BEL"
    assert charging.operator == "Simulated Charging"
    assert charging.energy_wh == 1500
    assert str(charging.cost_excl_vat) == "0.4500" and str(charging.cost_incl_vat) == "0.5400"
    assert charging.currency == "EUR" and charging.id_tag == "APP-DANA-1"
    assert PartnerSession.objects.get().charging_session == charging

    # The spec's kind of PATCH: only the energy (and last_updated) changes.
    patch = {"kwh": 7.3333, "last_updated": timestamp()}
    assert cpo.patch_session(live_session(), patch)["status_code"] == 1000
    charging.refresh_from_db()
    assert charging.energy_wh == 7333 and charging.status == SessionStatus.ACTIVE

    done = {"status": "COMPLETED", "end_date_time": timestamp(), "last_updated": timestamp()}
    assert cpo.patch_session(live_session(), done)["status_code"] == 1000
    charging.refresh_from_db()
    assert charging.status == SessionStatus.COMPLETED and charging.ended_at is not None
    assert ChargingSession.objects.count() == 1


def test_energy_is_converted_to_wh_exactly(cpos):
    make_driver_token("APP-DANA-1")
    cpo = cpos("NL", "SIM")
    # 0.1 + 0.2 kWh in binary floats is 300.00000000000006 Wh; 41.12 kWh is 41120 Wh.
    assert cpo.push_session(live_session(kwh=41.12))["status_code"] == 1000
    assert ChargingSession.objects.get().energy_wh == 41120
    assert cpo.push_session(live_session(kwh=0.0005))["status_code"] == 1000
    assert ChargingSession.objects.get().energy_wh == 1  # half a Wh rounds up, once


def test_without_a_stored_location_the_partner_is_the_operator(cpos):
    make_driver_token("APP-DANA-1")
    cpo = cpos("NL", "SIM", name="Sim Operator")
    assert cpo.push_session(live_session())["status_code"] == 1000
    charging = ChargingSession.objects.get()
    assert charging.operator == "Sim Operator" and charging.location_name == ""


def test_the_spec_example_with_our_token_shows_for_its_driver(cpos, settings):
    # The example's token is NL*TST's; as that eMSP, its uid 123abc is ours.
    settings.OCPI_COUNTRY_CODE, settings.OCPI_PARTY_ID = "NL", "TST"
    token = make_driver_token("123abc")
    session = example("session_example_2_short_finished.json")
    cpo = cpos("BE", "BEC")

    assert cpo.push_session(session)["status_code"] == 1000

    charging = ChargingSession.objects.get()
    assert charging.driver_id == token.driver_id and charging.status == SessionStatus.COMPLETED
    assert charging.energy_wh == 41120

    # The spec's PATCH examples: a new charging period with the energy so far, a new cost.
    periods = cpo.patch_session(session, example("session_patch_example_charging_period.json"))
    assert periods["status_code"] == 1000
    charging.refresh_from_db()
    assert charging.energy_wh == 15000 and str(charging.cost_incl_vat) == "0.8800"
    cost = cpo.patch_session(session, example("session_patch_example_total_cost.json"))
    assert cost["status_code"] == 1000
    charging.refresh_from_db()
    assert (str(charging.cost_excl_vat), str(charging.cost_incl_vat)) == ("0.6000", "0.6600")
    assert charging.energy_wh == 15000 and ChargingSession.objects.count() == 1


def test_a_session_for_a_token_not_ours_is_kept_and_shown_to_no_one(cpos):
    make_driver_token("APP-DANA-1")
    cpo = cpos("NL", "SIM")
    foreign = live_session()
    foreign["cdr_token"] = {**foreign["cdr_token"], "party_id": "XYZ"}  # another eMSP's
    unknown = live_session(uid="NOT-OURS", id="S-2")

    assert cpo.push_session(foreign)["status_code"] == 1000
    assert cpo.push_session(unknown)["status_code"] == 1000

    assert PartnerSession.objects.count() == 2
    assert not PartnerSession.objects.filter(charging_session__isnull=False).exists()
    assert not ChargingSession.objects.exists()


def test_a_pending_session_shows_only_once_it_is_active(cpos):
    make_driver_token("APP-DANA-1")
    cpo = cpos("NL", "SIM")
    assert cpo.push_session(live_session(status="PENDING", kwh=0))["status_code"] == 1000
    assert not ChargingSession.objects.exists()
    patch = {"status": "ACTIVE", "last_updated": timestamp()}
    assert cpo.patch_session(live_session(), patch)["status_code"] == 1000
    assert ChargingSession.objects.get().status == SessionStatus.ACTIVE


def test_an_invalid_session_is_held_out_of_money(cpos):
    make_driver_token("APP-DANA-1")
    cpo = cpos("NL", "SIM")
    assert cpo.push_session(live_session())["status_code"] == 1000
    patch = {"status": "INVALID", "last_updated": timestamp()}
    assert cpo.patch_session(live_session(), patch)["status_code"] == 1000
    charging = ChargingSession.objects.get()
    assert charging.review == "pending"
    assert any("invalid" in flag for flag in charging.flags)


def test_a_patch_after_the_final_record_changes_nothing(cpos):
    token = make_driver_token("APP-DANA-1")
    cpo = cpos("NL", "SIM")
    session = live_session()
    assert cpo.push_session(session)["status_code"] == 1000
    started = ChargingSession.objects.get().started_at
    assert started is not None
    # What the CDR (H3's module) does: the closing, priced record of the same key.
    public_session_record(
        PartnerRecord(
            key=session_key("NL", "SIM", "S-1"),
            organisation_id=token.organisation_id,
            driver_id=token.driver_id,
            transaction_id="S-1",
            started_at=started,
            ended_at=timezone.now(),
            energy_wh=9000,
            completed=True,
            final=True,
            token=token.uid,
        )
    )
    before = ChargingSession.objects.get()

    patch = {"kwh": 99.0, "total_cost": {"excl_vat": 50.0}, "last_updated": timestamp()}
    assert cpo.patch_session(session, patch)["status_code"] == 1000
    assert cpo.push_session(live_session(kwh=123.0))["status_code"] == 1000

    after = ChargingSession.objects.get()
    assert (
        (after.energy_wh, after.cost_excl_vat, after.status)
        == (
            before.energy_wh,
            before.cost_excl_vat,
            before.status,
        )
        == (9000, before.cost_excl_vat, SessionStatus.COMPLETED)
    )


# --- tenancy ----------------------------------------------------------------------------


def test_a_partner_cannot_read_or_write_another_partners_sessions(cpos, platform):
    make_driver_token("APP-DANA-1")
    owner = cpos("NL", "SIM")
    other = cpos("DE", "OTH")
    session = live_session()
    assert owner.push_session(session)["status_code"] == 1000
    stored_before = PartnerSession.objects.get().body

    read = other.send_platform("GET", "sessions", "/NL/SIM/S-1")
    missing = other.send_platform("GET", "sessions", "/DE/OTH/S-1")
    # A foreign session answers exactly like a missing one.
    assert read["http_status"] == missing["http_status"] == 404
    assert (read["status_code"], read["status_message"]) == (
        missing["status_code"],
        missing["status_message"],
    )
    assert "data" not in read

    overwrite = other.push_session(live_session(kwh=80.0))
    assert overwrite["http_status"] == 404 and overwrite["status_code"] == 2001
    patched = other.patch_session(session, {"kwh": 80.0, "last_updated": timestamp()})
    assert patched["http_status"] == 404 and patched["status_code"] == 2001
    # Under its own party in the URL but naming NL*SIM in the body: refused too.
    disguised = other.send_platform("PUT", "sessions", "/DE/OTH/S-1", live_session())
    assert disguised["status_code"] == 2001 and "country_code" in disguised["status_message"]

    assert PartnerSession.objects.count() == 1
    assert PartnerSession.objects.get().body == stored_before
    assert ChargingSession.objects.get().energy_wh == 1500


def test_without_a_token_nothing_is_read(cpos, platform):
    cpos("NL", "SIM").push_session(live_session())
    reply = http("GET", f"{platform}/ocpi/2.2.1/sessions/NL/SIM/S-1")
    assert reply.status == 401 and reply.body["status_code"] == 2000


# --- bad input ----------------------------------------------------------------------------


def _without(name: str) -> dict[str, Any]:
    session = live_session()
    del session[name]
    return session


@pytest.mark.parametrize(
    ("session", "problem"),
    [
        (_without("cdr_token"), "cdr_token: required"),
        (_without("start_date_time"), "start_date_time: required"),
        (live_session(kwh=-1), "kwh: must not be negative"),
        (live_session(kwh="12"), "kwh: must be a number"),
        (live_session(status="CHARGING"), "status: must be one of"),
        (live_session(currency="euro"), "currency: at most 3 characters"),
        (live_session(currency="eur"), "currency: an ISO 4217 code"),
        (
            live_session(start_date_time="2026-01-01T10:00:00+01:00"),
            "start_date_time: must be an RFC 3339",
        ),
        (live_session(start_date_time="2001-01-01T10:00:00Z"), "start_date_time: timestamp"),
        (
            live_session(end_date_time=timestamp(timezone.now() - timedelta(hours=1))),
            "end_date_time: before start_date_time",
        ),
        (live_session(location_id="L" * 37), "location_id: at most 36 characters"),
        (live_session(total_cost={"incl_vat": 1}), "total_cost.excl_vat: required"),
        (live_session(id="S-OTHER"), "id: 'S-OTHER' is not the URL's 'S-1'"),
    ],
    ids=[
        "no token",
        "no start",
        "negative energy",
        "energy as text",
        "bad status",
        "long currency",
        "lower-case currency",
        "offset timestamp",
        "far past",
        "end before start",
        "long location id",
        "cost without excl_vat",
        "id not the URL's",
    ],
)
def test_an_invalid_session_is_2001_naming_the_field_and_stores_nothing(cpos, session, problem):
    make_driver_token("APP-DANA-1")
    cpo = cpos("NL", "SIM")

    answer = cpo.send_platform("PUT", "sessions", "/NL/SIM/S-1", session)

    assert answer["http_status"] == 200 and answer["status_code"] == 2001
    assert problem in answer["status_message"]
    assert ";" not in answer["status_message"]  # that problem alone
    assert not PartnerSession.objects.exists() and not ChargingSession.objects.exists()


def test_a_patch_needs_last_updated_and_a_known_session(cpos):
    make_driver_token("APP-DANA-1")
    cpo = cpos("NL", "SIM")
    unknown = cpo.patch_session(live_session(), {"kwh": 3.0, "last_updated": timestamp()})
    assert unknown["http_status"] == 404 and unknown["status_code"] == 2000
    assert cpo.push_session(live_session())["status_code"] == 1000

    no_date = cpo.patch_session(live_session(), {"kwh": 3.0})
    assert no_date["status_code"] == 2001 and "last_updated: required" in no_date["status_message"]
    breaking = cpo.patch_session(live_session(), {"kwh": -3.0, "last_updated": timestamp()})
    assert breaking["status_code"] == 2001 and "kwh" in breaking["status_message"]
    moving = cpo.patch_session(live_session(), {"id": "S-9", "last_updated": timestamp()})
    assert moving["status_code"] == 2001

    assert PartnerSession.objects.get().body["kwh"] == 1.5
    assert ChargingSession.objects.get().energy_wh == 1500


@pytest.mark.parametrize(
    "raw", [b"[1, 2]", b'"text"', b'{"kwh": NaN}'], ids=["list", "string", "nan"]
)
def test_a_body_that_is_no_session_is_2001_never_3000(cpos, platform, raw):
    cpo = cpos("NL", "SIM")
    for method in ("PUT", "PATCH"):
        reply = http(
            method,
            f"{platform}/ocpi/2.2.1/sessions/NL/SIM/S-1",
            cpo.state.platform_token,
            raw=raw,
        )
        assert reply.body["status_code"] == 2001, (method, reply.body)
    assert not PartnerSession.objects.exists()


def test_a_long_id_in_the_url_is_2001(cpos):
    cpo = cpos("NL", "SIM")
    answer = cpo.send_platform("PUT", "sessions", "/NL/SIM/" + "x" * 37, live_session(id="x" * 37))
    assert answer["status_code"] == 2001 and "session_id" in answer["status_message"]


# --- platform operators ---------------------------------------------------------------


def test_operators_see_pushed_objects_read_only_and_which_sessions_no_driver_sees(
    admin_client, cpos
):
    make_driver_token("APP-DANA-1")
    cpo = cpos("NL", "SIM")
    assert cpo.push_location(sim_location())["status_code"] == 1000
    assert cpo.push_session(live_session())["status_code"] == 1000
    assert cpo.push_session(live_session(uid="NOT-OURS", id="S-STRAY"))["status_code"] == 1000
    assert (
        cpo.push_tariff(
            {**example("tariff_1_simple_2hour.json"), "country_code": "NL", "party_id": "SIM"}
        )["status_code"]
        == 1000
    )

    sessions_page = admin_client.get("/platform-admin/ocpi/partnersession/")
    assert sessions_page.status_code == 200
    listing = sessions_page.content.decode()
    assert "S-STRAY" in listing and "S-1" in listing and "NL*SIM" in listing
    assert 'alt="False"' in listing and 'alt="True"' in listing  # shown to a driver or not
    locations_page = admin_client.get("/platform-admin/ocpi/partnerlocation/").content.decode()
    assert "Gent Zuid" in locations_page and "Simulated Charging" in locations_page
    tariffs_page = admin_client.get("/platform-admin/ocpi/partnertariff/").content.decode()
    assert "EUR" in tariffs_page
    stray = PartnerSession.objects.get(object_id="S-STRAY")
    detail = admin_client.get(f"/platform-admin/ocpi/partnersession/{stray.pk}/change/")
    assert detail.status_code == 200 and 'name="status"' not in detail.content.decode()
    assert admin_client.get("/platform-admin/ocpi/partnersession/add/").status_code == 403
    deleted = admin_client.post(f"/platform-admin/ocpi/partnersession/{stray.pk}/delete/")
    assert deleted.status_code == 403 and PartnerSession.objects.count() == 2


def test_no_malformed_session_breaks_the_checks():
    """Every place of the spec's finished session replaced by a value of the wrong type
    or size: the checks answer problems, never raise (a 3000)."""
    for _, body in mutations(example("session_example_2_short_finished.json")):
        try:
            problems = sessions.session_problems(body)
        except OcpiError as error:  # a timestamp of the right form but no real moment
            problems = [error.message]
        assert isinstance(problems, list)


def test_the_same_new_session_pushed_twice_at_once_is_one_session(platform, cpos):
    make_driver_token("APP-DANA-1")
    cpo = cpos("NL", "SIM")
    answers: list[dict[str, Any]] = []
    at_once(*[lambda: answers.append(cpo.push_session(live_session()))] * 3)
    assert [a["status_code"] for a in answers] == [1000] * 3
    assert sorted(a["http_status"] for a in answers) == [200, 200, 201]  # one created it
    assert PartnerSession.objects.count() == 1 and ChargingSession.objects.count() == 1
    assert PartnerSession.objects.get().charging_session == ChargingSession.objects.get()
