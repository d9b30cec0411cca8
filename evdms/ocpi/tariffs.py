"""The Tariffs module, Receiver side: a CPO's tariffs, kept as received (with their
``currency``) so the tariff ids a CDR or a connector names can be read back.

PUT stores or replaces a tariff, DELETE removes it (the CPO says it is used no more),
GET returns it to the party that owns it; the spec has no PATCH for tariffs.
"""

from __future__ import annotations

import copy
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from evdms.ocpi import owned, schema
from evdms.ocpi.models import Partner, PartnerTariff
from evdms.ocpi.transport import OcpiError


def unknown_tariff() -> OcpiError:
    return owned.unknown("tariff")


def tariff_problems(body: Any) -> list[str]:
    problems = schema.check(schema.TARIFF, body)
    if problems or not isinstance(body, dict):
        return problems
    if not schema.CURRENCY.match(body["currency"]):
        problems.append("currency: an ISO 4217 code, e.g. EUR")
    start, end = (
        owned.timestamp_of(body, "start_date_time"),
        owned.timestamp_of(body, "end_date_time"),
    )
    if start is not None and end is not None and end < start:
        problems.append("end_date_time: before start_date_time")
    return problems


def tariff_get(
    *, partner: Partner, country_code: str, party_id: str, tariff_id: str
) -> dict[str, Any]:
    cc, pid = owned.own_party(partner, country_code, party_id, unknown=unknown_tariff())
    tariff = PartnerTariff.objects.filter(
        country_code=cc, party_id=pid, object_id=tariff_id
    ).first()
    if tariff is None:
        raise unknown_tariff()
    body: dict[str, Any] = tariff.body
    return body


def tariff_put(
    *, partner: Partner, country_code: str, party_id: str, tariff_id: str, body: Any
) -> bool:
    """Store or replace the tariff; True when it is new (HTTP 201). Nothing is stored
    unless every field rule holds."""
    cc, pid = owned.own_party(partner, country_code, party_id)
    owned.segment(tariff_id, "tariff_id", 36)
    if not isinstance(body, dict):
        raise owned.invalid(["body: must be an object"])
    identity = {"country_code": cc, "party_id": pid, "id": tariff_id}
    problems = owned.check_identity(body, identity) + tariff_problems(body)
    if problems:
        raise owned.invalid(problems)
    now = timezone.now()
    for attempt in range(2):
        try:
            with transaction.atomic():
                tariff = (
                    PartnerTariff.objects.select_for_update()
                    .filter(country_code=cc, party_id=pid, object_id=tariff_id)
                    .first()
                )
                created = tariff is None
                if tariff is None:
                    tariff = PartnerTariff(country_code=cc, party_id=pid, object_id=tariff_id)
                tariff.partner = partner
                tariff.body = copy.deepcopy(body)
                tariff.currency = body["currency"]
                # The spec's own PUT example has no last_updated: the time it came stands in.
                tariff.last_updated = owned.timestamp_of(body) or now
                tariff.received_at = now
                tariff.save()
                return created
        except IntegrityError:  # the same new tariff pushed twice at once: go again
            if attempt:
                raise
    raise RuntimeError("could not store a tariff")


def tariff_delete(*, partner: Partner, country_code: str, party_id: str, tariff_id: str) -> None:
    cc, pid = owned.own_party(partner, country_code, party_id, unknown=unknown_tariff())
    deleted, _ = PartnerTariff.objects.filter(
        country_code=cc, party_id=pid, object_id=tariff_id
    ).delete()
    if not deleted:
        raise unknown_tariff()
