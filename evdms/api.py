"""The JSON API under /api/v1/: one NinjaAPI, bearer API keys, errors mapped here only.

Every error a caller can cause answers 4xx with a JSON body; field errors have the same
shape as ninja's own validation errors: {"detail": [{"loc": [...], "msg": ..., "type": ...}]}.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.core.exceptions import PermissionDenied, RequestDataTooBig, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from ninja import NinjaAPI
from ninja.errors import AuthenticationError
from ninja.security import HttpBearer

from evdms.accounts.permissions import Actor, Permission, require
from evdms.accounts.services import api_key_authenticate


class ApiKeyAuth(HttpBearer):
    """A valid organisation API key whose role allows ``permission``.

    Each operation names its permission with ``auth=requires(Permission.X)``; the
    URL-conf test fails for an operation that does not.
    """

    def __init__(self, permission: Permission | None = None) -> None:
        super().__init__()
        self.permission = permission

    def authenticate(self, request: HttpRequest, token: str) -> Actor | None:
        key = api_key_authenticate(token)
        if key is None:
            return None
        actor = Actor.for_api_key(key)
        if self.permission is not None:
            require(actor, self.permission)
        request.actor = actor  # type: ignore[attr-defined]
        return actor


def requires(permission: Permission) -> ApiKeyAuth:
    return ApiKeyAuth(permission)


class OperatorKeyAuth(HttpBearer):
    """A valid platform operator's API key (``evdmsop_…``, made with
    ``manage.py create_api_key --operator EMAIL``). An organisation key is refused with
    403: no organisation role reaches operator operations."""

    def authenticate(self, request: HttpRequest, token: str) -> Any:
        from evdms.reimbursements.operator_keys import operator_api_key_authenticate

        operator = operator_api_key_authenticate(token)
        if operator is not None:
            request.operator = operator  # type: ignore[attr-defined]
            return operator
        if api_key_authenticate(token) is not None:
            raise PermissionDenied("This operation is for platform operators.")
        return None


operator_only = OperatorKeyAuth()


api = NinjaAPI(
    title="evdms API",
    version="1",
    description=(
        "The JSON API of evdms. Authenticate with an organisation API key: "
        "`Authorization: Bearer evdms_…` (create keys on the Settings page). "
        "Payout operations are for platform operators only, with an operator key "
        "`evdmsop_…` (`manage.py create_api_key --operator EMAIL`)."
    ),
    auth=ApiKeyAuth(),
    urls_namespace="api",
)


def check_page(offset: int, limit: int, max_limit: int = 1000) -> None:
    """The paging every list takes: ``offset`` ≥ 0 and ``limit`` from 1 to ``max_limit``."""
    if offset < 0 or not 1 <= limit <= max_limit:
        raise ValidationError({"limit": [f"Use offset ≥ 0 and a limit from 1 to {max_limit}."]})


def page_of(
    rows: Any, offset: int, limit: int, out: Callable[[Any], Any] = lambda row: row
) -> dict[str, Any]:
    """One page of ``rows`` as {"count", "items"}. Past the end there is nothing to read:
    an offset beyond the database's integers (10**20) is an empty page, not an error."""
    count = rows.count()
    return {
        "count": count,
        "items": [out(row) for row in rows[offset : offset + limit]] if offset < count else [],
    }


def field_errors(error: ValidationError, source: str = "body") -> list[dict[str, Any]]:
    """A Django ValidationError in ninja's error shape, one entry per message."""
    if hasattr(error, "error_dict"):
        return [
            {"loc": [source, field], "msg": message, "type": "value_error"}
            for field, messages in error.message_dict.items()
            for message in messages
        ]
    return [{"loc": [source], "msg": message, "type": "value_error"} for message in error.messages]


@api.exception_handler(ValidationError)
def _validation_error(request: HttpRequest, exc: ValidationError) -> HttpResponse:
    return api.create_response(request, {"detail": field_errors(exc)}, status=422)


@api.exception_handler(PermissionDenied)
def _permission_denied(request: HttpRequest, exc: PermissionDenied) -> HttpResponse:
    return api.create_response(
        request, {"detail": str(exc) or "Your role does not allow this."}, status=403
    )


@api.exception_handler(Http404)
def _not_found(request: HttpRequest, exc: Http404) -> HttpResponse:
    # The same words for a missing object and another organisation's object.
    return api.create_response(request, {"detail": "Not found."}, status=404)


@api.exception_handler(AuthenticationError)
def _unauthenticated(request: HttpRequest, exc: AuthenticationError) -> HttpResponse:
    response = api.create_response(
        request,
        {"detail": "A valid API key is required: Authorization: Bearer evdms_…"},
        status=401,
    )
    response["WWW-Authenticate"] = "Bearer"
    return response


@api.exception_handler(RequestDataTooBig)
def _too_big(request: HttpRequest, exc: RequestDataTooBig) -> HttpResponse:
    return api.create_response(request, {"detail": "The request body is too large."}, status=413)


def _register_routers() -> None:
    from evdms.accounts.api import router as accounts_router
    from evdms.charging.api import router as charging_router
    from evdms.connections.api import router as connections_router
    from evdms.enrolment.api import router as enrolment_router
    from evdms.reimbursements.api import router as reimbursements_router
    from evdms.reports.api import router as reports_router

    api.add_router("/", accounts_router)
    api.add_router("/", connections_router)
    api.add_router("/", enrolment_router)
    api.add_router("/", charging_router)
    api.add_router("/", reimbursements_router)
    api.add_router("/", reports_router)


_register_routers()
