"""The charging token pages: the organisation's "Charging tokens" (list, filter by driver,
issue a card, block and unblock) and the driver's "My charging tokens" (report a card
lost, after a confirm step). Thin: parse, look up in scope, one service, render."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from evdms.accounts.permissions import Permission
from evdms.public_charging import selectors
from evdms.public_charging.forms import CardIssueForm, TokenFilterForm
from evdms.public_charging.models import Token, TokenType
from evdms.public_charging.services import tokens as services
from evdms.ui.decorators import admin_required, login_required
from evdms.ui.forms import add_service_errors
from evdms.ui.http import AdminRequest, AuthenticatedRequest

PAGE_SIZE = 50


def _row(token: Token) -> dict[str, object]:
    status = selectors.token_status(token)  # the API's word, compared on the pages
    return {"token": token, "status": status, "status_label": _status_label(status)}


def _status_label(status: str) -> str:
    return {
        "Valid": _("Valid"),
        "Not valid": _("Not valid"),
        "Lost": _("Lost"),
        "Blocked": _("Blocked"),
    }.get(status, status)


@admin_required(Permission.MANAGE_DRIVERS)
def tokens(request: AdminRequest) -> HttpResponse:
    filters = TokenFilterForm(request.GET)
    driver = filters.cleaned_data["driver"] if filters.is_valid() else ""
    rows = selectors.filter_by_driver(selectors.tokens_for(request.actor), driver)
    page = Paginator(rows, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "public_charging/tokens/list.html",
        {
            "filters": filters,
            "driver": driver,
            "page": page,
            "rows": [_row(t) for t in page.object_list],
            "querystring": urlencode({"driver": driver}),
        },
    )


@admin_required(Permission.MANAGE_DRIVERS)
def issue(request: AdminRequest) -> HttpResponse:
    form = CardIssueForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        membership = selectors.driver_membership_for(request.actor, data["driver_email"])
        try:
            card = services.card_issue(
                actor=request.actor,
                membership=membership,
                uid=data["uid"],
                visual_number=data["visual_number"],
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(
                request,
                _("Card %(card)s issued to %(email)s.")
                % {"card": card.visual_number or card.uid, "email": card.driver.email},
            )
            return redirect("public_charging_tokens:tokens")
    return render(
        request,
        "public_charging/tokens/issue.html",
        {"form": form},
        status=422 if form.errors else 200,
    )


def _back(request: AdminRequest) -> HttpResponse:
    back = request.POST.get("back", "")
    # Only our own list, with its filter: never an address from outside.
    if back.startswith("/tokens/") and "//" not in back:
        return redirect(back)
    return redirect("public_charging_tokens:tokens")


@require_POST
@admin_required(Permission.MANAGE_DRIVERS)
def block(request: AdminRequest, token_id: int) -> HttpResponse:
    token = selectors.get_token_for(request.actor, token_id)
    try:
        services.card_block(actor=request.actor, token=token)
    except services.NotACard:
        messages.error(
            request,
            _("The app token follows the driver's connection; remove the driver to end it."),
        )
    else:
        messages.success(
            request, _("Card %(card)s is blocked.") % {"card": token.visual_number or token.uid}
        )
    return _back(request)


@require_POST
@admin_required(Permission.MANAGE_DRIVERS)
def unblock(request: AdminRequest, token_id: int) -> HttpResponse:
    token = selectors.get_token_for(request.actor, token_id)
    try:
        unblocked = services.card_unblock(actor=request.actor, token=token)
    except services.NotACard:
        messages.error(request, _("Only charging cards are blocked and unblocked."))
    else:
        card = token.visual_number or token.uid
        if unblocked.valid:
            message = _("Card %(card)s is unblocked.") % {"card": card}
        else:
            message = _(
                "Card %(card)s is unblocked. It stays not valid while the driver has no "
                "connection that pays for public charging."
            ) % {"card": card}
        messages.success(request, message)
    return _back(request)


# --- the driver's own -----------------------------------------------------------------


@login_required
def my_tokens(request: AuthenticatedRequest) -> HttpResponse:
    rows = [_row(t) for t in selectors.own_tokens(request.user)]
    return render(request, "public_charging/tokens/my_tokens.html", {"rows": rows})


@login_required
def report_lost(request: AuthenticatedRequest, token_id: int) -> HttpResponse:
    """GET asks to confirm; POST blocks the card at once."""
    token = selectors.get_own_token(request.user, token_id)
    if token.type != TokenType.RFID:
        messages.error(request, _("Only a charging card can be reported lost."))
        return redirect("public_charging_tokens:my_tokens")
    if request.method == "POST":
        if token.blocked:  # reported twice (two tabs): nothing changes, no second e-mail
            messages.info(
                request,
                _("Card %(card)s is already blocked.") % {"card": token.visual_number or token.uid},
            )
            return redirect("public_charging_tokens:my_tokens")
        services.token_report_lost(driver=request.user, token=token)
        messages.success(
            request,
            _("Card %(card)s is blocked. We sent you an e-mail confirming it.")
            % {"card": token.visual_number or token.uid},
        )
        return redirect("public_charging_tokens:my_tokens")
    return render(request, "public_charging/tokens/report_lost.html", {"token": token})
