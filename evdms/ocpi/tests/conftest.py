"""Helpers for the OCPI tests: raw HTTP (so every status and header can be seen), the
CPO simulator on a free port, and the platform's URLs on pytest-django's live server."""

from __future__ import annotations

import base64
import json
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from evdms.ocpi.simulator import SimulatedCpo

EXAMPLES = Path(__file__).resolve().parents[4] / "shared" / "ocpi-2.2.1" / "examples"
if not EXAMPLES.is_dir():  # the main checkout sits next to shared/ as well
    EXAMPLES = Path("/work/shared/ocpi-2.2.1/examples")


def example(name: str) -> Any:
    return json.loads((EXAMPLES / name).read_text())


@dataclass
class Reply:
    status: int
    headers: dict[str, str]
    body: Any


def http(
    method: str,
    url: str,
    token: str | None = None,
    body: Any = None,
    *,
    plain: bool = False,
    raw: bytes | None = None,
    headers: dict[str, str] | None = None,
) -> Reply:
    """One request; ``plain`` sends the token un-encoded, as 2.1.1 peers do."""
    sent = dict(headers or {})
    if token is not None:
        encoded = token if plain else base64.b64encode(token.encode()).decode()
        sent["Authorization"] = f"Token {encoded}"
    data = raw if raw is not None else (json.dumps(body).encode() if body is not None else None)
    if data is not None:
        sent.setdefault("Content-Type", "application/json")
    request = urllib.request.Request(url, data=data, headers=sent, method=method)
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            status, answer, got = response.status, response.read(), dict(response.headers)
    except urllib.error.HTTPError as exc:
        status, answer, got = exc.code, exc.read(), dict(exc.headers)
    return Reply(status, {k.lower(): v for k, v in got.items()}, json.loads(answer or b"null"))


@pytest.fixture
def platform(live_server: Any, settings: Any) -> str:
    """The live platform's base URL; its OCPI URLs are built from SITE_URL."""
    settings.SITE_URL = live_server.url
    return str(live_server.url)


@pytest.fixture
def cpo() -> Iterator[SimulatedCpo]:
    with SimulatedCpo(party_id="SIM") as simulated:
        yield simulated
