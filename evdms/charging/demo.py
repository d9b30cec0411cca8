"""Demo chargers for the connected demo drivers of home-charging connections, with a year
of sessions (made as records, as the gateway would have stored them)."""

from __future__ import annotations

import random
from datetime import timedelta

from django.db import transaction
from django.utils import timezone

from evdms.charging.models import Charger, ChargingSession, MeterReading
from evdms.charging.services import charger_register
from evdms.enrolment.models import Membership

DEMO_CHARGER_PASSWORD = "demo-charger-password"


@transaction.atomic
def seed_chargers() -> int:
    made = 0
    rng = random.Random(2026)  # the same demo every time
    memberships = (
        Membership.objects.filter(status="connected", connection__provide_home_charger=True)
        .select_related("driver", "connection", "organisation")
        .order_by("driver__email")
    )
    now = timezone.now().replace(minute=0, second=0, microsecond=0)
    for index, membership in enumerate(memberships):
        identity = f"DEMO-{index + 1:03d}"
        if Charger.objects.filter(identity=identity).exists():
            continue
        charger, _ = charger_register(
            actor=None,
            organisation=membership.organisation,
            identity=identity,
            serial=f"EVB-{2026000 + index}",
            password=DEMO_CHARGER_PASSWORD,
            vendor="Alfen" if index % 2 else "Zaptec",
            model="Eve Single" if index % 2 else "Go",
            driver=membership.driver,
        )
        Charger.objects.filter(pk=charger.pk).update(
            firmware="4.2.1",
            protocol="ocpp1.6" if index % 2 else "ocpp2.0.1",
            connector_status={"1": "Available"},
        )
        register = rng.randint(100_000, 2_000_000)
        start = max(membership.connected_at or now, now - timedelta(days=365))
        day = start
        while day < now - timedelta(days=1):
            day += timedelta(days=rng.choice([1, 2, 2, 3]))
            began = day.replace(hour=rng.choice([18, 19, 20, 21, 22]))
            energy = rng.randint(4_000, 38_000)
            minutes = max(30, energy * 60 // 11_000)
            if began + timedelta(minutes=minutes) > now:
                break  # no session ends in the future
            session = ChargingSession.objects.create(
                charger=charger,
                organisation_id=charger.organisation_id,
                driver=membership.driver,
                connection=membership.connection,
                transaction_id=f"DEMO-{began:%Y%m%d%H}",
                started_at=began,
                ended_at=began + timedelta(minutes=minutes),
                meter_start_wh=register,
                meter_stop_wh=register + energy,
                energy_wh=energy,
                status="completed",
                stop_reason="EVDisconnected",
            )
            ended = began + timedelta(minutes=minutes)
            MeterReading.objects.bulk_create(
                [
                    MeterReading(session=session, at=began, value_wh=register),
                    MeterReading(session=session, at=ended, value_wh=register + energy),
                ]
            )
            register += energy
        made += 1
    return made
