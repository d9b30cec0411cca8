"""The Locations module (we are the Receiver), over real HTTP between CPO simulators and
the live platform: every location example of the spec, EVSE and connector level PUT and
PATCH, what reports keep (name, address, operator), tenancy and bad input."""

from __future__ import annotations

import copy
from datetime import UTC, datetime
from typing import Any

import pytest

from evdms.ocpi import locations, schema
from evdms.ocpi.models import PartnerLocation
from evdms.ocpi.tests.conftest import EXAMPLES, example, http
from evdms.ocpi.tests.pushing import mutations, registered_cpos

pytestmark = pytest.mark.django_db(transaction=True)

LOCATIONS = sorted(p.name for p in EXAMPLES.glob("location_example*.json"))
# Parts of a location the spec gives on their own: put into the spec's location example.
ENERGY_MIXES = sorted(p.name for p in EXAMPLES.glob("location_energymix_*.json"))
HOURS = sorted(p.name for p in EXAMPLES.glob("location_hours_*.json"))


@pytest.fixture
def cpos(platform):
    yield from registered_cpos()


def gent() -> dict[str, Any]:
    return copy.deepcopy(example("location_example.json"))


def test_every_whole_location_example_is_listed():
    assert LOCATIONS == [
        "location_example.json",
        "location_example_parking_garage_opening_hours.json",
        "location_example_uc2_destination_charger.json",
        "location_example_uc3_destination_charger_not_published.json",
        "location_example_uc4_limited_visibility.json",
        "location_example_uc5_home_charge_point.json",
    ]
    assert len(ENERGY_MIXES) == 3 and len(HOURS) == 3


@pytest.mark.parametrize("name", LOCATIONS)
def test_the_spec_location_examples_are_accepted_and_read_back(cpos, name):
    location = example(name)
    cpo = cpos(location["country_code"], location["party_id"])

    answer = cpo.push_location(location)

    assert answer["status_code"] == 1000 and answer["http_status"] == 201
    path = f"/{location['country_code']}/{location['party_id']}/{location['id']}"
    read = cpo.send_platform("GET", "locations", path)
    assert read["status_code"] == 1000 and read["data"] == location
    stored = PartnerLocation.objects.get()
    assert stored.name == (location.get("name") or "")
    assert stored.address.startswith(location["address"])
    assert location["city"] in stored.address and stored.address.endswith(location["country"])
    operator = (location.get("operator") or {}).get("name") or cpo.name
    assert stored.operator_name == operator
    assert cpo.push_location(location)["http_status"] == 200  # replaced, not added
    assert PartnerLocation.objects.count() == 1


@pytest.mark.parametrize("name", [*ENERGY_MIXES, *HOURS, "location_regularhours_example.json"])
def test_the_spec_location_parts_are_accepted_in_a_put_and_in_a_patch(cpos, name):
    part = example(name)
    # The energy mix and regular hours examples are wrapped in their field, hours not.
    fields = part if set(part) <= {"energy_mix", "opening_times"} else {"opening_times": part}
    cpo = cpos("BE", "BEC")
    location = {**gent(), **fields}

    assert cpo.push_location(location)["status_code"] == 1000
    assert {k: PartnerLocation.objects.get().body[k] for k in fields} == fields

    plain = gent()
    assert cpo.push_location(plain)["status_code"] == 1000
    patch = {**fields, "last_updated": "2019-06-24T12:39:09Z"}
    assert cpo.patch_location(plain, patch)["status_code"] == 1000
    body = PartnerLocation.objects.get().body
    assert {k: body[k] for k in fields} == fields and body["evses"] == plain["evses"]


def test_the_spec_put_example_adds_an_evse(cpos):
    cpo = cpos("BE", "BEC")
    location = gent()
    location["evses"] = [e for e in location["evses"] if e["uid"] == "3257"]
    assert cpo.push_location(location)["status_code"] == 1000
    evse = example("location_put_example_add_evse.json")

    answer = cpo.push_location(location, evse=evse)

    assert answer["status_code"] == 1000 and answer["http_status"] == 201
    body = PartnerLocation.objects.get().body
    assert [e["uid"] for e in body["evses"]] == ["3257", "3256"]
    added = cpo.send_platform("GET", "locations", "/BE/BEC/LOC1/3256")["data"]
    # Kept as sent, but for the number the example gives where the spec wants text.
    assert added == {**evse, "physical_reference": "3"}
    assert body["last_updated"] == evse["last_updated"]  # the location changed with it
    assert PartnerLocation.objects.get().last_updated == datetime(
        2019, 6, 24, 12, 39, 9, tzinfo=UTC
    )
    # The same EVSE again replaces it.
    assert cpo.push_location(location, evse=evse)["http_status"] == 200
    assert len(PartnerLocation.objects.get().body["evses"]) == 2


