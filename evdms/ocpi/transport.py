"""OCPI transport: what every OCPI view of ours needs, in one place.

Plain Django views with the ``ocpi_endpoint`` decorator, not a django-ninja ``NinjaAPI``:
every answer (a 401, a 405, a body too large, malformed JSON, a crash) must be the OCPI
envelope with its four-digit status code, the two message ids echoed and, for functional
modules, the routing headers; ninja's own validation errors, authentication answers and
OpenAPI schema would each need overriding, and OCPI's paths, roles and pagination
headers are not the REST API's (``/api/v1/``), which keeps its documented schema clean.

- the envelope: ``ocpi_response`` (``data``, ``status_code``, ``status_message``,
  ``timestamp`` in RFC 3339 UTC); ``OcpiError`` raised anywhere in a view becomes one;
- the ``Authorization: Token <token>`` header, Base64 (2.2.1) or plain (2.1.1/2.2
  peers), naming a ``Partner`` by its token A or C; HTTP 401 with an envelope otherwise;
- ``X-Request-ID`` / ``X-Correlation-ID`` echoed (a fresh id when the request had none);
- ``OCPI-from-*`` / ``OCPI-to-*`` routing headers read and answered (swapped) on
  functional modules only: the spec forbids them on versions and credentials;
- request bodies of at most ``MAX_BODY_BYTES``, JSON-checked;
- pagination (``offset``, ``limit``, ``date_from`` inclusive / ``date_to`` exclusive,
  ``X-Total-Count``, ``X-Limit``, ``Link: <…>; rel="next"``).
"""

from __future__ import annotations

import base64
import binascii
import json
import logging
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from enum import IntEnum
from functools import cache, wraps
from typing import Any, Concatenate, ParamSpec
from urllib.parse import urlencode

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.db import connection
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt

from evdms.accounts.keyed_hash import Match, keyed_hash, keyed_hash_candidates, keyed_hash_match
from evdms.ocpi.models import Partner, PartnerStatus
from evdms.ocpi.schema import DATETIME

logger = logging.getLogger("evdms.ocpi")

P = ParamSpec("P")

# No OCPI object we receive comes near this (a CDR with many charging periods is tens of
# kB); a larger body is refused before it is parsed.
MAX_BODY_BYTES = 1_048_576
# last_traffic_at is written at most this often per partner, not on every request.
TRAFFIC_RESOLUTION = timedelta(minutes=1)
TOKEN_A_PURPOSE = "ocpi.token_a"
TOKEN_C_PURPOSE = "ocpi.token_c"
ROUTING_HEADERS = (
    "OCPI-from-country-code",
    "OCPI-from-party-id",
    "OCPI-to-country-code",
    "OCPI-to-party-id",
)


class Status(IntEnum):
    SUCCESS = 1000
    CLIENT_ERROR = 2000
    INVALID_PARAMETERS = 2001
    NOT_ENOUGH_INFORMATION = 2002
    UNKNOWN_LOCATION = 2003
    UNKNOWN_TOKEN = 2004
    SERVER_ERROR = 3000
    CLIENT_API_UNUSABLE = 3001
    UNSUPPORTED_VERSION = 3002
    NO_MATCHING_ENDPOINTS = 3003


class OcpiError(Exception):
    """Raised in an OCPI view: answered as the envelope with this status code.

    The HTTP status defaults to 200: the spec says a request that is valid JSON and
    reaches an existing resource gets no HTTP error, its OCPI status code tells."""

    def __init__(self, status: Status, message: str, *, http_status: int = 200) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.http_status = http_status


class Credential:
    A = "A"
    C = "C"


@dataclass
class Routing:
    """The routing headers of a request (empty strings when absent)."""

    from_country_code: str = ""
    from_party_id: str = ""
    to_country_code: str = ""
    to_party_id: str = ""


