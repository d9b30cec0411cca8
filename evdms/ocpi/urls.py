from django.urls import path, re_path

from evdms.ocpi import views
from evdms.ocpi.transport import not_found

app_name = "ocpi"

urlpatterns = [
    path("versions", views.versions, name="versions"),
    path("2.2.1", views.version_details, name="version_details"),
    path("2.2.1/credentials", views.credentials, name="credentials"),
    # Anything else under /ocpi/ answers in the envelope, not with an HTML page.
    re_path(r"^(?P<path>.*)$", not_found, name="not_found"),
]
