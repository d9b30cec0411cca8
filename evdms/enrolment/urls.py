from django.urls import path

from evdms.enrolment import driver_views, invitation_views, views

app_name = "enrolment"

urlpatterns = [
    # drivers
    path("signup/", driver_views.signup, name="signup"),
    path("signup/sent/", driver_views.signup_sent, name="signup_sent"),
    path("confirm/<str:token>/", driver_views.confirm_email, name="confirm_email"),
    path("confirm-again/", driver_views.resend_confirmation, name="resend_confirmation"),
    path("join/<str:token>/", driver_views.join, name="join"),
    path("join/<str:token>/request/", driver_views.join_request, name="join_request"),
    path("my/connections/", driver_views.my_connections, name="my_connections"),
    path("my/connections/<int:membership_id>/withdraw/", driver_views.withdraw, name="withdraw"),
    path("my/connections/<int:membership_id>/leave/", driver_views.leave, name="leave"),
    # admins
    path("requests/", views.requests_list, name="requests"),
    path("requests/decide/", views.requests_decide, name="requests_decide"),
    path("drivers/", views.drivers_list, name="drivers"),
    path("drivers/remove/", views.drivers_remove, name="drivers_remove"),
    path("drivers/<int:membership_id>/", views.driver_detail, name="driver_detail"),
    path("drivers/<int:membership_id>/signed-terms.pdf", views.signed_terms, name="signed_terms"),
    path("connections/<int:connection_id>/revise/", views.revise_benefits, name="revise"),
    path("connections/<int:connection_id>/invite/", invitation_views.invite, name="invite"),
    path(
        "connections/<int:connection_id>/invite/<int:batch_id>/",
        invitation_views.invitation_batch,
        name="invitation_batch",
    ),
    path(
        "connections/<int:connection_id>/invite/<int:batch_id>/progress/",
        invitation_views.invitation_progress,
        name="invitation_progress",
    ),
]
