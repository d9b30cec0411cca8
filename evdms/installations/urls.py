"""Installation pages, by audience: the organisation's report and jobs, the installer
portal, the driver's own installation, and the signed quote-approval link (no log-in)."""

from django.urls import include, path

app_name = "installations"

urlpatterns = [
    path("installations/", include("evdms.installations.urls_organisation")),
    path("installer/", include("evdms.installations.urls_portal")),
    path("my/installation/", include("evdms.installations.urls_driver")),
    path("quote-approval/", include("evdms.installations.urls_approval")),
]
