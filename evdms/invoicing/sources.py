"""What an organisation has to be invoiced for a month: the reads of the monthly run.

Every source is taken once, by whichever invoice takes it first; a source that arrived
after its month was invoiced (a late CDR, a payout the bank confirmed after the run, a
payment booked late) is still open, so the next month's run takes it. A source of a
month is therefore never lost and never billed twice (the unique columns on the
invoice lines say so to the database too):

- business public sessions: completed, marked Business, not held for review, started
  before the month's end, in the organisation's currency, on no invoice yet;
- credited sessions: a public session that was invoiced and that its operator credited
  afterwards (a credit CDR), not deducted yet;
- reimbursements paid: a payout line the bank paid (settled) before the month's end,
  for a statement of one of the organisation's connections, on no invoice yet;
- installations: a completed job with the organisation's share of its approved quote
  above zero, completed before the month's end, on no invoice yet;
- the fees' counts (connected days per driver, drivers under home warranty) are the
  month's own.

Months are local (``settings.TIME_ZONE``), as statements' months are.
"""

from __future__ import annotations

import unicodedata
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal

from django.db.models import Q, Sum
from django.utils import timezone

from evdms.accounts.models import User
from evdms.bulk import decimal_value, plain_rows, utc_datetime
from evdms.charging.models import (
    ChargingSession,
    SessionKind,
    SessionPurpose,
    SessionReview,
    SessionStatus,
)
from evdms.connections.models import Connection
from evdms.enrolment.models import Membership
from evdms.installations.models import InstallationJob, JobStatus, Quote, QuoteStatus
from evdms.invoicing.models import Invoice, InvoiceKind, InvoiceLine, LineSource
from evdms.invoicing.vat import ZERO, cents, net_of_gross
from evdms.reimbursements.models import (
    CarryOver,
    PayoutLine,
    PayoutLineStatus,
    StatementLine,
    statement_reference,
)
from evdms.reimbursements.services.statements import month_bounds


def clean_text(value: str | None) -> str:
    """Text from outside (a partner's location name, a quote line) without control
    characters but the tab: they would break the PDF, the CSV and the e-invoice's XML."""
    if not value:
        return ""
    if value.isprintable():  # no control character at all (nor a tab): the usual case
        return value.strip()
    return "".join(ch for ch in value if ch == "\t" or unicodedata.category(ch) != "Cc").strip()


@dataclass(frozen=True)
class Month:
    """A local calendar month: its first day and its bounds as aware datetimes."""

    first: date
    start: datetime
    end: datetime

    @classmethod
    def of(cls, day: date) -> Month:
        first = day.replace(day=1)
        start, end = month_bounds(first)
        return cls(first=first, start=start, end=end)

    @property
    def days(self) -> int:
        following = (self.first.replace(day=28) + timedelta(days=4)).replace(day=1)
        return (following - self.first).days

    @property
    def last(self) -> date:
        return self.first + timedelta(days=self.days - 1)


# --- who has anything -------------------------------------------------------------------


def _open_sessions() -> Q:
    return Q(
        kind=SessionKind.PUBLIC,
        purpose=SessionPurpose.BUSINESS,
        status=SessionStatus.COMPLETED,
        invoice_line__isnull=True,
        cost_excl_vat__isnull=False,
    ) & ~Q(review__in=[SessionReview.PENDING, SessionReview.REJECTED])


def _credited_sessions() -> Q:
    return Q(
        kind=SessionKind.PUBLIC,
        status=SessionStatus.CREDITED,
        invoice_line__isnull=False,
        invoice_credit_line__isnull=True,
    )


def organisations_with_sources(month: Month, with_fees: set[int]) -> list[int]:
    """The organisations with anything to invoice for ``month``: an open source, or a
    fee schedule in force (``with_fees``: its fees count connected drivers). Sorted."""
    ids: set[int] = set(with_fees)
    ids.update(
        ChargingSession.objects.filter(_open_sessions(), started_at__lt=month.end)
        .order_by()
        .values_list("organisation_id", flat=True)
        .distinct()
    )
    ids.update(
        ChargingSession.objects.filter(_credited_sessions())
        .order_by()
        .values_list("organisation_id", flat=True)
        .distinct()
    )
    ids.update(
        PayoutLine.objects.filter(
            status=PayoutLineStatus.PAID, settled_at__lt=month.end, invoice_line__isnull=True
        )
        .order_by()
        .values_list("statement__connection__organisation_id", flat=True)
        .distinct()
    )
    ids.update(
        InstallationJob.objects.filter(_open_jobs(month))
        .order_by()
        .values_list("organisation_id", flat=True)
        .distinct()
    )
    return sorted(ids)


