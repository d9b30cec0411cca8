from django.urls import path

from evdms.connections import views

app_name = "connections"

urlpatterns = [
    path("connections/", views.connection_list, name="list"),
    path("connections/columns/", views.connection_columns, name="columns"),
    path("connections/new/", views.connection_new, name="new"),
    path("connections/<int:connection_id>/", views.connection_detail, name="detail"),
    path("connections/<int:connection_id>/edit/", views.connection_edit, name="edit"),
    path("connections/<int:connection_id>/status/", views.connection_toggle, name="toggle"),
    path("connections/<int:connection_id>/qr.svg", views.connection_qr_svg, name="qr_svg"),
    path("connections/<int:connection_id>/qr.png", views.connection_qr_png, name="qr_png"),
    path("logos/<str:sha256>.png", views.logo, name="logo"),
    path("join/<str:token>/logo.png", views.join_logo, name="join_logo"),
]
