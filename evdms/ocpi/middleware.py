"""Requests under ``/ocpi/`` take a middleware chain of their own (``OCPI_MIDDLEWARE``).

OCPI partners are machines that authenticate every request with their credentials token
(``evdms.ocpi.transport.authenticate``): no session, no log-in, no CSRF token (every
OCPI view is exempt), no messages, no second factor, no HTML to protect with a content
security policy. The site's chain (sessions, authentication, OTP, messages, CSP, htmx,
axes) cost about half of a real-time authorisation's CPU for nothing, and made every
answer ``Vary: Cookie``. What does apply stays: ``SecurityMiddleware`` (HTTPS redirect,
HSTS, nosniff, referrer and opener policies) and ``CommonMiddleware`` (the Host header
checked against ALLOWED_HOSTS), with the two framing and content headers an API answer
needs, set as constants (``api_headers``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, cast

from django.conf import settings
from django.core.exceptions import MiddlewareNotUsed
from django.core.handlers.base import BaseHandler
from django.core.handlers.exception import convert_exception_to_response
from django.http import HttpRequest, HttpResponse
from django.utils.module_loading import import_string

PREFIX = "/ocpi/"
# A JSON API answer is never a document to render or frame: nothing may load from it.
CONTENT_SECURITY_POLICY = "default-src 'none'; frame-ancestors 'none'"

GetResponse = Callable[[HttpRequest], HttpResponse]


class _OcpiHandler(BaseHandler):
    """Django's own request handling (URL resolution, the view, its exceptions) behind
    ``OCPI_MIDDLEWARE`` instead of ``MIDDLEWARE``; synchronous, as our WSGI server is."""

    def load_middleware(self, is_async: bool = False) -> None:
        self._view_middleware: list[Any] = []
        self._template_response_middleware: list[Any] = []
        self._exception_middleware: list[Any] = []
        # _get_response is Django's (resolve, view middleware, view, exceptions); the
        # stubs leave the private method out.
        handler: Any = convert_exception_to_response(cast(Any, self)._get_response)
        for path in reversed(settings.OCPI_MIDDLEWARE):
            try:
                middleware = import_string(path)(handler)
            except MiddlewareNotUsed:
                continue
            if hasattr(middleware, "process_view"):
                self._view_middleware.insert(0, middleware.process_view)
            if hasattr(middleware, "process_template_response"):
                self._template_response_middleware.append(middleware.process_template_response)
            if hasattr(middleware, "process_exception"):
                self._exception_middleware.append(middleware.process_exception)
            handler = convert_exception_to_response(middleware)
        self._middleware_chain = handler


class OcpiMiddleware:
    """First in ``MIDDLEWARE``: an OCPI request leaves the site's chain here."""

    def __init__(self, get_response: GetResponse) -> None:
        self.get_response = get_response
        handler = _OcpiHandler()
        handler.load_middleware()
        self.ocpi_chain: GetResponse = cast(GetResponse, handler._middleware_chain)

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.path_info.startswith(PREFIX):
            return self.ocpi_chain(request)
        return self.get_response(request)


def api_headers(get_response: GetResponse) -> GetResponse:
    """What XFrameOptionsMiddleware and the CSP middleware give pages, as constants."""

    def middleware(request: HttpRequest) -> HttpResponse:
        response = get_response(request)
        response.headers.setdefault("X-Frame-Options", "DENY")
        response.headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
        return response

    return middleware
