"""The driver's reimbursement page: bank details and home price per kWh."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from evdms.reimbursements import services
from evdms.reimbursements.forms import BankAccountForm, HomePriceForm
from evdms.reimbursements.models import Statement
from evdms.reimbursements.selectors import (
    current_bank_account,
    price_history,
    reimbursing_memberships,
)
from evdms.web.decorators import login_required
from evdms.web.forms import add_service_errors


def _page(
    request: HttpRequest,
    bank_form: BankAccountForm | None = None,
    price_form: HomePriceForm | None = None,
    status: int = 200,
) -> HttpResponse:
    driver = request.user
    memberships = list(reimbursing_memberships(driver))  # type: ignore[arg-type]
    caps = sorted({(m.connection.currency, m.connection.max_price_per_kwh) for m in memberships})
    history = list(price_history(driver)[:24])  # type: ignore[arg-type]
    over_cap = [
        (m.connection, history[0].price_per_kwh)
        for m in memberships
        if history
        and m.connection.max_price_per_kwh is not None
        and history[0].price_per_kwh > m.connection.max_price_per_kwh
    ]
    return render(
        request,
        "reimbursements/my_reimbursement.html",
        {
            "memberships": memberships,
            "caps": caps,
            "lowest_cap": min((c for _, c in caps if c is not None), default=None),
            "account": current_bank_account(driver),  # type: ignore[arg-type]
            "bank_form": bank_form or BankAccountForm(),
            "price_form": price_form or HomePriceForm(),
            "history": history,
            "over_cap": over_cap,
            "statements": Statement.objects.filter(driver=driver).select_related("connection")[:24],  # type: ignore[misc]
        },
        status=status,
    )


@login_required
def my_reimbursement(request: HttpRequest) -> HttpResponse:
    return _page(request)


@require_POST
@login_required
def bank_account(request: HttpRequest) -> HttpResponse:
    form = BankAccountForm(request.POST)
    form.is_valid()
    try:
        account = services.bank_account_set(
            driver=request.user,  # type: ignore[arg-type]
            holder=request.POST.get("holder", ""),
            iban=request.POST.get("iban", ""),
            bic=request.POST.get("bic", ""),
        )
    except ValidationError as exc:
        add_service_errors(form, exc)
        return _page(request, bank_form=form, status=422)
    messages.success(request, f"Bank details saved: {account.masked_iban}.")
    return redirect("reimbursements:mine")


@require_POST
@login_required
def home_price(request: HttpRequest) -> HttpResponse:
    form = HomePriceForm(request.POST)
    if not form.is_valid():
        return _page(request, price_form=form, status=422)
    try:
        price = services.home_price_set(
            driver=request.user,  # type: ignore[arg-type]
            price=request.POST.get("price_per_kwh", ""),
            valid_from=form.cleaned_data.get("valid_from"),
            confirmed=bool(form.cleaned_data.get("confirm")),
        )
    except ValidationError as exc:
        add_service_errors(form, exc)
        return _page(request, price_form=form, status=422)
    messages.success(request, f"Home price saved: {price.currency} {price.price_per_kwh} per kWh.")
    return redirect("reimbursements:mine")


@login_required
def statement_download(request: HttpRequest, statement_id: int) -> HttpResponse:
    """A driver's own statement as PDF (another driver's is a 404)."""
    from django.shortcuts import get_object_or_404

    from evdms.reimbursements.statement_pdf import statement_pdf

    statement = get_object_or_404(Statement, pk=statement_id, driver=request.user)
    response = HttpResponse(statement_pdf(statement), content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="{statement.reference}.pdf"'
    return response
