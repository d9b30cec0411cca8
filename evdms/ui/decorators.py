"""How a page says who may open it. Every view is wrapped by one of these; the URL-conf
test fails for a route whose view is not, so no page is left open by accident."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, cast

from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest
from django.http.response import HttpResponseBase
from django.utils.translation import gettext as _

from evdms.accounts.permissions import Actor, Permission
from evdms.accounts.selectors import may_use_two_factor
from evdms.ui.http import AdminRequest

View = Callable[..., HttpResponseBase]


def _guarded(view: View, access: str) -> View:
    """Mark ``view`` with who may open it: the URL-conf test and the two-factor
    middleware read ``view.access``. (A function keeps its attributes in ``__dict__``,
    which is typed, where ``Callable`` has no ``access``.)"""
    view.__dict__["access"] = access
    return view


def admin_required(permission: Permission) -> Callable[[View], View]:
    """Logged in as an active admin whose role has ``permission``; sets request.actor."""

    def decorator(view: View) -> View:
        @wraps(view)
        def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
            if not request.user.is_authenticated:
                return redirect_to_login(request.get_full_path())
            actor = Actor.for_user(request.user)
            if actor is None:
                raise PermissionDenied(_("This page is for organisation admins."))
            if not actor.can(permission):
                raise PermissionDenied(_("Your role does not give access to this page."))
            # From here on the request is what AdminRequest declares.
            cast(AdminRequest, request).actor = actor.serving(permission)
            return view(request, *args, **kwargs)

        return _guarded(wrapper, permission)

    return decorator


def public(view: View) -> View:
    """Open to anyone (log-in, set-up links, the invite landing page)."""
    return _guarded(view, "public")


def login_required(view: View) -> View:
    """Any logged-in user, admin or driver."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        return view(request, *args, **kwargs)

    return _guarded(wrapper, "login")


def account_required(view: View) -> View:
    """An admin or a platform operator, about their own log-in (two-factor set-up).
    Drivers get 403: they log in with a password alone."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        if not may_use_two_factor(request.user):
            raise PermissionDenied(_("This page is for admins and platform operators."))
        return view(request, *args, **kwargs)

    return _guarded(wrapper, "account")