@dataclass
class OcpiContext:
    partner: Partner
    credential: str  # Credential.A or Credential.C
    body: Any = None  # the parsed JSON body, for POST/PUT/PATCH
    routing: Routing = field(default_factory=Routing)


class OcpiRequest(HttpRequest):
    ocpi: OcpiContext


def timestamp(moment: datetime | None = None) -> str:
    """RFC 3339 in UTC with a ``Z``, as OCPI's DateTime wants (never ``+00:00``)."""
    moment = (moment or timezone.now()).astimezone(UTC)
    text = moment.strftime("%Y-%m-%dT%H:%M:%S")
    if moment.microsecond:
        text += f".{moment.microsecond // 1000:03d}"
    return text + "Z"


def parse_timestamp(text: str) -> datetime:
    """An OCPI DateTime (``Z`` or no designator: both UTC); ``ValueError`` otherwise."""
    if not isinstance(text, str) or len(text) > 25 or not DATETIME.match(text):
        raise ValueError(text)
    value = datetime.fromisoformat(text[:-1] if text.endswith("Z") else text)
    if value.tzinfo is not None:
        raise ValueError(text)
    return value.replace(tzinfo=UTC)


def ocpi_response(
    data: Any = None,
    status: Status = Status.SUCCESS,
    message: str | None = None,
    *,
    http_status: int = 200,
) -> JsonResponse:
    body: dict[str, Any] = {}
    if data is not None:
        body["data"] = data
    body["status_code"] = int(status)
    body["status_message"] = message or ("Success" if status == Status.SUCCESS else status.name)
    body["timestamp"] = timestamp()
    return JsonResponse(body, status=http_status, safe=False)


def token_candidates(header: str) -> list[str]:
    """The tokens an ``Authorization`` value may carry: the Base64-decoded one (2.2.1)
    first, then the value as sent (2.1.1 and 2.2 peers send it plain)."""
    scheme, _, encoded = header.strip().partition(" ")
    encoded = encoded.strip()
    if scheme.lower() != "token" or not encoded:
        return []
    candidates = []
    try:
        decoded = base64.b64decode(encoded, validate=True).decode("ascii").strip()
    except (binascii.Error, UnicodeDecodeError, ValueError):
        decoded = ""
    if decoded and all(0x21 <= ord(c) <= 0x7E for c in decoded):
        candidates.append(decoded)
    candidates.append(encoded)
    return candidates


def authorization_header(token: str) -> str:
    """What we send: the 2.2.1 form, Base64 of the token's UTF-8 bytes."""
    return "Token " + base64.b64encode(token.encode()).decode("ascii")


def authenticate(request: HttpRequest, *, configuration: bool) -> tuple[Partner, str]:
    """The partner a request's token names, and which of our tokens it used.

    Token A (pending partners) works only on configuration modules (versions and
    credentials); token C on any module of a registered partner, and on configuration
    modules of a partner we are registering with (it calls our versions back during our
    POST). Anything else: ``OcpiError`` with HTTP 401."""
    candidates = token_candidates(request.headers.get("Authorization", ""))
    if not candidates:
        raise OcpiError(
            Status.CLIENT_ERROR, "Authorization: Token <token> is missing", http_status=401
        )
    per_a = [keyed_hash_candidates(c, purpose=TOKEN_A_PURPOSE) for c in candidates]
    per_c = [keyed_hash_candidates(c, purpose=TOKEN_C_PURPOSE) for c in candidates]
    hashes_a = [h for hashes in per_a for h in hashes]
    hashes_c = [h for hashes in per_c for h in hashes]
    partner = _partner_by_token_hash(hashes_a, hashes_c)
    unknown = OcpiError(Status.CLIENT_ERROR, "The credentials token is not known", http_status=401)
    if partner is None:
        raise unknown
    if partner.token_c_hash and partner.token_c_hash in hashes_c:
        credential, purpose, stored = Credential.C, TOKEN_C_PURPOSE, partner.token_c_hash
    else:
        credential, purpose, stored = Credential.A, TOKEN_A_PURPOSE, partner.token_a_hash
    if partner.status == PartnerStatus.SUSPENDED:
        raise OcpiError(Status.CLIENT_ERROR, "This partner is suspended", http_status=401)
    if credential == Credential.A and (
        partner.status != PartnerStatus.PENDING or not configuration
    ):
        raise unknown
    if credential == Credential.C and partner.status not in (
        PartnerStatus.REGISTERED,
        *((PartnerStatus.PENDING,) if configuration else ()),
    ):
        raise unknown
    # Made with the current key (the first of each candidate's hashes): nothing to
    # re-hash, and no need to work out which key it was.
    current = {hashes[0] for hashes in (per_c if credential == Credential.C else per_a)}
    if stored not in current:
        _rehash_if_stale(partner, candidates, purpose, stored)
    return partner, credential


