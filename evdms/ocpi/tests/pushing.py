"""Test helpers for the Client Owned Object modules (Sessions, Locations, Tariffs): CPO
simulators registered with the live platform under the parties the spec's examples
use, and drivers with tokens of ours."""

from __future__ import annotations

import io
from collections.abc import Callable, Iterator
from typing import Any

from django.conf import settings
from django.core.management import call_command

from evdms.accounts.models import User
from evdms.ocpi.simulator import SimulatedCpo
from evdms.public_charging.models import Token
from evdms.testing.fixtures import make_connection, make_membership, make_organisation


def register(cpo: SimulatedCpo) -> SimulatedCpo:
    out = io.StringIO()
    call_command("ocpi_partner_add", "--name", cpo.name, stdout=out)
    versions_url, token_a = (line.split(": ", 1)[1] for line in out.getvalue().splitlines())
    cpo.register_with(versions_url, token_a)
    return cpo


def registered_cpos() -> Iterator[Callable[..., SimulatedCpo]]:
    """For a fixture (after ``platform``): make and register CPOs of given parties,
    ``make("BE", "BEC")``; each is stopped afterwards."""
    started: list[SimulatedCpo] = []

    def make(country_code: str = "NL", party_id: str = "SIM", name: str = "") -> SimulatedCpo:
        cpo = SimulatedCpo(
            country_code=country_code, party_id=party_id, name=name or f"CPO {party_id}"
        ).start()
        started.append(cpo)
        return register(cpo)

    yield make
    for cpo in started:
        cpo.stop()


def make_driver_token(
    uid: str, email: str = "dana@driver.example", org_slug: str = "voltlease"
) -> Token:
    """A driver of a new organisation, connected now, with a valid app token ``uid``."""
    organisation = make_organisation(org_slug, org_slug.title())
    driver = User.objects.create(email=email, full_name=email.split("@")[0].title())
    make_membership(make_connection(organisation), driver)
    return Token.objects.create(
        organisation=organisation,
        driver=driver,
        type="APP_USER",
        uid=uid,
        contract_id=f"{settings.OCPI_COUNTRY_CODE}-{settings.OCPI_PARTY_ID}-C{uid[:8]}",
        valid=True,
    )


# Values of every JSON type (and the NaN Python's json reads), none right for any field.
JUNK: list[Any] = [None, 7, -1.5, float("nan"), True, "x" * 600, "", [], [1], {}, {"a": 1}]


def mutations(value: Any, path: str = "") -> Iterator[tuple[str, Any]]:
    """(where, the whole object with that one place replaced by a junk value), for every
    place in ``value`` (each key of each object, each item of each list), deep."""
    if isinstance(value, dict):
        for key, inner in value.items():
            where = f"{path}.{key}" if path else key
            for junk in JUNK:
                yield where, {**value, key: junk}
            for deeper, changed in mutations(inner, where):
                yield deeper, {**value, key: changed}
    elif isinstance(value, list):
        for index, inner in enumerate(value):
            where = f"{path}[{index}]"
            for junk in JUNK:
                yield where, [*value[:index], junk, *value[index + 1 :]]
            for deeper, changed in mutations(inner, where):
                yield deeper, [*value[:index], changed, *value[index + 1 :]]
