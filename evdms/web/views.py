from __future__ import annotations

from decimal import Decimal

from csp.decorators import csp_exempt
from django.conf import settings
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import dateformat
from django.utils.translation import gettext as _
from django.utils.translation import pgettext
from django.views.decorators.clickjacking import xframe_options_sameorigin

from evdms.accounts.models import AdminStatus
from evdms.accounts.permissions import Actor, Permission
from evdms.accounts.selectors import admins_of, api_keys_of
from evdms.installations.report import installation_figures
from evdms.notifications.attachments import attachment_response, attachments_of
from evdms.notifications.models import OutboundEmail
from evdms.reports.charts import bar_chart
from evdms.reports.dashboard import dashboard_for
from evdms.ui.decorators import admin_required, public
from evdms.ui.formatting import count
from evdms.ui.http import AdminRequest
from evdms.web.dashboard_rows import per_connection_rows


@public
def home(request: HttpRequest) -> HttpResponse:
    """Admins start on the dashboard, platform operators in the Django admin, drivers
    on their connections."""
    if not request.user.is_authenticated:
        return redirect("accounts:login")
    actor = Actor.for_user(request.user)
    if actor is not None:
        if not actor.can(Permission.VIEW_DASHBOARD) and actor.can(
            Permission.WORK_INSTALLATION_JOBS
        ):
            return redirect("installations:portal_home")  # installers have their own
        return redirect("web:dashboard")
    if request.user.is_staff:
        return redirect("admin:index")
    return redirect("enrolment:my_connections")


@admin_required(Permission.VIEW_DASHBOARD)
def dashboard(request: AdminRequest) -> HttpResponse:
    actor: Actor = request.actor
    board = dashboard_for(actor)
    manages = actor.can(Permission.MANAGE_DRIVERS)
    figures: list[tuple[str, int | str, str]] = [
        (
            _("Connected drivers"),
            board.connected,
            reverse("enrolment:drivers") + "?status=connected" if manages else "",
        ),
        (_("Pending requests"), board.pending, reverse("enrolment:requests") if manages else ""),
        (
            _("Chargers online"),
            _("%(online)s of %(all)s")
            % {"online": count(board.chargers_online), "all": count(board.chargers)},
            reverse("charging:chargers"),
        ),
    ]
    if actor.can(Permission.MANAGE_ADMINS):
        admins = list(admins_of(actor.organisation))
        figures += [
            (_("Active admins"), sum(a.status == AdminStatus.ACTIVE for a in admins), ""),
            (_("Invited admins"), sum(a.status == AdminStatus.INVITED for a in admins), ""),
            (
                _("Active API keys"),
                api_keys_of(actor.organisation).filter(revoked_at=None).count(),
                "",
            ),
        ]
    context: dict[str, object] = {
        "figures": figures,
        "board": board,
        "connection_rows": per_connection_rows(board.per_connection),
    }
    if actor.can(Permission.VIEW_INSTALLATIONS):
        context["installations"] = installation_figures(actor)
    if actor.can(Permission.VIEW_REPORTS):
        # Translators: a month under a bar of a dashboard chart, in Django's date format
        # codes: M "Dec", N "Dez." (März, Juni written out; "déc.", "juil." in French),
        # b "dec" (as Dutch dates write it), Y the year.
        month = pgettext("month under a chart's bar", "M Y")
        labels = [dateformat.format(m, month) for m in board.months]  # "Dec 2026"
        kwh = [Decimal(wh) / 1000 for wh in board.energy_wh]
        context["energy_chart"] = bar_chart(
            list(zip(labels, [round(v) for v in kwh], strict=True)),
            title=_("Home charging energy per month"),
            unit="kWh",
        )
        context["energy_rows"] = list(zip(board.months, kwh, strict=True))
        context["cost_charts"] = [
            (
                currency,
                bar_chart(
                    list(zip(labels, amounts, strict=True)),
                    title=_("Reimbursed home charging per month"),
                    unit=currency,
                    money=True,
                ),
                list(zip(board.months, amounts, strict=True)),
            )
            for currency, amounts in board.reimbursed.items()
        ]
        # Public charging beside home charging (evdms/reports/dashboard.py).
        public_kwh = [Decimal(wh) / 1000 for wh in board.public_energy_wh]
        context["public_energy_chart"] = bar_chart(
            list(zip(labels, [round(v) for v in public_kwh], strict=True)),
            title=_("Public charging energy per month"),
            unit="kWh",
        )
        context["public_energy_rows"] = list(zip(board.months, public_kwh, strict=True))
        context["public_cost_charts"] = [
            (
                currency,
                bar_chart(
                    list(zip(labels, amounts, strict=True)),
                    title=_("Business public charging per month"),
                    unit=currency,
                    money=True,
                ),
                list(zip(board.months, amounts, strict=True)),
            )
            for currency, amounts in board.public_cost.items()
        ]
        # Home and public side by side, a row a month: energy, and what the organisation
        # paid per currency (reimbursed at home, business sessions' prices in public).
        context["home_currencies"] = list(board.reimbursed)
        context["public_currencies"] = list(board.public_cost)
        context["monthly_rows"] = [
            (
                month,
                board.energy_wh[i],
                board.public_energy_wh[i],
                [amounts[i] for amounts in board.reimbursed.values()],
                [amounts[i] for amounts in board.public_cost.values()],
            )
            for i, month in enumerate(board.months)
        ]
    return render(request, "web/dashboard.html", context)


def _outbox_enabled() -> None:
    if not settings.DEV_OUTBOX:
        raise Http404


# The development outbox is open without logging in on purpose: a newly invited demo
# admin has no account yet and needs their set-up link from here. It does not exist in
# production (DEV_OUTBOX is off there).
@public
def outbox(request: HttpRequest) -> HttpResponse:
    _outbox_enabled()
    # The attachments' bytes stay in the database: the list needs only their names.
    rows = OutboundEmail.objects.defer("text_body", "html_body").order_by("-created_at", "-id")
    page = Paginator(rows, 50).get_page(request.GET.get("page"))
    return render(request, "web/outbox.html", {"page": page})


@public
def outbox_message(request: HttpRequest, email_id: int) -> HttpResponse:
    _outbox_enabled()
    email = get_object_or_404(OutboundEmail, pk=email_id)
    return render(
        request,
        "web/outbox_message.html",
        {"email": email, "attachments": attachments_of(email)},
    )


@public
def outbox_attachment(request: HttpRequest, email_id: int, index: int) -> HttpResponse:
    """One attachment of a message, as it was sent (e.g. a signed terms PDF)."""
    _outbox_enabled()
    email = get_object_or_404(OutboundEmail, pk=email_id)
    files = attachments_of(email)
    if not 0 <= index < len(files):
        raise Http404
    return attachment_response(files[index])


@public
@xframe_options_sameorigin
# django-csp types a view as taking the request alone; this one takes an id too.
@csp_exempt()  # type: ignore[arg-type]
def outbox_message_html(request: HttpRequest, email_id: int) -> HttpResponse:
    _outbox_enabled()
    email = get_object_or_404(OutboundEmail, pk=email_id)
    response = HttpResponse(email.html_body, content_type="text/html; charset=utf-8")
    # The message is shown as sent, in a sandbox: no script, no requests. Its inline
    # styles apply, as in a mail client (e-mail HTML is styled inline, nothing else).
    response["Content-Security-Policy"] = (
        "sandbox; default-src 'none'; style-src 'unsafe-inline'; img-src data:"
    )
    return response