@cache
def _partner_sql(vendor: str, count_a: int, count_c: int) -> str:
    quote = connection.ops.quote_name
    columns = ", ".join(
        quote(f.attname if f.column is None else f.column) for f in Partner._meta.concrete_fields
    )
    marks_a = ", ".join(["%s"] * count_a)
    marks_c = ", ".join(["%s"] * count_c)
    return (
        f"SELECT {columns} FROM {quote(Partner._meta.db_table)} "  # noqa: S608 (no input)
        f"WHERE {quote('token_a_hash')} IN ({marks_a}) OR {quote('token_c_hash')} IN ({marks_c}) "
        "LIMIT 1"
    )


def _partner_by_token_hash(hashes_a: list[str], hashes_c: list[str]) -> Partner | None:
    """The partner holding one of the hashes, or ``None``. Both hash columns are unique
    (and of different purposes): at most one partner, so no ORDER BY.

    The SQL is written once per shape rather than compiled from ``Q(token_a_hash__in) |
    Q(token_c_hash__in)`` on each request: the compiling was two thirds of the look-up,
    and the look-up 43 % of a CDR POST (docs/benchmarks.md). The values are still
    parameters, and the raw query set converts the columns as the ORM would."""
    sql = _partner_sql(connection.vendor, len(hashes_a), len(hashes_c))
    found = list(Partner.objects.raw(sql, [*hashes_a, *hashes_c]))
    return found[0] if found else None


def _rehash_if_stale(partner: Partner, candidates: list[str], purpose: str, stored: str) -> None:
    """A token hashed with a retired SECRET_KEY still works; store its current hash."""
    for candidate in candidates:
        if keyed_hash_match(candidate, stored, purpose=purpose) == Match.STALE:
            column = "token_c_hash" if purpose == TOKEN_C_PURPOSE else "token_a_hash"
            Partner.objects.filter(pk=partner.pk, **{column: stored}).update(
                **{column: keyed_hash(candidate, purpose=purpose)}
            )
            return


def _touch(partner: Partner) -> None:
    now = timezone.now()
    if partner.last_traffic_at is None or now - partner.last_traffic_at >= TRAFFIC_RESOLUTION:
        Partner.objects.filter(pk=partner.pk).update(last_traffic_at=now)
        partner.last_traffic_at = now


def _read_json(request: HttpRequest, *, optional: bool = False) -> Any:
    too_large = OcpiError(
        Status.INVALID_PARAMETERS,
        f"The request body is larger than {MAX_BODY_BYTES} bytes",
        http_status=413,
    )
    try:
        length = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        length = 0
    if length > MAX_BODY_BYTES:
        raise too_large
    try:
        raw = request.body
    except RequestDataTooBig:
        raise too_large from None
    if len(raw) > MAX_BODY_BYTES:
        raise too_large
    if not raw:
        if optional:
            return None
        raise OcpiError(Status.INVALID_PARAMETERS, "The request has no JSON body", http_status=400)
    try:
        return json.loads(raw)
    except (ValueError, UnicodeDecodeError) as exc:
        # Not JSON at all: the spec wants HTTP 400 for this (transport layer).
        raise OcpiError(
            Status.INVALID_PARAMETERS, f"The body is not valid JSON: {exc}", http_status=400
        ) from None


