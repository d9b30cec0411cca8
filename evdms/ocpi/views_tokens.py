"""The Tokens module's Sender interface (we are the eMSP): the paginated list partners
pull to get in sync, and real-time authorisation. Thin: the transport authenticates and
parses, ``evdms.ocpi.tokens`` makes the objects."""

from __future__ import annotations

from django.http import HttpResponse

from evdms.ocpi import tokens
from evdms.ocpi.transport import (
    OcpiRequest,
    ocpi_endpoint,
    ocpi_response,
    paginate,
    paginated_response,
)
from evdms.public_charging.models import Token


@ocpi_endpoint(methods=("GET",))
def token_list(request: OcpiRequest) -> HttpResponse:
    """Every token of ours, valid or not (an invalid one tells the CPO to stop accepting
    it), oldest change first. Tokens are ours to offer to every partner: no partner
    filter. The same number of queries whatever the page: the (last_updated, id) index
    serves both the filter and the order, and an object needs only the token's row."""
    page = paginate(request, Token.objects.all(), order_by=("last_updated", "pk"))
    return paginated_response(page, [tokens.token_object(t) for t in page.objects])


@ocpi_endpoint(methods=("POST",), optional_body=True)
def token_authorize(request: OcpiRequest, uid: str) -> HttpResponse:
    info = tokens.authorize(uid, request.GET.get("type"), request.ocpi.body)
    return ocpi_response(info)
