"""Encryption of secrets at rest (Fernet, from the kept ``cryptography`` library): drivers'
bank details and the credentials tokens OCPI partners gave us.

Keys come from ``EVDMS_FIELD_ENCRYPTION_KEYS`` (comma-separated Fernet keys). The first
key encrypts; every key decrypts. To rotate: put a new key first, keep the old ones
after it, run ``manage.py rotate_encryption_keys`` (re-encrypts every row with the new
key: bank details and OCPI partners' tokens), then drop the old keys. Outside production
a key is derived from the secret key so development needs no set-up.
"""

from __future__ import annotations

import base64
import hashlib
from functools import lru_cache

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings


@lru_cache(maxsize=4)
def _fernet(keys: tuple[str, ...]) -> MultiFernet:
    return MultiFernet([Fernet(k.encode()) for k in keys])


def keys() -> tuple[str, ...]:
    configured = tuple(settings.FIELD_ENCRYPTION_KEYS)
    if configured:
        return configured
    derived = base64.urlsafe_b64encode(hashlib.sha256(settings.SECRET_KEY.encode()).digest())
    return (derived.decode(),)


def encrypt(text: str) -> str:
    return _fernet(keys()).encrypt(text.encode()).decode()


def decrypt(token: str) -> str:
    try:
        return _fernet(keys()).decrypt(token.encode()).decode()
    except InvalidToken as exc:  # a key was dropped too early: say so, loudly
        raise RuntimeError(
            "Cannot decrypt a stored secret with the configured EVDMS_FIELD_ENCRYPTION_KEYS"
        ) from exc


def rotate(token: str) -> str:
    """The same secret, encrypted with the first (newest) key."""
    return _fernet(keys()).rotate(token.encode()).decode()
