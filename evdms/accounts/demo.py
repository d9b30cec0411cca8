"""Demo organisations and admins. Later capabilities add their own demo data through
``seed_demo``'s list of seeders, so the demo always shows the whole product."""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from evdms.accounts.models import (
    Admin,
    AdminStatus,
    Organisation,
    OrganisationKind,
    Role,
    User,
)

DEMO_PASSWORD = "demo-password-2026"

# (e-mail, full name, organisation slug, role)
DEMO_ADMINS = [
    ("manager@voltlease.example", "Nadia Manager", "voltlease", Role.NETWORK_MANAGER),
    ("officer@voltlease.example", "Otto Officer", "voltlease", Role.CONNECTIONS_OFFICER),
    ("analyst@voltlease.example", "Ana Analyst", "voltlease", Role.ANALYST),
    ("manager@acme.example", "Alice Acme", "acme-logistics", Role.NETWORK_MANAGER),
    ("manager@northwind.example", "Noah Northwind", "northwind-foods", Role.NETWORK_MANAGER),
    (
        "manager@brightspark.example",
        "Ines Installer",
        "brightspark-installers",
        Role.INSTALLER_MANAGER,
    ),
    (
        "tech@brightspark.example",
        "Theo Technician",
        "brightspark-installers",
        Role.INSTALLER_TECHNICIAN,
    ),
]

ORGANISATIONS = [
    ("platform", "evdms Platform", OrganisationKind.OPERATOR),
    ("voltlease", "Voltlease", OrganisationKind.LEASING_COMPANY),
    ("acme-logistics", "Acme Logistics", OrganisationKind.CUSTOMER),
    ("northwind-foods", "Northwind Foods", OrganisationKind.CUSTOMER),
    ("brightspark-installers", "Brightspark Installers", OrganisationKind.INSTALLER),
]


@transaction.atomic
def seed_accounts() -> list[str]:
    """Create what is missing; never change what exists. Returns the demo log-ins."""
    orgs: dict[str, Organisation] = {}
    for slug, name, kind in ORGANISATIONS:
        orgs[slug], _ = Organisation.objects.get_or_create(
            slug=slug,
            defaults={
                "name": name,
                "kind": kind,
                "accounts_payable_email": f"accounts-payable@{slug}.example",
            },
        )
    # Their grants to Voltlease come once the connections exist (demo_grants).
    if not User.objects.filter(email="operator@platform.example").exists():
        User.objects.create_superuser(
            "operator@platform.example", DEMO_PASSWORD, full_name="Petra Operator"
        )
    for email, name, slug, role in DEMO_ADMINS:
        user = User.objects.filter(email=email).first()
        if user is None:
            user = User.objects.create_user(email, DEMO_PASSWORD, full_name=name)
        Admin.objects.get_or_create(
            user=user,
            defaults={
                "email": user.email,
                "full_name": user.full_name,
                "organisation": orgs[slug],
                "role": role,
                "status": AdminStatus.ACTIVE,
                "activated_at": timezone.now(),
            },
        )
    logins = [
        f"{email}  ({Role(role).label}, {orgs[slug].name})" for email, _, slug, role in DEMO_ADMINS
    ]
    # Operators need two-factor only in production, so the demo's logs in with its password.
    logins.append(
        "operator@platform.example  (platform operator: /platform-admin/, password only here)"
    )
    return logins
