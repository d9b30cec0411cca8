"""The installer portal's home page (``/installer/``)."""

from __future__ import annotations

from django.http import HttpResponse
from django.shortcuts import render

from evdms.accounts.permissions import Permission
from evdms.installations.models import InstallerCompany
from evdms.installations.portal_dashboard import portal_figures
from evdms.ui.decorators import admin_required
from evdms.ui.http import AdminRequest

# The portal's job list (the portal piece's page): it reads ``status``.
JOBS_PATH = "/installer/jobs/"


@admin_required(Permission.WORK_INSTALLATION_JOBS)
def portal_home(request: AdminRequest) -> HttpResponse:
    company = InstallerCompany.objects.filter(organisation=request.actor.organisation).first()
    return render(
        request,
        "installations/portal_home.html",
        {"company": company, "figures": portal_figures(company), "jobs_path": JOBS_PATH},
    )
