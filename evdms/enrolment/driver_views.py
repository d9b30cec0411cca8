"""The driver's side: sign up, confirm the address, ask to join, see and manage own
connections. Mobile first; drivers never see another driver."""

from __future__ import annotations

from urllib.parse import quote

from django.contrib import messages
from django.contrib.auth import login
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import translation
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from evdms.connections.models import Connection
from evdms.enrolment import services
from evdms.enrolment.access import get_own_membership
from evdms.enrolment.forms import JoinForm, SignupForm
from evdms.enrolment.models import MembershipStatus
from evdms.enrolment.selectors import (
    one_per_organisation_message,
    other_place_in_organisation,
    own_memberships,
)
from evdms.enrolment.services.invitations import invitation_opened
from evdms.ui.decorators import login_required, public
from evdms.ui.forms import add_service_errors
from evdms.ui.http import AuthenticatedRequest


def _safe_next(request: HttpRequest, default: str) -> str:
    target = request.GET.get("next") or request.POST.get("next") or ""
    if target and url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        return target
    return default


@public
def signup(request: HttpRequest) -> HttpResponse:
    next_url = _safe_next(request, reverse("enrolment:my_connections"))
    form = SignupForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            user = services.driver_signup(
                **form.cleaned_data, next_url=next_url, language=translation.get_language()
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            if user is not None:  # came from an invitation to this address: go on
                login(request, user, backend="evdms.accounts.backends.EmailBackend")
                return redirect(next_url)
            # The same page whether the address had an account or not.
            request.session[SIGNUP_SENT_TO] = form.cleaned_data["email"].strip().lower()
            return redirect(reverse("enrolment:signup_sent") + "?next=" + quote(next_url))
    return render(
        request,
        "enrolment/signup.html",
        {"form": form, "next": next_url},
        status=422 if form.errors else 200,
    )


SIGNUP_SENT_TO = "evdms.signup_sent_to"


@public
def signup_sent(request: HttpRequest) -> HttpResponse:
    """After sign-up: check your e-mail (a confirmation link for a new account, a log-in
    link for an address that had one; the page does not say which)."""
    return render(
        request,
        "enrolment/signup_sent.html",
        {
            "email": request.session.get(SIGNUP_SENT_TO, ""),
            "next": _safe_next(request, reverse("enrolment:my_connections")),
        },
    )


@public
def confirm_email(request: HttpRequest, token: str) -> HttpResponse:
    user = services.driver_confirm_email(token=token)
    if user is None:
        return render(request, "enrolment/confirm_invalid.html", status=410)
    next_url = _safe_next(request, reverse("enrolment:my_connections"))
    if request.user.is_authenticated and request.user.pk == user.pk:
        messages.success(request, _("Thank you: your e-mail address is confirmed."))
        return redirect(next_url)
    # The link proves the address, not the password: log in with the one chosen at
    # sign-up (whoever made the account with someone else's address cannot use it).
    messages.success(request, _("Thank you: your e-mail address is confirmed. Log in to go on."))
    return redirect(reverse("accounts:login") + "?next=" + quote(next_url))


@require_POST
@login_required
def resend_confirmation(request: AuthenticatedRequest) -> HttpResponse:
    next_url = _safe_next(request, reverse("enrolment:my_connections"))
    services.driver_resend_confirmation(user=request.user, next_url=next_url)
    messages.success(
        request,
        _("We sent a new confirmation link to %(email)s.") % {"email": request.user.email},
    )
    return redirect(next_url)


def _joinable(request: HttpRequest, token: str) -> Connection | HttpResponse:
    """The connection behind an invite link, or the page saying it takes no one (410)."""
    connection = get_object_or_404(
        Connection.objects.select_related("organisation"), invite_token=token
    )
    if not connection.enabled:
        return render(
            request, "connections/join_closed.html", {"connection": connection}, status=410
        )
    return connection


@public
def join_request(request: HttpRequest, token: str) -> HttpResponse:
    connection = _joinable(request, token)
    if isinstance(connection, HttpResponse):
        return connection
    invitation = request.GET.get("invitation") or request.POST.get("invitation") or ""
    here = request.get_full_path()
    if not request.user.is_authenticated:
        return render(
            request,
            "enrolment/join_account.html",
            {"connection": connection, "next": quote(here)},
        )
    if invitation:  # following an invitation e-mailed to this address proves it
        services.driver_confirm_by_invitation(user=request.user, token=invitation)
    form = JoinForm(request.POST if request.method == "POST" else None, connection=connection)
    if request.method == "POST":
        form.is_valid()
        try:
            membership = services.membership_request(
                driver=request.user,
                connection=connection,
                answers=request.POST,
                ip_address=request.META.get("REMOTE_ADDR"),
                user_agent=request.headers.get("User-Agent", ""),
                invitation_token=invitation,
            )
        except ValidationError as exc:
            if not hasattr(exc, "error_dict"):
                for message in exc.messages:
                    form.add_error(None, message)
            elif form.is_valid():  # else the form ran the same rules and shows them already
                add_service_errors(form, exc)
        else:
            if membership.status == MembershipStatus.CONNECTED:
                messages.success(
                    request,
                    _("You are connected to %(name)s.") % {"name": connection.name_for_drivers},
                )
            else:
                messages.success(
                    request,
                    _("Your request was sent to %(name)s. We will e-mail you when it is decided.")
                    % {"name": connection.name_for_drivers},
                )
            return redirect("enrolment:my_connections")
    return render(
        request,
        "enrolment/join_request.html",
        {
            "connection": connection,
            "form": form,
            "invitation": invitation,
            "unconfirmed": request.user.email_confirmed_at is None,
            "elsewhere": _elsewhere(request, connection),
            "here": here,
        },
        status=422 if form.errors else 200,
    )


@login_required
def my_connections(request: AuthenticatedRequest) -> HttpResponse:
    return render(
        request,
        "enrolment/my_connections.html",
        {
            "memberships": own_memberships(request.user),
            "unconfirmed": request.user.email_confirmed_at is None,
        },
    )


@require_POST
@login_required
def withdraw(request: AuthenticatedRequest, membership_id: int) -> HttpResponse:
    membership = get_own_membership(request.user, membership_id)
    try:
        services.membership_withdraw(driver=request.user, membership=membership)
        messages.success(request, _("Your request was withdrawn."))
    except services.AlreadyDecided:
        messages.info(request, _("This request was already decided."))
    return redirect("enrolment:my_connections")


@require_POST
@login_required
def leave(request: AuthenticatedRequest, membership_id: int) -> HttpResponse:
    membership = get_own_membership(request.user, membership_id)
    try:
        services.membership_leave(driver=request.user, membership=membership)
        messages.success(
            request,
            _("You left %(name)s: its benefits ended now.")
            % {"name": membership.connection.name_for_drivers},
        )
    except services.AlreadyDecided:
        messages.info(request, _("You are no longer connected."))
    return redirect("enrolment:my_connections")


# The invite link, as a visitor sees it: enrolment's front door (it marks an e-mailed
# invitation opened), so it lives here and connections need not know about invitations.
def _elsewhere(request: HttpRequest, connection: Connection) -> str:
    """The one-per-organisation rule, naming the driver's other connection, when they
    have one: said before they fill anything in, not after."""
    if not request.user.is_authenticated:
        return ""
    existing = other_place_in_organisation(request.user, connection)
    return one_per_organisation_message(connection, existing) if existing else ""


@public
def join(request: HttpRequest, token: str) -> HttpResponse:
    connection = _joinable(request, token)
    if isinstance(connection, HttpResponse):
        return connection
    invitation = request.GET.get("invitation", "")
    if invitation:  # the link came from an e-mail invitation: it was opened
        invitation_opened(token=invitation, connection_id=connection.pk)
    request_url = reverse("enrolment:join_request", args=[token])
    if invitation:
        request_url += "?invitation=" + quote(invitation)
    return render(
        request,
        "connections/join.html",
        {
            "connection": connection,
            "elsewhere": _elsewhere(request, connection),
            "request_url": request_url,
            "app_link": None if connection.web_only else f"evdms://join/{token}",
        },
    )
