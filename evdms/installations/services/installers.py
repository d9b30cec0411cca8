"""Certified installer companies: only a platform operator certifies one (Django admin,
or ``manage.py certify_installer``), with the regions it serves and its capacity."""

from __future__ import annotations

import datetime
from collections.abc import Iterable

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone

from evdms.accounts.models import Organisation, OrganisationKind, User
from evdms.audit.models import AuditAction
from evdms.audit.services import audit_record
from evdms.installations.models import InstallerCompany, InstallerRegion
from evdms.installations.services.jobs import normalised_postcode


def parse_region(text: str) -> tuple[str, str]:
    """``NL`` or ``NL:10`` (a country, optionally a postcode prefix) as (country, prefix)."""
    country, _, prefix = text.strip().partition(":")
    country = country.strip().upper()
    prefix = normalised_postcode(prefix)
    if len(country) != 2 or not country.isalpha() or not country.isascii():
        raise ValidationError({"regions": [f"“{text}”: use a two-letter country code, e.g. NL."]})
    if len(prefix) > 10:
        raise ValidationError(
            {"regions": [f"“{text}”: a postcode prefix has at most 10 characters."]}
        )
    return country, prefix


def installer_company_for(*, organisation: Organisation) -> InstallerCompany:
    """The installer company of an organisation of kind installer (made, uncertified, if
    it has none yet)."""
    if organisation.kind != OrganisationKind.INSTALLER:
        raise ValidationError(
            {"organisation": [f"{organisation.name} is not an organisation of kind installer."]}
        )
    company, _ = InstallerCompany.objects.get_or_create(organisation=organisation)
    return company


def installer_certify(
    *,
    company: InstallerCompany,
    until: datetime.date | None,
    by_user: User | None,
    regions: Iterable[tuple[str, str]] | None = None,
    capacity: int | None = None,
) -> InstallerCompany:
    """Certify ``company`` until a date (None, or a past date: no longer certified, so no
    new jobs; its jobs stay). ``regions`` (country, postcode prefix), if given, replace
    the regions it serves; ``capacity``, if given, the open jobs it takes at once.
    ``by_user`` is the platform operator (None: a command run on the server)."""
    if by_user is not None and not by_user.is_staff:
        raise PermissionDenied("Only a platform operator certifies installers.")
    if capacity is not None and capacity < 1:
        raise ValidationError({"capacity": ["The capacity is at least 1 open job."]})
    wanted = (
        None
        if regions is None
        else sorted({(c.upper(), normalised_postcode(p)) for c, p in regions})
    )
    if wanted is not None:
        for country, prefix in wanted:
            parse_region(f"{country}:{prefix}")
    with transaction.atomic():
        locked = InstallerCompany.objects.select_for_update().get(pk=company.pk)
        changes: dict[str, list[object]] = {}
        before = locked.certified_until
        locked.certified_until = until
        locked.certified_at = timezone.now()
        locked.certified_by = by_user
        changes["certified_until"] = [
            before.isoformat() if before else None,
            until.isoformat() if until else None,
        ]
        if capacity is not None and capacity != locked.capacity:
            changes["capacity"] = [locked.capacity, capacity]
            locked.capacity = capacity
        locked.save()
        if wanted is not None:
            old = sorted(locked.regions.values_list("country", "postcode_prefix"))
            if old != wanted:
                locked.regions.all().delete()
                InstallerRegion.objects.bulk_create(
                    InstallerRegion(installer=locked, country=c, postcode_prefix=p)
                    for c, p in wanted
                )
                changes["regions"] = [_regions_text(old), _regions_text(wanted)]
        audit_record(
            actor=None,
            action=AuditAction.INSTALLER_CERTIFY,
            target=locked,
            organisation=locked.organisation,
            changes=changes,
            by_user=by_user,
        )
    return locked


def installer_updated(
    *, company: InstallerCompany, by_user: User | None, changed: Iterable[str]
) -> None:
    """Audit what an operator changed besides the certification (Django admin)."""
    fields = sorted(changed)
    if fields:
        audit_record(
            actor=None,
            action=AuditAction.INSTALLER_UPDATE,
            target=company,
            organisation=company.organisation,
            changes={"fields": [None, ", ".join(fields)]},
            by_user=by_user,
        )


def _regions_text(regions: Iterable[tuple[str, str]]) -> str:
    return ", ".join(f"{c}:{p}" if p else c for c, p in regions)
