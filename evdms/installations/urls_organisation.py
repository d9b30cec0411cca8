from django.urls import URLPattern, URLResolver, include, path

from evdms.installations import views_organisation as views

urlpatterns: list[URLPattern | URLResolver] = [
    path("", views.report, name="report"),
    path("export/", views.report_export, name="report_export"),
    path("exports/<int:installation_export_id>/", views.export_status, name="export_status"),
    path("exports/<int:installation_export_id>/file/", views.export_file, name="export_file"),
    path("jobs/<int:job_id>/", views.job, name="job"),
    path(
        "jobs/<int:job_id>/documents/<int:document_id>/",
        views.job_document,
        name="job_document",
    ),
    # --- quotes (the quotes piece) ---
    path("", include("evdms.installations.urls_quotes")),
]
