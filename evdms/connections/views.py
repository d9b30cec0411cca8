from __future__ import annotations

from typing import Any

import segno
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse, StreamingHttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from evdms.accounts.access import organisations_wholly_for
from evdms.accounts.permissions import Actor, Permission
from evdms.accounts.scope import may, reach
from evdms.accounts.selectors import list_columns
from evdms.accounts.services import list_columns_save
from evdms.audit.selectors import as_seen_by, audit_events_for
from evdms.connections import listing, services
from evdms.connections.access import connections_for, get_connection_for
from evdms.connections.forms import ConnectionForm, initial_from, submitted
from evdms.connections.logo_keep import LOST, KeptLogo, Scope, chosen_logo
from evdms.connections.models import Connection
from evdms.connections.selectors import connected_driver_count, invite_link_for, invite_url
from evdms.ui.breadcrumbs import breadcrumbs
from evdms.ui.decorators import admin_required, public
from evdms.ui.forms import add_service_errors
from evdms.ui.http import AdminRequest
from evdms.ui.uploads import uploaded_file

LIST_NAME = "connections"
# Lazy: read in the language of the page that shows them.
FIELD_LABELS = {
    **{f.name: getattr(f, "verbose_name", f.name) for f in Connection._meta.get_fields()},
    "enabled": gettext_lazy("Status (enabled)"),
    "logo": gettext_lazy("Connection Logo"),
}


def _organisation_choices(actor: Actor) -> list[tuple[int, str]]:
    return [
        (o.pk, o.name)
        for o in organisations_wholly_for(actor, Permission.EDIT_CONNECTIONS).order_by("name")
    ]


@admin_required(Permission.VIEW_CONNECTIONS)
def connection_list(request: AdminRequest) -> HttpResponseBase:
    actor: Actor = request.actor
    query = listing.parse_query(request.GET)
    rows = listing.apply(connections_for(actor), query)
    link = invite_link_for(actor)
    visible = [
        k
        for k in list_columns(request.user, LIST_NAME, listing.DEFAULT_VISIBLE)
        if k in listing.COLUMN_BY_KEY
    ]
    export = request.GET.get("export")
    if export == "csv":
        columns = [c.key for c in listing.COLUMNS] if request.GET.get("which") == "all" else visible
        response = StreamingHttpResponse(
            listing.csv_rows(rows, columns, link), content_type="text/csv; charset=utf-8"
        )
        stamp = timezone.now().strftime("%Y%m%d-%H%M")
        response["Content-Disposition"] = f'attachment; filename="connections-{stamp}.csv"'
        return response
    page = Paginator(rows, listing.PAGE_SIZE).get_page(request.GET.get("page"))
    params = request.GET.copy()
    params.pop("page", None)
    filters = [*query.filters]
    while len(filters) < 3:
        filters.append(listing.Filter("name", "contains", ""))
    return render(
        request,
        "connections/list.html",
        {
            "page": page,
            "rows": [
                {
                    "connection": c,
                    "invite_url": link(c),
                    "cells": {k: listing.cell(c, k) for k in visible},
                }
                for c in page
            ],
            "columns": [listing.COLUMN_BY_KEY[k] for k in visible],
            "all_columns": listing.COLUMNS,
            "visible": visible,
            "filterable": listing.FILTERABLE,
            "operators": listing.OPERATORS,
            "filters": filters,
            "query": query,
            "querystring": params.urlencode(),
            # Creating needs a whole organisation in reach (not only chosen connections).
            "can_edit": bool(reach(actor, Permission.EDIT_CONNECTIONS).organisations),
        },
    )


@require_POST
@admin_required(Permission.VIEW_CONNECTIONS)
def connection_columns(request: AdminRequest) -> HttpResponse:
    chosen = [k for k in request.POST.getlist("columns") if k in listing.COLUMN_BY_KEY]
    list_columns_save(
        user=request.user,
        list_name=LIST_NAME,
        columns=chosen or listing.DEFAULT_VISIBLE,
    )
    back = request.POST.get("back", "")
    return redirect(reverse("connections:list") + (f"?{back}" if back else ""))


