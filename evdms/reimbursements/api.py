"""Statements for the organisation: what reimbursement needs (month, driver, kWh, amount)
always; the sessions behind them only with Home Charging Data Sharing."""

from __future__ import annotations

import csv
import io
from datetime import date
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.db.models import QuerySet, Sum
from django.http import HttpRequest, HttpResponse
from ninja import Router, Schema

from evdms.accounts.access import organisations_acting_for
from evdms.accounts.permissions import Actor, Permission
from evdms.api import requires
from evdms.reimbursements.models import Statement

router = Router(tags=["reimbursement"])


class StatementOut(Schema):
    reference: str
    month: date
    driver_email: str
    connection_id: int
    energy_wh: int
    total: Decimal
    currency: str
    status: str


class StatementPage(Schema):
    count: int
    items: list[StatementOut]


def statements_for(actor: Actor, month: str = "") -> QuerySet[Statement]:
    ids = list(organisations_acting_for(actor).values_list("pk", flat=True))
    rows = (
        Statement.objects.filter(connection__organisation_id__in=ids)
        .select_related("driver")
        .annotate(energy=Sum("lines__energy_wh"))
        .order_by("-month", "pk")
    )
    if month:
        try:
            year, number = (int(p) for p in month.split("-"))
            rows = rows.filter(month=date(year, number, 1))
        except ValueError as exc:
            raise ValidationError({"month": ["Give the month as YYYY-MM."]}) from exc
    return rows


def _out(s: Statement) -> dict[str, Any]:
    return {
        "reference": s.reference,
        "month": s.month,
        "driver_email": s.driver.email,
        "connection_id": s.connection_id,
        "energy_wh": getattr(s, "energy", 0) or 0,
        "total": s.total,
        "currency": s.currency,
        "status": s.status,
    }


@router.get("/statements", response=StatementPage, auth=requires(Permission.VIEW_REPORTS))
def statements_list(
    request: HttpRequest, month: str = "", offset: int = 0, limit: int = 100
) -> dict[str, Any]:
    """Reimbursement statements of the organisation's drivers (``month`` as YYYY-MM)."""
    if offset < 0 or not 1 <= limit <= 1000:
        raise ValidationError({"limit": ["Use offset ≥ 0 and a limit from 1 to 1000."]})
    rows = statements_for(request.auth, month)  # type: ignore[attr-defined]
    return {"count": rows.count(), "items": [_out(s) for s in rows[offset : offset + limit]]}


@router.get("/statements.csv", auth=requires(Permission.VIEW_REPORTS))
def statements_csv(request: HttpRequest, month: str = "") -> HttpResponse:
    """The same statements as CSV."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(
        ["Reference", "Month", "Driver", "Connection", "kWh", "Amount", "Currency", "Status"]
    )
    for s in statements_for(request.auth, month).iterator(chunk_size=1000):  # type: ignore[attr-defined]
        row = _out(s)
        writer.writerow(
            [
                row["reference"],
                f"{s.month:%Y-%m}",
                row["driver_email"],
                s.connection_id,
                f"{Decimal(row['energy_wh']) / 1000:.3f}",
                row["total"],
                row["currency"],
                row["status"],
            ]
        )
    response = HttpResponse(out.getvalue(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="statements.csv"'
    return response
