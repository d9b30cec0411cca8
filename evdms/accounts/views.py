from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse_lazy
from django.views.decorators.http import require_POST

from evdms.accounts import selectors, services
from evdms.accounts.access import get_admin_for, get_api_key_for
from evdms.accounts.backends import client_ip
from evdms.accounts.forms import (
    AdminInviteForm,
    AdminRoleForm,
    AdminSetupForm,
    ApiKeyForm,
    LoginForm,
    OrganisationForm,
    OutboxPasswordResetForm,
)
from evdms.accounts.models import AdminStatus
from evdms.accounts.permissions import Permission
from evdms.audit.selectors import audit_events_for
from evdms.web.decorators import admin_required, public
from evdms.web.forms import add_service_errors

# --- log in, log out, password reset ------------------------------------------------

login = public(
    auth_views.LoginView.as_view(
        template_name="accounts/login.html",
        authentication_form=LoginForm,
        redirect_authenticated_user=True,
    )
)
logout = public(auth_views.LogoutView.as_view())
PASSWORD_RESET_THROTTLED = (
    "Too many password-reset requests. Wait an hour before asking again; a link we "
    "sent earlier still works for three hours (look in your spam folder too)."
)


class ThrottledPasswordResetView(auth_views.PasswordResetView):
    """Django's reset page, with a limit per address and per client, so nobody can
    flood an inbox with reset e-mails or try address after address."""

    def form_valid(self, form: Any) -> HttpResponse:
        if not services.password_reset_request_admit(
            email=form.cleaned_data["email"], client_ip=client_ip(self.request)
        ):
            form.add_error("email", PASSWORD_RESET_THROTTLED)
            return self.render_to_response(self.get_context_data(form=form), status=429)
        return super().form_valid(form)


password_reset = public(
    ThrottledPasswordResetView.as_view(
        template_name="accounts/password_reset.html",
        form_class=OutboxPasswordResetForm,
        success_url=reverse_lazy("accounts:password_reset_done"),
    )
)
password_reset_done = public(
    auth_views.PasswordResetDoneView.as_view(template_name="accounts/password_reset_done.html")
)
password_reset_confirm = public(
    auth_views.PasswordResetConfirmView.as_view(
        template_name="accounts/password_reset_confirm.html",
        success_url=reverse_lazy("accounts:password_reset_complete"),
    )
)
password_reset_complete = public(
    auth_views.PasswordResetCompleteView.as_view(
        template_name="accounts/password_reset_complete.html"
    )
)


def locked_out(request: HttpRequest, response: Any = None, credentials: Any = None) -> HttpResponse:
    """Shown by django-axes instead of the log-in page once an account is locked."""
    minutes = int(settings.AXES_COOLOFF_TIME.total_seconds() // 60)
    return render(
        request,
        "accounts/locked_out.html",
        {"minutes": minutes, "limit": settings.AXES_FAILURE_LIMIT},
        status=429,
    )


# --- set-up link for an invited admin -----------------------------------------------


@public
def admin_setup(request: HttpRequest, token: str) -> HttpResponse:
    try:
        invitation = services.admin_invitation_lookup(token)
    except services.InvitationInvalid:
        return render(request, "accounts/admin_setup_invalid.html", status=410)
    admin = invitation.admin
    form = AdminSetupForm(request.POST or None, initial={"full_name": admin.user.full_name})
    if request.method == "POST" and form.is_valid():
        try:
            services.admin_accept_invitation(
                token=token,
                full_name=form.cleaned_data["full_name"],
                password=form.cleaned_data["password"],
            )
        except ValidationError as exc:  # password rules
            form.add_error("password", exc.messages)
        except services.InvitationInvalid:
            return render(request, "accounts/admin_setup_invalid.html", status=410)
        else:
            messages.success(request, "Your account is ready. Log in with your new password.")
            return redirect("accounts:login")
    return render(request, "accounts/admin_setup.html", {"form": form, "admin": admin})


# --- admins of the organisation -----------------------------------------------------


@admin_required(Permission.MANAGE_ADMINS)
def admins(request: HttpRequest) -> HttpResponse:
    actor = request.actor  # type: ignore[attr-defined]
    form = AdminInviteForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            admin = services.admin_invite(actor=actor, **form.cleaned_data)
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, f"Invitation sent to {admin.user.email}.")
            return redirect("accounts:admins")
    return render(
        request,
        "accounts/admins.html",
        {"admins": selectors.admins_of(actor.organisation), "form": form},
        status=422 if form.errors else 200,
    )