def _form_page(
    request: HttpRequest,
    form: ConnectionForm,
    connection: Connection | None,
    status: int = 200,
    kept_logo: KeptLogo | None = None,
) -> HttpResponse:
    return render(
        request,
        "connections/form.html",
        {
            "form": form,
            "connection": connection,
            "connected_drivers": connected_driver_count(connection) if connection else 0,
            "breadcrumbs": breadcrumbs(
                (_("Connections"), "connections:list"),
                (connection.name, reverse("connections:detail", args=[connection.pk])),
                current=_("Edit"),
            )
            if connection
            else breadcrumbs((_("Connections"), "connections:list"), current=_("New Connection")),
            "kept_logo": kept_logo,
        },
        status=status,
    )


@admin_required(Permission.EDIT_CONNECTIONS)
def connection_new(request: AdminRequest) -> HttpResponse:
    actor: Actor = request.actor
    choices = _organisation_choices(actor)
    if not choices:
        raise PermissionDenied(
            _(
                "You act on chosen connections only: a new connection is created by an admin "
                "who acts on all of an organisation's connections."
            )
        )
    initial: dict[str, Any] = {
        "organisation": actor.organisation.pk,
        "enabled": True,
        "connection_type": "leasing_company",
        "approval_type": "manual",
    }
    form = ConnectionForm(
        request.POST if request.method == "POST" else None,
        request.FILES if request.method == "POST" else None,
        initial=initial,
        organisations=choices,
        currency=actor.organisation.currency,
    )
    if request.method == "POST":
        scope = Scope.of(actor)
        chosen = chosen_logo(request.POST, uploaded_file(request, "logo"), scope)
        if chosen.lost:
            form.is_valid()
            form.add_error("logo", LOST)
            return _form_page(request, form, None, status=422)
        try:
            connection = services.connection_create(
                actor=actor, data=submitted(request.POST), logo=chosen.logo
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
            kept = chosen.kept_after(exc, scope)
            return _form_page(request, form, None, status=422, kept_logo=kept)
        messages.success(request, _("Connection “%(name)s” created.") % {"name": connection.name})
        return redirect("connections:detail", connection_id=connection.pk)
    return _form_page(request, form, None)


@admin_required(Permission.VIEW_CONNECTIONS)
def connection_detail(request: AdminRequest, connection_id: int) -> HttpResponse:
    actor: Actor = request.actor
    connection = get_connection_for(actor, connection_id)
    return render(
        request,
        "connections/detail.html",
        {
            "connection": connection,
            "invite_url": invite_link_for(actor)(connection),
            "connected_drivers": connected_driver_count(connection),
            "events": as_seen_by(audit_events_for(connection), actor.organisation),
            "field_labels": FIELD_LABELS,
            "can_edit": may(actor, Permission.EDIT_CONNECTIONS, connection),
            "may_invite": may(actor, Permission.MANAGE_DRIVERS, connection),
            "can_invite": may(actor, Permission.MANAGE_DRIVERS, connection) and connection.enabled,
            "breadcrumbs": breadcrumbs(
                (_("Connections"), "connections:list"), current=connection.name
            ),
        },
    )


@admin_required(Permission.EDIT_CONNECTIONS)
def connection_edit(request: AdminRequest, connection_id: int) -> HttpResponse:
    actor: Actor = request.actor
    connection = get_connection_for(actor, connection_id, Permission.EDIT_CONNECTIONS)
    drivers = connected_driver_count(connection)
    form = ConnectionForm(
        request.POST if request.method == "POST" else None,
        request.FILES if request.method == "POST" else None,
        initial=initial_from(connection),
        organisations=[(connection.organisation_id, connection.organisation.name)],
        currency=connection.currency,
        editing=True,
        connected_drivers=drivers,
    )
    if request.method == "POST":
        scope = Scope.of(actor)
        chosen = chosen_logo(request.POST, uploaded_file(request, "logo"), scope)
        if chosen.lost:
            form.is_valid()
            form.add_error("logo", LOST)
            return _form_page(request, form, connection, status=422)
        logo: Any = chosen.logo
        if logo is None and request.POST.get("remove_logo"):
            logo = services.RemoveLogo
        try:
            services.connection_update(
                actor=actor,
                connection=connection,
                changes=submitted(request.POST),
                logo=logo,
                confirm_benefit_change=bool(request.POST.get("confirm_benefit_change")),
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
            kept = chosen.kept_after(exc, scope)
            return _form_page(request, form, connection, status=422, kept_logo=kept)
        messages.success(request, _("Connection saved."))
        return redirect("connections:detail", connection_id=connection.pk)
    return _form_page(request, form, connection)


@require_POST
@admin_required(Permission.EDIT_CONNECTIONS)
def connection_toggle(request: AdminRequest, connection_id: int) -> HttpResponse:
    actor: Actor = request.actor
    connection = get_connection_for(actor, connection_id, Permission.EDIT_CONNECTIONS)
    enable = request.POST.get("enabled") == "yes"
    services.connection_set_enabled(actor=actor, connection=connection, enabled=enable)
    messages.success(
        request,
        _("Connection enabled: drivers can be invited.")
        if enable
        else _(
            "Connection disabled: connected drivers keep their benefits; no new invitations "
            "or requests are accepted."
        ),
    )
    return redirect("connections:detail", connection_id=connection.pk)


def _qr(connection: Connection) -> segno.QRCode:
    return segno.make(invite_url(connection), error="m")


# The QR code carries the invite link: inviting, not reading.
@admin_required(Permission.MANAGE_DRIVERS)
def connection_qr_svg(request: AdminRequest, connection_id: int) -> HttpResponse:
    connection = get_connection_for(request.actor, connection_id, Permission.MANAGE_DRIVERS)
    import io

    out = io.BytesIO()
    # A standalone SVG document (with its namespace), so it works in <img> and as a file.
    _qr(connection).save(
        out, kind="svg", scale=6, title=_("Invite link of %(name)s") % {"name": connection.name}
    )
    response = HttpResponse(out.getvalue(), content_type="image/svg+xml")
    if request.GET.get("download"):
        response["Content-Disposition"] = (
            f'attachment; filename="connection-{connection.pk}-qr.svg"'
        )
    return response


@admin_required(Permission.MANAGE_DRIVERS)
def connection_qr_png(request: AdminRequest, connection_id: int) -> HttpResponse:
    import io

    connection = get_connection_for(request.actor, connection_id, Permission.MANAGE_DRIVERS)
    out = io.BytesIO()
    _qr(connection).save(out, kind="png", scale=10)
    response = HttpResponse(out.getvalue(), content_type="image/png")
    response["Content-Disposition"] = f'attachment; filename="connection-{connection.pk}-qr.png"'
    return response


# --- logos ---------------------------------------------------------------------------


@public
def logo(request: HttpRequest, sha256: str) -> HttpResponse:
    """A logo by the hash of its content, for the admin pages and the API: the invite
    page's address holds the invite token, which only those who may invite are given.
    The address tells nothing but the logo (whoever has the logo can make it)."""
    connection = (
        Connection.objects.filter(logo_sha256=sha256)
        .exclude(logo_sha256="")
        .only("logo_png")
        .first()
    )
    if connection is None:
        raise Http404
    response = HttpResponse(bytes(connection.logo_png or b""), content_type="image/png")
    response["Cache-Control"] = "public, max-age=86400"
    response["ETag"] = f'"{sha256}"'
    return response


# The invite page's logo (the page itself is enrolment's join view).


@public
def join_logo(request: HttpRequest, token: str) -> HttpResponse:
    connection = get_object_or_404(Connection, invite_token=token, logo_sha256__gt="")
    response = HttpResponse(bytes(connection.logo_png or b""), content_type="image/png")
    response["Cache-Control"] = "public, max-age=86400"
    response["ETag"] = f'"{connection.logo_sha256}"'
    return response
