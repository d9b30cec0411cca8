"""Reads of public charging sessions, for the driver's pages.

A driver sees every public session of their own in full, whatever its purpose: the
personal ones are theirs to settle. What an organisation sees of them is decided in
``organisation_view`` (shared by the API and the transaction report's rules): business
sessions in full, since the organisation pays them; of a personal session only that it
happened (date, driver, energy, "Personal"), not where, with whom or at what price —
the organisation does not pay it, so its place and cost are the driver's private life.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time

from django.db.models import Exists, OuterRef, QuerySet
from django.db.models.functions import TruncMonth
from django.shortcuts import get_object_or_404
from django.utils import timezone

from evdms.accounts.models import User
from evdms.charging.models import ChargingSession, SessionKind, SessionPurpose, SessionStatus
from evdms.invoicing.models import InvoiceLine
from evdms.ui import formatting

MONTHS_LISTED = 36  # months offered in the driver's filter, newest first


def own_public_sessions(driver: User) -> QuerySet[ChargingSession]:
    """``invoiced``: a month's invoice holds the session (its line), so its purpose is
    part of that invoice."""
    return (
        ChargingSession.objects.filter(driver=driver, kind=SessionKind.PUBLIC)
        .select_related("connection")
        .annotate(invoiced=Exists(InvoiceLine.objects.filter(session_id=OuterRef("pk"))))
        .order_by("-started_at", "-pk")
    )


def _midnight(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=timezone.get_current_timezone())


def _next_month(day: date) -> date:
    return date(day.year + 1, 1, 1) if day.month == 12 else date(day.year, day.month + 1, 1)


def in_month(rows: QuerySet[ChargingSession], month: date) -> QuerySet[ChargingSession]:
    """Sessions that started in ``month`` (the organisation's time zone)."""
    return rows.filter(
        started_at__gte=_midnight(month), started_at__lt=_midnight(_next_month(month))
    )


def own_public_months(driver: User) -> list[date]:
    """The months the driver has public sessions in, newest first (for the filter)."""
    months = (
        own_public_sessions(driver)
        .filter(started_at__isnull=False)
        .annotate(month=TruncMonth("started_at", tzinfo=timezone.get_current_timezone()))
        .values_list("month", flat=True)
        .distinct()
        .order_by("-month")[:MONTHS_LISTED]
    )
    return [m.date() if isinstance(m, datetime) else m for m in months]


def get_own_public_session(driver: User, session_id: int) -> ChargingSession:
    """The driver's own public session; anyone else's answers like a missing one."""
    return get_object_or_404(own_public_sessions(driver), pk=session_id)


@dataclass(frozen=True)
class PublicSessionRow:
    """A public session as the driver's page shows it."""

    session: ChargingSession

    @property
    def live(self) -> bool:
        return self.session.status == SessionStatus.ACTIVE

    @property
    def credited(self) -> bool:
        return self.session.status == SessionStatus.CREDITED

    @property
    def personal(self) -> bool:
        return self.session.purpose == SessionPurpose.PERSONAL

    @property
    def cost(self) -> str:
        """The price incl. VAT to the cent (half-up, for display only), with currency;
        empty until the operator has priced the session."""
        amount = self.session.cost_incl_vat
        if amount is None:
            return ""
        # Grouped and with the decimal sign of the reader's language.
        return formatting.money(amount, self.session.currency)

    @property
    def purpose_changeable(self) -> bool:
        return not self.credited and not getattr(self.session, "invoiced", False)


def organisation_sees_details(session: ChargingSession) -> bool:
    """Whether the organisation sees where, with whom and at what price the driver
    charged: for the sessions it pays (business), not for personal ones."""
    return session.kind != SessionKind.PUBLIC or session.purpose != SessionPurpose.PERSONAL
