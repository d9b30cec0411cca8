"""The driver's own installation, under /my/installation/."""

from django.urls import URLPattern, URLResolver, include, path

from evdms.installations import views_driver

urlpatterns: list[URLPattern | URLResolver] = [
    path("", views_driver.my_installation, name="my-installation"),
    path("<int:job_id>/photo/", views_driver.driver_photo, name="my-installation-photo"),
    path("<int:job_id>/move/", views_driver.move_request, name="my-installation-move"),
    path(
        "<int:job_id>/documents/<int:document_id>/",
        views_driver.driver_document,
        name="my-installation-document",
    ),
    # --- quotes (the quotes piece) ---
    path("", include("evdms.installations.urls_driver_quotes")),
]
