"""Demo public charging: a registered demo CPO and a few months of its CDRs for the
drivers of connections that pay for public charging, business and personal, one
cancelled by a credit CDR.

Sessions enter as the CDRs module's adapter enters them, through the session core
(``public_session_record`` / ``public_session_credit``); each final session has its
``Cdr`` row with a plausible OCPI 2.2.1 body, so the partner's side of the demo reads
like real traffic. The driver marks some sessions personal through the same service
as the driver's page. Idempotent: a session already recorded is left as it is (the
core keys it by the CDR), so running the seed again adds nothing.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.db import transaction
from django.utils import timezone

from evdms.charging.models import ChargingSession, SessionPurpose
from evdms.charging.services.sessions import (
    PartnerRecord,
    public_session_credit,
    public_session_record,
)
from evdms.enrolment.models import Membership
from evdms.ocpi.keys import cdr_key
from evdms.ocpi.models import Cdr, Partner, PartnerLocation, PartnerRole, PartnerStatus
from evdms.public_charging.models import Token
from evdms.public_charging.services.purpose import session_purpose_set

DEMO_CPO = "Demo CPO"
COUNTRY_CODE, PARTY_ID = "NL", "DCP"
MONTHS = 4  # months of public charging, this one included
VAT = Decimal("0.21")
CENTS = Decimal("0.01")


@dataclass(frozen=True)
class DemoLocation:
    id: str
    name: str
    street: str
    postal_code: str
    city: str
    price_per_kwh: Decimal  # excl. VAT
    power: str  # OCPI ConnectorPowerType

    @property
    def address(self) -> str:
        return f"{self.street}, {self.postal_code} {self.city}, NLD"


LOCATIONS = (
    DemoLocation(
        "LOC-UT-01", "Utrecht Centraal P+R", "Jaarbeursplein 6", "3521 AL", "Utrecht",
        Decimal("0.49"), "DC",
    ),
    DemoLocation(
        "LOC-AMS-02", "Amsterdam Zuidas Garage", "Gustav Mahlerlaan 10", "1082 PP",
        "Amsterdam", Decimal("0.39"), "AC_3_PHASE",
    ),
    DemoLocation(
        "LOC-RTM-03", "Rotterdam Markthal", "Ds. Jan Scharpstraat 298", "3011 GZ",
        "Rotterdam", Decimal("0.42"), "AC_3_PHASE",
    ),
    DemoLocation(
        "LOC-A2-04", "A2 Fast Charge Vinkeveen", "Demmerik 2", "3645 ES", "Vinkeveen",
        Decimal("0.59"), "DC",
    ),
)  # fmt: skip


def seed_demo_cpo() -> Partner:
    """The registered demo CPO (as if the simulator had registered), with its locations."""
    partner = Partner.objects.filter(name=DEMO_CPO).first()
    if partner is None:
        now = timezone.now()
        partner = Partner.objects.create(
            name=DEMO_CPO,
            role=PartnerRole.CPO,
            status=PartnerStatus.REGISTERED,
            version="2.2.1",
            roles=[
                {
                    "role": "CPO",
                    "country_code": COUNTRY_CODE,
                    "party_id": PARTY_ID,
                    "business_details": {"name": DEMO_CPO},
                }
            ],
            registered_at=now,
            last_traffic_at=now,
        )
    for location in LOCATIONS:
        PartnerLocation.objects.get_or_create(
            country_code=COUNTRY_CODE,
            party_id=PARTY_ID,
            object_id=location.id,
            defaults={
                "partner": partner,
                "name": location.name,
                "address": location.address,
                "operator_name": DEMO_CPO,
                "body": _location_body(location),
                "last_updated": partner.registered_at,
            },
        )
    return partner


def _location_body(location: DemoLocation) -> dict[str, object]:
    return {
        "country_code": COUNTRY_CODE,
        "party_id": PARTY_ID,
        "id": location.id,
        "publish": True,
        "name": location.name,
        "address": location.street,
        "city": location.city,
        "postal_code": location.postal_code,
        "country": "NLD",
        "operator": {"name": DEMO_CPO},
        "time_zone": "Europe/Amsterdam",
    }


def _z(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _cdr_body(
    cdr_id: str,
    location: DemoLocation,
    token_uid: str,
    contract_id: str,
    started: datetime,
    ended: datetime,
    wh: int,
    excl: Decimal,
    incl: Decimal,
) -> dict[str, object]:
    hours = Decimal((ended - started).total_seconds()) / 3600
    body: dict[str, object] = {
        "country_code": COUNTRY_CODE,
        "party_id": PARTY_ID,
        "id": cdr_id,
        "start_date_time": _z(started),
        "end_date_time": _z(ended),
        "session_id": cdr_id,
        "cdr_token": {
            "country_code": "NL",
            "party_id": "EVD",
            "uid": token_uid,
            "type": "APP_USER",
            "contract_id": contract_id,
        },
        "auth_method": "WHITELIST",
        "cdr_location": {
            "id": location.id,
            "name": location.name,
            "address": location.street,
            "city": location.city,
            "postal_code": location.postal_code,
            "country": "NLD",
            "coordinates": {"latitude": "52.089444", "longitude": "5.110278"},
            "evse_uid": f"{location.id}-1",
            "evse_id": f"NL*DCP*E{location.id[-2:]}01",
            "connector_id": "1",
            "connector_standard": "IEC_62196_T2_COMBO"
            if location.power == "DC"
            else "IEC_62196_T2",
            "connector_format": "CABLE" if location.power == "DC" else "SOCKET",
            "connector_power_type": location.power,
        },
        "currency": "EUR",
        "tariffs": [
            {
                "country_code": COUNTRY_CODE,
                "party_id": PARTY_ID,
                "id": f"T-{location.id}",
                "currency": "EUR",
                "elements": [
                    {
                        "price_components": [
                            {
                                "type": "ENERGY",
                                "price": float(location.price_per_kwh),
                                "vat": 21.0,
                                "step_size": 1,
                            }
                        ]
                    }
                ],
                "last_updated": _z(started - timedelta(days=30)),
            }
        ],
        "charging_periods": [
            {
                "start_date_time": _z(started),
                "dimensions": [{"type": "ENERGY", "volume": float(Decimal(wh) / 1000)}],
                "tariff_id": f"T-{location.id}",
            }
        ],
        "total_cost": {"excl_vat": float(excl), "incl_vat": float(incl)},
        "total_energy": float(Decimal(wh) / 1000),
        "total_energy_cost": {"excl_vat": float(excl), "incl_vat": float(incl)},
        "total_time": float(hours.quantize(Decimal("0.001"))),
        "last_updated": _z(ended + timedelta(minutes=5)),
    }
    return body


def _token_of(membership: Membership) -> tuple[str, str]:
    """The driver's app token if the tokens module made one, else a stand-in."""
    token = (
        Token.objects.filter(
            driver_id=membership.driver_id, organisation_id=membership.organisation_id
        )
        .order_by("pk")
        .first()
    )
    if token is not None:
        return token.uid, token.contract_id
    return f"DEMO-APP-{membership.driver_id:06d}", f"NL-EVD-C{membership.driver_id:08d}-X"


