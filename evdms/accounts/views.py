from __future__ import annotations

import math
import time
from base64 import b32encode
from typing import Any
from urllib.parse import urlencode

import segno
from axes.handlers.proxy import AxesProxyHandler
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import authenticate
from django.contrib.auth import login as auth_login
from django.contrib.auth import views as auth_views
from django.contrib.auth.signals import user_login_failed
from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse, reverse_lazy
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext
from django.views.decorators.http import require_POST
from django_otp import login as otp_login
from django_otp.plugins.otp_totp.models import TOTPDevice

from evdms.accounts import selectors, services
from evdms.accounts.access import get_admin_for, get_api_key_for
from evdms.accounts.backends import EmailBackend, client_ip
from evdms.accounts.forms import (
    SCOPE_ALL,
    SCOPE_CHOSEN,
    AccountForm,
    AdminInviteForm,
    AdminRoleForm,
    AdminSetupForm,
    ApiKeyForm,
    AuthenticatorCodeForm,
    BillingForm,
    ConnectionAlertsForm,
    GrantForm,
    LoginForm,
    OrganisationForm,
    OutboxPasswordResetForm,
    ReauthenticateForm,
    TwoFactorCodeForm,
)
from evdms.accounts.models import Admin, AdminStatus, Organisation, Role, User
from evdms.accounts.permissions import Actor, Permission
from evdms.accounts.services.billing import BILLING_FIELDS, billing_details_update, payer_candidates
from evdms.accounts.services.grants import GrantGone, grant_create
from evdms.accounts.services.grants import grant_revoke as services_grant_revoke
from evdms.audit.selectors import audit_events_for
from evdms.ui.breadcrumbs import breadcrumbs
from evdms.ui.decorators import account_required, admin_required, login_required, public
from evdms.ui.forms import add_service_errors
from evdms.ui.http import AdminRequest, AuthenticatedRequest
from evdms.ui.language import request_language_of

# --- log in, log out, password reset ------------------------------------------------

# Between the password and the code: who gave the password, when, and where to go.
PENDING_LOGIN = "two_factor_pending_login"


class TwoStepLoginView(auth_views.LoginView):
    """The password first; a user with an authenticator app is logged in only once they
    have also given a code (``login_code``), so no page opens in between."""

    def form_valid(self, form: Any) -> HttpResponse:
        user = form.get_user()
        if not selectors.has_two_factor(user):
            return super().form_valid(form)
        self.request.session[PENDING_LOGIN] = {
            "user_id": user.pk,
            "backend": user.backend,
            "at": time.time(),
            "next": self.get_success_url(),
        }
        return redirect("accounts:login_code")


login = public(
    TwoStepLoginView.as_view(
        template_name="accounts/login.html",
        authentication_form=LoginForm,
        redirect_authenticated_user=True,
    )
)


def _pending_login(request: HttpRequest) -> tuple[User, dict[str, Any]] | None:
    pending = request.session.get(PENDING_LOGIN)
    if not pending or time.time() - pending["at"] > settings.TWO_FACTOR_LOGIN_MINUTES * 60:
        return None
    user = EmailBackend().get_user(pending["user_id"])  # None once disabled
    return (user, pending) if user is not None else None


def _wrong_code(check: services.CodeCheck) -> str:
    if check.wait_until is not None:
        seconds = max(1, math.ceil((check.wait_until - timezone.now()).total_seconds()))
        return ngettext(
            "Too many wrong codes in a row: wait %(seconds)s second, then try again.",
            "Too many wrong codes in a row: wait %(seconds)s seconds, then try again.",
            seconds,
        ) % {"seconds": seconds}
    return _("That code is not right, or it was used already. Try the next code of your app.")


def _code_failed(request: HttpRequest, user: User) -> None:
    """A wrong code counts like a wrong password towards the lock-out."""
    user_login_failed.send(sender=__name__, credentials={"username": user.email}, request=request)


