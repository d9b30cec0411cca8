"""What every area's API router takes from below: the key checks (``requires``,
``operator_only``), the paging every list uses, and the error bodies the operations
declare. The API itself (its error handlers, OpenAPI document and the mounting of the
routers) is ``evdms.api``, above the areas; keeping these pieces here lets the routers
import them without importing the module that imports the routers.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, cast

from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest
from ninja import Schema
from ninja.security import HttpBearer

from evdms.accounts.models import User
from evdms.accounts.permissions import Actor, Permission, require
from evdms.accounts.services import api_key_authenticate
from evdms.accounts.services.operator_keys import operator_api_key_authenticate
from evdms.ui.http import ApiRequest, OperatorApiRequest


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
            actor = actor.serving(self.permission)
        cast(ApiRequest, request).actor = actor
        return actor


def requires(permission: Permission) -> ApiKeyAuth:
    return ApiKeyAuth(permission)


class OperatorKeyAuth(HttpBearer):
    """A valid platform operator's API key (``evdmsop_…``, made with
    ``manage.py create_api_key --operator EMAIL``). An organisation key is refused with
    403: no organisation role reaches operator operations."""

    def authenticate(self, request: HttpRequest, token: str) -> User | None:
        operator = operator_api_key_authenticate(token)
        if operator is not None:
            cast(OperatorApiRequest, request).operator = operator
            return operator
        if api_key_authenticate(token) is not None:
            raise PermissionDenied("This operation is for platform operators.")
        return None


operator_only = OperatorKeyAuth()


# --- error bodies, as the handlers below write them ------------------------------------


class ErrorOut(Schema):
    """401, 403, 404, 409 and 413: what went wrong, in words."""

    detail: str


class FieldError(Schema):
    """One wrong input: ``loc`` is where (``["query", "limit"]``, ``["body", "email"]``,
    ``["body"]`` for the body as a whole), ``msg`` says what to change."""

    loc: list[str | int]
    msg: str
    type: str


class FieldErrorsOut(Schema):
    """400 (a body or query that cannot be read) and 422 (values that are not allowed)."""

    detail: list[FieldError]


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
