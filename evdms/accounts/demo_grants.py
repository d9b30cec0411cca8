"""Demo grants and a limited admin, once the connections exist: Acme lets Voltlease
invite and approve the drivers of one connection and view its transactions; Northwind
lets Voltlease do everything; Lena, a Voltlease Connections Officer, acts on two
connections only."""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from evdms.accounts.demo import DEMO_PASSWORD
from evdms.accounts.models import Admin, AdminStatus, Grant, Organisation, Role, User
from evdms.connections.models import Connection

ACME_CONNECTION = "Acme Logistics_Full"
LIMITED_ADMIN = ("limited@voltlease.example", "Lena Limited")
LIMITED_TO = ("Voltlease_Home Customised Quoting", ACME_CONNECTION)


@transaction.atomic
def seed_grants() -> list[str]:
    voltlease = Organisation.objects.get(slug="voltlease")
    acme = Organisation.objects.get(slug="acme-logistics")
    northwind = Organisation.objects.get(slug="northwind-foods")
    acme_full = Connection.objects.get(organisation=acme, name=ACME_CONNECTION)
    if not Grant.objects.filter(grantor=acme, grantee=voltlease, revoked_at=None).exists():
        grant = Grant.objects.create(
            grantor=acme,
            grantee=voltlease,
            can_manage_drivers=True,
            can_view_transactions=True,
            all_connections=False,
            description="Voltlease invites and approves the drivers of our Full programme.",
        )
        grant.connections.set([acme_full])
    if not Grant.objects.filter(grantor=northwind, grantee=voltlease, revoked_at=None).exists():
        Grant.objects.create(
            grantor=northwind,
            grantee=voltlease,
            can_manage_drivers=True,
            can_view_transactions=True,
            can_view_installations=True,
            can_edit_connections=True,
            description="Our lease company runs the whole programme for us.",
        )
    email, name = LIMITED_ADMIN
    # Looked up as Voltlease's admin place, not as any account with the address.
    if not Admin.objects.filter(organisation=voltlease, email=email).exists():
        user = User.objects.create_user(email, DEMO_PASSWORD, full_name=name)
        admin = Admin.objects.create(
            user=user,
            organisation=voltlease,
            email=email,
            full_name=name,
            role=Role.CONNECTIONS_OFFICER,
            status=AdminStatus.ACTIVE,
            activated_at=timezone.now(),
            all_connections=False,
        )
        own, _acme = LIMITED_TO
        admin.connections.set([Connection.objects.get(organisation=voltlease, name=own), acme_full])
    return [f"{email}  (Voltlease, Connections Officer limited to {' and '.join(LIMITED_TO)})"]
