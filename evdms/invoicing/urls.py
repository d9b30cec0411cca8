"""The organisation's invoice pages."""

from __future__ import annotations

from django.urls import URLPattern

app_name = "invoicing"

urlpatterns: list[URLPattern] = []