def existing_invoices(
    organisation_ids: list[int], month: Month
) -> dict[int, tuple[set[str], set[int]]]:
    """Per organisation: the kinds already issued for the month (Services,
    Transactions) and the drivers whose Bundle invoice of the month exists."""
    found: dict[int, tuple[set[str], set[int]]] = {pk: (set(), set()) for pk in organisation_ids}
    for organisation_id, kind, driver_id in Invoice.objects.filter(
        organisation_id__in=organisation_ids, month=month.first
    ).values_list("organisation_id", "kind", "driver_id"):
        kinds, drivers = found[organisation_id]
        if kind == InvoiceKind.BUNDLE and driver_id is not None:
            drivers.add(driver_id)
        elif kind in (InvoiceKind.SERVICES, InvoiceKind.TRANSACTIONS):
            kinds.add(kind)
    return found


# --- who the lines name -----------------------------------------------------------------


@dataclass(frozen=True)
class DriverLabel:
    name: str
    verification_1: str = ""
    verification_2: str = ""
    customer_id: str = ""


def _batches(ids: set[int] | list[int], size: int = 5000) -> Iterator[list[int]]:
    """Ids in lists small enough for a query's parameters (SQLite bounds them)."""
    ordered = sorted(ids)
    for offset in range(0, len(ordered), size):
        yield ordered[offset : offset + size]


class Labels:
    """Drivers' names, their driver verification per connection and the connections'
    Customer IDs of the organisations of a chunk, read once for their invoices."""

    def __init__(self, organisation_ids: list[int], driver_ids: set[int]) -> None:
        self.names: dict[int, str] = {}
        self.verifications: dict[tuple[int, int, int], tuple[str, str]] = {}
        for batch in _batches(driver_ids):
            for pk, full_name, email in User.objects.filter(pk__in=batch).values_list(
                "pk", "full_name", "email"
            ):
                self.names[pk] = clean_text(full_name) or email
            for organisation_id, driver_id, connection_id, v1, v2 in (
                Membership.objects.filter(organisation_id__in=organisation_ids, driver_id__in=batch)
                .order_by("requested_at", "pk")  # the latest wins
                .values_list(
                    "organisation_id",
                    "driver_id",
                    "connection_id",
                    "verification_1",
                    "verification_2",
                )
            ):
                self.verifications[(organisation_id, driver_id, connection_id)] = (
                    clean_text(v1),
                    clean_text(v2),
                )
        self.customer_ids: dict[tuple[int, int], str] = {
            (organisation_id, pk): clean_text(customer_id)
            for organisation_id, pk, customer_id in Connection.objects.filter(
                organisation_id__in=organisation_ids
            ).values_list("organisation_id", "pk", "customer_id")
        }
        self._seen: dict[tuple[int, int | None, int | None], DriverLabel] = {}

    def of(
        self, organisation_id: int, driver_id: int | None, connection_id: int | None
    ) -> DriverLabel:
        key = (organisation_id, driver_id, connection_id)
        label = self._seen.get(key)
        if label is None:
            label = self._seen[key] = self._label(organisation_id, driver_id, connection_id)
        return label

    def _label(
        self, organisation_id: int, driver_id: int | None, connection_id: int | None
    ) -> DriverLabel:
        if driver_id is None:
            return DriverLabel(name="")
        v1, v2 = self.verifications.get((organisation_id, driver_id, connection_id or 0), ("", ""))
        return DriverLabel(
            name=self.names.get(driver_id, ""),
            verification_1=v1,
            verification_2=v2,
            customer_id=self.customer_ids.get((organisation_id, connection_id or 0), ""),
        )


# --- Transactions -----------------------------------------------------------------------


COST_PLACES = ChargingSession._meta.get_field("cost_excl_vat").decimal_places


# Slots, not frozen: one per public session of the month, and a frozen dataclass sets
# each field through object.__setattr__ (several times the cost). Read, never changed.
@dataclass(slots=True)
class PublicSession:
    id: int
    driver_id: int | None
    connection_id: int | None
    started_at: datetime | None
    energy_wh: int
    cost_excl_vat: Decimal
    place: str