def seed_public_sessions() -> int:
    """Public CDRs of the demo CPO for the paying connections' drivers; the number of
    sessions recorded by this run."""
    partner = seed_demo_cpo()
    rng = random.Random(15)  # the same demo every time
    now = timezone.now().replace(second=0, microsecond=0)
    memberships = list(
        Membership.objects.filter(status="connected", connection__pay_for_public_charging=True)
        .select_related("driver", "connection")
        .order_by("driver__email")
    )
    made = 0
    first_cdr = ""
    for membership in memberships:
        uid, contract_id = _token_of(membership)
        # From a whole day, so a later run walks the same days and finds its CDRs.
        today = now.replace(hour=0, minute=0)
        joined = membership.connected_at or today
        start = max(joined, today - timedelta(days=30 * MONTHS - 15))
        day = start.replace(hour=0, minute=0, second=0, microsecond=0)
        day += timedelta(days=rng.randint(1, 5))
        while day < now - timedelta(hours=6):
            location = rng.choice(LOCATIONS)
            minutes = rng.randint(20, 70) if location.power == "DC" else rng.randint(60, 240)
            began = day.replace(hour=rng.randint(7, 19), minute=rng.choice([0, 15, 30, 45]))
            ended = began + timedelta(minutes=minutes)
            day += timedelta(days=rng.randint(4, 11))
            if ended > now:
                continue
            wh = (
                rng.randint(8_000, 45_000) if location.power == "DC" else rng.randint(4_000, 22_000)
            )
            excl = (Decimal(wh) / 1000 * location.price_per_kwh).quantize(CENTS, ROUND_HALF_UP)
            incl = (excl * (1 + VAT)).quantize(CENTS, ROUND_HALF_UP)
            # About one in four the driver marks personal (an evening, a weekend). Drawn
            # before the CDR is looked for, so every run draws the same numbers.
            personal = rng.random() < 0.25
            cdr_id = f"DCP-{membership.driver_id}-{began:%Y%m%d%H%M}"
            if Cdr.objects.filter(
                country_code=COUNTRY_CODE, party_id=PARTY_ID, object_id=cdr_id
            ).exists():
                first_cdr = first_cdr or cdr_id
                continue
            with transaction.atomic():
                session = public_session_record(
                    PartnerRecord(
                        key=cdr_key(COUNTRY_CODE, PARTY_ID, cdr_id),
                        organisation_id=membership.organisation_id,
                        driver_id=membership.driver_id,
                        transaction_id=cdr_id,
                        started_at=began,
                        ended_at=ended,
                        energy_wh=wh,
                        completed=True,
                        final=True,
                        token=uid,
                        operator=DEMO_CPO,
                        location_name=location.name,
                        location_address=location.address,
                        cost_excl_vat=excl,
                        cost_incl_vat=incl,
                        currency="EUR",
                    )
                )
                Cdr.objects.create(
                    partner=partner,
                    country_code=COUNTRY_CODE,
                    party_id=PARTY_ID,
                    object_id=cdr_id,
                    body=_cdr_body(
                        cdr_id, location, uid, contract_id, began, ended, wh, excl, incl
                    ),
                    last_updated=ended + timedelta(minutes=5),
                    received_at=ended + timedelta(minutes=6),
                    token_uid=uid,
                    charging_session=session,
                )
                if personal and session.purpose == SessionPurpose.BUSINESS:
                    session_purpose_set(
                        driver=membership.driver, session=session, purpose=SessionPurpose.PERSONAL
                    )
            first_cdr = first_cdr or cdr_id
            made += 1
    if first_cdr:
        _credit(partner, first_cdr)
    return made


