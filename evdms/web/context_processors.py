from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.urls import reverse

from evdms.accounts.permissions import Actor, Permission

# (label, URL name, permission). Only built pages are listed: a page that does not
# exist yet is absent, not stubbed.
NAVIGATION: list[tuple[str, str, Permission]] = [
    ("Dashboard", "web:dashboard", Permission.VIEW_DASHBOARD),
    ("Connections", "connections:list", Permission.VIEW_CONNECTIONS),
    ("Admins", "accounts:admins", Permission.MANAGE_ADMINS),
    ("Settings", "accounts:settings", Permission.MANAGE_SETTINGS),
]


def navigation(request: HttpRequest) -> dict[str, Any]:
    actor = getattr(request, "actor", None)
    if actor is None and getattr(request, "user", None) is not None:
        actor = Actor.for_user(request.user)  # type: ignore[arg-type]
    if actor is None:
        return {"nav_items": [], "current_actor": None}
    path = request.path
    items = []
    for label, name, permission in NAVIGATION:
        if actor.can(permission):
            url = reverse(name)
            current = path == url if url == "/" else path.startswith(url)
            items.append({"label": label, "url": url, "current": current})
    return {"nav_items": items, "current_actor": actor}
