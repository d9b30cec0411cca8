"""Test data for installations: a certified installer company with its admins, and a job
for a driver of a connection that provides a home charger."""

from __future__ import annotations

import datetime
from dataclasses import dataclass

from django.utils import timezone

from evdms.accounts.models import Admin, Organisation, OrganisationKind, Role, User
from evdms.connections.models import Connection
from evdms.installations.models import InstallationJob, InstallerCompany, InstallerRegion
from evdms.testing.fixtures import make_admin, make_membership, make_organisation


@dataclass
class Installer:
    company: InstallerCompany
    manager: Admin
    technician: Admin

    @property
    def organisation(self) -> Organisation:
        return self.company.organisation


def make_installer(
    slug: str = "sparkfit",
    name: str = "Sparkfit Installations",
    regions: tuple[tuple[str, str], ...] = (("NL", ""),),
    certified_for_days: int = 365,
    capacity: int = 20,
) -> Installer:
    """A certified installer company (certified for ``certified_for_days`` from today;
    negative: lapsed) with a manager and a technician."""
    organisation = make_organisation(slug, name, kind=OrganisationKind.INSTALLER)
    company = InstallerCompany.objects.create(
        organisation=organisation,
        certified_until=timezone.now().date() + datetime.timedelta(days=certified_for_days),
        certified_at=timezone.now(),
        capacity=capacity,
    )
    InstallerRegion.objects.bulk_create(
        InstallerRegion(installer=company, country=country, postcode_prefix=prefix)
        for country, prefix in regions
    )
    return Installer(
        company=company,
        manager=make_admin(organisation, f"manager@{slug}.example", Role.INSTALLER_MANAGER),
        technician=make_admin(organisation, f"tech@{slug}.example", Role.INSTALLER_TECHNICIAN),
    )


def make_job(
    connection: Connection,
    driver: User,
    installer: InstallerCompany | None,
    status: str = "assigned",
    postcode: str = "1012 AB",
    country: str = "NL",
) -> InstallationJob:
    """A job made directly (not through the services), in ``status``."""
    membership = make_membership(connection, driver)
    now = timezone.now()
    return InstallationJob.objects.create(
        organisation=connection.organisation,
        connection=connection,
        membership=membership,
        driver=driver,
        installer=installer,
        status=status,
        address="Damrak 1",
        postcode=postcode,
        city="Amsterdam",
        country=country,
        assigned_at=now,
        status_changed_at=now,
    )