def _routing(request: HttpRequest) -> Routing:
    h = request.headers
    return Routing(
        from_country_code=h.get("OCPI-from-country-code", "").strip().upper(),
        from_party_id=h.get("OCPI-from-party-id", "").strip().upper(),
        to_country_code=h.get("OCPI-to-country-code", "").strip().upper(),
        to_party_id=h.get("OCPI-to-party-id", "").strip().upper(),
    )


def _answer_routing(response: HttpResponse, routing: Routing) -> None:
    """The answer goes back to whoever sent the request, from whom it was sent to (us,
    when the request did not say)."""
    answer = {
        "OCPI-to-country-code": routing.from_country_code,
        "OCPI-to-party-id": routing.from_party_id,
        "OCPI-from-country-code": routing.to_country_code or settings.OCPI_COUNTRY_CODE,
        "OCPI-from-party-id": routing.to_party_id or settings.OCPI_PARTY_ID,
    }
    for name, value in answer.items():
        if value:
            response[name] = value


def _echo_ids(request: HttpRequest, response: HttpResponse) -> None:
    for name in ("X-Request-ID", "X-Correlation-ID"):
        value = request.headers.get(name, "").strip()
        # An id longer than a header line should be is not echoed back verbatim.
        response[name] = value[:255] if value and value.isprintable() else str(uuid.uuid4())


def ocpi_endpoint(
    *, methods: tuple[str, ...], configuration: bool = False, optional_body: bool = False
) -> Callable[[Callable[Concatenate[OcpiRequest, P], HttpResponse]], Callable[..., HttpResponse]]:
    """Make a view an OCPI endpoint (see the module's docstring). ``configuration`` is
    True for the versions and credentials modules: token A accepted, no routing headers.
    The view finds the partner, the credential and the parsed body in ``request.ocpi``;
    ``optional_body`` lets a POST come without one (``body`` is then None), as the
    Tokens module's authorize may."""

    def decorate(
        view: Callable[Concatenate[OcpiRequest, P], HttpResponse],
    ) -> Callable[..., HttpResponse]:
        @csrf_exempt
        @wraps(view)
        def wrapper(request: HttpRequest, *args: P.args, **kwargs: P.kwargs) -> HttpResponse:
            routing = Routing() if configuration else _routing(request)
            try:
                response = _handle(request, view, routing, args, kwargs)
            except OcpiError as error:
                response = ocpi_response(
                    None, error.status, error.message, http_status=error.http_status
                )
                if error.http_status == 404:
                    # An unknown token or object is an answer of the protocol (a CPO
                    # asking about a card not ours), not a broken link: Django's
                    # "Not Found" warning for each would be noise, written per request.
                    response._has_been_logged = True  # type: ignore[attr-defined]
            except Exception:
                # A bug of ours: logged with its traceback (for us to fix), answered in
                # the envelope with 3000, the spec's generic server error, never Django's
                # HTML 500 page. HTTP 200 as for any request that reached the OCPI layer:
                # the status code tells the partner nothing was accepted.
                logger.exception("OCPI %s %s failed", request.method, request.path)
                response = ocpi_response(
                    None, Status.SERVER_ERROR, "Internal error; it has been logged"
                )
            if not configuration:
                _answer_routing(response, routing)
            _echo_ids(request, response)
            return response

        def _handle(
            request: HttpRequest,
            view: Callable[..., HttpResponse],
            routing: Routing,
            args: Any,
            kwargs: Any,
        ) -> HttpResponse:
            if request.method not in methods:
                response = ocpi_response(
                    None,
                    Status.CLIENT_ERROR,
                    f"Method {request.method} is not allowed here",
                    http_status=405,
                )
                response["Allow"] = ", ".join(methods)
                return response
            partner, credential = authenticate(request, configuration=configuration)
            _touch(partner)
            body = (
                _read_json(request, optional=optional_body)
                if request.method in {"POST", "PUT", "PATCH"}
                else None
            )
            ocpi_request: OcpiRequest = request  # type: ignore[assignment]  # adds .ocpi
            ocpi_request.ocpi = OcpiContext(
                partner=partner, credential=credential, body=body, routing=routing
            )
            return view(ocpi_request, *args, **kwargs)

        return wrapper

    return decorate


