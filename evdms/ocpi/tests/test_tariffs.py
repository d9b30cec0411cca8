"""The Tariffs module (we are the Receiver), over real HTTP between CPO simulators and
the live platform: every tariff example of the spec, DELETE, tenancy and bad input."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from evdms.ocpi import tariffs
from evdms.ocpi.models import PartnerTariff
from evdms.ocpi.tests.conftest import EXAMPLES, example, http
from evdms.ocpi.tests.pushing import mutations, registered_cpos

pytestmark = pytest.mark.django_db(transaction=True)

TARIFFS = sorted(p.name for p in EXAMPLES.glob("tariff*.json"))


@pytest.fixture
def cpos(platform):
    yield from registered_cpos()


def hourly() -> dict[str, Any]:
    return copy.deepcopy(example("tariff_1_simple_2hour.json"))


def test_every_tariff_example_is_listed():
    # 17 tariffs (the spec has no number 7), its PUT example, two restriction examples.
    assert len(TARIFFS) == 20
    assert "tariff_put_example.json" in TARIFFS
    assert "tariffrestriction_example_max_power.json" in TARIFFS


def test_one_cpo_pushes_every_tariff_example(cpos):
    by_party: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for name in TARIFFS:
        tariff = example(name)
        by_party.setdefault((tariff["country_code"], tariff["party_id"]), []).append(tariff)
    stored = 0
    for (country_code, party_id), pushed in by_party.items():
        cpo = cpos(country_code, party_id)
        for tariff in pushed:
            answer = cpo.push_tariff(tariff)
            assert answer["status_code"] == 1000, (tariff["id"], answer)
            path = f"/{country_code}/{party_id}/{tariff['id']}"
            read = cpo.send_platform("GET", "tariffs", path)
            assert read["status_code"] == 1000 and read["data"] == tariff
            kept = PartnerTariff.objects.get(
                country_code=country_code, party_id=party_id, object_id=tariff["id"]
            )
            assert kept.currency == tariff["currency"]
            stored += 1
    # Examples that share an id (the PUT example is tariff 12 of DE*ALL) replace it.
    ids = {(t["country_code"], t["party_id"], t["id"]) for ts in by_party.values() for t in ts}
    assert PartnerTariff.objects.count() == len(ids) and stored == len(TARIFFS)


def test_a_put_is_201_then_200_and_the_put_example_without_last_updated_is_dated(cpos):
    tariff = example("tariff_put_example.json")
    assert "last_updated" not in tariff
    cpo = cpos("DE", "ALL")
    assert cpo.push_tariff(tariff)["http_status"] == 201
    assert PartnerTariff.objects.get().last_updated is not None  # the time it came
    changed = {**tariff, "currency": "CHF"}
    assert cpo.push_tariff(changed)["http_status"] == 200
    assert PartnerTariff.objects.get().currency == "CHF"


def test_delete_removes_a_tariff_and_an_unknown_one_is_404(cpos):
    cpo = cpos("DE", "ALL")
    tariff = hourly()
    assert cpo.push_tariff(tariff)["status_code"] == 1000
    path = f"/DE/ALL/{tariff['id']}"

    deleted = cpo.send_platform("DELETE", "tariffs", path)

    assert deleted["status_code"] == 1000 and not PartnerTariff.objects.exists()
    again = cpo.send_platform("DELETE", "tariffs", path)
    assert again["http_status"] == 404 and again["status_code"] == 2000
    read = cpo.send_platform("GET", "tariffs", path)
    assert read["http_status"] == 404 and read["status_code"] == 2000


def test_patch_is_not_a_tariff_method(cpos, platform):
    cpo = cpos("DE", "ALL")
    reply = http(
        "PATCH",
        f"{platform}/ocpi/2.2.1/tariffs/DE/ALL/13",
        cpo.state.platform_token,
        {"currency": "USD", "last_updated": "2030-01-01T00:00:00Z"},
    )
    assert reply.status == 405 and reply.body["status_code"] == 2000
    assert "PATCH" not in reply.headers["allow"]


def test_a_partner_cannot_read_write_or_delete_another_partners_tariffs(cpos):
    owner = cpos("DE", "ALL")
    other = cpos("NL", "OTH")
    tariff = hourly()
    assert owner.push_tariff(tariff)["status_code"] == 1000
    path = f"/DE/ALL/{tariff['id']}"

    foreign = other.send_platform("GET", "tariffs", path)
    missing = other.send_platform("GET", "tariffs", f"/NL/OTH/{tariff['id']}")
    assert foreign["http_status"] == missing["http_status"] == 404
    assert (foreign["status_code"], foreign["status_message"]) == (
        missing["status_code"],
        missing["status_message"],
    )
    assert "data" not in foreign
    deleted = other.send_platform("DELETE", "tariffs", path)
    assert deleted["http_status"] == 404
    overwritten = other.push_tariff({**tariff, "currency": "USD"})
    assert overwritten["http_status"] == 404 and overwritten["status_code"] == 2001
    disguised = other.send_platform("PUT", "tariffs", f"/NL/OTH/{tariff['id']}", tariff)
    assert disguised["status_code"] == 2001 and "country_code" in disguised["status_message"]

    assert PartnerTariff.objects.count() == 1
    assert PartnerTariff.objects.get().body == tariff


def _with(**changes: Any) -> dict[str, Any]:
    tariff = hourly()
    for name, value in changes.items():
        if value is None:
            del tariff[name]
        else:
            tariff[name] = value
    return tariff


def _component(**changes: Any) -> dict[str, Any]:
    tariff = hourly()
    tariff["elements"][0]["price_components"][0].update(changes)
    return tariff


def _restricted(**restrictions: Any) -> dict[str, Any]:
    tariff = hourly()
    tariff["elements"][0]["restrictions"] = restrictions
    return tariff


@pytest.mark.parametrize(
    ("tariff", "problem"),
    [
        (_with(currency=None), "currency: required"),
        (_with(currency="Euro"), "currency: at most 3 characters"),
        (_with(currency="eu1"), "currency: an ISO 4217 code"),
        (_with(elements=[]), "elements: at least 1"),
        (_with(type="CHEAP"), "type: must be one of"),
        (_with(tariff_alt_url="ftp://x.example/t"), "tariff_alt_url: must be an http(s) URL"),
        (_with(min_price={"excl_vat": -1}), "min_price.excl_vat: must not be negative"),
        (_component(price="2.00"), "elements[0].price_components[0].price: must be a number"),
        (_component(type="KWH"), "elements[0].price_components[0].type: must be one of"),
        (_component(step_size=1.5), "step_size: must be a whole number"),
        (_component(vat=120), "vat: at most 100"),
        (_component(step_size=-5), "step_size: must be at least 0"),
        (_restricted(start_date="2026/01/01"), "restrictions.start_date: a date"),
        (_restricted(start_time="25:00"), "restrictions.start_time: hours and minutes"),
        (_restricted(day_of_week=["MON"]), "restrictions.day_of_week[0]: must be one of"),
        (_with(id="99"), "id: '99' is not the URL's '12'"),
    ],
    ids=[
        "no currency",
        "long currency",
        "bad currency",
        "no elements",
        "bad type",
        "ftp url",
        "negative min price",
        "price as text",
        "bad dimension",
        "fractional step",
        "vat over 100",
        "negative step",
        "bad start date",
        "bad start time",
        "bad weekday",
        "id not the URL's",
    ],
)
def test_an_invalid_tariff_is_2001_naming_the_field_and_stores_nothing(cpos, tariff, problem):
    cpo = cpos("DE", "ALL")
    answer = cpo.send_platform("PUT", "tariffs", "/DE/ALL/12", tariff)
    assert answer["http_status"] == 200 and answer["status_code"] == 2001
    assert problem in answer["status_message"]
    assert ";" not in answer["status_message"]  # that problem alone
    assert not PartnerTariff.objects.exists()


@pytest.mark.parametrize("name", ["tariff_4_complex.json", "tariff_12_025kwh_min_price.json"])
def test_no_malformed_tariff_breaks_the_checks(name):
    """Every place of a spec tariff replaced by a value of the wrong type or size: the
    checks answer problems, never raise (a 3000)."""
    tariff = example(name)
    for _, body in mutations(tariff):
        assert isinstance(tariffs.tariff_problems(body), list)
