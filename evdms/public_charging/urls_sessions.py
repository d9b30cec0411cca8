from __future__ import annotations

from django.urls import URLPattern

app_name = "public_charging_sessions"

urlpatterns: list[URLPattern] = []
