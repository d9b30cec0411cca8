"""Our OCPI 2.2.1 endpoints (eMSP): versions, version details, credentials.

Thin: the transport (``ocpi_endpoint``) authenticates, limits and parses; the services
do the handshake."""

from __future__ import annotations

from django.http import HttpResponse

from evdms.accounts.keyed_hash import Match, keyed_hash_match
from evdms.ocpi import party, services
from evdms.ocpi.models import PartnerStatus
from evdms.ocpi.transport import (
    TOKEN_A_PURPOSE,
    TOKEN_C_PURPOSE,
    Credential,
    OcpiError,
    OcpiRequest,
    Status,
    ocpi_endpoint,
    ocpi_response,
    token_candidates,
)


@ocpi_endpoint(methods=("GET",), configuration=True)
def versions(request: OcpiRequest) -> HttpResponse:
    return ocpi_response(party.versions())


@ocpi_endpoint(methods=("GET",), configuration=True)
def version_details(request: OcpiRequest) -> HttpResponse:
    return ocpi_response(party.version_details())


@ocpi_endpoint(methods=("GET", "POST", "PUT", "DELETE"), configuration=True)
def credentials(request: OcpiRequest) -> HttpResponse:
    context = request.ocpi
    partner = context.partner
    registered = context.credential == Credential.C and partner.status == PartnerStatus.REGISTERED
    if request.method == "GET":
        # Our credentials as the partner knows them; the token C it already holds is
        # not stored in the clear, so it is not repeated (only the rest is current).
        return ocpi_response(party.credentials(_presented_token(request)))
    if request.method == "POST":
        if context.credential != Credential.A:
            raise OcpiError(
                Status.CLIENT_ERROR, "Already registered: use PUT to update", http_status=405
            )
        return ocpi_response(services.partner_register(partner, context.body))
    if not registered:
        raise OcpiError(
            Status.CLIENT_ERROR, "Not registered: register with POST first", http_status=405
        )
    if request.method == "PUT":
        return ocpi_response(services.partner_update_credentials(partner, context.body))
    services.partner_unregister(partner)
    return ocpi_response(None)


def _presented_token(request: OcpiRequest) -> str:
    """The token the request was made with, decoded as it matched (A or C)."""
    partner = request.ocpi.partner
    if request.ocpi.credential == Credential.C:
        stored, purpose = partner.token_c_hash, TOKEN_C_PURPOSE
    else:
        stored, purpose = partner.token_a_hash, TOKEN_A_PURPOSE
    for candidate in token_candidates(request.headers.get("Authorization", "")):
        if keyed_hash_match(candidate, stored, purpose=purpose) != Match.NO:
            return candidate
    return ""
