from __future__ import annotations

from django.conf import settings
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.clickjacking import xframe_options_sameorigin

from evdms.accounts.models import AdminStatus
from evdms.accounts.permissions import Actor, Permission
from evdms.accounts.selectors import admins_of, api_keys_of
from evdms.enrolment.access import memberships_for
from evdms.enrolment.models import MembershipStatus
from evdms.enrolment.selectors import pending_count_for
from evdms.notifications.models import OutboundEmail
from evdms.web.decorators import admin_required, public


@public
def home(request: HttpRequest) -> HttpResponse:
    """Admins start on the dashboard, drivers on their connections."""
    if not request.user.is_authenticated:
        return redirect("accounts:login")
    if Actor.for_user(request.user) is not None:
        return redirect("web:dashboard")
    return redirect("enrolment:my_connections")


@admin_required(Permission.VIEW_DASHBOARD)
def dashboard(request: HttpRequest) -> HttpResponse:
    actor: Actor = request.actor  # type: ignore[attr-defined]
    admins = list(admins_of(actor.organisation))
    figures: list[tuple[str, int, str]] = []
    if actor.can(Permission.MANAGE_DRIVERS):
        figures += [
            (
                "Connected drivers",
                memberships_for(actor).filter(status=MembershipStatus.CONNECTED).count(),
                reverse("enrolment:drivers") + "?status=connected",
            ),
            ("Pending requests", pending_count_for(actor), reverse("enrolment:requests")),
        ]
    figures += [
        ("Active admins", sum(a.status == AdminStatus.ACTIVE for a in admins), ""),
        ("Pending admins", sum(a.status == AdminStatus.PENDING for a in admins), ""),
        ("Active API keys", api_keys_of(actor.organisation).filter(revoked_at=None).count(), ""),
    ]
    return render(request, "web/dashboard.html", {"figures": figures})


def _outbox_enabled() -> None:
    if not settings.DEV_OUTBOX:
        raise Http404


# The development outbox is open without logging in on purpose: a newly invited demo
# admin has no account yet and needs their set-up link from here. It does not exist in
# production (DEV_OUTBOX is off there).
@public
def outbox(request: HttpRequest) -> HttpResponse:
    _outbox_enabled()
    page = Paginator(OutboundEmail.objects.order_by("-created_at", "-id"), 50).get_page(
        request.GET.get("page")
    )
    return render(request, "web/outbox.html", {"page": page})


@public
def outbox_message(request: HttpRequest, email_id: int) -> HttpResponse:
    _outbox_enabled()
    email = get_object_or_404(OutboundEmail, pk=email_id)
    return render(request, "web/outbox_message.html", {"email": email})


@public
@xframe_options_sameorigin
def outbox_message_html(request: HttpRequest, email_id: int) -> HttpResponse:
    _outbox_enabled()
    email = get_object_or_404(OutboundEmail, pk=email_id)
    response = HttpResponse(email.html_body, content_type="text/html; charset=utf-8")
    # The message is shown as sent, in a sandbox: no script, no requests, nothing inline runs.
    response["Content-Security-Policy"] = "sandbox; default-src 'none'; img-src data:"
    response._csp_exempt = True  # type: ignore[attr-defined]
    return response
