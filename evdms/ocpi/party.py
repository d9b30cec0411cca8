"""Our own party (from settings), our URLs and the modules we implement.

``MODULES`` is the list our 2.2.1 version details show: the next modules add one line
each (identifier, interface role, URL name in ``evdms/ocpi/urls.py``).
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.urls import reverse

VERSION = "2.2.1"

# (module identifier, our interface role, URL name). For credentials the role is not
# relevant (the module is symmetric); the spec advises SENDER for one's own.
MODULES: list[tuple[str, str, str]] = [
    ("credentials", "SENDER", "ocpi:credentials"),
    ("tokens", "SENDER", "ocpi:tokens"),
    ("cdrs", "RECEIVER", "ocpi:cdrs"),
    ("sessions", "RECEIVER", "ocpi:sessions"),
    ("locations", "RECEIVER", "ocpi:locations"),
    ("tariffs", "RECEIVER", "ocpi:tariffs"),
]


def absolute(url_name: str) -> str:
    return settings.SITE_URL + reverse(url_name)


def versions_url() -> str:
    return absolute("ocpi:versions")


def versions() -> list[dict[str, str]]:
    return [{"version": VERSION, "url": absolute("ocpi:version_details")}]


def version_details() -> dict[str, Any]:
    return {
        "version": VERSION,
        "endpoints": [
            {"identifier": identifier, "role": role, "url": absolute(url_name)}
            for identifier, role, url_name in MODULES
        ],
    }


def business_details() -> dict[str, Any]:
    details: dict[str, Any] = {"name": settings.OCPI_BUSINESS_NAME}
    if settings.OCPI_BUSINESS_WEBSITE:
        details["website"] = settings.OCPI_BUSINESS_WEBSITE
    return details


def roles() -> list[dict[str, Any]]:
    return [
        {
            "role": "EMSP",
            "party_id": settings.OCPI_PARTY_ID,
            "country_code": settings.OCPI_COUNTRY_CODE,
            "business_details": business_details(),
        }
    ]


def credentials(token_c: str) -> dict[str, Any]:
    """Our credentials object: the token the partner calls us with, our versions URL."""
    return {"token": token_c, "url": versions_url(), "roles": roles()}
