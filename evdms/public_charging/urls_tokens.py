from __future__ import annotations

from django.urls import URLPattern, path

from evdms.public_charging import views_tokens as views

app_name = "public_charging_tokens"

urlpatterns: list[URLPattern] = [
    path("tokens/", views.tokens, name="tokens"),
    path("tokens/issue/", views.issue, name="issue"),
    path("tokens/<int:token_id>/block/", views.block, name="block"),
    path("tokens/<int:token_id>/unblock/", views.unblock, name="unblock"),
    path("my/tokens/", views.my_tokens, name="my_tokens"),
    path("my/tokens/<int:token_id>/lost/", views.report_lost, name="report_lost"),
]
