from django.urls import URLPattern, path

from evdms.installations.views_portal_home import portal_home

urlpatterns: list[URLPattern] = [
    path("", portal_home, name="portal_home"),
]
