from typing import Any

from django.contrib import admin
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.urls import include, path, reverse

from evdms.api import api

admin.site.site_header = "evdms platform administration"
admin.site.site_title = "evdms platform"


def _admin_login(request: HttpRequest, extra_context: Any = None) -> HttpResponse:
    """Operators log in through our own log-in page, never the admin's own form, so the
    lock-out and the second factor apply to them as to everyone."""
    if request.user.is_authenticated:  # logged in, but not a platform operator
        raise PermissionDenied("The platform administration is for platform operators.")
    return redirect_to_login(request.GET.get("next") or reverse("admin:index"))


# The one site's log-in replaced on the instance (a subclass would need its own admin
# app config); mypy refuses any assignment to a method, so this ignore stays.
admin.site.login = _admin_login  # type: ignore[method-assign]

urlpatterns = [
    # First: resolving a real-time OCPI request must not try every page's pattern first
    # (no other app has URLs under ocpi/).
    path("ocpi/", include("evdms.ocpi.urls")),
    path("", include("evdms.web.urls")),
    path("accounts/", include("evdms.accounts.urls")),
    path("", include("evdms.connections.urls")),
    path("", include("evdms.enrolment.urls")),
    path("", include("evdms.reimbursements.urls")),
    path("", include("evdms.charging.urls")),
    path("", include("evdms.reports.urls")),
    path("", include("evdms.installations.urls")),
    path("", include("evdms.public_charging.urls_tokens")),
    path("", include("evdms.public_charging.urls_sessions")),
    path("", include("evdms.invoicing.urls")),
    path("api/v1/", api.urls),
    path("platform-admin/", admin.site.urls),
]
