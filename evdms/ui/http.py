"""The request as a view sees it once its guard has let it in (as healthchecks'
``AuthenticatedHttpRequest``). These classes are annotations only: Django and ninja
still pass an ``HttpRequest``, and the guard that admits the request sets the
attributes declared here (``evdms.ui.decorators`` for pages, ``evdms.ui.api`` for the
API), so a view annotated with one may read them without a check of its own.

They are imported at run time, not under ``TYPE_CHECKING``: ninja reads the annotations
of an operation's arguments when the router is built.
"""

from __future__ import annotations

from django.http import HttpRequest

from evdms.accounts.models import User
from evdms.accounts.permissions import Actor


class AuthenticatedRequest(HttpRequest):
    """A logged-in user, admin or driver (``login_required``, ``account_required``), or a
    platform operator in the admin site's own views and actions (``admin_view`` lets in
    only a logged-in staff user)."""

    user: User
    # Set by TwoFactorMiddleware on a set-up page while the second factor is owed: the
    # navigation then offers no other page.
    must_set_up_two_factor: bool
    # Set by a view that finds the account locked out; axes answers with its lock-out page.
    axes_locked_out: bool


class AdminRequest(AuthenticatedRequest):
    """An active admin whose role allowed the page (``admin_required``)."""

    actor: Actor


class ApiRequest(HttpRequest):
    """A call with a valid organisation API key (``ApiKeyAuth``): ninja puts what the
    key check returned in ``auth``, and the check sets ``actor`` to the same."""

    auth: Actor
    actor: Actor


class OperatorApiRequest(HttpRequest):
    """A call with a valid platform operator's key (``OperatorKeyAuth``)."""

    auth: User
    operator: User