def _place(location_name: str, location_address: str, operator: str) -> str:
    parts = [clean_text(location_name), clean_text(location_address)]
    place = ", ".join(part for part in parts if part)
    return place or clean_text(operator)


def open_public_sessions(
    currencies: dict[int, str], month: Month
) -> dict[int, tuple[list[PublicSession], int]]:
    """Per organisation (``currencies``: each one's currency), the business sessions to
    invoice, oldest first; and how many were left out because they are in another
    currency than the invoice. Not locked: the run holds the organisations' rows, for
    which a driver's Business/Personal mark waits (``run._organisations_lock``), and
    the unique session column of the invoice lines refuses a second invoice of one."""
    found: dict[int, tuple[list[PublicSession], int]] = {pk: ([], 0) for pk in currencies}
    rows = (
        ChargingSession.objects.filter(
            _open_sessions(), organisation_id__in=list(currencies), started_at__lt=month.end
        )
        .order_by("organisation_id", "started_at", "pk")
        .values_list(
            "organisation_id",
            "pk",
            "driver_id",
            "connection_id",
            "started_at",
            "energy_wh",
            "cost_excl_vat",
            "currency",
            "location_name",
            "location_address",
            "operator",
        )
    )
    # The place of a session is one of few (the operators' locations): made once each.
    places: dict[tuple[str, str, str], str] = {}
    # Plain rows: the ORM's converters of the datetime and the decimal cost as much as
    # the rest of the read, for a row per public session of the chunk's organisations.
    for (
        org,
        pk,
        driver_id,
        connection_id,
        started,
        wh,
        cost,
        cur,
        name,
        address,
        operator,
    ) in plain_rows(rows):
        sessions, other_currency = found[org]
        if cur and cur != currencies[org]:
            found[org] = (sessions, other_currency + 1)
            continue
        place = places.get((name, address, operator))
        if place is None:
            place = places[(name, address, operator)] = _place(name, address, operator)
        sessions.append(
            PublicSession(
                id=pk,
                driver_id=driver_id,
                connection_id=connection_id,
                started_at=None if started is None else utc_datetime(started),
                energy_wh=wh,
                cost_excl_vat=ZERO if cost is None else decimal_value(cost, COST_PLACES),
                place=place,
            )
        )
    return found


@dataclass(frozen=True)
class CreditedSession:
    id: int
    driver_id: int | None
    connection_id: int | None
    started_at: datetime | None
    energy_wh: int
    invoiced_net: Decimal  # what its line on an earlier invoice billed
    invoice_number: str
    place: str


def credited_sessions(organisation_ids: list[int]) -> dict[int, list[CreditedSession]]:
    """Per organisation, invoiced sessions their operator credited since, not deducted
    yet (locked)."""
    found_ids: dict[int, list[int]] = {pk: [] for pk in organisation_ids}
    for organisation_id, pk in (
        ChargingSession.objects.select_for_update(of=("self",))
        .filter(_credited_sessions(), organisation_id__in=organisation_ids)
        .order_by("organisation_id", "started_at", "pk")
        .values_list("organisation_id", "pk")
    ):
        found_ids[organisation_id].append(pk)
    return {
        organisation_id: _credited(ids) if ids else [] for organisation_id, ids in found_ids.items()
    }


def _credited(ids: list[int]) -> list[CreditedSession]:
    lines = InvoiceLine.objects.filter(session_id__in=ids).values_list(
        "session_id",
        "net_amount",
        "invoice__number",
        "session__driver_id",
        "session__connection_id",
        "session__started_at",
        "session__energy_wh",
        "place",
    )
    found = {
        session_id: CreditedSession(
            id=session_id,
            driver_id=driver_id,
            connection_id=connection_id,
            started_at=started,
            energy_wh=wh,
            invoiced_net=net,
            invoice_number=number,
            place=place,
        )
        for session_id, net, number, driver_id, connection_id, started, wh, place in lines
    }
    return [found[pk] for pk in ids if pk in found]


