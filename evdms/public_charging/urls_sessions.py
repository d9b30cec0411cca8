from __future__ import annotations

from django.urls import URLPattern, path

from evdms.public_charging import views_sessions

app_name = "public_charging_sessions"

urlpatterns: list[URLPattern] = [
    path("my/public-charging/", views_sessions.my_public_sessions, name="mine"),
    path(
        "my/public-charging/<int:session_id>/purpose/",
        views_sessions.my_public_session_purpose,
        name="purpose",
    ),
]