@csrf_exempt
def not_found(request: HttpRequest, path: str = "") -> HttpResponse:
    """Any other URL under /ocpi/: a 404 in the envelope, not Django's HTML page."""
    response = ocpi_response(None, Status.CLIENT_ERROR, "No such OCPI endpoint", http_status=404)
    _echo_ids(request, response)
    return response


# --- pagination ------------------------------------------------------------------------


@dataclass
class Page:
    objects: list[Any]
    total: int
    offset: int
    limit: int
    next_url: str | None


def _int_parameter(request: HttpRequest, name: str, default: int) -> int:
    raw = request.GET.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise OcpiError(
            Status.INVALID_PARAMETERS, f"{name} must be a whole number", http_status=400
        ) from None
    if value < 0:
        raise OcpiError(Status.INVALID_PARAMETERS, f"{name} must not be negative", http_status=400)
    return value


def _date_parameter(request: HttpRequest, name: str) -> datetime | None:
    raw = request.GET.get(name)
    if not raw:
        return None
    try:
        return parse_timestamp(raw)
    except ValueError:
        raise OcpiError(
            Status.INVALID_PARAMETERS,
            f"{name} must be an RFC 3339 timestamp in UTC, e.g. 2026-01-31T12:00:00Z",
            http_status=400,
        ) from None


def paginate(
    request: HttpRequest,
    queryset: QuerySet[Any],
    *,
    date_field: str = "last_updated",
    order_by: tuple[str, ...] = ("pk",),
    default_limit: int = 100,
    max_limit: int = 1000,
) -> Page:
    """One page of ``queryset``: filtered by ``date_from`` (inclusive) / ``date_to``
    (exclusive) on ``date_field``, in a stable order (oldest first, by ``order_by``),
    from ``offset``, at most ``limit`` (capped at ``max_limit``). Two queries: the count
    and the page."""
    offset = _int_parameter(request, "offset", 0)
    limit = min(_int_parameter(request, "limit", default_limit), max_limit)
    date_from = _date_parameter(request, "date_from")
    date_to = _date_parameter(request, "date_to")
    if date_from is not None:
        queryset = queryset.filter(**{f"{date_field}__gte": date_from})
    if date_to is not None:
        queryset = queryset.filter(**{f"{date_field}__lt": date_to})
    total = queryset.count()
    objects = list(queryset.order_by(*order_by)[offset : offset + limit]) if limit else []
    next_url = None
    if limit and offset + limit < total:
        kept = [(k, v) for k, values in request.GET.lists() for v in values]
        kept = [(k, v) for k, v in kept if k not in {"offset", "limit"}]
        query = urlencode([("offset", str(offset + limit)), ("limit", str(limit)), *kept])
        next_url = f"{settings.SITE_URL}{request.path}?{query}"
    return Page(objects=objects, total=total, offset=offset, limit=limit, next_url=next_url)


def paginated_response(page: Page, data: list[Any]) -> JsonResponse:
    """The envelope of a page, with X-Total-Count, X-Limit and (unless last) Link."""
    response = ocpi_response(data)
    response["X-Total-Count"] = str(page.total)
    response["X-Limit"] = str(page.limit)
    if page.next_url:
        response["Link"] = f'<{page.next_url}>; rel="next"'
    return response