@public
def login_code(request: HttpRequest) -> HttpResponse:
    """The second step of logging in: a code from the app, or a recovery code."""
    found = _pending_login(request)
    if found is None:
        if request.session.pop(PENDING_LOGIN, None) is not None:
            messages.info(request, _("That took too long: log in again."))
        return redirect("accounts:login")
    user, pending = found
    form = TwoFactorCodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        if not AxesProxyHandler.is_allowed(request, {"username": user.email}):
            del request.session[PENDING_LOGIN]
            return locked_out(request)
        check = services.two_factor_check(user=user, code=form.cleaned_data["code"])
        if check.device is not None:
            del request.session[PENDING_LOGIN]
            auth_login(request, user, backend=pending["backend"])
            otp_login(request, check.device)
            if check.device.name == services.RECOVERY_CODES:
                left = selectors.recovery_codes_left(user)
                warning = ngettext(
                    "You logged in with a recovery code; %(left)s left. Each works once: "
                    "make new ones under Security when you run low.",
                    "You logged in with a recovery code; %(left)s left. Each works once: "
                    "make new ones under Security when you run low.",
                    left,
                )
                messages.warning(request, warning % {"left": left})
            return redirect(pending["next"])
        _code_failed(request, user)
        form.add_error("code", _wrong_code(check))
    return render(
        request,
        "accounts/login_code.html",
        {"form": form},
        status=422 if form.errors else 200,
    )


logout = public(auth_views.LogoutView.as_view())

