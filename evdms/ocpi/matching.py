"""Whose is a token a partner names: the one look-up every module that receives a
partner's session (Sessions, CDRs) makes, and authorisation too.

Tokens are ours alone (we are the only eMSP behind our party), so a uid names at most
one. A partner's record that names a token issued by another eMSP (its country code and
party id are not ours), or none we know, is nobody's here.
"""

from __future__ import annotations

from django.conf import settings

from evdms.public_charging.models import Token


def token_for(uid: str, *, country_code: str = "", party_id: str = "") -> Token | None:
    """Our token of that uid, or None; a record naming another eMSP's party is None."""
    if country_code and country_code.upper() != settings.OCPI_COUNTRY_CODE:
        return None
    if party_id and party_id.upper() != settings.OCPI_PARTY_ID:
        return None
    if not uid or len(uid) > 36:
        return None
    return Token.objects.filter(uid=uid).select_related("driver", "organisation").first()