@dataclass(frozen=True)
class PaidReimbursement:
    payout_line_id: int
    statement_id: int
    statement_month: date
    reference: str  # the statement's
    driver_id: int
    connection_id: int
    settled_at: datetime | None
    paid: Decimal  # what the bank paid the driver
    # Of ``paid``, the part an earlier invoice billed already: a payment that failed
    # after it was invoiced and was carried over into this statement.
    invoiced_before: Decimal
    energy_wh: int

    @property
    def amount(self) -> Decimal:
        return self.paid - self.invoiced_before


def paid_reimbursements(
    currencies: dict[int, str], month: Month
) -> dict[int, tuple[list[PaidReimbursement], int]]:
    """Per organisation (``currencies``: each one's currency), the reimbursements the
    bank paid to its drivers before the month's end and no invoice holds yet, locked,
    oldest first; and how many were left out for being in another currency."""
    rows = list(
        PayoutLine.objects.select_for_update(of=("self",))
        .filter(
            status=PayoutLineStatus.PAID,
            settled_at__lt=month.end,
            invoice_line__isnull=True,
            statement__connection__organisation_id__in=list(currencies),
        )
        .order_by("statement__connection__organisation_id", "settled_at", "pk")
        .values_list(
            "statement__connection__organisation_id",
            "pk",
            "statement_id",
            "statement__month",
            "statement__driver_id",
            "statement__connection_id",
            "settled_at",
            "amount",
            "statement__currency",
        )
    )
    statement_ids = [row[2] for row in rows]
    energy: dict[int, int] = {}
    # Carried-over totals whose failed payment an invoice had billed already.
    billed_carries: dict[int, Decimal] = defaultdict(lambda: ZERO)
    for batch in _batches(statement_ids):
        energy.update(
            StatementLine.objects.filter(statement_id__in=batch)
            .order_by()
            .values("statement_id")
            .annotate(wh=Sum("energy_wh"))
            .values_list("statement_id", "wh")
        )
        for statement_id, amount in CarryOver.objects.filter(
            statement_id__in=batch,
            failed_statement__payout__invoice_line__isnull=False,
        ).values_list("statement_id", "amount"):
            billed_carries[statement_id] += amount
    found: dict[int, tuple[list[PaidReimbursement], int]] = {pk: ([], 0) for pk in currencies}
    for org, pk, statement_id, st_month, driver_id, connection_id, settled, amount, cur in rows:
        paid, other_currency = found[org]
        if cur != currencies[org]:
            found[org] = (paid, other_currency + 1)
            continue
        paid.append(
            PaidReimbursement(
                payout_line_id=pk,
                statement_id=statement_id,
                statement_month=st_month,
                reference=statement_reference(statement_id, st_month),
                driver_id=driver_id,
                connection_id=connection_id,
                settled_at=settled,
                paid=amount,
                invoiced_before=billed_carries.get(statement_id, ZERO),
                energy_wh=energy.get(statement_id) or 0,
            )
        )
    return found


def transactions_invoice_bases(
    organisation_id: int, month: Month
) -> tuple[int, Decimal, int, Decimal]:
    """(sessions, their net, statements, their net) on the month's Transactions invoice
    that exists already: what its Services invoice's fees count when that one is made
    later than it (it had nothing to charge then)."""
    rows = InvoiceLine.objects.filter(
        invoice__organisation_id=organisation_id,
        invoice__month=month.first,
        invoice__kind=InvoiceKind.TRANSACTIONS,
        source__in=[LineSource.PUBLIC_SESSION, LineSource.REIMBURSEMENT],
    ).values_list("source", "net_amount")
    sessions, session_net, statements, statement_net = 0, ZERO, 0, ZERO
    for source, net in rows:
        if source == LineSource.PUBLIC_SESSION:
            sessions += 1
            session_net += net
        else:
            statements += 1
            statement_net += net
    return sessions, session_net, statements, statement_net


# --- Services ---------------------------------------------------------------------------


