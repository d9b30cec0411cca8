"""The Locations Receiver:
``/ocpi/2.2.1/locations/{country_code}/{party_id}/{location_id}[/{evse_uid}[/{connector_id}]]``
(GET, PUT, PATCH; the spec has no DELETE: an EVSE is removed with status REMOVED).
Thin: ``locations`` decides."""

from __future__ import annotations

from django.http import HttpResponse

from evdms.ocpi import locations, owned
from evdms.ocpi.transport import OcpiError, OcpiRequest, Status, ocpi_endpoint, ocpi_response


@ocpi_endpoint(methods=("GET", "PUT", "PATCH"))
def module(request: OcpiRequest) -> HttpResponse:
    """Our module's URL from the version details: objects live below it."""
    raise OcpiError(
        Status.CLIENT_ERROR,
        "Name a location: /{country_code}/{party_id}/{location_id}[/{evse_uid}[/{connector_id}]]",
        http_status=404,
    )


@ocpi_endpoint(methods=("GET", "PUT", "PATCH"))
def location(
    request: OcpiRequest,
    country_code: str,
    party_id: str,
    location_id: str,
    evse_uid: str | None = None,
    connector_id: str | None = None,
) -> HttpResponse:
    partner = request.ocpi.partner
    if request.method == "GET":
        return ocpi_response(
            locations.location_get(
                partner=partner,
                country_code=country_code,
                party_id=party_id,
                location_id=location_id,
                evse_uid=evse_uid,
                connector_id=connector_id,
            )
        )
    created = locations.location_write(
        partner=partner,
        country_code=country_code,
        party_id=party_id,
        location_id=location_id,
        evse_uid=evse_uid,
        connector_id=connector_id,
        body=request.ocpi.body,
        patch=request.method == "PATCH",
    )
    return owned.stored(created)
