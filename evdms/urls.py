from django.contrib import admin
from django.urls import include, path

from evdms.api import api

admin.site.site_header = "evdms platform administration"
admin.site.site_title = "evdms platform"

urlpatterns = [
    path("", include("evdms.web.urls")),
    path("accounts/", include("evdms.accounts.urls")),
    path("", include("evdms.connections.urls")),
    path("", include("evdms.enrolment.urls")),
    path("", include("evdms.reimbursements.urls")),
    path("", include("evdms.charging.urls")),
    path("", include("evdms.reports.urls")),
    path("api/v1/", api.urls),
    path("platform-admin/", admin.site.urls),
]