def test_the_spec_patch_examples_at_each_level(cpos):
    cpo = cpos("BE", "BEC")
    location = gent()
    assert cpo.push_location(location)["status_code"] == 1000

    renamed = cpo.patch_location(location, example("location_patch_example_location.json"))
    charging = cpo.patch_location(
        location, example("location_patch_example_status.json"), evse_uid="3256"
    )
    removed = cpo.patch_location(
        location, example("location_patch_example_remove_evse.json"), evse_uid="3257"
    )
    tariff = cpo.patch_location(
        location, example("location_patch_example_tariff.json"), evse_uid="3256", connector_id="2"
    )

    assert [a["status_code"] for a in (renamed, charging, removed, tariff)] == [1000] * 4
    stored = PartnerLocation.objects.get()
    assert stored.name == "Interparking Gent Zuid"
    evses = {e["uid"]: e for e in stored.body["evses"]}
    assert evses["3256"]["status"] == "CHARGING" and evses["3257"]["status"] == "REMOVED"
    connector = cpo.send_platform("GET", "locations", "/BE/BEC/LOC1/3256/2")["data"]
    assert connector["tariff_ids"] == ["15"] and connector["max_voltage"] == 220
    # A connector's PATCH is its EVSE's and location's last change too.
    assert evses["3256"]["last_updated"] == stored.body["last_updated"] == "2019-06-24T12:39:09Z"
    # The rest of the connector list is untouched.
    assert [c["id"] for c in evses["3256"]["connectors"]] == ["1", "2"]


def test_a_connector_put_replaces_or_adds_a_connector(cpos):
    cpo = cpos("BE", "BEC")
    location = gent()
    assert cpo.push_location(location)["status_code"] == 1000
    connector = {
        **location["evses"][0]["connectors"][0],
        "id": "3",
        "standard": "CHADEMO",
        "last_updated": "2020-01-01T00:00:00Z",
    }

    answer = cpo.push_location(location, connector=connector, evse_uid="3256")

    assert answer["http_status"] == 201
    read = cpo.send_platform("GET", "locations", "/BE/BEC/LOC1/3256/3")
    assert read["data"] == connector
    body = PartnerLocation.objects.get().body
    assert body["evses"][0]["last_updated"] == body["last_updated"] == "2020-01-01T00:00:00Z"


def test_a_location_without_operator_names_the_partner(cpos):
    cpo = cpos("BE", "BEC", name="Be Charged Roaming")
    location = gent()
    del location["operator"]
    assert cpo.push_location(location)["status_code"] == 1000
    assert PartnerLocation.objects.get().operator_name == "Be Charged Roaming"


# --- tenancy ----------------------------------------------------------------------------


def test_a_partner_cannot_read_or_write_another_partners_locations(cpos):
    owner = cpos("BE", "BEC")
    other = cpos("DE", "OTH")
    location = gent()
    assert owner.push_location(location)["status_code"] == 1000
    before = PartnerLocation.objects.get().body

    for path in ("/BE/BEC/LOC1", "/BE/BEC/LOC1/3256", "/BE/BEC/LOC1/3256/1"):
        foreign = other.send_platform("GET", "locations", path)
        missing = other.send_platform("GET", "locations", path.replace("BE/BEC", "DE/OTH"))
        assert foreign["http_status"] == missing["http_status"] == 404
        assert foreign["status_code"] == missing["status_code"] == 2003
        assert foreign["status_message"] == missing["status_message"]
        assert "data" not in foreign

    renamed = {**location, "name": "Taken over"}
    assert other.push_location(renamed)["http_status"] == 404
    patch = {"name": "Taken over", "last_updated": "2030-01-01T00:00:00Z"}
    assert other.patch_location(location, patch)["status_code"] == 2001
    assert other.patch_location(location, patch, evse_uid="3256")["http_status"] == 404
    disguised = other.send_platform("PUT", "locations", "/DE/OTH/LOC1", renamed)
    assert disguised["status_code"] == 2001 and "country_code" in disguised["status_message"]

    assert PartnerLocation.objects.count() == 1
    assert PartnerLocation.objects.get().body == before


# --- bad input ----------------------------------------------------------------------------


def _gent_with(**changes: Any) -> dict[str, Any]:
    location = gent()
    for name, value in changes.items():
        if value is None:
            del location[name]
        else:
            location[name] = value
    return location


def _gent_evse_with(**changes: Any) -> dict[str, Any]:
    location = gent()
    location["evses"][0].update(changes)
    return location


