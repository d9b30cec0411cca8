"""Which language and time zone a page or an e-mail is in (issue #19).

A page: the user's own choice (their Account page), else the browser's
``Accept-Language``; the API and OCPI always answer in English (partners' machines read
them). Its time zone: the organisation's for its admins and drivers, the platform's
otherwise. An
e-mail: its recipient's language, else the organisation's default (a driver invited by
address has no account to choose one yet), in the organisation's time zone.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.utils import timezone, translation
from django.utils.cache import patch_vary_headers

if TYPE_CHECKING:
    from evdms.accounts.models import Organisation, User

# Answers read by programs, not people: English whatever the caller's browser says.
_MACHINE_PATHS = ("/api/", "/ocpi/")


def language_codes() -> list[str]:
    return [code for code, _name in settings.LANGUAGES]


def supported(code: str | None) -> str | None:
    """``code`` if the product speaks it (``nl-BE`` → ``nl``), else None."""
    if not code:
        return None
    try:
        return translation.get_supported_language_variant(code)
    except LookupError:
        return None


def user_language(user: User | None, organisation: Organisation | None = None) -> str:
    """The language to write to ``user`` in: their own choice, else the organisation's
    default, else the platform's."""
    chosen = getattr(user, "language", "") if user is not None else ""
    fallback = organisation.default_language if organisation is not None else ""
    return supported(chosen) or supported(fallback) or settings.LANGUAGE_CODE


def organisation_time_zone(organisation: Organisation | None) -> str:
    zone = getattr(organisation, "time_zone", "") if organisation is not None else ""
    return zone or settings.TIME_ZONE


def _request_time_zone(request: HttpRequest) -> str:
    """An admin's organisation's zone; a driver's, the zone of the organisation they
    last asked to join (a driver belongs to one or two at most); else the platform's."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated or request.path.startswith(_MACHINE_PATHS):
        return settings.TIME_ZONE
    admin = user.admin_or_none
    if admin is not None:
        return organisation_time_zone(admin.organisation)
    from evdms.accounts.models import Organisation

    zone = (
        Organisation.objects.filter(memberships__driver=user)
        .order_by("-memberships__requested_at")
        .values_list("time_zone", flat=True)
        .first()
    )
    return zone or settings.TIME_ZONE


def request_language_of(user: Any, request: HttpRequest) -> str:
    """The language ``user``'s pages are in: their choice, else what the browser asks."""
    chosen = user.language if user is not None and user.is_authenticated else ""
    return supported(chosen) or translation.get_language_from_request(request)


def request_language(request: HttpRequest) -> str:
    if request.path.startswith(_MACHINE_PATHS):
        return settings.LANGUAGE_CODE
    return request_language_of(getattr(request, "user", None), request)


class LanguageMiddleware:
    """Django's LocaleMiddleware, with the user's own choice first and the time zone
    too. ``override`` rather than ``activate``: a thread that next serves an OCPI
    request (which skips this chain) does not keep the last page's language."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        language = request_language(request)
        with translation.override(language), timezone.override(_request_time_zone(request)):
            request.LANGUAGE_CODE = translation.get_language()
            response = self.get_response(request)
        patch_vary_headers(response, ("Accept-Language",))
        response.headers.setdefault("Content-Language", language)
        return response


def email_context(language: str, zone: str) -> Any:
    """Both overrides for rendering an e-mail, as one context manager."""
    from contextlib import ExitStack

    stack = ExitStack()
    stack.enter_context(translation.override(language))
    stack.enter_context(timezone.override(zone))
    return stack
