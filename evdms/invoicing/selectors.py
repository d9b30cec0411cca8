"""Reads of invoicing that the run, pages and API share."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from django.db.models import QuerySet

from evdms.accounts.permissions import Actor
from evdms.invoicing.access import invoices_of
from evdms.invoicing.models import (
    FeeSchedule,
    Invoice,
    InvoiceKind,
    InvoiceLine,
    InvoiceStatus,
    InvoiceVat,
)


def fee_schedules_in_force(organisation_ids: Iterable[int], month: date) -> dict[int, FeeSchedule]:
    """Each organisation's fee schedule in force for ``month`` (the latest whose
    ``valid_from`` is on or before its first day); organisations without one are absent.
    One query, whatever the number of organisations."""
    first = month.replace(day=1)
    in_force: dict[int, FeeSchedule] = {}
    rows = FeeSchedule.objects.filter(
        organisation_id__in=list(organisation_ids), valid_from__lte=first
    ).order_by("organisation_id", "-valid_from")
    for schedule in rows:
        in_force.setdefault(schedule.organisation_id, schedule)
    return in_force


# --- the organisation's invoices: the list's filters, the list, one invoice -------------

INVOICES_PAGE_SIZE = 50
INVOICE_LINES_PAGE_SIZE = 200
_MONTH = re.compile(r"^(\d{4})-(\d{2})$")


@dataclass
class InvoiceQuery:
    """The invoice list's filters, parsed from a query string. A bad value is dropped
    with a message saying so (the page); the API answers 422 naming it."""

    kind: str = ""
    month: date | None = None  # the first day of the month invoiced
    status: str = ""
    errors: dict[str, str] = field(default_factory=dict)  # field → what was wrong

    def messages(self) -> list[str]:
        """What the page says of each bad filter: it was dropped, not applied."""
        return [f"{problem}: showing every {name}." for name, problem in self.errors.items()]

    def as_params(self) -> dict[str, str]:
        params = {
            "kind": self.kind,
            "month": f"{self.month:%Y-%m}" if self.month else "",
            "status": self.status,
        }
        return {k: v for k, v in params.items() if v}


def parse_month(value: str) -> date | None:
    """``YYYY-MM`` (what ``<input type="month">`` sends) as the first of that month;
    empty is None; anything else raises ValueError."""
    value = value.strip()
    if not value:
        return None
    match = _MONTH.match(value)
    if match is None:
        raise ValueError(value)
    return date(int(match[1]), int(match[2]), 1)  # ValueError for month 13, year 0


def parse_invoice_query(params: Mapping[str, Any]) -> InvoiceQuery:
    errors: dict[str, str] = {}
    kind = str(params.get("kind", "") or "").strip()
    if kind and kind not in InvoiceKind.values:
        errors["kind"] = f"Unknown kind “{kind[:30]}”"
        kind = ""
    raw_month = str(params.get("month", "") or "").strip()
    month = None
    try:
        month = parse_month(raw_month)
    except ValueError:
        errors["month"] = f"The month “{raw_month[:20]}” is not a month (YYYY-MM)"
    status = str(params.get("status", "") or "").strip()
    if status and status not in InvoiceStatus.values:
        errors["status"] = f"Unknown status “{status[:30]}”"
        status = ""
    return InvoiceQuery(kind=kind, month=month, status=status, errors=errors)


def invoices_for(actor: Actor, query: InvoiceQuery) -> QuerySet[Invoice]:
    """The invoices the actor may see that match the filters, newest first, with what
    the list shows of each in the same query (whose charges, the Bundle's driver)."""
    rows = invoices_of(actor).select_related("organisation", "driver")
    if query.kind:
        rows = rows.filter(kind=query.kind)
    if query.month:
        rows = rows.filter(month=query.month)
    if query.status:
        rows = rows.filter(status=query.status)
    return rows.order_by("-issue_date", "-number")


def invoice_related(actor: Actor, invoice: Invoice) -> list[Invoice]:
    """The credit notes of an invoice (oldest first), as far as the actor may see
    them: a credit note has its invoice's parties, so that is all of them."""
    return list(invoices_of(actor).filter(credits=invoice).order_by("issue_date", "number"))


def invoice_vat_lines(invoice: Invoice) -> list[InvoiceVat]:
    return list(invoice.vat_lines.order_by("category", "rate"))


def invoice_lines(invoice: Invoice) -> QuerySet[InvoiceLine]:
    return invoice.lines.order_by("position")
