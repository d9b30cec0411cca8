"""The navigation every page shows. It spans the areas (and shows the pending count of
connection requests), so it lives in the top package, above all of them."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.urls import reverse
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from evdms.accounts.permissions import Actor, Permission
from evdms.enrolment.selectors import pending_count_for

# (label, URL name, permission). Only built pages are listed: a page that does not
# exist yet is absent, not stubbed.
NAVIGATION: list[tuple[Promise, str, Permission]] = [
    (_("Dashboard"), "web:dashboard", Permission.VIEW_DASHBOARD),
    (_("Connections"), "connections:list", Permission.VIEW_CONNECTIONS),
    (_("Drivers"), "enrolment:drivers", Permission.MANAGE_DRIVERS),
    (_("Connection Requests"), "enrolment:requests", Permission.MANAGE_DRIVERS),
    (_("Chargers"), "charging:chargers", Permission.VIEW_INSTALLATIONS),
    (_("Home charging"), "charging:sessions", Permission.VIEW_DASHBOARD),
    (_("Statements"), "reimbursements:statements", Permission.VIEW_REPORTS),
    (_("Transactions"), "reports:transactions", Permission.VIEW_REPORTS),
    (_("Installations"), "installations:report", Permission.VIEW_INSTALLATIONS),
    (_("Invoices"), "invoicing:list", Permission.VIEW_INVOICES),
    (_("Charging tokens"), "public_charging_tokens:tokens", Permission.MANAGE_DRIVERS),
    # The installer portal: installer roles have none of the entries above.
    (_("Overview"), "installations:portal_home", Permission.WORK_INSTALLATION_JOBS),
    (_("Jobs"), "installations:portal-jobs", Permission.WORK_INSTALLATION_JOBS),
    (_("Admins"), "accounts:admins", Permission.MANAGE_ADMINS),
    (_("Grant Rights"), "accounts:grants", Permission.MANAGE_GRANTS),
    (_("Settings"), "accounts:settings", Permission.MANAGE_SETTINGS),
]


# A driver's own pages beyond the three in the base template (label, URL name): append.
DRIVER_LINKS: list[tuple[Promise, str]] = [
    (_("Public charging"), "public_charging_sessions:mine"),
    (_("My charging tokens"), "public_charging_tokens:my_tokens"),
]


def navigation(request: HttpRequest) -> dict[str, Any]:
    actor = getattr(request, "actor", None)
    if actor is None and getattr(request, "user", None) is not None:
        actor = Actor.for_user(request.user)
    if actor is None:
        links = [{"label": str(label), "url": reverse(name)} for label, name in DRIVER_LINKS]
        return {"nav_items": [], "current_actor": None, "driver_links": links}
    if getattr(request, "must_set_up_two_factor", False):
        # Every page but the set-up is closed until it is done: offer none.
        return {"nav_items": [], "current_actor": actor}
    path = request.path
    items = []
    for label, name, permission in NAVIGATION:
        if actor.can(permission):
            url = reverse(name)
            # A start page is current only itself, not the pages below it.
            exact = url == "/" or name == "installations:portal_home"
            current = path == url if exact else path.startswith(url)
            count = None
            if name == "enrolment:requests":  # the pending count, always in sight
                count = pending_count_for(actor)
            items.append({"label": str(label), "url": url, "current": current, "count": count})
    return {"nav_items": items, "current_actor": actor}
