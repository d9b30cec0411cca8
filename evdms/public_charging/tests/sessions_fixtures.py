"""Public charging sessions for the tests, recorded as a roaming partner's adapter would
(``public_session_record``).

Voltlease (A) has "Acme_Public", a connection that pays for public charging (and shares
home charging data), with Dan; "Plain_Home" pays for none, with Eve. Rival Lease (B) has
"Rival_Public" with Rob, whose sessions Voltlease must never see.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from django.test import Client
from django.utils import timezone

from evdms.accounts.models import User
from evdms.charging.models import ChargingSession
from evdms.charging.services.sessions import PartnerRecord, public_session_record
from evdms.connections.models import Connection
from evdms.enrolment.models import Membership
from evdms.testing.fixtures import World, make_connection, make_membership, password_hash

AMSTERDAM = ZoneInfo("Europe/Amsterdam")
_keys = itertools.count(1)

PAYING = {
    "pay_for_public_charging": "yes",
    "payment_via": "direct_invoice_service",
    "home_charging_data_sharing": "yes",
}


def at(day: int, month: int | None = None, hour: int = 14) -> datetime:
    """A time this year or last, in a month before the current one if none is given."""
    now = timezone.now()
    if month is None:
        first = now.replace(day=1) - timedelta(days=1)  # last month
        month, year = first.month, first.year
    else:
        year = now.year if month <= now.month else now.year - 1
    return datetime(year, month, day, hour, 0, tzinfo=AMSTERDAM)


@dataclass
class PublicWorld:
    world: World
    acme: Connection
    plain: Connection
    rival: Connection
    dan: User
    eve: User
    rob: User

    def public(
        self,
        driver: User,
        started: datetime,
        *,
        wh: int = 12_345,
        minutes: int = 45,
        cost: str = "7.3500",
        vat: str = "1.21",
        final: bool = True,
        location: str = "Stationsplein Fast Charge",
        address: str = "Stationsplein 1, 1012 AB Amsterdam, NLD",
        operator: str = "Demo CPO",
        currency: str = "EUR",
    ) -> ChargingSession:
        membership = Membership.objects.filter(driver=driver).select_related("connection").get()
        incl = Decimal(cost)
        key = f"NL*DCP*test-{next(_keys)}"
        return public_session_record(
            PartnerRecord(
                key=key,
                organisation_id=membership.organisation_id,
                driver_id=driver.pk,
                transaction_id=key.rsplit("*", 1)[1],
                started_at=started,
                ended_at=started + timedelta(minutes=minutes) if final else None,
                energy_wh=wh,
                completed=final,
                final=final,
                operator=operator,
                location_name=location,
                location_address=address,
                cost_excl_vat=(incl / Decimal(vat)).quantize(Decimal("0.0001")) if final else None,
                cost_incl_vat=incl if final else None,
                currency=currency if final else "",
            )
        )


def driver_client(driver: User) -> Client:
    client = Client()
    client.force_login(driver, backend="evdms.accounts.backends.EmailBackend")
    return client


def make_public_world(world: World) -> PublicWorld:
    acme = make_connection(world.org_a, name="Acme_Public", customer_id="CRM-P", **PAYING)
    plain = make_connection(world.org_a, name="Plain_Home", customer_id="CRM-H")
    rival = make_connection(world.org_b, name="Rival_Public", customer_id="CRM-P", **PAYING)
    people = []
    for email, name, connection in (
        ("dan@example.com", "Dan Driver", acme),
        ("eve@example.com", "Eve Ellis", plain),
        ("rob@example.com", "Rob Rival", rival),
    ):
        user = User.objects.create(email=email, full_name=name, password=password_hash())
        membership = make_membership(connection, user)
        # Connected well before the sessions, so each is attributed to this connection.
        Membership.objects.filter(pk=membership.pk).update(
            connected_at=timezone.now() - timedelta(days=800)
        )
        people.append(user)
    return PublicWorld(world, acme, plain, rival, *people)


def invoiced_line(session: ChargingSession) -> None:
    """The month's Transactions invoice takes ``session``, as the monthly run would: a
    line of it holds the session."""
    from evdms.invoicing.models import InvoiceKind, LineSource
    from evdms.invoicing.services.issue import DraftLine, invoice_issue

    cost = session.cost_excl_vat or Decimal("1.00")
    invoice_issue(
        organisation=session.organisation,
        kind=InvoiceKind.TRANSACTIONS,
        month=timezone.localdate(session.started_at).replace(day=1),
        lines=[
            DraftLine(
                source=LineSource.PUBLIC_SESSION,
                description="Public charging",
                quantity=Decimal(1),
                unit_price=cost,
                session_id=session.pk,
                driver_id=session.driver_id,
            )
        ],
    )
