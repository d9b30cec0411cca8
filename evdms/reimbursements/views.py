"""Reimbursement pages: the driver's bank details, home price and statements; the
organisation admins' Statements list and statement pages."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db.models import Sum
from django.http import HttpResponse, QueryDict, StreamingHttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from evdms.accounts.permissions import Actor, Permission
from evdms.connections.access import connections_for
from evdms.reimbursements import services
from evdms.reimbursements.access import get_statement_for
from evdms.reimbursements.forms import BankAccountForm, HomePriceForm
from evdms.reimbursements.models import HomePrice, Statement, StatementStatus
from evdms.reimbursements.selectors import (
    current_bank_account,
    parse_month,
    price_earliest_day,
    price_history,
    price_in_force,
    price_upcoming,
    reimbursing_memberships,
    statement_sessions,
    statements_csv_rows,
    statements_for,
)
from evdms.ui import formatting
from evdms.ui.breadcrumbs import breadcrumbs
from evdms.ui.decorators import admin_required, login_required
from evdms.ui.forms import add_service_errors
from evdms.ui.http import AdminRequest, AuthenticatedRequest
from evdms.ui.spreadsheets import CsvWriter


def _page(
    request: AuthenticatedRequest,
    bank_form: BankAccountForm | None = None,
    price_form: HomePriceForm | None = None,
    status: int = 200,
    open_form: str = "",
) -> HttpResponse:
    """The driver's reimbursement page; ``open_form`` ("bank" or "price") when it is
    shown at that form's own address (a GET of it, or the form back with its errors),
    so a reload there shows the same page rather than a redirect."""
    driver = request.user
    today = timezone.localdate()
    memberships = list(reimbursing_memberships(driver))
    caps = sorted({(m.connection.currency, m.connection.max_price_per_kwh) for m in memberships})
    history = list(price_history(driver)[:24])
    # The price in force today is the current one; one entered for a later day is
    # upcoming and says nothing about what is reimbursed now.
    current = price_in_force(driver, today)
    upcoming = price_upcoming(driver, today)
    earliest = price_earliest_day(driver)
    price_form = price_form or HomePriceForm()
    price_form.fields["valid_from"].widget.attrs["min"] = earliest.day.isoformat()
    # On the bound field too: a form already validated keeps the help text it had then.
    price_form.fields["valid_from"].help_text = price_form["valid_from"].help_text = _(
        "Empty for today. From %(day)s on (%(why)s); a later day for a new contract."
    ) % {"day": date_format(earliest.day, "DATE_FORMAT"), "why": earliest.why}
    bank_form = bank_form or BankAccountForm()
    focus = {"bank": bank_form, "price": price_form}.get(open_form)
    if focus is not None:  # at the form's own address: start in it
        first = next(iter(focus.visible_fields()))
        first.field.widget.attrs["autofocus"] = True
    over_cap = [
        (m.connection, current.price_per_kwh)
        for m in memberships
        if current
        and m.connection.max_price_per_kwh is not None
        and current.price_per_kwh > m.connection.max_price_per_kwh
    ]
    return render(
        request,
        "reimbursements/my_reimbursement.html",
        {
            "memberships": memberships,
            "caps": caps,
            "lowest_cap": min((c for _, c in caps if c is not None), default=None),
            "account": current_bank_account(driver),
            "bank_form": bank_form,
            "price_form": price_form,
            "history": [(row, _applies(row, current, upcoming)) for row in history],
            "current_price": current,
            "upcoming_prices": upcoming,
            "over_cap": over_cap,
            "open_form": open_form,
            "statements": Statement.objects.filter(driver=driver).select_related("connection")[:24],
        },
        status=status,
    )


def _applies(row: HomePrice, current: HomePrice | None, upcoming: list[HomePrice]) -> str:
    """What a price in the driver's list is now: the current one, an upcoming one, one
    replaced by a later entry for the same day, or an earlier one."""
    if current is not None and row.pk == current.pk:
        return _("Current")
    if any(row.pk == p.pk for p in upcoming):
        return _("Upcoming")
    same_day = [current, *upcoming]
    if any(p is not None and p.valid_from == row.valid_from for p in same_day):
        return _("Replaced")
    return _("Earlier")


@login_required
def my_reimbursement(request: AuthenticatedRequest) -> HttpResponse:
    return _page(request)


@require_http_methods(["GET", "HEAD", "POST"])
@login_required
def bank_account(request: AuthenticatedRequest) -> HttpResponse:
    if request.method != "POST":
        return _page(request, open_form="bank")
    form = BankAccountForm(request.POST)
    form.is_valid()
    try:
        account = services.bank_account_set(
            driver=request.user,
            holder=request.POST.get("holder", ""),
            iban=request.POST.get("iban", ""),
            bic=request.POST.get("bic", ""),
        )
    except ValidationError as exc:
        add_service_errors(form, exc)
        return _page(request, bank_form=form, status=422, open_form="bank")
    messages.success(request, _("Bank details saved: %(iban)s.") % {"iban": account.masked_iban})
    return redirect("reimbursements:mine")


@require_http_methods(["GET", "HEAD", "POST"])
@login_required
def home_price(request: AuthenticatedRequest) -> HttpResponse:
    if request.method != "POST":
        return _page(request, open_form="price")
    form = HomePriceForm(request.POST)
    typed = request.POST.get("price_per_kwh", "")
    confirmed = request.POST.get("confirmed_price") if request.POST.get("confirm") else None
    if form.is_valid():
        try:
            price = services.home_price_set(
                driver=request.user,
                price=typed,
                valid_from=form.cleaned_data.get("valid_from"),
                confirmed_price=confirmed,
            )
        except ValidationError as exc:
            error = exc
        else:
            messages.success(
                request,
                _("Home price saved: %(price)s per kWh.")
                % {"price": formatting.price(price.price_per_kwh, price.currency)},
            )
            return redirect("reimbursements:mine")
    else:
        error = ValidationError({})
    value = services.price_or_none(typed)
    if value is not None and value > services.PRICE_CONFIRM_ABOVE:
        # Asked (again) for the price typed now; kept ticked when that very price was
        # confirmed and the form came back for another field.
        form.ask_confirmation(value, ticked=services.price_or_none(confirmed) == value)
    add_service_errors(form, error)
    return _page(request, price_form=form, status=422, open_form="price")


@login_required
def statement_download(request: AuthenticatedRequest, statement_id: int) -> HttpResponse:
    """A driver's own statement as PDF (another driver's is a 404)."""
    from django.shortcuts import get_object_or_404

    from evdms.reimbursements.statement_pdf import statement_pdf

    statement = get_object_or_404(Statement, pk=statement_id, driver=request.user)
    response = HttpResponse(statement_pdf(statement), content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="{statement.reference}.pdf"'
    return response


# --- statements for organisation admins ---------------------------------------------

STATEMENTS_PAGE_SIZE = 50


def _statement_filters(
    actor: Actor, params: QueryDict
) -> tuple[dict[str, Any], dict[str, str], list[str]]:
    """The list's filters from the query string: (selector arguments, values to show,
    errors). A bad value is ignored with a message next to the filters, never a 500."""
    errors: list[str] = []
    values = {key: params.get(key, "").strip() for key in ("month", "connection", "status")}
    chosen: dict[str, Any] = {}
    try:
        chosen["month"] = parse_month(values["month"])
    except ValidationError:
        errors.append(_("Give the month as YYYY-MM, e.g. 2026-10."))
        values["month"] = ""
    if values["connection"]:
        if values["connection"].isdigit() and (
            connections_for(actor).filter(pk=int(values["connection"])).exists()
        ):
            chosen["connection_id"] = int(values["connection"])
        else:
            errors.append(_("Choose one of your connections."))
            values["connection"] = ""
    if values["status"]:
        if values["status"] in StatementStatus.values:
            chosen["status"] = values["status"]
        else:
            errors.append(_("Choose a status from the list."))
            values["status"] = ""
    return chosen, values, errors


@admin_required(Permission.VIEW_REPORTS)
def statements(request: AdminRequest) -> HttpResponseBase:
    """The organisation's reimbursement statements: month, driver, connection, kWh,
    amount and status, filtered, paged and exported as CSV."""
    actor: Actor = request.actor
    chosen, values, errors = _statement_filters(actor, request.GET)
    rows = statements_for(actor, **chosen)
    if request.GET.get("export") == "csv":
        writer = CsvWriter()
        response = StreamingHttpResponse(
            (writer.writerow(row) for row in statements_csv_rows(rows)),
            content_type="text/csv; charset=utf-8",
        )
        stamp = timezone.now().strftime("%Y%m%d-%H%M")
        response["Content-Disposition"] = f'attachment; filename="statements-{stamp}.csv"'
        return response
    page = Paginator(rows, STATEMENTS_PAGE_SIZE).get_page(request.GET.get("page"))
    params = QueryDict(mutable=True)
    params.update({k: v for k, v in values.items() if v})
    return render(
        request,
        "reimbursements/statements.html",
        {
            "page": page,
            "values": values,
            "errors": errors,
            "statuses": StatementStatus.choices,
            "connections": connections_for(actor).order_by("name").only("pk", "name"),
            "querystring": params.urlencode(),
        },
    )


@admin_required(Permission.VIEW_REPORTS)
def statement_pdf_for_organisation(request: AdminRequest, statement_id: int) -> HttpResponse:
    """The statement's PDF for an admin who may see it: of a driver in the admin's
    reach (organisation, grant and connection scope); any other is a 404."""
    from evdms.reimbursements.statement_pdf import statement_pdf

    statement = get_statement_for(request.actor, statement_id)
    response = HttpResponse(
        statement_pdf(statement, for_organisation=True), content_type="application/pdf"
    )
    response["Content-Disposition"] = f'attachment; filename="{statement.reference}.pdf"'
    return response


@admin_required(Permission.VIEW_REPORTS)
def statement_detail(request: AdminRequest, statement_id: int) -> HttpResponse:
    """One statement: its summary always; its sessions only when the connection shares
    home charging data with the organisation."""
    actor: Actor = request.actor
    statement = get_statement_for(actor, statement_id)
    lines = statement_sessions(statement)
    return render(
        request,
        "reimbursements/statement_detail.html",
        {
            "statement": statement,
            "lines": lines,
            "energy_wh": statement.lines.aggregate(total=Sum("energy_wh"))["total"] or 0,
            "sessions": statement.lines.count(),
            "breadcrumbs": breadcrumbs(
                (_("Statements"), "reimbursements:statements"),
                current=_("Statement %(reference)s") % {"reference": statement.reference},
            ),
        },
    )
