from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db.models import QuerySet
from django.http import HttpResponse, StreamingHttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from evdms.accounts.permissions import Actor, Permission
from evdms.charging import services
from evdms.charging.access import chargers_for, get_charger_for, get_session_for
from evdms.charging.listing import (
    CHARGER_COLUMNS,
    CHARGER_LINKS,
    CHARGER_STATES,
    SESSION_COLUMNS,
    chargers_listed,
    csv_lines,
    parse_charger_query,
    parse_session_query,
    sessions_listed,
)
from evdms.charging.models import SessionStatus
from evdms.charging.selectors import (
    SessionFilter,
    monthly_energy_without_sharing,
    own_sessions,
    sessions_awaiting_review,
    sessions_visible_to,
)
from evdms.connections.access import connections_for
from evdms.enrolment.access import find_driver_for
from evdms.ui.breadcrumbs import breadcrumbs
from evdms.ui.decorators import admin_required, login_required
from evdms.ui.http import AdminRequest, AuthenticatedRequest


def _actor(request: AdminRequest) -> Actor:
    return request.actor


def _csv_download(rows: QuerySet[Any], columns: Any, name: str) -> StreamingHttpResponse:
    response = StreamingHttpResponse(
        csv_lines(rows, columns), content_type="text/csv; charset=utf-8"
    )
    stamp = timezone.now().strftime("%Y%m%d-%H%M")
    response["Content-Disposition"] = f'attachment; filename="{name}-{stamp}.csv"'
    response["Cache-Control"] = "no-store"
    return response


def _links(params: dict[str, str]) -> dict[str, str]:
    """Query strings for the page's links: paging keeps filter and order, the column
    headings keep the filter."""
    return {
        "querystring": urlencode(params),
        "sort_querystring": urlencode({k: v for k, v in params.items() if k != "sort"}),
    }


def _chargers_page(
    request: AdminRequest,
    *,
    errors: dict[str, list[str]] | None = None,
    values: dict[str, str] | None = None,
    new_password: str | None = None,
) -> HttpResponse:
    actor = _actor(request)
    query = parse_charger_query(request.GET)
    rows = chargers_listed(actor, query)
    page = Paginator(rows, 50).get_page(request.GET.get("page"))
    response = render(
        request,
        "charging/chargers.html",
        {
            "page": page,
            "query": query,
            "states": CHARGER_STATES,
            "links": CHARGER_LINKS,
            **_links(query.as_params()),
            "errors": errors or {},
            "values": values or {},
            "new_password": new_password,
            "can_register": actor.can(Permission.MANAGE_DRIVERS),
        },
        status=422 if errors else 200,
    )
    response["Cache-Control"] = "no-store"  # it may hold a password
    return response


# Home chargers are installation details: what a grant of that right shows.
@admin_required(Permission.VIEW_INSTALLATIONS)
def charger_list(request: AdminRequest) -> HttpResponseBase:
    if request.GET.get("export") == "csv":
        query = parse_charger_query(request.GET)
        return _csv_download(chargers_listed(_actor(request), query), CHARGER_COLUMNS, "chargers")
    return _chargers_page(request)


@require_POST
@admin_required(Permission.MANAGE_DRIVERS)
def charger_register(request: AdminRequest) -> HttpResponse:
    actor = _actor(request)
    values = {
        k: request.POST.get(k, "").strip()
        for k in ("identity", "serial", "vendor", "model", "driver")
    }
    # Not stripped: spaces around a password are part of it, and a charger sends them.
    values["password"] = request.POST.get("password", "")
    membership = find_driver_for(actor, values["driver"])
    try:
        if values["driver"] and membership is None:
            raise ValidationError({"driver": [str(services.NOT_YOUR_DRIVER)]})
        charger, password = services.charger_register(
            actor=actor,
            organisation=membership.organisation if membership else actor.organisation,
            identity=values["identity"],
            serial=values["serial"],
            password=values["password"] or None,
            vendor=values["vendor"],
            model=values["model"],
            driver=membership.driver if membership else None,
        )
    except ValidationError as exc:
        return _chargers_page(request, errors=exc.message_dict, values=values)
    messages.success(
        request,
        _("Charger %(identity)s registered. Copy its password now.")
        % {"identity": charger.identity},
    )
    return _chargers_page(request, new_password=password)


