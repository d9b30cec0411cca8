"""Fee schedules: what the platform charges an organisation, from a month on.

Set by platform operators (the Django admin and the operator API both call
``fee_schedule_create``). A schedule is never edited: a change is a new schedule from a
later month, so the history of what was charged when stays. A month that is invoiced
already keeps the schedule it was invoiced with: a new one may start only after the
latest month invoiced.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Max
from django.utils.translation import gettext as _

from evdms.accounts.models import Organisation, OrganisationKind, User
from evdms.audit.models import AuditAction
from evdms.audit.services import audit_record
from evdms.invoicing.models import FEE_MAX, FeeBasis, FeeSchedule, Invoice

AMOUNT_FIELDS = ("driver_fee", "warranty_fee", "reimbursement_fee", "public_fee")
BASIS_FIELDS = {"reimbursement_fee": "reimbursement_fee_basis", "public_fee": "public_fee_basis"}
FEE_FIELDS = (
    "currency",
    "driver_fee",
    "driver_fee_pro_rata",
    "warranty_fee",
    "reimbursement_fee_basis",
    "reimbursement_fee",
    "public_fee_basis",
    "public_fee",
)
ACTOR_LABEL_MAX = 300
# Organisations the platform invoices; installer companies and the operator itself are not.
INVOICED_KINDS = frozenset({OrganisationKind.LEASING_COMPANY, OrganisationKind.CUSTOMER})


def month_text(month: date) -> str:
    return f"{month:%B %Y}"


def _next_month(month: date) -> date:
    if (month.year, month.month) == (date.max.year, 12):
        return month.replace(day=1)  # no later month to name; only messages ask
    return date(month.year + month.month // 12, month.month % 12 + 1, 1)


def _amount(value: Any) -> Decimal:
    """A fee as a Decimal: a Decimal, an int or a numeric string. Never a float: it
    cannot hold most cents exactly."""
    if isinstance(value, bool) or not isinstance(value, Decimal | int | str):
        raise ValidationError(_("Enter an amount such as 12.50."))
    try:
        amount = Decimal(value.strip() if isinstance(value, str) else value)
    except InvalidOperation as exc:
        raise ValidationError(_("Enter an amount such as 12.50.")) from exc
    if not amount.is_finite():
        raise ValidationError(_("Enter an amount such as 12.50."))
    if amount < 0:
        raise ValidationError(_("A fee cannot be negative."))
    if amount > FEE_MAX:
        raise ValidationError(_("Use at most %(limit)s.") % {"limit": FEE_MAX})
    exponent = amount.as_tuple().exponent
    if isinstance(exponent, int) and exponent < -4:
        raise ValidationError(_("Use at most 4 decimal places."))
    return amount


def fee_schedule_clean(
    organisation: Organisation, valid_from: Any, fees: dict[str, Any]
) -> dict[str, Any]:
    """The values of a new schedule, or one ValidationError naming every wrong field.
    Fees not given are 0 (bases: per item; the driver fee: pro rata)."""
    unknown = set(fees) - set(FEE_FIELDS)
    if unknown:
        raise TypeError(f"Not fee schedule fields: {sorted(unknown)}")
    errors: dict[str, list[str]] = {}
    values: dict[str, Any] = {}
    if organisation.kind not in INVOICED_KINDS:
        errors["organisation"] = [
            "Only leasing companies and customer organisations are invoiced by the platform."
        ]
    if isinstance(valid_from, datetime) or not isinstance(valid_from, date):
        errors["valid_from"] = ["Enter the date the schedule applies from, e.g. 2026-11-01."]
    elif valid_from.day != 1:
        errors["valid_from"] = [
            "A fee schedule applies from the first day of a month: "
            f"use {valid_from.replace(day=1).isoformat()} or "
            f"{_next_month(valid_from).isoformat()}, not {valid_from.isoformat()}."
        ]
    else:
        values["valid_from"] = valid_from
    currency = fees.get("currency") or organisation.currency
    if currency != organisation.currency:
        errors["currency"] = [
            f"Fees are in the organisation's currency, {organisation.currency}, as its "
            "invoices are."
        ]
    values["currency"] = organisation.currency
    pro_rata = fees.get("driver_fee_pro_rata", True)
    if not isinstance(pro_rata, bool):
        errors["driver_fee_pro_rata"] = ["Say true (by days connected) or false (whole months)."]
    values["driver_fee_pro_rata"] = pro_rata
    for basis_field in BASIS_FIELDS.values():
        basis = fees.get(basis_field) or FeeBasis.PER_ITEM
        if basis not in FeeBasis.values:
            errors[basis_field] = [f"Choose {FeeBasis.PER_ITEM} or {FeeBasis.PERCENT}."]
        values[basis_field] = basis
    for field in AMOUNT_FIELDS:
        raw = fees.get(field)
        try:
            amount = Decimal(0) if raw is None or raw == "" else _amount(raw)
        except ValidationError as exc:
            errors[field] = exc.messages
            continue
        basis_field = BASIS_FIELDS.get(field, "")
        if values.get(basis_field) == FeeBasis.PERCENT and amount > 100:
            errors[field] = ["A percentage is at most 100."]
            continue
        values[field] = amount
    if errors:
        raise ValidationError(errors)
    return values


def fee_schedule_month_check(organisation: Organisation, valid_from: date) -> None:
    """Refuse a schedule for a month that already has one, or that would change what a
    month already invoiced was charged."""
    invoiced = Invoice.objects.filter(organisation=organisation).aggregate(last=Max("month"))
    last: date | None = invoiced["last"]
    if last is not None and valid_from <= last:
        raise ValidationError(
            {
                "valid_from": [
                    f"{month_text(last)} is invoiced already with the schedule in force "
                    f"then; a new schedule can apply from {month_text(_next_month(last))} "
                    "on."
                ]
            }
        )
    if FeeSchedule.objects.filter(organisation=organisation, valid_from=valid_from).exists():
        raise ValidationError(
            {
                "valid_from": [
                    f"Overlapping dates: {organisation} has a fee schedule from "
                    f"{month_text(valid_from)} already. Schedules are kept as history; "
                    "set a change from a later month."
                ]
            }
        )


@transaction.atomic
def fee_schedule_create(
    *,
    actor_label: str,
    organisation: Organisation,
    valid_from: date,
    operator: User | None = None,
    **fees: Any,
) -> FeeSchedule:
    """A new schedule for ``organisation`` from ``valid_from`` (the first of a month),
    audited. ``actor_label`` says who set it (kept on the schedule); ``operator`` is the
    platform operator, if a person (the audit row names them)."""
    # The organisation's row lock: two operators setting the same month at once are
    # served one after the other, and the second is told the month is taken.
    locked = Organisation.objects.select_for_update().get(pk=organisation.pk)
    values = fee_schedule_clean(locked, valid_from, fees)
    fee_schedule_month_check(locked, values["valid_from"])
    schedule = FeeSchedule(
        organisation=locked, created_by=actor_label.strip()[:ACTOR_LABEL_MAX], **values
    )
    schedule.full_clean()
    try:
        with transaction.atomic():  # the unique constraint is the last word on the month
            schedule.save()
    except IntegrityError as exc:
        raise ValidationError(
            {"valid_from": [f"Overlapping dates: {month_text(values['valid_from'])} is taken."]}
        ) from exc
    audit_record(
        actor=None,
        by_user=operator,
        action=AuditAction.FEE_SCHEDULE_SET,
        target=schedule,
        organisation=locked,
        changes={
            **{name: [None, getattr(schedule, name)] for name in ("valid_from", *FEE_FIELDS)},
            "created_by": [None, schedule.created_by],
        },
    )
    return schedule
