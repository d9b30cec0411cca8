"""The driver's quote page (included from ``urls_driver``)."""

from django.urls import path

from evdms.installations import views_quotes

urlpatterns = [
    path("<int:job_id>/quote/", views_quotes.driver_quote, name="driver_quote"),
]
