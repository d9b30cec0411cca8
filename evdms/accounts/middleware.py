"""The gate of two-factor authentication: a session that owes its second factor reaches
only the public pages and the pages that let it set one up."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, cast

from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth.views import redirect_to_login
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.utils.translation import gettext as _
from django_otp.middleware import is_verified

from evdms.accounts.selectors import has_two_factor, may_use_two_factor, two_factor_required
from evdms.ui.http import AuthenticatedRequest


class TwoFactorMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_view(
        self, request: HttpRequest, view: Any, args: Any, kwargs: Any
    ) -> HttpResponse | None:
        user = request.user
        # django-otp's check, the one OTPMiddleware installs as ``user.is_verified()``
        # (an attribute added at run time, which the type checker cannot see).
        if not user.is_authenticated or is_verified(user):
            return None
        access = getattr(view, "access", None)
        match = request.resolver_match
        # The API authenticates each call with its Bearer key, never with the session.
        if access == "public" or (match is not None and match.namespace == "api"):
            return None
        if not may_use_two_factor(user):
            return None  # drivers log in with their password alone
        if has_two_factor(user):
            # Logged in before the app was set up (another browser, say): this session
            # never gave a code, so it starts again from the log-in page.
            logout(request)
            messages.info(request, _("Log in again, with a code from your authenticator app."))
            return redirect_to_login(request.get_full_path())
        if two_factor_required(user):
            if access == "account":
                cast(AuthenticatedRequest, request).must_set_up_two_factor = True
                return None
            return redirect("accounts:two_factor")
        return None
