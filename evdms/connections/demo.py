"""Demo connections: every benefit combination and every installation payment model."""

from __future__ import annotations

import io

from django.db import transaction
from PIL import Image, ImageDraw

from evdms.accounts.models import Organisation, Role
from evdms.accounts.permissions import Actor
from evdms.connections.models import Connection
from evdms.connections.services import connection_create

HOME = {"provide_home_charger": "yes", "installation_handled_by": "certified_installer"}
TERMS = (
    "1. The charger stays the property of the lease company.\n"
    "2. Home charging is reimbursed at your price per kWh, up to the maximum.\n"
    "3. Report a broken charger within 5 working days."
)

# (organisation slug, name, values)
DEMO_CONNECTIONS: list[tuple[str, str, dict[str, object]]] = [
    (
        "voltlease",
        "Voltlease_Public",
        {
            "pay_for_public_charging": "yes",
            "payment_via": "direct_invoice_service",
            "approval_type": "auto",
        },
    ),
    (
        "voltlease",
        "Voltlease_Home Direct",
        {
            **HOME,
            "installation_payment_model": "direct",
            "installation_standard_price": "1250.00",
            "home_warranty_and_labour": "yes",
            "installation_warranty_months": "36",
            # Customer IDs and data sharing give the transaction report something to show.
            "customer_id": "CRM-3001",
            "home_charging_data_sharing": "yes",
        },
    ),
    (
        "voltlease",
        "Voltlease_Home Employee Programme",
        {**HOME, "installation_payment_model": "employee_programme"},
    ),
    (
        "voltlease",
        "Voltlease_Home Budget",
        {
            **HOME,
            "installation_payment_model": "budget",
            "installation_budget": "1200",
            "customer_id": "CRM-3002",
            "home_charging_data_sharing": "yes",
        },
    ),
    (
        "voltlease",
        "Voltlease_Home Customised Quoting",
        {**HOME, "installation_payment_model": "customised_quoting"},
    ),
    (
        "voltlease",
        "Voltlease_Home Self-installed",
        {
            "provide_home_charger": "yes",
            "reimburse_home_charging": "yes",
            "max_price_per_kwh": "0.29",
        },
    ),
    (
        "acme-logistics",
        "Acme Logistics_Full",
        {
            **HOME,
            "installation_payment_model": "budget",
            "installation_budget": "1500",
            "home_warranty_and_labour": "yes",
            "reimburse_home_charging": "yes",
            "max_price_per_kwh": "0.32",
            "home_charging_data_sharing": "yes",
            "pay_for_public_charging": "yes",
            "payment_via": "direct_invoice_service",
            "customer_id": "CRM-1001",
            "verification_1_label": "Employee ID",
            "verification_2_label": "Licence plate",
            "notify_on_connect": "yes",
            "custom_terms_enabled": "yes",
            "terms_text": TERMS,
            "signed_terms_recipients": "hr@acme-logistics.example",
            "logo": True,
        },
    ),
    (
        "acme-logistics",
        "Acme Logistics_Public",
        {
            "pay_for_public_charging": "yes",
            "payment_via": "direct_invoice_service",
            "customer_id": "CRM-1001",
            "web_only": "yes",
        },
    ),
    (
        "northwind-foods",
        "Northwind Foods_Home",
        {
            **HOME,
            "installation_payment_model": "direct",
            "installation_standard_price": "1100.00",
            "reimburse_home_charging": "yes",
            "max_price_per_kwh": "0.27",
            "customer_id": "CRM-2002",
            "verification_1_label": "Staff number",
        },
    ),
    (
        "northwind-foods",
        "Northwind Foods_Old",
        {
            "pay_for_public_charging": "yes",
            "payment_via": "direct_invoice_service",
            "enabled": "no",
        },
    ),
]


def demo_logo(text: str) -> bytes:
    image = Image.new("RGB", (60, 30), (11, 93, 59))
    ImageDraw.Draw(image).text((6, 8), text[:8], fill=(255, 255, 255))
    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()


@transaction.atomic
def seed_connections() -> int:
    made = 0
    for slug, name, values in DEMO_CONNECTIONS:
        organisation = Organisation.objects.get(slug=slug)
        if Connection.objects.filter(organisation=organisation, name=name).exists():
            continue
        data = {
            "organisation": organisation.pk,
            "name": name,
            "name_for_drivers": organisation.name,
            "connection_type": "leasing_company",
            "support_email": f"ev-support@{slug}.example",
            "approval_type": "manual",
            "enabled": "yes",
            **{k: v for k, v in values.items() if k != "logo"},
        }
        actor = Actor(organisation=organisation, role=Role.NETWORK_MANAGER)
        logo = demo_logo(organisation.name) if values.get("logo") else None
        connection_create(actor=actor, data=data, logo=logo)
        made += 1
    return made
