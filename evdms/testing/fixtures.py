"""Named people and organisations for tests, as in the healthchecks test style:

Voltlease (organisation A) has Nadia (Network Manager), Otto (Connections Officer) and
Ana (Analyst). Rival Lease (organisation B) has Bob (Network Manager), who must never
see anything of Voltlease.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import pytest
from django.contrib.auth.hashers import make_password
from django.test import Client
from django.utils import timezone

from evdms.accounts.models import (
    Admin,
    AdminStatus,
    Grant,
    GrantRight,
    Organisation,
    OrganisationKind,
    Role,
    User,
)
from evdms.accounts.permissions import Actor
from evdms.accounts.services import api_key_create

PASSWORD = "correct horse battery staple"
# Hashing once per run keeps tests fast while still using the production hasher.
_PASSWORD_HASH: dict[str, str] = {}


def password_hash() -> str:
    if "hash" not in _PASSWORD_HASH:
        _PASSWORD_HASH["hash"] = make_password(PASSWORD)
    return _PASSWORD_HASH["hash"]


def make_organisation(
    slug: str, name: str, kind: str = OrganisationKind.LEASING_COMPANY
) -> Organisation:
    return Organisation.objects.create(slug=slug, name=name, kind=kind)


def make_admin(
    organisation: Organisation,
    email: str,
    role: str = Role.NETWORK_MANAGER,
    status: str = AdminStatus.ACTIVE,
    full_name: str = "",
) -> Admin:
    user = User.objects.create(
        email=email, full_name=full_name or email.split("@")[0].title(), password=password_hash()
    )
    return Admin.objects.create(
        user=user,
        email=user.email,
        full_name=user.full_name,
        organisation=organisation,
        role=role,
        status=status,
        activated_at=timezone.now() if status == AdminStatus.ACTIVE else None,
    )


@dataclass
class World:
    org_a: Organisation
    org_b: Organisation
    nadia: Admin  # Network Manager of A
    otto: Admin  # Connections Officer of A
    ana: Admin  # Analyst of A
    bob: Admin  # Network Manager of B
    # Installer roles, made in A only so the role matrix test reaches A's objects with
    # every role (real installer admins belong to an installer company).
    ivan: Admin  # Installer manager
    tess: Admin  # Installer technician

    def admin_of_role(self, role: str) -> Admin:
        return {
            Role.NETWORK_MANAGER: self.nadia,
            Role.CONNECTIONS_OFFICER: self.otto,
            Role.ANALYST: self.ana,
            Role.INSTALLER_MANAGER: self.ivan,
            Role.INSTALLER_TECHNICIAN: self.tess,
        }[Role(role)]

    def actor(self, admin: Admin) -> Actor:
        assert admin.user is not None
        actor = Actor.for_user(admin.user)
        assert actor is not None
        return actor


@pytest.fixture
def world(db: None) -> World:
    org_a = make_organisation("voltlease", "Voltlease")
    org_b = make_organisation("rival-lease", "Rival Lease")
    return World(
        org_a=org_a,
        org_b=org_b,
        nadia=make_admin(
            org_a, "nadia@voltlease.example", Role.NETWORK_MANAGER, full_name="Nadia Manager"
        ),
        otto=make_admin(
            org_a, "otto@voltlease.example", Role.CONNECTIONS_OFFICER, full_name="Otto Officer"
        ),
        ana=make_admin(org_a, "ana@voltlease.example", Role.ANALYST, full_name="Ana Analyst"),
        bob=make_admin(org_b, "bob@rival.example", Role.NETWORK_MANAGER, full_name="Bob Rival"),
        ivan=make_admin(
            org_a, "ivan@voltlease.example", Role.INSTALLER_MANAGER, full_name="Ivan Installer"
        ),
        tess=make_admin(
            org_a, "tess@voltlease.example", Role.INSTALLER_TECHNICIAN, full_name="Tess Technician"
        ),
    )


def client_for(admin: Admin) -> Client:
    assert admin.user is not None
    client = Client()
    client.force_login(admin.user, backend="evdms.accounts.backends.EmailBackend")
    return client


@pytest.fixture
def api_key_for():
    """Make an API key of an organisation with a role; returns the bearer header dict."""

    def make(
        organisation: Organisation, role: str = Role.NETWORK_MANAGER, name: str = "test"
    ) -> dict[str, str]:
        _, plain = api_key_create(actor=None, organisation=organisation, name=name, role=role)
        return {"Authorization": f"Bearer {plain}"}

    return make


VALID_CONNECTION: dict[str, object] = {
    "name_for_drivers": "Voltlease Drivers",
    "name": "Voltlease_Home",
    "connection_type": "leasing_company",
    "enabled": "yes",
    "support_email": "support@voltlease.example",
    "provide_home_charger": "yes",
    "installation_handled_by": "certified_installer",
    "installation_payment_model": "direct",
    "installation_standard_price": "1500.00",
    "reimburse_home_charging": "yes",
    "max_price_per_kwh": "0.29",
    "approval_type": "manual",
}


def make_connection(organisation: Organisation, **overrides: object):
    """A valid connection of ``organisation``, made through the service like any other."""
    from evdms.connections.services import connection_create

    actor = Actor(organisation=organisation, role=Role.NETWORK_MANAGER)
    data = {**VALID_CONNECTION, "organisation": organisation.pk, **overrides}
    return connection_create(actor=actor, data=data)


def make_membership(connection, driver: User, status: str = "connected"):
    from evdms.enrolment.models import Membership

    return Membership.objects.create(
        connection=connection,
        organisation=connection.organisation,
        driver=driver,
        status=status,
        connected_at=timezone.now() if status == "connected" else None,
    )


@pytest.fixture
def migrate(transactional_db: None):
    """Moves the test database to the given migrations and answers their historical
    models; afterwards it goes back to the latest of every app, so the next test on this
    worker finds the schema the code expects (a test left at an old state broke every
    later test that touched a newer column)."""
    from django.db import connection
    from django.db.migrations.executor import MigrationExecutor

    def to(targets: list[tuple[str, str]]):
        executor = MigrationExecutor(connection)
        executor.loader.build_graph()
        executor.migrate(targets)
        return executor.loader.project_state(targets).apps

    yield to
    executor = MigrationExecutor(connection)
    executor.migrate(executor.loader.graph.leaf_nodes())


def make_grant(
    grantor: Organisation,
    grantee: Organisation,
    *,
    rights: tuple[str, ...] | None = None,
    connections: Sequence[object] | None = None,
    **fields: object,
) -> Grant:
    """A grant from ``grantor`` to ``grantee``: every right on every connection unless
    ``rights`` (GrantRight values) or ``connections`` say otherwise."""
    chosen = tuple(GrantRight) if rights is None else rights
    grant = Grant.objects.create(
        grantor=grantor,
        grantee=grantee,
        all_connections=connections is None,
        **{Grant.field_of(r): True for r in chosen},
        **fields,
    )
    if connections:
        grant.connections.set(connections)  # type: ignore[arg-type]
    return grant


def make_home_session(connection, driver: User, energy_wh: int, *, hours_ago: int = 3):
    """A completed home session of ``driver`` under ``connection`` on the driver's own
    charger (made on first use), an hour long."""
    from datetime import timedelta

    from evdms.charging.models import Charger, ChargingSession

    charger, _ = Charger.objects.get_or_create(
        identity=f"HOME-{driver.pk}",
        defaults={
            "organisation": connection.organisation,
            "serial": f"SN-{driver.pk}",
            "password_hash": "-",
            "driver": driver,
        },
    )
    started = timezone.now() - timedelta(hours=hours_ago)
    return ChargingSession.objects.create(
        charger=charger,
        organisation=connection.organisation,
        driver=driver,
        connection=connection,
        transaction_id=f"T-{driver.pk}-{ChargingSession.objects.count() + 1}",
        started_at=started,
        ended_at=started + timedelta(hours=1),
        energy_wh=energy_wh,
        status="completed",
    )