PASSWORD_RESET_THROTTLED = gettext_lazy(
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


# --- two-factor authentication of one's own account -----------------------------------


def _qr_svg(device: TOTPDevice) -> str:
    """The app's set-up link as an inline SVG: drawn on the server, no script, no
    inline style, so the page keeps its strict content security policy."""
    return str(
        segno.make(device.config_url, error="m").svg_inline(
            scale=5, light="#fff", title=_("QR code to scan with your authenticator app")
        )
    )


def _two_factor_render(
    request: AuthenticatedRequest,
    *,
    code_form: AuthenticatorCodeForm | None = None,
    begin_form: ReauthenticateForm | None = None,
    renew_form: ReauthenticateForm | None = None,
    disable_form: ReauthenticateForm | None = None,
    alerts_form: ConnectionAlertsForm | None = None,
) -> HttpResponse:
    user = request.user
    enabled = selectors.has_two_factor(user)
    pending = None if enabled else selectors.authenticator_of(user, confirmed=False)
    admin = user.admin_or_none
    actor = Actor.for_user(user)
    context: dict[str, Any] = {
        "enabled": enabled,
        "pending": pending,
        "required": selectors.two_factor_required(user),
        "organisation": admin.organisation if admin is not None else None,
        "codes_left": selectors.recovery_codes_left(user) if enabled else 0,
        "code_form": code_form or AuthenticatorCodeForm(),
        "begin_form": begin_form or ReauthenticateForm(prefix="begin"),
        "renew_form": renew_form or ReauthenticateForm(prefix="renew"),
        "disable_form": disable_form or ReauthenticateForm(prefix="disable"),
        # Only an admin who approves drivers is alerted about requests (any admin may
        # still save the choice: it counts once their role approves drivers).
        "alerts_form": (
            alerts_form
            or ConnectionAlertsForm(initial={"connection_alerts": admin.connection_alerts})
        )
        if admin is not None and actor is not None and actor.can(Permission.MANAGE_DRIVERS)
        else None,
    }
    if pending is not None:
        secret = b32encode(pending.bin_key).decode()
        context["qr_svg"] = _qr_svg(pending)
        context["secret"] = " ".join(secret[i : i + 4] for i in range(0, len(secret), 4))
    forms_shown = (code_form, begin_form, renew_form, disable_form, alerts_form)
    has_errors = any(f is not None and f.errors for f in forms_shown)
    response = render(
        request, "accounts/two_factor.html", context, status=422 if has_errors else 200
    )
    response["Cache-Control"] = "no-store"  # the set-up shows the secret
    return response


def _recovery_codes_render(request: HttpRequest, codes: list[str]) -> HttpResponse:
    response = render(request, "accounts/recovery_codes.html", {"codes": codes})
    response["Cache-Control"] = "no-store"
    return response


@login_required
def account(request: AuthenticatedRequest) -> HttpResponse:
    """Every user's own page: their name and the language pages and e-mails are in."""
    user = request.user
    form = AccountForm(
        request.POST or None, initial={"full_name": user.full_name, "language": user.language}
    )
    if request.method == "POST" and form.is_valid():
        try:
            user = services.account_update(user=user, **form.cleaned_data)
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            # Said in the language just chosen: the next page is in it.
            with translation.override(request_language_of(user, request)):
                messages.success(request, _("Your account is saved."))
            return redirect("accounts:account")
    return render(
        request,
        "accounts/account.html",
        {"form": form, "breadcrumbs": breadcrumbs(current=_("Account"))},
        status=422 if form.errors else 200,
    )


@account_required
def two_factor(request: AuthenticatedRequest) -> HttpResponse:
    return _two_factor_render(request)


@require_POST
@account_required
def two_factor_begin(request: AuthenticatedRequest) -> HttpResponse:
    # The password again, as for every change to the second factor: a borrowed or
    # stolen session must not put its own app on the account and keep the recovery
    # codes, locking the owner out (a password reset does not remove two-factor).
    form = ReauthenticateForm(request.POST, prefix="begin")
    if not _proven(request, form):
        return _two_factor_render(request, begin_form=form)
    try:
        services.two_factor_begin(user=request.user)
    except ValidationError as exc:
        for message in exc.messages:
            messages.info(request, message)
    return redirect("accounts:two_factor")


@require_POST
@account_required
def two_factor_enable(request: AuthenticatedRequest) -> HttpResponse:
    form = AuthenticatorCodeForm(request.POST)
    if form.is_valid():
        try:
            check, codes = services.two_factor_enable(
                user=request.user,
                code=form.cleaned_data["code"],
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            if check.device is not None:
                otp_login(request, check.device)  # this session has shown the code
                messages.success(request, _("Two-factor authentication is on."))
                return _recovery_codes_render(request, codes)
            form.add_error("code", _wrong_code(check))
    return _two_factor_render(request, code_form=form)


def _proven(request: AuthenticatedRequest, form: ReauthenticateForm) -> bool:
    """The password or a code of the logged-in user, checked again before a change to
    their second factor; a wrong one counts towards the lock-out like at log-in."""
    if not form.is_valid():
        return False
    user: User = request.user
    if not AxesProxyHandler.is_allowed(request, {"username": user.email}):
        request.axes_locked_out = True
        return False
    proof = form.cleaned_data["proof"]
    if services.is_code_shaped(proof):
        if services.two_factor_check(user=user, code=proof).device is not None:
            return True
        _code_failed(request, user)
    elif authenticate(request, username=user.email, password=proof) is not None:
        return True  # (a wrong password was counted by authenticate itself)
    form.add_error("proof", _("That is neither your password nor a current code."))
    return False


@require_POST
@account_required
def recovery_codes_renew(request: AuthenticatedRequest) -> HttpResponse:
    form = ReauthenticateForm(request.POST, prefix="renew")
    if not _proven(request, form):
        return _two_factor_render(request, renew_form=form)
    try:
        codes = services.recovery_codes_renew(user=request.user)
    except ValidationError as exc:
        for message in exc.messages:
            messages.error(request, message)
        return redirect("accounts:two_factor")
    messages.success(request, _("New recovery codes made; the old ones no longer work."))
    return _recovery_codes_render(request, codes)


@require_POST
@account_required
def two_factor_disable(request: AuthenticatedRequest) -> HttpResponse:
    form = ReauthenticateForm(request.POST, prefix="disable")
    if not _proven(request, form):
        return _two_factor_render(request, disable_form=form)
    services.two_factor_disable(user=request.user)
    messages.success(request, _("Two-factor authentication is off."))
    return redirect("accounts:two_factor")


@require_POST
@account_required
def connection_alerts(request: AuthenticatedRequest) -> HttpResponse:
    """An admin's own choice of connection alerts (on the Security page, which every
    admin reaches: the admin pages are for whoever manages the admins)."""
    actor = Actor.for_user(request.user)
    admin = request.user.admin_or_none
    if actor is None or admin is None:
        messages.info(request, _("Connection alerts are for the admins of an organisation."))
        return redirect("accounts:two_factor")
    form = ConnectionAlertsForm(request.POST)
    if form.is_valid():
        try:
            services.admin_change_connection_alerts(
                actor=actor, admin=admin, alerts=form.cleaned_data["connection_alerts"]
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, _("Connection alerts saved."))
            return redirect("accounts:two_factor")
    return _two_factor_render(request, alerts_form=form)


# --- set-up link for an invited admin -----------------------------------------------


@public
def admin_setup(request: HttpRequest, token: str) -> HttpResponse:
    """The e-mailed invitation link: a new account for an address without one; for an
    address with an account, its owner accepts logged in as that account."""
    try:
        invitation = services.admin_invitation_lookup(token)
    except services.InvitationInvalid:
        return render(request, "accounts/admin_setup_invalid.html", status=410)
    admin = invitation.admin
    # Whoever holds the link receives the address's e-mail: telling them whether the
    # address has an account tells its owner about their own address, nobody else.
    account = selectors.account_with_address(admin.email)
    if account is None:
        return _setup_new_account(request, token, admin)
    return _accept_as_account(request, token, admin, account)


def _setup_new_account(request: HttpRequest, token: str, admin: Admin) -> HttpResponse:
    form = AdminSetupForm(request.POST or None, initial={"full_name": admin.full_name})
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
        except services.AccountExists:  # made a moment ago by someone with the same link
            return redirect("accounts:admin_setup", token=token)
        else:
            messages.success(request, _("Your account is ready. Log in with your new password."))
            return redirect("accounts:login")
    return render(request, "accounts/admin_setup.html", {"form": form, "admin": admin})


def _accept_as_account(
    request: HttpRequest, token: str, admin: Admin, account: User
) -> HttpResponse:
    context: dict[str, Any] = {
        "admin": admin,
        "login_url": f"{reverse('accounts:login')}?{urlencode({'next': request.path})}",
        "logged_in_as_owner": request.user.pk == account.pk,
        "refusal": None,
    }
    if not context["logged_in_as_owner"]:
        return render(request, "accounts/admin_accept.html", context)
    context["refusal"] = services.admin_acceptance_refusal(account)
    if request.method == "POST" and context["refusal"] is None:
        try:
            services.admin_accept_invitation_as(token=token, user=account)
        except services.InvitationInvalid:
            return render(request, "accounts/admin_setup_invalid.html", status=410)
        except services.AcceptanceRefused as exc:
            context["refusal"] = str(exc)
        else:
            messages.success(
                request,
                _("You are now %(role)s of %(organisation)s.")
                % {"role": admin.get_role_display(), "organisation": admin.organisation.name},
            )
            return redirect("web:dashboard")
    return render(
        request,
        "accounts/admin_accept.html",
        context,
        status=409 if request.method == "POST" and context["refusal"] else 200,
    )


# --- admins of the organisation -----------------------------------------------------


@admin_required(Permission.MANAGE_ADMINS)
def admins(request: AdminRequest) -> HttpResponse:
    actor = request.actor
    form = AdminInviteForm(request.POST or None, organisation=actor.organisation)
    if request.method == "POST" and form.is_valid():
        try:
            admin = services.admin_invite(actor=actor, **form.cleaned_data)
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, _("Invitation sent to %(email)s.") % {"email": admin.email})
            return redirect("accounts:admins")
    return render(
        request,
        "accounts/admins.html",
        {"admins": selectors.admins_of(actor.organisation), "form": form},
        status=422 if form.errors else 200,
    )


def _admin_save(actor: Actor, admin: Admin, form: AdminRoleForm) -> None:
    """Role, connections and alerts together: a refused list leaves the role unsaved."""
    data = form.cleaned_data
    with transaction.atomic():
        admin = services.admin_change_role(actor=actor, admin=admin, role=data["role"])
        # Only when the page sent the choice: a post of the role alone (an older page,
        # a script) must not widen a limited admin to all connections.
        if "all_connections" in form.fields and "all_connections" in form.data:
            services.admin_change_connections(
                actor=actor,
                admin=admin,
                all_connections=data["all_connections"],
                connection_ids=data.get("connection_ids") or [],
            )
        if data.get("connection_alerts"):
            services.admin_change_connection_alerts(
                actor=actor, admin=admin, alerts=data["connection_alerts"]
            )


@admin_required(Permission.MANAGE_ADMINS)
def admin_detail(request: AdminRequest, admin_id: int) -> HttpResponse:
    actor = request.actor
    admin = get_admin_for(actor, admin_id)
    network_manager = admin.role == Role.NETWORK_MANAGER
    form = AdminRoleForm(
        request.POST or None,
        initial={
            "role": admin.role,
            "all_connections": SCOPE_ALL if admin.all_connections else SCOPE_CHOSEN,
            "connection_ids": [c.pk for c in admin.connections.all()],
            "connection_alerts": admin.connection_alerts,
        },
        organisation=actor.organisation,
        network_manager=network_manager,
    )
    if request.method == "POST" and form.is_valid():
        try:
            _admin_save(actor, admin, form)
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, _("Admin saved."))
            return redirect("accounts:admin_detail", admin_id=admin.pk)
    return render(
        request,
        "accounts/admin_detail.html",
        {
            "admin": admin,
            "form": form,
            "network_manager": network_manager,
            "all_connections": selectors.has_all_connections(admin),
            "events": audit_events_for(admin),
            "is_self": admin.user_id == request.user.pk,
            "AdminStatus": AdminStatus,
            "breadcrumbs": breadcrumbs(
                (_("Admins"), "accounts:admins"), current=admin.full_name or admin.email
            ),
        },
        status=422 if form.errors else 200,
    )


