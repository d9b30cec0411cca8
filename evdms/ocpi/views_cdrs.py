"""The CDRs module, Receiver interface (we are the eMSP): ``POST /ocpi/2.2.1/cdrs`` keeps
a CDR, ``GET /ocpi/2.2.1/cdrs/{country_code}/{party_id}/{id}`` gives it back.

The GET URL is ours to define (the spec leaves it open): the CDR's owner and id, so it
is the same however often the CDR is posted, and readable by the partner that
delivered it only; anyone else's, or none, is an HTTP 404 alike.

Status codes, following the spec's transport rules: a body that is valid JSON reached
the OCPI layer, so a CDR breaking a rule is HTTP 200 with 2001 and the fields in the
message; a new CDR is HTTP 201, a retransmission HTTP 200, both 1000 with the same
``Location``. A CDR for a token we do not know is accepted (1000) and kept flagged:
2004 is the real-time authorisation's answer, and a CDR refused would be sent again or
lost.
"""

from __future__ import annotations

from urllib.parse import quote

from django.conf import settings
from django.http import HttpResponse
from django.urls import reverse

from evdms.ocpi.cdrs import CdrInvalid, cdr_for, cdr_receive
from evdms.ocpi.models import Cdr
from evdms.ocpi.transport import OcpiError, OcpiRequest, Status, ocpi_endpoint, ocpi_response


def cdr_url(cdr: Cdr) -> str:
    """Where the partner reads the CDR back (the POST's ``Location``)."""
    path = reverse("ocpi:cdrs")
    return (
        f"{settings.SITE_URL}{path.rstrip('/')}/{quote(cdr.country_code, safe='')}/"
        f"{quote(cdr.party_id, safe='')}/{quote(cdr.object_id, safe='')}"
    )


@ocpi_endpoint(methods=("POST",))
def cdrs(request: OcpiRequest) -> HttpResponse:
    try:
        cdr, created = cdr_receive(request.ocpi.partner, request.ocpi.body)
    except CdrInvalid as invalid:
        raise OcpiError(Status.INVALID_PARAMETERS, "; ".join(invalid.problems)) from None
    response = ocpi_response(None, http_status=201 if created else 200)
    response["Location"] = cdr_url(cdr)
    return response


@ocpi_endpoint(methods=("GET",))
def cdr_detail(request: OcpiRequest, country_code: str, party_id: str, cdr_id: str) -> HttpResponse:
    cdr = cdr_for(request.ocpi.partner, country_code, party_id, cdr_id)
    if cdr is None:
        raise OcpiError(Status.CLIENT_ERROR, "No such CDR", http_status=404)
    return ocpi_response(cdr.body)
