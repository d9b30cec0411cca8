from django.urls import re_path

from evdms.ocpi import views
from evdms.ocpi.transport import not_found

app_name = "ocpi"

# A trailing slash is accepted too: peers write both (the spec's own examples do).
urlpatterns = [
    re_path(r"^versions/?$", views.versions, name="versions"),
    re_path(r"^2\.2\.1/?$", views.version_details, name="version_details"),
    re_path(r"^2\.2\.1/credentials/?$", views.credentials, name="credentials"),
    # Anything else under /ocpi/ answers in the envelope, not with an HTML page.
    re_path(r"^(?P<path>.*)$", not_found, name="not_found"),
]