def _admin_action(request: AdminRequest, admin_id: int, action: Any, done: str) -> HttpResponse:
    actor = request.actor
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
def admin_disable(request: AdminRequest, admin_id: int) -> HttpResponse:
    return _admin_action(request, admin_id, services.admin_disable, _("Admin disabled."))


@require_POST
@admin_required(Permission.MANAGE_ADMINS)
def admin_enable(request: AdminRequest, admin_id: int) -> HttpResponse:
    return _admin_action(request, admin_id, services.admin_enable, _("Admin enabled."))


@require_POST
@admin_required(Permission.MANAGE_ADMINS)
def admin_resend(request: AdminRequest, admin_id: int) -> HttpResponse:
    return _admin_action(
        request, admin_id, services.admin_invitation_resend, _("A new set-up link was sent.")
    )


# --- organisation settings and API keys ---------------------------------------------


def _organisation_initial(organisation: Organisation) -> dict[str, Any]:
    return {name: getattr(organisation, name) for name in OrganisationForm.base_fields}


@admin_required(Permission.MANAGE_SETTINGS)
def settings_page(request: AdminRequest) -> HttpResponse:
    actor = request.actor
    organisation = actor.organisation
    form = OrganisationForm(request.POST or None, initial=_organisation_initial(organisation))
    if request.method == "POST" and form.is_valid():
        try:
            services.organisation_update(actor=actor, **form.cleaned_data)
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, _("Organisation settings saved."))
            return redirect("accounts:settings")
    return _settings_render(request, form=form, key_form=ApiKeyForm(organisation=organisation))


