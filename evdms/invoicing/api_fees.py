"""Platform operators' API for fee schedules (operator keys only).

``GET/POST /api/v1/organisations/{organisation_id}/fee-schedules`` and
``GET /api/v1/fee-schedules/{fee_schedule_id}``. An organisation's own key is refused
with 403 whatever the path names (``operator_only``), so it learns nothing of which
organisations or schedules exist.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from django.shortcuts import get_object_or_404
from ninja import Router, Schema, Status

from evdms.accounts.models import Organisation
from evdms.invoicing.models import FeeSchedule
from evdms.invoicing.services.fees import fee_schedule_create
from evdms.ui.api import check_page, operator_only, page_of
from evdms.ui.http import OperatorApiRequest

router = Router(tags=["invoicing (operators)"])


class FeeScheduleOut(Schema):
    id: int
    organisation_id: int
    valid_from: date  # the first day of the month it applies from
    currency: str
    driver_fee: Decimal  # excl. VAT, per connected driver and month
    driver_fee_pro_rata: bool  # by days connected (true) or whole months (false)
    warranty_fee: Decimal  # per driver with a home charger, per month
    reimbursement_fee_basis: str  # per_item (per statement) or percent (of the amount)
    reimbursement_fee: Decimal
    public_fee_basis: str  # per_item (per session) or percent (of its cost)
    public_fee: Decimal
    created_at: datetime
    created_by: str


class FeeSchedulePage(Schema):
    count: int
    items: list[FeeScheduleOut]


class FeeScheduleIn(Schema):
    """Fees not sent are 0 (bases: per_item); amounts as strings or numbers, e.g.
    "4.50". Loosely typed on purpose: the service checks each value with the same
    messages as the Django admin."""

    valid_from: date
    currency: str | None = None
    driver_fee: Decimal | str | None = None
    driver_fee_pro_rata: bool = True
    warranty_fee: Decimal | str | None = None
    reimbursement_fee_basis: str | None = None
    reimbursement_fee: Decimal | str | None = None
    public_fee_basis: str | None = None
    public_fee: Decimal | str | None = None


def _operator_label(request: OperatorApiRequest) -> str:
    return f"{request.operator.email} (operator API)"


@router.get(
    "/organisations/{organisation_id}/fee-schedules",
    response=FeeSchedulePage,
    auth=operator_only,
)
def fee_schedules_list(
    request: OperatorApiRequest, organisation_id: int, offset: int = 0, limit: int = 100
) -> dict[str, Any]:
    """The organisation's fee schedules, newest month first: the history of what it was
    charged from when."""
    check_page(offset, limit)
    organisation = get_object_or_404(Organisation, pk=organisation_id)
    rows = FeeSchedule.objects.filter(organisation=organisation).order_by("-valid_from")
    return page_of(rows, offset, limit)


@router.post(
    "/organisations/{organisation_id}/fee-schedules",
    response={201: FeeScheduleOut},
    auth=operator_only,
)
def fee_schedules_create(
    request: OperatorApiRequest, organisation_id: int, payload: FeeScheduleIn
) -> Status[FeeSchedule]:
    """A new schedule from a month on (``valid_from``: its first day). 422 for a month
    that has one already, a month already invoiced, a negative fee or a percentage above
    100; nothing is written then."""
    organisation = get_object_or_404(Organisation, pk=organisation_id)
    fees = payload.model_dump(exclude_unset=True)
    valid_from = fees.pop("valid_from")
    schedule = fee_schedule_create(
        actor_label=_operator_label(request),
        organisation=organisation,
        valid_from=valid_from,
        operator=request.operator,
        **fees,
    )
    schedule.refresh_from_db()  # the amounts as stored (4 decimal places), as GET shows them
    return Status(201, schedule)


@router.get("/fee-schedules/{fee_schedule_id}", response=FeeScheduleOut, auth=operator_only)
def fee_schedules_read(request: OperatorApiRequest, fee_schedule_id: int) -> FeeSchedule:
    return get_object_or_404(FeeSchedule, pk=fee_schedule_id)