@admin_required(Permission.VIEW_INSTALLATIONS)
def charger_detail(request: AdminRequest, charger_id: int) -> HttpResponse:
    actor = _actor(request)
    charger = get_charger_for(actor, charger_id)
    sessions = sessions_visible_to(
        actor, SessionFilter(charger=charger.identity), permission=Permission.VIEW_REPORTS
    )[:50]
    return render(
        request,
        "charging/charger_detail.html",
        {
            "charger": charger,
            "sessions": sessions,
            "can_link": chargers_for(actor, Permission.MANAGE_DRIVERS)
            .filter(pk=charger.pk)
            .exists(),
            "breadcrumbs": breadcrumbs(
                (_("Chargers"), "charging:chargers"), current=charger.identity
            ),
        },
    )


@require_POST
@admin_required(Permission.MANAGE_DRIVERS)
def charger_link(request: AdminRequest, charger_id: int) -> HttpResponse:
    actor = _actor(request)
    charger = get_charger_for(actor, charger_id)
    email = request.POST.get("driver", "")
    membership = find_driver_for(actor, email, organisation=charger.organisation)
    driver = membership.driver if membership else None
    if email.strip() and driver is None:
        messages.error(request, str(services.NOT_YOUR_DRIVER))
    else:
        services.charger_link(actor=actor, charger=charger, driver=driver)
        messages.success(
            request,
            _("Linked to %(email)s.") % {"email": driver.email}
            if driver
            else _("Charger unlinked."),
        )
    return redirect("charging:charger_detail", charger_id=charger.pk)


@admin_required(Permission.VIEW_DASHBOARD)
def session_list(request: AdminRequest) -> HttpResponseBase:
    """Sessions are transactions: shown to those who may view them (a role that sees
    reports; through a grant, *view transactions*). Held sessions wait for whoever may
    act on the drivers."""
    actor = _actor(request)
    sees = actor.can(Permission.VIEW_REPORTS)
    query = parse_session_query(request.GET)
    rows = sessions_listed(actor, query)
    if request.GET.get("export") == "csv":
        if not sees:  # per-session energy is a transaction: not for this role, in no form
            raise PermissionDenied(_("Your role does not show charging sessions."))
        return _csv_download(rows, SESSION_COLUMNS, "home-charging-sessions")
    page = Paginator(rows if sees else rows.none(), 50).get_page(request.GET.get("page"))
    monthly = monthly_energy_without_sharing(actor, permission=Permission.VIEW_REPORTS)
    sharing = connections_for(actor, Permission.VIEW_REPORTS).filter(
        home_charging_data_sharing=True
    )
    return render(
        request,
        "charging/sessions.html",
        {
            "page": page,
            "query": query,
            "statuses": SessionStatus.choices,
            "connections": sharing.order_by("name").only("pk", "name") if sees else [],
            **_links(query.as_params()),
            "sees_sessions": sees,
            "monthly": monthly[:120] if sees else [],
            "held": sessions_awaiting_review(actor, permission=Permission.MANAGE_DRIVERS)[:100],
            "can_review": actor.can(Permission.MANAGE_DRIVERS),
        },
    )


@require_POST
@admin_required(Permission.MANAGE_DRIVERS)
def session_review(request: AdminRequest, session_id: int) -> HttpResponse:
    session = get_session_for(_actor(request), session_id)
    decision = request.POST.get("decision", "")
    if decision not in ("accept", "reject"):
        messages.error(request, _("Choose Accept or Reject."))
        return redirect("charging:sessions")
    try:
        services.session_review(actor=_actor(request), session=session, accept=decision == "accept")
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(
            request,
            _("Session accepted: it counts on the next statement run.")
            if decision == "accept"
            else _("Session rejected: it will not be reimbursed."),
        )
    return redirect("charging:sessions")


@login_required
def my_sessions(request: AuthenticatedRequest) -> HttpResponse:
    page = Paginator(own_sessions(request.user), 50).get_page(request.GET.get("page"))
    return render(request, "charging/my_sessions.html", {"page": page})