def _billing_form(organisation: Organisation, data: Any = None) -> BillingForm:
    initial: dict[str, Any] = {name: getattr(organisation, name) for name in BILLING_FIELDS}
    initial["invoice_payer"] = str(organisation.invoice_payer_id or "")
    return BillingForm(
        data,
        initial=initial,
        payers=list(payer_candidates(organisation)),
        organisation_name=organisation.name,
    )


@require_POST
@admin_required(Permission.MANAGE_SETTINGS)
def billing_update(request: AdminRequest) -> HttpResponse:
    actor = request.actor
    organisation = actor.organisation
    billing_form = _billing_form(organisation, request.POST)
    if billing_form.is_valid():
        try:
            billing_details_update(
                actor=actor, organisation=organisation, **billing_form.cleaned_data
            )
        except ValidationError as exc:
            add_service_errors(billing_form, exc)
        else:
            messages.success(request, _("Billing details saved."))
            return redirect("accounts:settings")
    return _settings_render(
        request, billing_form=billing_form, key_form=ApiKeyForm(organisation=organisation)
    )


def _settings_render(
    request: AdminRequest,
    *,
    form: OrganisationForm | None = None,
    billing_form: BillingForm | None = None,
    key_form: ApiKeyForm,
    new_key: str | None = None,
) -> HttpResponse:
    actor = request.actor
    organisation = actor.organisation
    form = form or OrganisationForm(initial=_organisation_initial(organisation))
    billing_form = billing_form or _billing_form(organisation)
    has_errors = bool(form.errors or billing_form.errors or key_form.errors)
    return render(
        request,
        "accounts/settings.html",
        {
            "form": form,
            "billing_form": billing_form,
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
def api_key_create(request: AdminRequest) -> HttpResponse:
    actor = request.actor
    key_form = ApiKeyForm(request.POST, organisation=actor.organisation)
    new_key = None
    if key_form.is_valid():
        try:
            key, new_key = services.api_key_create(
                actor=actor, organisation=actor.organisation, **key_form.cleaned_data
            )
        except ValidationError as exc:
            add_service_errors(key_form, exc)
        else:
            messages.success(
                request, _("API key “%(name)s” created. Copy it now.") % {"name": key.name}
            )
            key_form = ApiKeyForm(organisation=actor.organisation)
    response = _settings_render(request, key_form=key_form, new_key=new_key)
    response["Cache-Control"] = "no-store"  # the page holds a secret
    return response


@require_POST
@admin_required(Permission.MANAGE_SETTINGS)
def api_key_revoke(request: AdminRequest, key_id: int) -> HttpResponse:
    actor = request.actor
    key = get_api_key_for(actor, key_id)
    services.api_key_revoke(actor=actor, key=key)
    messages.success(request, _("API key “%(name)s” revoked.") % {"name": key.name})
    return redirect("accounts:settings")


# --- grants to other organisations --------------------------------------------------


def _grants_render(request: AdminRequest, form: GrantForm, *, status: int = 200) -> HttpResponse:
    organisation = request.actor.organisation
    given = list(selectors.grants_given_by(organisation))
    received = list(selectors.grants_received_by(organisation))
    return render(
        request,
        "accounts/grants.html",
        {
            "form": form,
            "organisation": organisation,
            "given": [g for g in given if g.revoked_at is None],
            "received": [g for g in received if g.revoked_at is None],
            "given_revoked": [g for g in given if g.revoked_at is not None],
            "received_revoked": [g for g in received if g.revoked_at is not None],
        },
        status=422 if form.errors else status,
    )


def _grant_form(request: AdminRequest, data: Any = None) -> GrantForm:
    return GrantForm(data, connections=selectors.own_connections(request.actor.organisation))


@admin_required(Permission.MANAGE_GRANTS)
def grants(request: AdminRequest) -> HttpResponse:
    """Organisation > Grant Rights: grant rights, and the grants given and received."""
    form = _grant_form(request, request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            grant = grant_create(actor=request.actor, **form.service_arguments())
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(
                request,
                _("%(organisation)s now has the rights you granted.")
                % {"organisation": grant.grantee.name},
            )
            return redirect("accounts:grants")
    return _grants_render(request, form)


@require_POST
@admin_required(Permission.MANAGE_GRANTS)
def grant_revoke(request: AdminRequest, grant_id: int) -> HttpResponse:
    try:
        grant = services_grant_revoke(actor=request.actor, grant_id=grant_id)
    except GrantGone as gone:
        # Another organisation's grant answers like a missing one: 404, same words.
        messages.error(request, str(gone))
        return _grants_render(request, _grant_form(request), status=404)
    messages.success(
        request,
        _("The rights granted to %(organisation)s are revoked.")
        % {"organisation": grant.grantee.name},
    )
    return redirect("accounts:grants")
