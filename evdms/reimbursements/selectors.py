from __future__ import annotations

from datetime import date

from django.db.models import QuerySet

from evdms.accounts.models import User
from evdms.enrolment.models import Membership, MembershipStatus
from evdms.reimbursements.models import BankAccount, HomePrice


def reimbursing_memberships(driver: User) -> QuerySet[Membership]:
    """The driver's current connections that reimburse home charging."""
    return Membership.objects.filter(
        driver=driver,
        status=MembershipStatus.CONNECTED,
        connection__reimburse_home_charging=True,
    ).select_related("connection")


def current_bank_account(driver: User) -> BankAccount | None:
    return BankAccount.objects.filter(driver=driver, retired_at=None).first()


def price_history(driver: User) -> QuerySet[HomePrice]:
    return HomePrice.objects.filter(driver=driver).order_by("-valid_from", "-created_at")


def price_in_force(driver: User, on: date) -> HomePrice | None:
    """The price that applies on a day: the latest entered for the latest date ≤ that day."""
    return (
        HomePrice.objects.filter(driver=driver, valid_from__lte=on)
        .order_by("-valid_from", "-created_at")
        .first()
    )