@admin_required(Permission.MANAGE_ADMINS)
def admin_detail(request: HttpRequest, admin_id: int) -> HttpResponse:
    actor = request.actor  # type: ignore[attr-defined]
    admin = get_admin_for(actor, admin_id)
    form = AdminRoleForm(request.POST or None, initial={"role": admin.role})
    if request.method == "POST" and form.is_valid():
        try:
            services.admin_change_role(actor=actor, admin=admin, role=form.cleaned_data["role"])
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, "Role saved.")
            return redirect("accounts:admin_detail", admin_id=admin.pk)
    return render(
        request,
        "accounts/admin_detail.html",
        {
            "admin": admin,
            "form": form,
            "events": audit_events_for(admin),
            "is_self": admin.user_id == request.user.pk,
            "AdminStatus": AdminStatus,
        },
        status=422 if form.errors else 200,
    )


def _admin_action(request: HttpRequest, admin_id: int, action: Any, done: str) -> HttpResponse:
    actor = request.actor  # type: ignore[attr-defined]
    admin = get_admin_for(actor, admin_id)
    try:
        action(actor=actor, admin=admin)
    except ValidationError as exc:
        for message in exc.messages:
            messages.error(request, message)
    else:
        messages.success(request, done)
    return redirect("accounts:admin_detail", admin_id=admin.pk)


@require_POST
@admin_required(Permission.MANAGE_ADMINS)
def admin_disable(request: HttpRequest, admin_id: int) -> HttpResponse:
    return _admin_action(request, admin_id, services.admin_disable, "Admin disabled.")


@require_POST
@admin_required(Permission.MANAGE_ADMINS)
def admin_enable(request: HttpRequest, admin_id: int) -> HttpResponse:
    return _admin_action(request, admin_id, services.admin_enable, "Admin enabled.")


@require_POST
@admin_required(Permission.MANAGE_ADMINS)
def admin_resend(request: HttpRequest, admin_id: int) -> HttpResponse:
    return _admin_action(
        request, admin_id, services.admin_invitation_resend, "A new set-up link was sent."
    )


# --- organisation settings and API keys ---------------------------------------------


@admin_required(Permission.MANAGE_SETTINGS)
def settings_page(request: HttpRequest) -> HttpResponse:
    actor = request.actor  # type: ignore[attr-defined]
    organisation = actor.organisation
    form = OrganisationForm(
        request.POST or None,
        initial={
            "name": organisation.name,
            "currency": organisation.currency,
            "accounts_payable_email": organisation.accounts_payable_email,
        },
    )
    if request.method == "POST" and form.is_valid():
        try:
            services.organisation_update(actor=actor, **form.cleaned_data)
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, "Organisation settings saved.")
            return redirect("accounts:settings")
    return _settings_render(request, form=form, key_form=ApiKeyForm())


def _settings_render(
    request: HttpRequest,
    *,
    form: OrganisationForm | None = None,
    key_form: ApiKeyForm,
    new_key: str | None = None,
) -> HttpResponse:
    actor = request.actor  # type: ignore[attr-defined]
    organisation = actor.organisation
    form = form or OrganisationForm(
        initial={
            "name": organisation.name,
            "currency": organisation.currency,
            "accounts_payable_email": organisation.accounts_payable_email,
        }
    )
    has_errors = bool(form.errors or key_form.errors)
    return render(
        request,
        "accounts/settings.html",
        {
            "form": form,
            "key_form": key_form,
            "new_key": new_key,
            "api_keys": selectors.api_keys_of(organisation),
            "events": audit_events_for(organisation),
            "organisation": organisation,
        },
        status=422 if has_errors else 200,
    )


@require_POST
@admin_required(Permission.MANAGE_SETTINGS)
def api_key_create(request: HttpRequest) -> HttpResponse:
    actor = request.actor  # type: ignore[attr-defined]
    key_form = ApiKeyForm(request.POST)
    new_key = None
    if key_form.is_valid():
        try:
            key, new_key = services.api_key_create(
                actor=actor, organisation=actor.organisation, **key_form.cleaned_data
            )
        except ValidationError as exc:
            add_service_errors(key_form, exc)
        else:
            messages.success(request, f"API key “{key.name}” created. Copy it now.")
            key_form = ApiKeyForm()
    response = _settings_render(request, key_form=key_form, new_key=new_key)
    response["Cache-Control"] = "no-store"  # the page holds a secret
    return response


@require_POST
@admin_required(Permission.MANAGE_SETTINGS)
def api_key_revoke(request: HttpRequest, key_id: int) -> HttpResponse:
    actor = request.actor  # type: ignore[attr-defined]
    key = get_api_key_for(actor, key_id)
    services.api_key_revoke(actor=actor, key=key)
    messages.success(request, f"API key “{key.name}” revoked.")
    return redirect("accounts:settings")
