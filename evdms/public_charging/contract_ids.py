"""Contract ids (eMA-IDs) in the eMI3 / DIN SPEC 91286 form ``CC-PPP-C12345678-K``.

``CC`` is our country code, ``PPP`` our party id (``settings.OCPI_COUNTRY_CODE`` /
``OCPI_PARTY_ID``), ``C`` marks a contract, eight random characters make it ours alone,
and ``K`` is the check character of the "Check Digit Calculation for Contract-IDs"
(eMI3): each of the 14 characters before it stands for a value 0–35 (digits, then A–Z),
read as a pair over Z2 (value // 9 in two bits) and a pair over Z3 (value % 9 in two
ternary digits). The character at position i (from 1) is multiplied by the i-th power of
P1 = [[0, 1], [1, 1]] over Z2 and of P2 = [[0, 1], [1, 2]] over Z3; the check character
is the one at position 15 that makes both sums zero. It catches a wrong character,
swapped neighbours and the twin and jump errors of typed ids.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Callable
from functools import cache

from django.conf import settings

ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"
# The id instance after the ``C``: 8 characters, so 36**8 ids per party.
INSTANCE_LENGTH = 8
PAYLOAD_LENGTH = 14  # country 2 + party 3 + "C" + 8, the check character not counted
_FORM = re.compile(r"^[A-Z]{2}-?[A-Z0-9]{3}-?[A-Z0-9]{9}-?[A-Z0-9]$")

Matrix = tuple[tuple[int, int], tuple[int, int]]
_P1: Matrix = ((0, 1), (1, 1))
_P2: Matrix = ((0, 1), (1, 2))


def _multiply(a: Matrix, b: Matrix, modulus: int) -> Matrix:
    return (
        (
            (a[0][0] * b[0][0] + a[0][1] * b[1][0]) % modulus,
            (a[0][0] * b[0][1] + a[0][1] * b[1][1]) % modulus,
        ),
        (
            (a[1][0] * b[0][0] + a[1][1] * b[1][0]) % modulus,
            (a[1][0] * b[0][1] + a[1][1] * b[1][1]) % modulus,
        ),
    )


@cache
def _power(base: Matrix, exponent: int, modulus: int) -> Matrix:
    result: Matrix = ((1, 0), (0, 1))
    for _ in range(exponent):
        result = _multiply(result, base, modulus)
    return result


def _row_times(vector: tuple[int, int], matrix: Matrix, modulus: int) -> tuple[int, int]:
    return (
        (vector[0] * matrix[0][0] + vector[1] * matrix[1][0]) % modulus,
        (vector[0] * matrix[0][1] + vector[1] * matrix[1][1]) % modulus,
    )


def _pairs(character: str) -> tuple[tuple[int, int], tuple[int, int]]:
    value = ALPHABET.index(character)
    q, r = divmod(value, 9)
    return (q // 2, q % 2), (r // 3, r % 3)


def _sums(text: str) -> tuple[tuple[int, int], tuple[int, int]]:
    """Both check sums of ``text`` (positions from 1)."""
    q_sum, r_sum = (0, 0), (0, 0)
    for position, character in enumerate(text, start=1):
        q, r = _pairs(character)
        q_part = _row_times(q, _power(_P1, position, 2), 2)
        r_part = _row_times(r, _power(_P2, position, 3), 3)
        q_sum = ((q_sum[0] + q_part[0]) % 2, (q_sum[1] + q_part[1]) % 2)
        r_sum = ((r_sum[0] + r_part[0]) % 3, (r_sum[1] + r_part[1]) % 3)
    return q_sum, r_sum


def _normalised(text: str) -> str:
    return text.replace("-", "").upper()


def check_character(text: str) -> str:
    """The check character of a contract id's first 14 characters (hyphens ignored).

    Raises ``ValueError`` for text that is not 14 letters and digits."""
    payload = _normalised(text)
    if len(payload) != PAYLOAD_LENGTH or any(c not in ALPHABET for c in payload):
        raise ValueError("A contract id has 14 letters and digits before its check character.")
    # Of the 36 candidates exactly one zeroes both sums (the matrices at position 15 are
    # invertible), so trying them is the plainest correct way to solve for it.
    for candidate in ALPHABET:
        if _sums(payload + candidate) == ((0, 0), (0, 0)):
            return candidate
    raise AssertionError("no check character")  # pragma: no cover - algebra says never


def is_valid(contract_id: str) -> bool:
    """Whether ``contract_id`` has the eMA-ID form (hyphens optional) and its check
    character is right."""
    if not isinstance(contract_id, str) or not _FORM.match(contract_id.upper()):
        return False
    payload = _normalised(contract_id)
    # The ``C`` of a contract is ours by choice; other providers' eMA-IDs (the published
    # examples too) have any 9-character instance, and their check character is the same.
    return check_character(payload[:PAYLOAD_LENGTH]) == payload[PAYLOAD_LENGTH]


def _formatted(payload: str) -> str:
    return f"{payload[:2]}-{payload[2:5]}-{payload[5:]}-{check_character(payload)}"


def contract_id_for(instance: str) -> str:
    """Our contract id with the given 8-character instance."""
    payload = f"{settings.OCPI_COUNTRY_CODE}{settings.OCPI_PARTY_ID}C{instance}".upper()
    return _formatted(payload)


def new_contract_id(is_taken: Callable[[str], bool] | None = None, attempts: int = 10) -> str:
    """A fresh contract id of our party, not yet used in the token table.

    With 36**8 instances a clash is rare; the database's unique constraint still guards
    a race between two makers, this only avoids the common case of a retry."""
    if is_taken is None:
        from evdms.public_charging.models import Token

        def is_taken(candidate: str) -> bool:
            return Token.objects.filter(contract_id=candidate).exists()

    for _ in range(attempts):
        instance = "".join(secrets.choice(ALPHABET) for _ in range(INSTANCE_LENGTH))
        candidate = contract_id_for(instance)
        if not is_taken(candidate):
            return candidate
    raise RuntimeError("Could not find a free contract id; try again.")
