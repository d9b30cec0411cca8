"""Contract ids (eMA-IDs) and their check character.

The vectors are the published examples of the eMI3 "Check Digit Calculation for
Contract-IDs" (DE-83D-UIEN83QGZ-D among them), also used by the OCHP id validator and
the mobility-id libraries of e-mobility service providers.
"""

from __future__ import annotations

import pytest
from django.test import override_settings

from evdms.public_charging.contract_ids import (
    check_character,
    contract_id_for,
    is_valid,
    new_contract_id,
)

PUBLISHED = {
    "NN123ABCDEFGHI": "T",
    "FRXYZ123456789": "2",
    "ITA1B2C3E4F5G6": "4",
    "ESZU8WOX834H1D": "R",
    "PT73902837ABCZ": "Z",
    "DE83DUIEN83QGZ": "D",
    "DE83DUIEN83ZGQ": "M",
    "DE8AA001234567": "0",
}


@pytest.mark.parametrize(("payload", "expected"), PUBLISHED.items())
def test_the_check_character_of_each_published_vector(payload, expected):
    assert check_character(payload) == expected
    assert is_valid(payload + expected)


def test_hyphens_and_lower_case_are_read_as_the_same_id():
    assert check_character("de-83d-uien83qgz") == "D"
    assert is_valid("DE-83D-UIEN83QGZ-D")
    assert is_valid("de83duien83qgzd")


@pytest.mark.parametrize(
    "wrong",
    [
        "DE-83D-UIEN83QGZ-E",  # a wrong check character
        "DE-83D-UIEN83GQZ-D",  # swapped neighbours
        "DE-38D-UIEN83QGZ-D",
        "DE-83D-UIEN83QGZ",  # no check character
        "DE-83D-UIEN83QG-D",  # too short
        "DE-83D-UIEN83QGZ-D1",  # too long
        "D1-83D-UIEN83QGZ-D",  # a country code is letters
        "DE-83D-UIÉN83QGZ-D",
        "",
    ],
)
def test_an_id_with_a_typing_error_is_not_valid(wrong):
    assert not is_valid(wrong)


def test_the_check_character_needs_fourteen_letters_and_digits():
    with pytest.raises(ValueError):
        check_character("DE83DUIEN83QG")
    with pytest.raises(ValueError):
        check_character("DE83DUIEN83QG!")


@override_settings(OCPI_COUNTRY_CODE="NL", OCPI_PARTY_ID="EVD")
def test_our_contract_ids_carry_our_party_and_a_check_character():
    assert contract_id_for("ABCD1234") == "NL-EVD-CABCD1234-" + check_character("NLEVDCABCD1234")
    fresh = new_contract_id(lambda candidate: False)
    assert fresh.startswith("NL-EVD-C") and len(fresh) == 18 and is_valid(fresh)


def test_a_taken_contract_id_is_never_handed_out_again():
    seen: list[str] = []

    def taken_twice(candidate: str) -> bool:
        seen.append(candidate)
        return len(seen) <= 2

    fresh = new_contract_id(taken_twice)
    assert fresh == seen[2] and len(set(seen)) == 3
    with pytest.raises(RuntimeError):
        new_contract_id(lambda candidate: True)
