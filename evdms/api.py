"""The JSON API under /api/v1/: one NinjaAPI, bearer API keys, errors mapped here only.

Every error a caller can cause answers 4xx with a JSON body, and every operation declares
the error answers it can give in the OpenAPI document (see ``ErrorAwareSchema``). Input
errors (400 and 422) have the same shape as ninja's own validation errors:
{"detail": [{"loc": [...], "msg": ..., "type": ...}]}; the others are {"detail": "..."}.
"""

from __future__ import annotations

import json
from http.client import responses as reasons
from typing import Any

from django.core.exceptions import (
    BadRequest,
    PermissionDenied,
    RequestDataTooBig,
    TooManyFieldsSent,
    TooManyFilesSent,
    ValidationError,
)
from django.http import Http404, HttpRequest, HttpResponse, UnreadablePostError
from django.http.multipartparser import MultiPartParserError
from ninja import NinjaAPI, Schema
from ninja.errors import AuthenticationError, HttpError
from ninja.openapi.schema import REF_TEMPLATE, OpenAPISchema
from ninja.operation import Operation
from ninja.parser import Parser
from ninja.schema import NinjaGenerateJsonSchema

from evdms.accounts.api import router as accounts_router
from evdms.accounts.api_billing import router as billing_router
from evdms.charging.api import router as charging_router
from evdms.connections.api import router as connections_router
from evdms.enrolment.api import router as enrolment_router
from evdms.installations.api import router as installations_router
from evdms.installations.api_installer import router as installer_router
from evdms.invoicing.api import router as invoices_router
from evdms.invoicing.api_fees import router as fee_schedules_router
from evdms.invoicing.api_operator import router as invoicing_operator_router
from evdms.public_charging.api_tokens import router as tokens_router
from evdms.reimbursements.api import router as reimbursements_router
from evdms.reports.api import router as reports_router
from evdms.ui.api import ApiKeyAuth, ErrorOut, FieldErrorsOut


class MalformedBody(ValueError):
    """A request body that cannot be read; its message is meant for the caller."""


def _json_int(digits: str) -> int:
    # int() refuses more than 4300 digits with a message about Python's own limits.
    try:
        return int(digits)
    except ValueError as exc:
        raise MalformedBody("Malformed JSON body: a number is too large.") from exc


class JsonParser(Parser):
    """ninja's JSON parser with messages for the caller instead of the parser's own."""

    def parse_body(self, request: HttpRequest) -> Any:
        try:
            return json.loads(request.body, parse_int=_json_int)
        except RecursionError as exc:
            raise MalformedBody("Malformed JSON body: it is nested too deeply.") from exc
        except MalformedBody:
            raise
        except ValueError as exc:  # JSONDecodeError and UnicodeDecodeError alike
            raise MalformedBody("Malformed JSON body.") from exc


def _operation_errors(operation: Operation) -> dict[int, type[Schema]]:
    """The error answers ``operation`` can give, from what it takes: a key (401; 403 for
    a key whose role or kind does not allow it), a query or a body (400 when it cannot be
    read), a body (413 too large), an object in its path (404, also for another
    organisation's), any input at all (422 for a value that is not allowed)."""
    sources = {model.__ninja_param_source__ for model in operation.models}
    errors: dict[int, type[Schema]] = {}
    if sources & {"query", "body", "form", "file"}:
        errors[400] = FieldErrorsOut
    if operation.auth_callbacks:
        errors[401] = ErrorOut
        errors[403] = ErrorOut
    if "path" in sources:
        errors[404] = ErrorOut
    if sources & {"body", "form", "file"}:
        errors[413] = ErrorOut
    if sources:
        errors[422] = FieldErrorsOut
    return errors


class ErrorAwareSchema(OpenAPISchema):
    """The OpenAPI document with every operation's error answers declared next to its
    success, so a client (and schemathesis) knows each status code and its body. An
    operation that can also conflict (409) says so in its own ``response=``."""

    def responses(self, operation: Operation) -> dict[int, Any]:
        result = super().responses(operation)
        for status, model in _operation_errors(operation).items():
            result.setdefault(
                status,
                {
                    "description": reasons[status],
                    "content": {"application/json": {"schema": self._ref(model)}},
                },
            )
        return dict(sorted(result.items()))

    def _ref(self, model: type[Schema]) -> dict[str, str]:
        schema = model.model_json_schema(
            ref_template=REF_TEMPLATE, schema_generator=NinjaGenerateJsonSchema
        )
        self.add_schema_definitions(schema.pop("$defs", {}))
        self.add_schema_definitions({model.__name__: schema})
        return {"$ref": REF_TEMPLATE.format(model=model.__name__)}


