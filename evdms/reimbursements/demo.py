"""Demo reimbursement: bank details and prices for the demo drivers, statements for the
last eleven months, a paid payout batch with one payment returned by the bank (the oldest
month) and an exported batch waiting for the bank (the later months)."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

from django.utils import timezone

from evdms.accounts.models import User
from evdms.enrolment.models import Membership
from evdms.reimbursements.models import BankAccount, HomePrice, Statement
from evdms.reimbursements.services import bank_account_set
from evdms.reimbursements.services.payouts import (
    payout_batch_create,
    payout_batch_export,
    payout_batch_mark_paid,
    payout_line_fail,
)
from evdms.reimbursements.services.statements import statements_run

DEMO_IBANS = [
    "NL91ABNA0417164300",
    "DE89370400440532013000",
    "BE68539007547034",
    "FR1420041010050500013M02606",
]


def seed_reimbursements() -> int:
    memberships = (
        Membership.objects.filter(status="connected", connection__reimburse_home_charging=True)
        .select_related("driver")
        .order_by("driver__email")
    )
    for index, membership in enumerate(memberships):
        driver = membership.driver
        # One demo driver has no bank details, so a held statement shows.
        if index and not BankAccount.objects.filter(driver=driver).exists():
            bank_account_set(
                driver=driver,
                holder=driver.get_full_name(),
                iban=DEMO_IBANS[index % len(DEMO_IBANS)],
            )
        if not HomePrice.objects.filter(driver=driver).exists():
            HomePrice.objects.create(
                driver=driver,
                price_per_kwh=Decimal("0.24") + Decimal(index) / 100,
                valid_from=date(2025, 1, 1),
            )
    if Statement.objects.exists():
        return 0
    first_of_this_month = timezone.localdate().replace(day=1)
    months = []
    month = first_of_this_month
    for _ in range(11):  # every closed month of the demo's year of sessions
        month = (month - timedelta(days=1)).replace(day=1)
        months.append(month)
    operator = User.objects.filter(email="operator@platform.example").first()
    oldest, *later = reversed(months)
    made = statements_run(oldest)["made"]
    # The oldest month was paid, except one payment the bank returned (closed account).
    if Statement.objects.filter(status="ready").exists():
        paid = payout_batch_create(execution_date=oldest + timedelta(days=35), operator=operator)
        payout_batch_export(batch=paid, operator=operator)
        first = paid.lines.order_by("pk").first()
        if first is not None:
            payout_line_fail(line=first, reason="AC04 closed account", operator=operator)
        payout_batch_mark_paid(batch=paid, operator=operator)
    for month in later:
        made += statements_run(month)["made"]
    # The later months are with the bank, not settled yet.
    if Statement.objects.filter(status="ready").exists():
        batch = payout_batch_create(
            execution_date=first_of_this_month + timedelta(days=4), operator=operator
        )
        payout_batch_export(batch=batch, operator=operator)
    return made
