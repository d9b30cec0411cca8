from django.urls import path

from evdms.accounts import views

app_name = "accounts"

urlpatterns = [
    path("login/", views.login, name="login"),
    path("login/code/", views.login_code, name="login_code"),
    path("logout/", views.logout, name="logout"),
    path("password-reset/", views.password_reset, name="password_reset"),
    path("password-reset/sent/", views.password_reset_done, name="password_reset_done"),
    path(
        "password-reset/<uidb64>/<token>/",
        views.password_reset_confirm,
        name="password_reset_confirm",
    ),
    path("password-reset/done/", views.password_reset_complete, name="password_reset_complete"),
    path("account/", views.account, name="account"),
    path("two-factor/", views.two_factor, name="two_factor"),
    path("two-factor/begin/", views.two_factor_begin, name="two_factor_begin"),
    path("two-factor/enable/", views.two_factor_enable, name="two_factor_enable"),
    path(
        "two-factor/recovery-codes/",
        views.recovery_codes_renew,
        name="recovery_codes_renew",
    ),
    path("two-factor/disable/", views.two_factor_disable, name="two_factor_disable"),
    path("connection-alerts/", views.connection_alerts, name="connection_alerts"),
    path("setup/<str:token>/", views.admin_setup, name="admin_setup"),
    path("admins/", views.admins, name="admins"),
    path("admins/<int:admin_id>/", views.admin_detail, name="admin_detail"),
    path("admins/<int:admin_id>/disable/", views.admin_disable, name="admin_disable"),
    path("admins/<int:admin_id>/enable/", views.admin_enable, name="admin_enable"),
    path("admins/<int:admin_id>/resend/", views.admin_resend, name="admin_resend"),
    path("grants/", views.grants, name="grants"),
    path("grants/<int:grant_id>/revoke/", views.grant_revoke, name="grant_revoke"),
    path("settings/", views.settings_page, name="settings"),
    path("settings/billing/", views.billing_update, name="billing_update"),
    path("settings/api-keys/", views.api_key_create, name="api_key_create"),
    path("settings/api-keys/<int:key_id>/revoke/", views.api_key_revoke, name="api_key_revoke"),
]
