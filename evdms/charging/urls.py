from django.urls import path

from evdms.charging import views

app_name = "charging"

urlpatterns = [
    path("chargers/", views.charger_list, name="chargers"),
    path("chargers/register/", views.charger_register, name="charger_register"),
    path("chargers/<int:charger_id>/", views.charger_detail, name="charger_detail"),
    path("chargers/<int:charger_id>/driver/", views.charger_link, name="charger_link"),
    path("home-charging/", views.session_list, name="sessions"),
    path(
        "home-charging/sessions/<int:session_id>/review/",
        views.session_review,
        name="session_review",
    ),
    path("my/charging/", views.my_sessions, name="my_sessions"),
]
