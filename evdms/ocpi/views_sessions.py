"""The Sessions Receiver: ``/ocpi/2.2.1/sessions/{country_code}/{party_id}/{session_id}``
(GET, PUT, PATCH). Thin: the transport authenticates and parses, ``sessions`` decides."""

from __future__ import annotations

from django.http import HttpResponse

from evdms.ocpi import owned, sessions
from evdms.ocpi.transport import OcpiError, OcpiRequest, Status, ocpi_endpoint, ocpi_response


@ocpi_endpoint(methods=("GET", "PUT", "PATCH"))
def module(request: OcpiRequest) -> HttpResponse:
    """Our module's URL from the version details: objects live below it."""
    raise OcpiError(
        Status.CLIENT_ERROR,
        "Name a session: /{country_code}/{party_id}/{session_id}",
        http_status=404,
    )


@ocpi_endpoint(methods=("GET", "PUT", "PATCH"))
def session(
    request: OcpiRequest, country_code: str, party_id: str, session_id: str
) -> HttpResponse:
    partner = request.ocpi.partner
    if request.method == "GET":
        return ocpi_response(
            sessions.session_get(
                partner=partner, country_code=country_code, party_id=party_id, session_id=session_id
            )
        )
    created = sessions.session_write(
        partner=partner,
        country_code=country_code,
        party_id=party_id,
        session_id=session_id,
        body=request.ocpi.body,
        patch=request.method == "PATCH",
    )
    return owned.stored(created)
