"""A fast keyed hash (HMAC-SHA256) for random secrets that machines present.

A password a person chooses needs a slow hash (argon2), as it can be guessed; a random
secret of 16 or more characters cannot, and a slow hash then only costs: 0.1-0.2 s of CPU
on every charger handshake kept a restarted gateway busy for minutes. The key (derived
from ``SECRET_KEY``, one per purpose) means a copy of the database alone is not enough to
test guesses against the hashes.

To rotate ``SECRET_KEY``, keep the old one in ``SECRET_KEY_FALLBACKS``: a hash made with it
still matches, as ``Match.STALE``, and the caller stores a fresh hash of the secret it was
just given (so the fallback can be dropped once every holder has been seen).
"""

from __future__ import annotations

import enum

from django.conf import settings
from django.utils.crypto import constant_time_compare, salted_hmac

ALGORITHM = "hmac_sha256"


class Match(enum.Enum):
    NO = "no"
    YES = "yes"
    # Right secret, but the stored hash is of an old key or an older scheme: re-hash it.
    STALE = "stale"


def _digest(secret: str, purpose: str, key: str | bytes) -> str:
    return salted_hmac(f"evdms.keyed-hash.{purpose}", secret, key, algorithm="sha256").hexdigest()


def keyed_hash(secret: str, *, purpose: str) -> str:
    """``hmac_sha256$<hex>``: the algorithm named, as Django names its password hashes, so
    a stored value says which check it needs."""
    return f"{ALGORITHM}${_digest(secret, purpose, settings.SECRET_KEY)}"


def is_keyed_hash(stored: str) -> bool:
    return stored.startswith(f"{ALGORITHM}$")


def keyed_hash_match(secret: str, stored: str, *, purpose: str) -> Match:
    """Whether ``secret`` is the one ``stored`` was made from; in constant time for a given
    key, so the time taken says nothing about how much of a guess was right."""
    if not is_keyed_hash(stored):
        return Match.NO
    digest = stored[len(ALGORITHM) + 1 :]
    if constant_time_compare(digest, _digest(secret, purpose, settings.SECRET_KEY)):
        return Match.YES
    for old_key in settings.SECRET_KEY_FALLBACKS:
        if constant_time_compare(digest, _digest(secret, purpose, old_key)):
            return Match.STALE
    return Match.NO


def keyed_hash_candidates(secret: str, *, purpose: str) -> list[str]:
    """Every stored value ``secret`` can match: its hash with the current key first, then
    with each fallback key. For secrets that are themselves the look-up key (an OCPI
    credentials token names its partner), so a query ``hash__in=...`` finds the holder."""
    return [
        f"{ALGORITHM}${_digest(secret, purpose, key)}"
        for key in (settings.SECRET_KEY, *settings.SECRET_KEY_FALLBACKS)
    ]
