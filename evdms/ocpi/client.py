"""Calling a partner's OCPI server: the standard library's ``urllib.request`` (the
project does not depend on ``requests``), the 2.2.1 Base64 Authorization header, fresh
message ids, a timeout, a size limit, and the envelope unwrapped.

Every failure (unreachable, an HTTP error, not JSON, not an envelope, a status code
outside 1xxx) is a ``PeerError`` with a message fit for an operator.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request
import uuid
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings

from evdms.ocpi.transport import MAX_BODY_BYTES, authorization_header


class PeerError(Exception):
    """The partner's server could not be used; ``str()`` says why."""


def call(method: str, url: str, token: str, body: Any = None) -> Any:
    """The ``data`` of the partner's answer to ``method url`` (``None`` when absent)."""
    if urlsplit(url).scheme not in {"http", "https"}:
        raise PeerError(f"{url!r} is not an http(s) URL")
    headers = {
        "Authorization": authorization_header(token),
        "X-Request-ID": str(uuid.uuid4()),
        "X-Correlation-ID": str(uuid.uuid4()),
        "Accept": "application/json",
    }
    payload = None
    if body is not None:
        payload = json.dumps(body).encode()
        headers["Content-Type"] = "application/json"
    request = urllib.request.Request(url, data=payload, headers=headers, method=method)  # noqa: S310 (scheme checked above)
    try:
        with urllib.request.urlopen(request, timeout=settings.OCPI_PEER_TIMEOUT) as response:  # noqa: S310
            raw = response.read(MAX_BODY_BYTES + 1)
    except urllib.error.HTTPError as exc:
        raise PeerError(f"{method} {url} answered HTTP {exc.code}{_status_of(exc)}") from None
    except (urllib.error.URLError, OSError, ValueError) as exc:
        reason = getattr(exc, "reason", exc)
        raise PeerError(f"{method} {url} could not be reached: {reason}") from None
    if len(raw) > MAX_BODY_BYTES:
        raise PeerError(f"{method} {url} answered more than {MAX_BODY_BYTES} bytes")
    try:
        envelope = json.loads(raw)
    except ValueError:
        raise PeerError(f"{method} {url} did not answer JSON") from None
    if not isinstance(envelope, dict) or not isinstance(envelope.get("status_code"), int):
        raise PeerError(f"{method} {url} did not answer an OCPI response (no status_code)")
    status = envelope["status_code"]
    if not 1000 <= status < 2000:
        message = envelope.get("status_message") or ""
        raise PeerError(f"{method} {url} answered OCPI status {status} {message}".rstrip())
    return envelope.get("data")


def _status_of(error: urllib.error.HTTPError) -> str:
    try:
        envelope = json.loads(error.read(65_536))
        return f" (OCPI status {envelope['status_code']}: {envelope.get('status_message', '')})"
    except Exception:  # any body at all: the HTTP code already says enough
        return ""