def _credit(partner: Partner, cdr_id: str) -> None:
    """The operator cancels the first demo session with a credit CDR (a faulty charger
    billed it): shown as credited to the driver, counted nowhere."""
    credit_id = f"{cdr_id}-CR"
    original = Cdr.objects.filter(
        country_code=COUNTRY_CODE, party_id=PARTY_ID, object_id=cdr_id
    ).first()
    if (
        original is None
        or Cdr.objects.filter(
            country_code=COUNTRY_CODE, party_id=PARTY_ID, object_id=credit_id
        ).exists()
    ):
        return
    # The same record with the amounts negated, as OCPI 2.2.1 describes a credit CDR.
    body: dict[str, Any] = dict(original.body)
    body.update(
        {
            "id": credit_id,
            "credit": True,
            "credit_reference_id": cdr_id,
            "total_cost": {k: -v for k, v in body["total_cost"].items()},
            "total_energy_cost": {k: -v for k, v in body["total_energy_cost"].items()},
            "total_energy": -body["total_energy"],
            "total_time": -body["total_time"],
        }
    )
    with transaction.atomic():
        Cdr.objects.create(
            partner=partner,
            country_code=COUNTRY_CODE,
            party_id=PARTY_ID,
            object_id=credit_id,
            body=body,
            last_updated=timezone.now(),
            token_uid=original.token_uid,
            charging_session=original.charging_session,
            credit=True,
            credit_reference_id=cdr_id,
            credits=original,
        )
        public_session_credit(
            key=cdr_key(COUNTRY_CODE, PARTY_ID, cdr_id), reason="credit CDR " + credit_id
        )


def demo_public_sessions() -> list[ChargingSession]:
    return list(
        ChargingSession.objects.filter(public_key__startswith=f"{COUNTRY_CODE}*{PARTY_ID}*C*")
    )
