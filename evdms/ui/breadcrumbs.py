"""The trail above a detail page ("Home › Drivers › Alice Archer"), shown by the base
template when a view gives ``breadcrumbs`` (``ui/breadcrumbs.html``): each view names the
list its object belongs to, so the trail is right whichever way one arrived."""

from __future__ import annotations

from dataclasses import dataclass

from django.urls import reverse
from django.utils.translation import gettext as _


@dataclass(frozen=True)
class Crumb:
    label: str
    url: str = ""  # empty for the page itself (the last crumb)


def breadcrumbs(*trail: tuple[str, str], current: str) -> list[Crumb]:
    """Home, then ``trail`` — (label, URL name or address starting with "/") — then the
    page itself, ``current``. Home is the start page of whoever looks (``web:home``
    sends an admin to the dashboard, an installer to the portal)."""
    crumbs = [Crumb(_("Home"), reverse("web:home"))]
    for label, where in trail:
        crumbs.append(Crumb(label, where if where.startswith("/") else reverse(where)))
    crumbs.append(Crumb(current))
    return crumbs
