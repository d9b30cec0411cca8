"""The keys partners' sessions get in the session core (``ChargingSession.public_key``).

A live session (Sessions module) and the CDR that closes it (its ``session_id``) must
land on the same row, and two partners' ids never collide: the key is the owner's
country code and party id with the session's id. A CDR without a ``session_id`` keys
its session by the CDR's own id, in a namespace of its own.
"""

from __future__ import annotations


def session_key(country_code: str, party_id: str, session_id: str) -> str:
    return f"{country_code.upper()}*{party_id.upper()}*S*{session_id}"


def cdr_key(country_code: str, party_id: str, cdr_id: str) -> str:
    return f"{country_code.upper()}*{party_id.upper()}*C*{cdr_id}"
