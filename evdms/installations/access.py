"""Scoped look-ups of installation jobs, one per side. A job the caller may not act on
raises Http404, exactly like a missing one: an installer learns nothing of another
installer's jobs, an organisation nothing of another organisation's, a driver nothing of
another driver's."""

from __future__ import annotations

from django.db.models import QuerySet
from django.http import Http404
from django.shortcuts import get_object_or_404

from evdms.accounts.access import organisations_acting_for
from evdms.accounts.models import User
from evdms.accounts.permissions import INSTALLER_PERMISSIONS, Actor
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


def jobs_for_organisation(actor: Actor) -> QuerySet[InstallationJob]:
    """The jobs of the actor's organisation's connections (and of those that granted it
    rights), whoever installs them."""
    ids = list(organisations_acting_for(actor).values_list("pk", flat=True))
    return InstallationJob.objects.filter(organisation_id__in=ids)


def jobs_for_driver(driver: User) -> QuerySet[InstallationJob]:
    return InstallationJob.objects.filter(driver=driver)


def get_job_for_installer(actor: Actor, job_id: int) -> InstallationJob:
    return get_object_or_404(jobs_for_installer(actor).select_related(*_RELATED), pk=job_id)


def get_job_for_organisation(actor: Actor, job_id: int) -> InstallationJob:
    return get_object_or_404(jobs_for_organisation(actor).select_related(*_RELATED), pk=job_id)


def get_job_for_driver(driver: User, job_id: int) -> InstallationJob:
    return get_object_or_404(jobs_for_driver(driver).select_related(*_RELATED), pk=job_id)


def get_quote_for_organisation(actor: Actor, quote_id: int) -> Quote:
    return get_object_or_404(
        Quote.objects.select_related("job"), pk=quote_id, job__in=jobs_for_organisation(actor)
    )
