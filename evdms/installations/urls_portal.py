"""The installer portal under /installer/: its home (open jobs and SLA) and the jobs."""

from django.urls import URLPattern, URLResolver, include, path

from evdms.installations import views_portal as views

urlpatterns: list[URLPattern | URLResolver] = [
    path("", include("evdms.installations.urls_portal_home")),
    path("jobs/", views.jobs, name="portal-jobs"),
    path("jobs/<int:job_id>/", views.job_detail, name="portal-job"),
    path("jobs/<int:job_id>/contact/", views.job_contact, name="portal-job-contact"),
    path("jobs/<int:job_id>/survey/", views.job_survey, name="portal-job-survey"),
    path("jobs/<int:job_id>/photo/", views.job_photo, name="portal-job-photo"),
    path("jobs/<int:job_id>/quote/", views.job_quote, name="portal-job-quote"),
    path("jobs/<int:job_id>/appointment/", views.job_appointment, name="portal-job-appointment"),
    path("jobs/<int:job_id>/installed/", views.job_installed, name="portal-job-installed"),
    path("jobs/<int:job_id>/declaration/", views.job_declaration, name="portal-job-declaration"),
    path("jobs/<int:job_id>/cancel/", views.job_cancel, name="portal-job-cancel"),
    path(
        "jobs/<int:job_id>/documents/<int:document_id>/",
        views.job_document,
        name="portal-job-document",
    ),
]