def connected_days(organisation_ids: list[int], month: Month) -> dict[int, dict[int, int]]:
    """Per organisation, per driver, the local days of the month on which they were
    connected to one of the organisation's connections (a day counts once, whatever the
    connections)."""
    tz = timezone.get_current_timezone()
    by_organisation: dict[int, dict[int, set[int]]] = {pk: {} for pk in organisation_ids}
    for organisation_id, driver_id, connected, ended in (
        Membership.objects.filter(
            organisation_id__in=organisation_ids,
            connected_at__isnull=False,
            connected_at__lt=month.end,
        )
        .filter(Q(ended_at__isnull=True) | Q(ended_at__gte=month.start))
        .values_list("organisation_id", "driver_id", "connected_at", "ended_at")
    ):
        if connected is None:  # filtered out; for the type checker
            continue
        first = max(connected.astimezone(tz).date(), month.first)
        last = min(ended.astimezone(tz).date(), month.last) if ended else month.last
        if last < first:
            continue
        days = by_organisation[organisation_id]
        days.setdefault(driver_id, set()).update(range(first.day, last.day + 1))
    return {
        organisation_id: {driver_id: len(seen) for driver_id, seen in days.items() if seen}
        for organisation_id, days in by_organisation.items()
    }


def drivers_under_warranty(organisation_ids: list[int], month: Month) -> dict[int, int]:
    """Per organisation, the drivers with a home charger the platform installed
    (commissioned before the month's end) whose home warranty and labour runs on into
    the month."""
    counts = dict.fromkeys(organisation_ids, 0)
    for organisation_id, _driver_id in (
        InstallationJob.objects.filter(
            organisation_id__in=organisation_ids,
            status__in=[JobStatus.COMMISSIONED, JobStatus.COMPLETED],
            commissioned_at__lt=month.end,
            warranty_until__gte=month.first,
        )
        .order_by()
        .values_list("organisation_id", "driver_id")
        .distinct()
    ):
        counts[organisation_id] += 1
    return counts


# --- Bundle -----------------------------------------------------------------------------


def _open_jobs(month: Month) -> Q:
    return Q(
        status=JobStatus.COMPLETED,
        completed_at__lt=month.end,
        quotes__status=QuoteStatus.APPROVED,
        quotes__organisation_share__gt=0,
    ) & ~Q(invoice_lines__source=LineSource.INSTALLATION)


@dataclass(frozen=True)
class CompletedJob:
    id: int
    driver_id: int
    connection_id: int
    completed_at: datetime | None
    charger: str  # vendor model serial
    address: str
    quote_number: int
    share_incl_vat: Decimal
    # The share excl. VAT: per quote line, its organisation's part (incl. the line's
    # VAT) without that VAT, rounded to the cent, summed.
    share_excl_vat: Decimal


def completed_jobs(organisation_ids: list[int], month: Month) -> dict[int, list[CompletedJob]]:
    """Per organisation, the completed installations whose organisation's share is not
    invoiced yet, with the approved quote's share; jobs locked."""
    found: dict[int, list[CompletedJob]] = {pk: [] for pk in organisation_ids}
    job_rows = list(
        InstallationJob.objects.select_for_update(of=("self",))
        .filter(
            organisation_id__in=organisation_ids,
            pk__in=InstallationJob.objects.filter(_open_jobs(month)).values("pk"),
        )
        .order_by("organisation_id", "completed_at", "pk")
        .values_list(
            "organisation_id",
            "pk",
            "driver_id",
            "connection_id",
            "completed_at",
            "charger_vendor",
            "charger_model",
            "charger_serial",
            "address",
            "postcode",
            "city",
        )
    )
    if not job_rows:
        return found
    quotes: dict[int, Quote] = {}
    for quote in (
        Quote.objects.filter(job_id__in=[row[1] for row in job_rows], status=QuoteStatus.APPROVED)
        .prefetch_related("lines")
        .order_by("job_id", "number")
    ):
        quotes[quote.job_id] = quote  # the latest approved one
    for (
        organisation_id,
        pk,
        driver_id,
        connection_id,
        completed,
        vendor,
        model,
        serial,
        address,
        pc,
        city,
    ) in job_rows:
        approved = quotes.get(pk)
        if approved is None:
            continue
        excl = sum(
            (
                net_of_gross(line.organisation_part, line.vat_rate)
                for line in approved.lines.all()
                if line.organisation_part
            ),
            ZERO,
        )
        found[organisation_id].append(
            CompletedJob(
                id=pk,
                driver_id=driver_id,
                connection_id=connection_id,
                completed_at=completed,
                charger=clean_text(" ".join(part for part in (vendor, model, serial) if part)),
                address=clean_text(
                    ", ".join(part for part in (address, f"{pc} {city}".strip()) if part)
                ),
                quote_number=approved.number,
                share_incl_vat=approved.organisation_share,
                share_excl_vat=cents(excl),
            )
        )
    return found
