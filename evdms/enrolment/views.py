"""The admin side: Connection Requests, Drivers, a driver's page, removal, Revise Benefits."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db.models import QuerySet
from django.http import HttpResponse, StreamingHttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.dateparse import parse_datetime
from django.utils.formats import number_format
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_POST

from evdms.accounts.permissions import Actor, Permission
from evdms.audit.selectors import as_seen_by
from evdms.connections.access import connections_for, get_connection_for
from evdms.connections.forms import ConnectionForm, initial_from, submitted
from evdms.connections.logo_keep import LOST, KeptLogo, Scope, chosen_logo
from evdms.connections.selectors import CUSTOMER_ID_MATCHES
from evdms.connections.services import RemoveLogo
from evdms.enrolment import services
from evdms.enrolment.access import get_membership_for, memberships_for
from evdms.enrolment.models import Membership, MembershipStatus, TermsAcceptance
from evdms.enrolment.selectors import (
    DRIVER_SORTS,
    driver_history,
    drivers_for,
    home_charger,
    parse_driver_query,
    parse_request_query,
    pending_requests_for,
    with_home_charger,
)
from evdms.enrolment.terms_pdf import signed_terms_pdf
from evdms.ui.breadcrumbs import breadcrumbs
from evdms.ui.decorators import admin_required
from evdms.ui.forms import add_service_errors
from evdms.ui.http import AdminRequest
from evdms.ui.spreadsheets import CsvWriter
from evdms.ui.uploads import uploaded_file

PAGE_SIZE = 50
# "All N matching" acts on at most this many at once: each removal or decision is its
# own audited service call with an e-mail, and one request must finish.
BULK_LIMIT = 1000
EXPORT_COLUMNS = [
    ("Name", lambda m: m.driver.full_name),
    ("E-mail", lambda m: m.driver.email),
    ("Connection", lambda m: m.connection.name),
    ("Status", lambda m: m.get_status_display()),
    ("Requested", lambda m: m.requested_at.isoformat()),
    ("Connection date", lambda m: m.connected_at.isoformat() if m.connected_at else ""),
    ("Driver verification 1", lambda m: m.verification_1),
    ("Driver verification 2", lambda m: m.verification_2),
    ("Home charger requested", lambda m: "Yes" if m.connection.provide_home_charger else "No"),
    ("Currency", lambda m: m.connection.currency),
    ("Home charger installed", lambda m: home_charger(m.home_job).for_export()),
]


def _actor(request: AdminRequest) -> Actor:
    return request.actor


def _as_of() -> str:
    """The moment a page with "all N matching" was shown: the action then takes only
    what was there (a request that arrived since was not seen, so it is not decided)."""
    return timezone.now().isoformat()


def _chosen(
    request: AdminRequest, ticked: QuerySet[Membership], matching: QuerySet[Membership]
) -> tuple[list[Membership] | None, str]:
    """The memberships a bulk form acts on: the ticked ones, or with ``all=matching``
    every one the page matched when shown. None and a message when that cannot be."""
    if request.POST.get("all") != "matching":
        ids = [i for i in request.POST.getlist("ids") if i.isdigit()]
        return list(ticked.filter(pk__in=ids).select_related("driver", "connection")), ""
    try:
        as_of = parse_datetime(request.POST.get("as_of", ""))
    except ValueError:
        as_of = None
    if as_of is None or timezone.is_naive(as_of):
        return None, _("The form was incomplete: nothing was changed. Please choose again.")
    rows = matching.filter(requested_at__lte=as_of)
    chosen = list(rows.select_related("driver", "connection")[: BULK_LIMIT + 1])
    if len(chosen) > BULK_LIMIT:
        return None, _(
            "More than %(limit)s match: narrow the filter to at most %(limit)s for one action. "
            "Nothing was changed."
        ) % {"limit": number_format(BULK_LIMIT, force_grouping=True)}
    return chosen, ""


# --- Connection Requests ------------------------------------------------------------


@admin_required(Permission.MANAGE_DRIVERS)
def requests_list(request: AdminRequest) -> HttpResponse:
    query = parse_request_query(request.GET)
    pending = pending_requests_for(_actor(request), query)
    page = Paginator(pending, PAGE_SIZE).get_page(request.GET.get("page"))
    params = request.GET.copy()
    params.pop("page", None)
    return render(
        request,
        "enrolment/requests.html",
        {
            "page": page,
            "query": query,
            "customer_id_matches": CUSTOMER_ID_MATCHES,
            "querystring": params.urlencode(),
            "as_of": _as_of(),
            "bulk_limit": BULK_LIMIT,
        },
    )


@require_POST
@admin_required(Permission.MANAGE_DRIVERS)
def requests_decide(request: AdminRequest) -> HttpResponse:
    """Approve or deny one request (buttons on its row) or the ticked ones in bulk."""
    actor = _actor(request)
    # A row's own button names its request in the URL; the bulk buttons use the ticks,
    # or every waiting request ("all N").
    if "id" in request.GET:
        chosen: list[Membership] | None = list(
            memberships_for(actor)
            .filter(pk__in=[i for i in [request.GET["id"]] if i.isdigit()])
            .select_related("driver", "connection")
        )
        problem = ""
    else:
        # "All matching" means what the page showed: its filter came in the form's URL.
        matching = pending_requests_for(actor, parse_request_query(request.GET))
        chosen, problem = _chosen(request, memberships_for(actor), matching)
    decision = request.POST.get("decision")
    if chosen is None:
        messages.error(request, problem)
    elif not chosen:
        messages.error(request, _("Tick at least one request."))
    elif decision == "approve":
        done, skipped = services.bulk(services.membership_approve, actor=actor, memberships=chosen)
        messages.success(
            request,
            ngettext("%(count)d request approved.", "%(count)d requests approved.", done)
            % {"count": done},
        )
        if skipped:
            messages.info(request, _already_decided(skipped))
    elif decision == "deny":
        try:
            done, skipped = services.bulk(
                services.membership_deny,
                actor=actor,
                memberships=chosen,
                message=request.POST.get("message", ""),
            )
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
        else:
            messages.success(
                request,
                ngettext("%(count)d request denied.", "%(count)d requests denied.", done)
                % {"count": done},
            )
            if skipped:
                messages.info(request, _already_decided(skipped))
    else:
        messages.error(request, _("Choose approve or deny."))
    # Back to the list as it was filtered (a row's own button adds only its id).
    back = request.GET.copy()
    back.pop("id", None)
    back.pop("page", None)
    target = reverse("enrolment:requests")
    return redirect(f"{target}?{back.urlencode()}" if back else target)


def _already_decided(skipped: int) -> str:
    return ngettext(
        "%(count)d had already been decided by someone else.",
        "%(count)d had already been decided by someone else.",
        skipped,
    ) % {"count": skipped}


# --- Drivers ------------------------------------------------------------------------


def _csv(rows: Any) -> Any:
    """In English whatever the page's language (as every export); each row is written
    in English and the language handed back before it is yielded."""
    writer = CsvWriter()
    yield "\ufeff" + writer.writerow([label for label, _get in EXPORT_COLUMNS])
    for membership in rows.iterator(chunk_size=1000):
        with translation.override(settings.LANGUAGE_CODE):
            row = writer.writerow([str(get(membership) or "") for _label, get in EXPORT_COLUMNS])
        yield row


@admin_required(Permission.MANAGE_DRIVERS)
def drivers_list(request: AdminRequest) -> HttpResponseBase:
    actor = _actor(request)
    query = parse_driver_query(request.GET)
    rows = with_home_charger(drivers_for(actor, query))
    if request.GET.get("export") == "csv":
        response = StreamingHttpResponse(_csv(rows), content_type="text/csv; charset=utf-8")
        stamp = timezone.now().strftime("%Y%m%d-%H%M")
        response["Content-Disposition"] = f'attachment; filename="drivers-{stamp}.csv"'
        return response
    page = Paginator(rows, PAGE_SIZE).get_page(request.GET.get("page"))
    # Each row with what its driver's home charger is at (read by the page's query).
    rows_shown = [(m, home_charger(m.home_job)) for m in page.object_list]  # type: ignore[attr-defined]
    params = request.GET.copy()
    params.pop("page", None)
    return render(
        request,
        "enrolment/drivers.html",
        {
            "page": page,
            "rows": rows_shown,
            "query": query,
            "statuses": MembershipStatus.choices,
            "connections": connections_for(actor).order_by("name").only("pk", "name"),
            "querystring": params.urlencode(),
            "sorts": DRIVER_SORTS,
            "customer_id_matches": CUSTOMER_ID_MATCHES,
            "as_of": _as_of(),
            "bulk_limit": BULK_LIMIT,
        },
    )


@admin_required(Permission.MANAGE_DRIVERS)
def driver_detail(request: AdminRequest, membership_id: int) -> HttpResponse:
    actor = _actor(request)
    membership = get_membership_for(actor, membership_id)
    others = (
        memberships_for(actor)
        .filter(driver=membership.driver)
        .select_related("connection", "terms_acceptance", "moved_to__connection")
        .order_by("-requested_at")
    )
    return render(
        request,
        "enrolment/driver_detail.html",
        {
            "membership": membership,
            "memberships": others,
            "acceptances": [m.terms_acceptance for m in others if hasattr(m, "terms_acceptance")],
            "events": as_seen_by(driver_history(actor, membership.driver), actor.organisation),
            "field_labels": {"status": _("Status"), "connection": _("Connection")},
            # A waiting request is reached from Connection Requests, the others from Drivers.
            "breadcrumbs": breadcrumbs(
                (_("Connection Requests"), "enrolment:requests")
                if membership.status == MembershipStatus.PENDING
                else (_("Drivers"), "enrolment:drivers"),
                current=membership.driver.full_name or membership.driver.email,
            ),
        },
    )


@admin_required(Permission.MANAGE_DRIVERS)
def signed_terms(request: AdminRequest, membership_id: int) -> HttpResponse:
    """The signed copy of the terms a driver agreed to for this membership, as the PDF
    that was e-mailed: only for an admin who reaches the membership (else 404, as is a
    membership without agreed terms)."""
    membership = get_membership_for(_actor(request), membership_id)
    acceptance = get_object_or_404(
        TermsAcceptance.objects.select_related("driver"), membership=membership
    )
    acceptance.membership = membership  # already fetched, with its connection
    response = HttpResponse(signed_terms_pdf(acceptance), content_type="application/pdf")
    # The name the e-mailed copy has (evdms.enrolment.tasks.send_signed_terms).
    name = f"signed-terms-{membership.connection_id}-{membership.driver_id}.pdf"
    response["Content-Disposition"] = f'attachment; filename="{name}"'

    return response


@require_POST
@admin_required(Permission.MANAGE_DRIVERS)
def drivers_remove(request: AdminRequest) -> HttpResponse:
    """Remove one driver (button on their page), the ticked ones on the Drivers page, or
    every connected one matching its filter (the filter comes with the form)."""
    actor = _actor(request)
    matching = drivers_for(actor, parse_driver_query(request.POST)).filter(
        status=MembershipStatus.CONNECTED
    )
    chosen, problem = _chosen(request, memberships_for(actor), matching)
    if chosen is None:
        messages.error(request, problem)
    elif not chosen:
        messages.error(request, _("Tick at least one driver."))
    else:
        done, skipped = services.bulk(services.membership_remove, actor=actor, memberships=chosen)
        messages.success(
            request,
            ngettext(
                "%(count)d driver removed: their benefits ended now.",
                "%(count)d drivers removed: their benefits ended now.",
                done,
            )
            % {"count": done},
        )
        if skipped:
            messages.info(
                request,
                ngettext("%(count)d were not connected.", "%(count)d were not connected.", skipped)
                % {"count": skipped},
            )
    back = request.POST.get("back") or ""
    return redirect(
        back if back.startswith("/") and not back.startswith("//") else "enrolment:drivers"
    )


# --- Revise Benefits ----------------------------------------------------------------


@admin_required(Permission.MANAGE_DRIVERS)
def revise_benefits(request: AdminRequest, connection_id: int) -> HttpResponse:
    actor = _actor(request)
    old = get_connection_for(actor, connection_id)
    connected = list(
        Membership.objects.filter(connection=old, status=MembershipStatus.CONNECTED)
        .select_related("driver")
        .order_by("driver__full_name")
    )
    initial = initial_from(old)
    initial["name"] = (_("%(name)s (revised)") % {"name": old.name})[:120]
    form = ConnectionForm(
        request.POST if request.method == "POST" else None,
        request.FILES if request.method == "POST" else None,
        initial=initial,
        organisations=[(old.organisation_id, old.organisation.name)],
        currency=old.currency,
        editing=True,
    )
    remove = form.fields.get("remove_logo")
    if remove is not None:
        remove.label = _("Do not carry the logo over to the new connection")
    chosen_ids = {int(i) for i in request.POST.getlist("move") if i.isdigit()}
    kept: KeptLogo | None = None
    if request.method == "POST":
        scope = Scope.of(actor)
        chosen = chosen_logo(request.POST, uploaded_file(request, "logo"), scope)
        logo: Any = chosen.logo
        if logo is None and request.POST.get("remove_logo"):
            logo = RemoveLogo
        if chosen.lost:
            form.is_valid()
            form.add_error("logo", LOST)
        else:
            try:
                new, moved = services.connection_revise_benefits(
                    actor=actor,
                    old=old,
                    data=submitted(request.POST),
                    membership_ids=chosen_ids,
                    disable_old=bool(request.POST.get("disable_old")),
                    logo=logo,
                )
            except ValidationError as exc:
                add_service_errors(form, exc)
                kept = chosen.kept_after(exc, scope)
            else:
                messages.success(
                    request,
                    ngettext(
                        "Connection “%(name)s” created; %(count)d driver moved to it.",
                        "Connection “%(name)s” created; %(count)d drivers moved to it.",
                        moved,
                    )
                    % {"name": new.name, "count": moved},
                )
                return redirect("connections:detail", connection_id=new.pk)
    return render(
        request,
        "enrolment/revise.html",
        {
            "old": old,
            "form": form,
            "connected": connected,
            "chosen": chosen_ids if request.method == "POST" else {m.pk for m in connected},
            "breadcrumbs": breadcrumbs(
                (_("Connections"), "connections:list"),
                (old.name, reverse("connections:detail", args=[old.pk])),
                current=_("Revise Benefits"),
            ),
            "kept_logo": kept,
        },
        status=422 if form.errors else 200,
    )