@pytest.mark.parametrize(
    ("location", "problem"),
    [
        (_gent_with(address=None), "address: required"),
        (_gent_with(address="x" * 46), "address: at most 45 characters"),
        (
            _gent_with(coordinates={"latitude": "51.04", "longitude": "3.729944"}),
            "coordinates.latitude",
        ),
        (_gent_with(publish="yes"), "publish: must be true or false"),
        (_gent_with(parking_type="ROOF"), "parking_type: must be one of"),
        (_gent_with(name="Line\nbreak"), "name: only printable characters"),
        (_gent_with(last_updated="yesterday"), "last_updated: must be an RFC 3339"),
        (_gent_evse_with(status="BROKEN"), "evses[0].status: must be one of"),
        (_gent_evse_with(connectors=[]), "evses[0].connectors: at least 1"),
        (_gent_with(opening_times={"twentyfourseven": False}), "opening_times.regular_hours"),
        (
            _gent_with(
                opening_times={
                    "twentyfourseven": False,
                    "regular_hours": [
                        {"weekday": 8, "period_begin": "08:00", "period_end": "20:00"}
                    ],
                }
            ),
            "opening_times.regular_hours[0].weekday",
        ),
        (
            _gent_with(
                opening_times={
                    "twentyfourseven": False,
                    "regular_hours": [
                        {"weekday": 1, "period_begin": "20:00", "period_end": "08:00"}
                    ],
                }
            ),
            "opening_times.regular_hours[0].period_end: later than period_begin",
        ),
        (_gent_with(id="LOC2"), "id: 'LOC2' is not the URL's 'LOC1'"),
    ],
    ids=[
        "no address",
        "long address",
        "short latitude",
        "publish as text",
        "bad parking type",
        "control character",
        "bad last_updated",
        "bad evse status",
        "evse without connectors",
        "closed without hours",
        "bad weekday",
        "closing before opening",
        "id not the URL's",
    ],
)
def test_an_invalid_location_is_2001_naming_the_field_and_stores_nothing(cpos, location, problem):
    cpo = cpos("BE", "BEC")
    answer = cpo.send_platform("PUT", "locations", "/BE/BEC/LOC1", location)
    assert answer["http_status"] == 200 and answer["status_code"] == 2001
    assert problem in answer["status_message"]
    assert ";" not in answer["status_message"]  # that problem alone
    assert not PartnerLocation.objects.exists()


def test_bad_evse_and_connector_writes_leave_the_location_as_it_was(cpos):
    cpo = cpos("BE", "BEC")
    location = gent()
    assert cpo.push_location(location)["status_code"] == 1000
    before = PartnerLocation.objects.get().body
    evse = copy.deepcopy(location["evses"][0])

    other_uid = cpo.send_platform("PUT", "locations", "/BE/BEC/LOC1/9999", evse)
    assert other_uid["status_code"] == 2001 and "uid" in other_uid["status_message"]
    bad_status = cpo.patch_location(
        location, {"status": "ON_FIRE", "last_updated": "2030-01-01T00:00:00Z"}, evse_uid="3256"
    )
    assert bad_status["status_code"] == 2001 and "status" in bad_status["status_message"]
    no_date = cpo.patch_location(location, {"status": "CHARGING"}, evse_uid="3256")
    assert no_date["status_code"] == 2001 and "last_updated" in no_date["status_message"]
    bad_connector = {**evse["connectors"][0], "standard": "USB_C"}
    answer = cpo.push_location(location, connector=bad_connector, evse_uid="3256")
    assert answer["status_code"] == 2001 and "standard" in answer["status_message"]

    assert PartnerLocation.objects.get().body == before


def test_unknown_locations_evses_and_connectors_are_404_with_2003(cpos):
    cpo = cpos("BE", "BEC")
    location = gent()
    patch = {"name": "X", "last_updated": "2030-01-01T00:00:00Z"}
    assert cpo.patch_location(location, patch)["http_status"] == 404
    evse = location["evses"][0]
    assert cpo.push_location(location, evse=evse)["status_code"] == 2003  # no such location
    assert cpo.push_location(location)["status_code"] == 1000
    for evse_uid, connector_id in (("9999", None), ("3256", "9"), ("9999", "1")):
        path = "/BE/BEC/LOC1/" + "/".join(p for p in (evse_uid, connector_id) if p)
        read = cpo.send_platform("GET", "locations", path)
        assert read["http_status"] == 404 and read["status_code"] == 2003
        patched = cpo.patch_location(location, patch, evse_uid=evse_uid, connector_id=connector_id)
        assert patched["http_status"] == 404 and patched["status_code"] == 2003


def test_delete_and_post_are_405(cpos, platform):
    cpo = cpos("BE", "BEC")
    for method in ("DELETE", "POST"):
        reply = http(
            method, f"{platform}/ocpi/2.2.1/locations/BE/BEC/LOC1", cpo.state.platform_token
        )
        assert reply.status == 405 and reply.body["status_code"] == 2000


def test_no_malformed_location_evse_or_connector_breaks_the_checks():
    """Every place of the spec's location (and of an EVSE, a connector) replaced by a
    value of the wrong type or size: the checks answer a list of problems, never raise
    (which would be a 3000 and a half-understood body)."""
    checked = 0
    for _, body in mutations(gent()):
        assert isinstance(locations.location_problems(copy.deepcopy(body)), list)
        checked += 1
    for _, body in mutations(gent()["evses"][0]):
        assert isinstance(locations.evse_problems(copy.deepcopy(body)), list)
    for _, body in mutations(gent()["evses"][0]["connectors"][0]):
        assert isinstance(schema.check(schema.CONNECTOR, body), list)
    assert checked > 500
