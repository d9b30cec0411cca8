"""The Tariffs Receiver: ``/ocpi/2.2.1/tariffs/{country_code}/{party_id}/{tariff_id}``
(GET, PUT, DELETE; the spec has no PATCH). Thin: ``tariffs`` decides."""

from __future__ import annotations

from django.http import HttpResponse

from evdms.ocpi import owned, tariffs
from evdms.ocpi.transport import OcpiError, OcpiRequest, Status, ocpi_endpoint, ocpi_response


@ocpi_endpoint(methods=("GET", "PUT", "DELETE"))
def module(request: OcpiRequest) -> HttpResponse:
    """Our module's URL from the version details: objects live below it."""
    raise OcpiError(
        Status.CLIENT_ERROR,
        "Name a tariff: /{country_code}/{party_id}/{tariff_id}",
        http_status=404,
    )


@ocpi_endpoint(methods=("GET", "PUT", "DELETE"))
def tariff(request: OcpiRequest, country_code: str, party_id: str, tariff_id: str) -> HttpResponse:
    partner = request.ocpi.partner
    if request.method == "GET":
        return ocpi_response(
            tariffs.tariff_get(
                partner=partner, country_code=country_code, party_id=party_id, tariff_id=tariff_id
            )
        )
    if request.method == "DELETE":
        tariffs.tariff_delete(
            partner=partner, country_code=country_code, party_id=party_id, tariff_id=tariff_id
        )
        return ocpi_response(None)
    created = tariffs.tariff_put(
        partner=partner,
        country_code=country_code,
        party_id=party_id,
        tariff_id=tariff_id,
        body=request.ocpi.body,
    )
    return owned.stored(created)
