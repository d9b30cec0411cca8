"""The navigation every page shows. It spans the areas (and shows the pending count of
connection requests), so it lives in the top package, above all of them."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.urls import reverse

from evdms.accounts.permissions import Actor, Permission
from evdms.enrolment.selectors import pending_count_for

# (label, URL name, permission). Only built pages are listed: a page that does not
# exist yet is absent, not stubbed.
NAVIGATION: list[tuple[str, str, Permission]] = [
    ("Dashboard", "web:dashboard", Permission.VIEW_DASHBOARD),
    ("Connections", "connections:list", Permission.VIEW_CONNECTIONS),
    ("Drivers", "enrolment:drivers", Permission.MANAGE_DRIVERS),
    ("Connection Requests", "enrolment:requests", Permission.MANAGE_DRIVERS),
    ("Chargers", "charging:chargers", Permission.VIEW_INSTALLATIONS),
    ("Home charging", "charging:sessions", Permission.VIEW_DASHBOARD),
    ("Statements", "reimbursements:statements", Permission.VIEW_REPORTS),
    ("Transactions", "reports:transactions", Permission.VIEW_REPORTS),
    ("Installations", "installations:report", Permission.VIEW_INSTALLATIONS),
    ("Invoices", "invoicing:list", Permission.VIEW_INVOICES),
    ("Charging tokens", "public_charging_tokens:tokens", Permission.MANAGE_DRIVERS),
    # The installer portal: installer roles have none of the entries above.
    ("Overview", "installations:portal_home", Permission.WORK_INSTALLATION_JOBS),
    ("Jobs", "installations:portal-jobs", Permission.WORK_INSTALLATION_JOBS),
    ("Admins", "accounts:admins", Permission.MANAGE_ADMINS),
    ("Grant Rights", "accounts:grants", Permission.MANAGE_GRANTS),
    ("Settings", "accounts:settings", Permission.MANAGE_SETTINGS),
]


# A driver's own pages beyond the three in the base template (label, URL name): append.
DRIVER_LINKS: list[tuple[str, str]] = [
    ("Public charging", "public_charging_sessions:mine"),
    ("My charging tokens", "public_charging_tokens:my_tokens"),
]


def navigation(request: HttpRequest) -> dict[str, Any]:
    actor = getattr(request, "actor", None)
    if actor is None and getattr(request, "user", None) is not None:
        actor = Actor.for_user(request.user)
    if actor is None:
        links = [{"label": label, "url": reverse(name)} for label, name in DRIVER_LINKS]
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
            items.append({"label": label, "url": url, "current": current, "count": count})
    return {"nav_items": items, "current_actor": actor}
