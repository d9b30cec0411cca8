"""A GET of an address that only takes a form (a reload after an error, a bookmarked
action) goes to the page the form belongs to instead of the browser's blank
"HTTP ERROR 405" (issue #18)."""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import Resolver404, resolve

# The API and OCPI answer 405 in their own envelopes; partners expect exactly that.
_OWN_ANSWERS = ("/api/", "/ocpi/", "/platform-admin/")


def page_of(path: str) -> str:
    """The nearest address above ``path`` that the site serves (``/`` at the top)."""
    parts = [p for p in path.split("/") if p]
    while parts:
        parts.pop()
        candidate = "/" + "".join(f"{p}/" for p in parts)
        try:
            resolve(candidate)
        except Resolver404:
            continue
        return candidate
    return "/"


class FormOnlyAddressMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if (
            response.status_code == 405
            and request.method in ("GET", "HEAD")
            and not request.path.startswith(_OWN_ANSWERS)
            and not request.headers.get("HX-Request")
        ):
            return HttpResponseRedirect(page_of(request.path))
        return response
