"""Demo drivers in every state across the demo connections, with requests waiting."""

from __future__ import annotations

from datetime import timedelta

from django.db import transaction
from django.utils import timezone

from evdms.accounts.demo import DEMO_PASSWORD
from evdms.accounts.models import Role, User
from evdms.accounts.permissions import Actor
from evdms.connections.models import Connection
from evdms.enrolment import services
from evdms.enrolment.models import Membership

FIRST = [
    "Anna",
    "Ben",
    "Chloe",
    "David",
    "Emma",
    "Finn",
    "Grace",
    "Hugo",
    "Iris",
    "Jack",
    "Kim",
    "Liam",
    "Mila",
    "Noah",
    "Olivia",
    "Pieter",
    "Quinn",
    "Rosa",
    "Sam",
    "Tess",
]
LAST = [
    "de Vries",
    "Jansen",
    "Smith",
    "Bakker",
    "Visser",
    "Meijer",
    "Mulder",
    "de Boer",
    "Brown",
    "Dekker",
]

# (connection name, outcome) for each demo driver, in order.
PLAN = [
    ("Acme Logistics_Full", "connected"),
    ("Acme Logistics_Full", "connected"),
    ("Acme Logistics_Full", "connected"),
    ("Acme Logistics_Full", "pending"),
    ("Acme Logistics_Full", "denied"),
    ("Voltlease_Public", "connected"),  # auto approval
    ("Voltlease_Public", "connected"),
    ("Voltlease_Home Direct", "connected"),
    ("Voltlease_Home Direct", "pending"),
    ("Voltlease_Home Budget", "removed"),
    ("Voltlease_Home Budget", "pending"),
    ("Voltlease_Home Self-installed", "connected"),
    ("Voltlease_Home Self-installed", "connected"),
    ("Voltlease_Home Customised Quoting", "withdrawn"),
    ("Northwind Foods_Home", "connected"),
    ("Northwind Foods_Home", "connected"),
    ("Northwind Foods_Home", "pending"),
    ("Northwind Foods_Home", "denied"),
    ("Acme Logistics_Public", "connected"),
    ("Voltlease_Home Employee Programme", "connected"),
]


def demo_driver_email(index: int) -> str:
    return f"driver{index + 1:02d}@example.com"


@transaction.atomic
def seed_drivers() -> int:
    made = 0
    for index, (connection_name, outcome) in enumerate(PLAN):
        email = demo_driver_email(index)
        if User.objects.filter(email=email).exists():
            continue
        driver = User.objects.create_user(
            email,
            DEMO_PASSWORD,
            full_name=f"{FIRST[index % len(FIRST)]} {LAST[index % len(LAST)]}",
            email_confirmed_at=timezone.now(),
        )
        connection = Connection.objects.select_related("organisation").get(name=connection_name)
        membership = services.membership_request(
            driver=driver,
            connection=connection,
            answers={
                "verification_1": f"E-{1000 + index}",
                "verification_2": f"{index:02d}-EV-{index % 9}",
                "agree_terms": "on",
                "phone": f"+31 6 5555 {index:04d}",
                "address": f"Laan {index + 1}",
                "postcode": f"35{index:02d} AB",
                "city": "Utrecht",
                "country": "NL",
            },
        )
        admin = Actor(organisation=connection.organisation, role=Role.NETWORK_MANAGER)
        if outcome in ("connected", "removed") and membership.status == "pending":
            membership = services.membership_approve(actor=admin, membership=membership)
        if outcome == "removed":
            services.membership_remove(actor=admin, membership=membership)
        elif outcome == "denied":
            services.membership_deny(
                actor=admin, membership=membership, message="We could not find you as an employee."
            )
        elif outcome == "withdrawn":
            services.membership_withdraw(driver=driver, membership=membership)
        # The demo drivers joined months ago, so their charging history has a past.
        # Spread over the last year, so reports and charts have twelve months to show.
        joined = timezone.now() - timedelta(days=365 - index * 9)
        Membership.objects.filter(pk=membership.pk).update(
            requested_at=joined,
            decided_at=joined if outcome != "pending" else None,
            connected_at=joined if outcome in ("connected", "removed") else None,
        )
        made += 1
    return made


def demo_driver_logins() -> list[str]:
    connected = (
        Membership.objects.filter(status="connected")
        .select_related("driver")
        .order_by("driver__email")
        .first()
    )
    return [f"{connected.driver.email}  (driver)"] if connected else []
