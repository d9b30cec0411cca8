from django.urls import re_path

from evdms.ocpi import (
    views,
    views_cdrs,
    views_locations,
    views_sessions,
    views_tariffs,
    views_tokens,
)
from evdms.ocpi.transport import not_found

app_name = "ocpi"

# A trailing slash is accepted too: peers write both (the spec's own examples do).
urlpatterns = [
    re_path(r"^versions/?$", views.versions, name="versions"),
    re_path(r"^2\.2\.1/?$", views.version_details, name="version_details"),
    re_path(r"^2\.2\.1/credentials/?$", views.credentials, name="credentials"),
    re_path(r"^2\.2\.1/tokens/?$", views_tokens.token_list, name="tokens"),
    re_path(
        r"^2\.2\.1/tokens/+(?P<uid>[^/]+)/authorize/?$",
        views_tokens.token_authorize,
        name="token_authorize",
    ),
    re_path(r"^2\.2\.1/cdrs/?$", views_cdrs.cdrs, name="cdrs"),
    re_path(
        r"^2\.2\.1/cdrs/(?P<country_code>[^/]{1,2})/(?P<party_id>[^/]{1,3})/(?P<cdr_id>.{1,39}?)/?$",
        views_cdrs.cdr_detail,
        name="cdr",
    ),
    # Client Owned Objects pushed by CPOs (we are the Receiver): /{country_code}/{party_id}/{id}.
    re_path(r"^2\.2\.1/sessions/?$", views_sessions.module, name="sessions"),
    re_path(
        r"^2\.2\.1/sessions/(?P<country_code>[^/]+)/(?P<party_id>[^/]+)/(?P<session_id>[^/]+)/?$",
        views_sessions.session,
        name="session",
    ),
    re_path(r"^2\.2\.1/locations/?$", views_locations.module, name="locations"),
    re_path(
        r"^2\.2\.1/locations/(?P<country_code>[^/]+)/(?P<party_id>[^/]+)/(?P<location_id>[^/]+)"
        r"(?:/(?P<evse_uid>[^/]+)(?:/(?P<connector_id>[^/]+))?)?/?$",
        views_locations.location,
        name="location",
    ),
    re_path(r"^2\.2\.1/tariffs/?$", views_tariffs.module, name="tariffs"),
    re_path(
        r"^2\.2\.1/tariffs/(?P<country_code>[^/]+)/(?P<party_id>[^/]+)/(?P<tariff_id>[^/]+)/?$",
        views_tariffs.tariff,
        name="tariff",
    ),
    # Anything else under /ocpi/ answers in the envelope, not with an HTML page.
    re_path(r"^(?P<path>.*)$", not_found, name="not_found"),
]