class EvdmsAPI(NinjaAPI):
    def get_openapi_schema(
        self, *, path_prefix: str | None = None, path_params: dict[str, Any] | None = None
    ) -> OpenAPISchema:
        if path_prefix is None:
            path_prefix = self.get_root_path(path_params or {})
        return ErrorAwareSchema(self, path_prefix)


api = EvdmsAPI(
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
    parser=JsonParser(),
)


def _source(request: HttpRequest, field: str | None) -> str:
    """Where a field came from: the query string for a request without a body, or for a
    field the query string has; else the body."""
    if request.method in {"GET", "HEAD", "DELETE"} or (field and field in request.GET):
        return "query"
    return "body"


def field_errors(error: ValidationError, request: HttpRequest) -> list[dict[str, Any]]:
    """A Django ValidationError in ninja's error shape, one entry per message."""
    if hasattr(error, "error_dict"):
        return [
            {"loc": [_source(request, field), field], "msg": message, "type": "value_error"}
            for field, messages in error.message_dict.items()
            for message in messages
        ]
    return [
        {"loc": [_source(request, None)], "msg": message, "type": "value_error"}
        for message in error.messages
    ]


def _unreadable(request: HttpRequest, message: str) -> HttpResponse:
    return api.create_response(
        request,
        {"detail": [{"loc": ["body"], "msg": message, "type": "malformed_body"}]},
        status=400,
    )


@api.exception_handler(ValidationError)
def _validation_error(request: HttpRequest, exc: ValidationError) -> HttpResponse:
    return api.create_response(request, {"detail": field_errors(exc, request)}, status=422)


@api.exception_handler(HttpError)
def _http_error(request: HttpRequest, exc: HttpError) -> HttpResponse:
    if isinstance(exc.__cause__, MalformedBody):  # ninja's wrapping of our parser's refusal
        return _unreadable(request, str(exc.__cause__))
    if exc.status_code == 400:
        return _unreadable(request, str(exc))
    return api.create_response(request, {"detail": str(exc)}, status=exc.status_code)


@api.exception_handler(MultiPartParserError)
def _bad_multipart(request: HttpRequest, exc: MultiPartParserError) -> HttpResponse:
    # Django's parser names the broken part (a missing boundary, a bad header); the
    # caller needs to know only that the form could not be read.
    return _unreadable(request, "The request body is not valid multipart/form-data.")


@api.exception_handler(UnreadablePostError)
def _cut_off(request: HttpRequest, exc: UnreadablePostError) -> HttpResponse:
    return _unreadable(request, "The request body could not be read completely.")


@api.exception_handler(BadRequest)
def _bad_request(request: HttpRequest, exc: BadRequest) -> HttpResponse:
    return _unreadable(request, "The request could not be read.")


@api.exception_handler(PermissionDenied)
def _permission_denied(request: HttpRequest, exc: PermissionDenied) -> HttpResponse:
    return api.create_response(
        request, {"detail": str(exc) or "Your role does not allow this."}, status=403
    )


@api.exception_handler(Http404)
def _not_found(request: HttpRequest, exc: Http404) -> HttpResponse:
    # The same words for a missing object and another organisation's object.
    return api.create_response(request, {"detail": "Not found."}, status=404)


@api.exception_handler(OverflowError)
def _beyond_any_id(request: HttpRequest, exc: OverflowError) -> HttpResponse:
    # An id in the path larger than a database integer (SQLite refuses to bind it): no
    # row can have it, so it is missing. Values in bodies are range-checked before use.
    return _not_found(request, Http404())


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


def _too_many(request: HttpRequest, exc: object) -> HttpResponse:
    return _unreadable(request, "The request has too many fields or files.")


api.add_exception_handler(TooManyFieldsSent, _too_many)
api.add_exception_handler(TooManyFilesSent, _too_many)


# The area routers, mounted last: each declares its operations with the pieces in
# evdms.ui.api, so none of them imports this module.
api.add_router("/", accounts_router)
api.add_router("/", billing_router)
api.add_router("/", connections_router)
api.add_router("/", enrolment_router)
api.add_router("/", charging_router)
api.add_router("/", reimbursements_router)
api.add_router("/", reports_router)
api.add_router("/installer", installer_router)
api.add_router("/", installations_router)
api.add_router("/", tokens_router)
api.add_router("/", invoices_router)
api.add_router("/", fee_schedules_router)
api.add_router("/", invoicing_operator_router)
