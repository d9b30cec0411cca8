"""Scoped look-ups of installation jobs, one per side. A job the caller may not act on
raises Http404, exactly like a missing one: an installer learns nothing of another
installer's jobs, an organisation nothing of another organisation's, a driver nothing of
another driver's."""

from __future__ import annotations

from django.db.models import QuerySet
from django.http import Http404
from django.shortcuts import get_object_or_404

from evdms.accounts.models import User
from evdms.accounts.permissions import INSTALLER_PERMISSIONS, Actor, Permission
from evdms.accounts.scope import reach
from evdms.installations.models import InstallationJob, InstallerCompany, Quote

_RELATED = ("driver", "connection", "organisation", "installer__organisation", "charger")


def installer_company_of(actor: Actor) -> InstallerCompany:
    """The installer company the actor works for; Http404 for anyone else."""
    if not any(actor.can(p) for p in INSTALLER_PERMISSIONS):
        raise Http404
    try:
        return InstallerCompany.objects.get(organisation=actor.organisation)
    except InstallerCompany.DoesNotExist:
        raise Http404 from None


def jobs_for_installer(actor: Actor) -> QuerySet[InstallationJob]:
    """The jobs assigned to the actor's installer company (never another's)."""
    return InstallationJob.objects.filter(installer=installer_company_of(actor))


def jobs_for_organisation(
    actor: Actor, permission: Permission | None = None
) -> QuerySet[InstallationJob]:
    """The jobs of the connections the actor reaches (its organisation's, and those a
    grant of *view installation details* gives), whoever installs them."""
    scope = reach(actor, permission, default=Permission.VIEW_INSTALLATIONS)
    return InstallationJob.objects.filter(scope.q("organisation_id", "connection_id"))


def jobs_for_driver(driver: User) -> QuerySet[InstallationJob]:
    return InstallationJob.objects.filter(driver=driver)


def get_job_for_installer(actor: Actor, job_id: int) -> InstallationJob:
    return get_object_or_404(jobs_for_installer(actor).select_related(*_RELATED), pk=job_id)


def get_job_for_organisation(
    actor: Actor, job_id: int, permission: Permission | None = None
) -> InstallationJob:
    return get_object_or_404(
        jobs_for_organisation(actor, permission).select_related(*_RELATED), pk=job_id
    )


def get_job_for_driver(driver: User, job_id: int) -> InstallationJob:
    return get_object_or_404(jobs_for_driver(driver).select_related(*_RELATED), pk=job_id)


def get_quote_for_organisation(
    actor: Actor, quote_id: int, permission: Permission | None = None
) -> Quote:
    return get_object_or_404(
        Quote.objects.select_related("job"),
        pk=quote_id,
        job__in=jobs_for_organisation(actor, permission),
    )
