from django.urls import path

from evdms.web import views

app_name = "web"

urlpatterns = [
    path("", views.home, name="home"),
    path("dashboard/", views.dashboard, name="dashboard"),
    path("dev/outbox/", views.outbox, name="outbox"),
    path("dev/outbox/<int:email_id>/", views.outbox_message, name="outbox_message"),
    path(
        "dev/outbox/<int:email_id>/attachments/<int:index>/",
        views.outbox_attachment,
        name="outbox_attachment",
    ),
    path("dev/outbox/<int:email_id>/html/", views.outbox_message_html, name="outbox_message_html"),
]
