"""A small set of installation jobs for the report's tests.

Voltlease (organisation A) has three jobs: Dan's at Acme (Customer ID CRM-1), quoted 20
days ago (overdue) by Sparkfit; Eve's at Globex (CRM-2), completed by Voltwerk with a
charger serial, MID number, warranty and declaration; Fay's at Acme, just assigned to
Sparkfit. Rival Lease (organisation B) has Rob's job, which Voltlease never sees.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from decimal import Decimal

import pytest
from django.utils import timezone

from evdms.accounts.models import User
from evdms.connections.models import Connection
from evdms.installations.models import (
    InstallationJob,
    JobDocument,
    JobTransition,
    Quote,
    QuoteLine,
)
from evdms.testing.fixtures import World, make_connection
from evdms.testing.installations import Installer, make_installer, make_job


@dataclass
class Jobs:
    world: World
    sparkfit: Installer
    voltwerk: Installer
    acme: Connection
    globex: Connection
    dan: InstallationJob  # quoted, overdue
    eve: InstallationJob  # completed
    fay: InstallationJob  # assigned today
    rival: InstallationJob  # Rival Lease's


def driver(email: str, name: str) -> User:
    user = User.objects.create_user(email, "a driver's passphrase 1")
    user.full_name = name
    user.save(update_fields=["full_name"])
    return user


def ago(days: int, hours: int = 0) -> datetime.datetime:
    return timezone.now() - datetime.timedelta(days=days, hours=hours)


def a_quote(job: InstallationJob, number: int = 1, **fields: object) -> Quote:
    values: dict[str, object] = {
        "job": job,
        "number": number,
        "payment_model": "budget",
        "currency": "EUR",
        "total_excl_vat": Decimal("1000.00"),
        "total_vat": Decimal("210.00"),
        "total_incl_vat": Decimal("1210.00"),
        "organisation_share": Decimal("1000.00"),
        "driver_share": Decimal("210.00"),
        "organisation_approval": "not_needed",
        "driver_approval": "pending",
        **fields,
    }
    quote = Quote.objects.create(**values)
    QuoteLine.objects.create(
        quote=quote,
        position=1,
        kind="standard_package",
        description="Standard package",
        quantity=Decimal("1"),
        unit_price=Decimal("1000.00"),
        vat_rate=Decimal("21.00"),
        total_excl_vat=Decimal("1000.00"),
        vat=Decimal("210.00"),
        total_incl_vat=Decimal("1210.00"),
        organisation_part=Decimal("1000.00"),
        driver_part=Decimal("210.00"),
    )
    return quote


@pytest.fixture(name="jobs")
def jobs_fixture(world: World) -> Jobs:
    sparkfit = make_installer()
    voltwerk = make_installer(slug="voltwerk", name="Voltwerk Elektro")
    acme = make_connection(world.org_a, name="Acme_Home", customer_id="CRM-1")
    globex = make_connection(world.org_a, name="Globex_Home", customer_id="CRM-2")
    rival_connection = make_connection(world.org_b, name="Rival_Home", customer_id="CRM-1")

    dan = make_job(acme, driver("dan@example.com", "Dan Driver"), sparkfit.company, "quoted")
    InstallationJob.objects.filter(pk=dan.pk).update(
        created_at=ago(25),
        assigned_at=ago(25),
        contacted_at=ago(24),
        surveyed_at=ago(22),
        quoted_at=ago(20),
        status_changed_at=ago(20),
    )
    a_quote(
        dan,
        1,
        status="withdrawn",
        total_incl_vat=Decimal("500.00"),
        total_excl_vat=Decimal("413.22"),
        total_vat=Decimal("86.78"),
        organisation_share=Decimal("500.00"),
        driver_share=Decimal("0.00"),
    )
    a_quote(dan, 2)
    JobTransition.objects.create(
        job=dan, from_status="", to_status="assigned", by_label="platform", at=ago(25)
    )
    JobTransition.objects.create(
        job=dan,
        from_status="surveyed",
        to_status="quoted",
        by_label="manager@sparkfit.example",
        note="Quote 2 after the fuse box check",
        at=ago(20),
    )

    eve = make_job(globex, driver("eve@example.com", "Eve Electric"), voltwerk.company, "completed")
    InstallationJob.objects.filter(pk=eve.pk).update(
        created_at=ago(60),
        assigned_at=ago(60),
        completed_at=ago(3),
        status_changed_at=ago(3),
        charger_serial="SN-4242",
        mid_certificate="MID-77",
        warranty_until=datetime.date(2028, 10, 1),
    )
    JobDocument.objects.create(
        job=eve,
        kind="declaration",
        filename="declaration.pdf",
        content_type="application/pdf",
        content=b"%PDF-1.4 the declaration",
        size=24,
        sha256="0" * 64,
    )

    fay = make_job(acme, driver("fay@example.com", "=Fay Formula"), sparkfit.company)
    rival = make_job(
        rival_connection, driver("rob@example.com", "Rob Rival"), sparkfit.company, "quoted"
    )
    InstallationJob.objects.filter(pk=rival.pk).update(status_changed_at=ago(30))
    for job in (dan, eve, fay, rival):
        job.refresh_from_db()
    return Jobs(world, sparkfit, voltwerk, acme, globex, dan, eve, fay, rival)
