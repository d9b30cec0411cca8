"""The organisation's quote pages (included from ``urls_organisation``)."""

from django.urls import path

from evdms.installations import views_quotes

urlpatterns = [
    path("jobs/<int:job_id>/quote/", views_quotes.organisation_quote, name="organisation_quote"),
    path(
        "jobs/<int:job_id>/quote/decide/",
        views_quotes.organisation_quote_decide,
        name="organisation_quote_decide",
    ),
]
