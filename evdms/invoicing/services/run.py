"""The monthly invoice run: for each organisation with anything to invoice, its Bundle
invoices (one per driver with an installation completed), its Services invoice (fees)
and its Transactions invoice (business public sessions, credited ones deducted, and the
home reimbursements paid). A chunk of organisations (``CHUNK_ORGANISATIONS``) is read
and invoiced in ONE transaction, each organisation in a savepoint of its own: a query
per kind of source and a commit per chunk, not per organisation (at 1,000
organisations those were most of the run's time on PostgreSQL).

Exactly once, as the statement run is: a chunk's invoices commit together or not at
all, so a run killed at any point leaves whole organisations, and running again
issues exactly what is missing (the month's invoices that exist are not made again, a
source on an invoice is never taken again; the database's unique constraints say so
too). Numbers are allocated in that same transaction (``invoice_issue``), so a killed
run leaves no gap either.

An organisation whose invoices cannot be made (a value beyond a column, a constraint
other than "already done") is refused: logged, counted, rolled back to its savepoint,
and the run goes on with the others; its sources stay open for the next run.

Decisions where the issue is silent (see ``sources`` for which sources a month takes):
- the public charging service fee counts the business sessions billed on the month's
  Transactions invoice; a credited session's deduction gives its cost back, not the
  fee (the platform handled the session);
- the reimbursement service fee counts the statements paid on that invoice (per
  statement), or a percentage of what they paid;
- fees are rounded once per line: the whole-month drivers in one line (count × fee),
  each pro-rata driver in a line of their own (fee × days ÷ days of the month);
- a Transactions invoice whose lines are only deductions is still issued (its total is
  negative: what the organisation is owed); an invoice whose total is zero is not.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, tzinfo
from decimal import Decimal, InvalidOperation

from django.core.exceptions import ValidationError
from django.db import DatabaseError, IntegrityError, connection, transaction
from django.utils import timezone, translation
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from evdms.accounts import who
from evdms.accounts.models import Organisation, User
from evdms.bulk import statistics_refresh
from evdms.invoicing import sources
from evdms.invoicing.delivery import invoices_deliver_after_commit, invoices_deliver_pending
from evdms.invoicing.models import (
    FeeBasis,
    FeeSchedule,
    Invoice,
    InvoiceKind,
    InvoiceLine,
    LineSource,
)
from evdms.invoicing.selectors import fee_schedules_in_force
from evdms.invoicing.services.issue import DraftLine, invoice_issue
from evdms.invoicing.sources import Month
from evdms.invoicing.vat import ZERO, cents, line_net
from evdms.reimbursements import checkpoints
from evdms.reimbursements.models import PayoutLine, Statement
from evdms.ui import formatting
from evdms.ui.language import user_language

logger = logging.getLogger("evdms.invoicing")

# Organisations read and invoiced together, in one transaction (each in a savepoint).
CHUNK_ORGANISATIONS = 100
# Attempts per organisation: a second one after an IntegrityError (most likely another
# worker issued something meanwhile: the retry reads what is done and skips it).
ATTEMPTS = 2
ONE = Decimal(1)
HUNDRED = Decimal(100)


@dataclass
class RunResult:
    month: date
    organisations: int = 0  # organisations with at least one invoice issued by this run
    issued: int = 0  # invoices issued by this run
    skipped: int = 0  # organisations whose month was invoiced already (nothing new)
    refused: int = 0  # organisations whose invoices could not be made
    left_out: int = 0  # sources in another currency than their organisation's
    invoice_ids: list[int] = field(default_factory=list)
    refused_ids: list[int] = field(default_factory=list)

    def counts(self) -> dict[str, int]:
        return {
            "organisations": self.organisations,
            "issued": self.issued,
            "skipped": self.skipped,
            "refused": self.refused,
            "left_out": self.left_out,
        }


@dataclass
class _Planned:
    kind: str
    lines: list[DraftLine]
    driver_id: int | None = None

    @property
    def total(self) -> Decimal:
        return sum(
            (
                line.net_amount
                if line.net_amount is not None
                else line_net(line.quantity, line.unit_price)
                for line in self.lines
            ),
            ZERO,
        )


# Line descriptions are written once, when the invoice is issued, in the organisation's
# language (the run plans each organisation under it): the PDF and its embedded
# e-invoice carry the same text, and an issued invoice never changes.


def _month_label(month: Month) -> str:
    return date_format(month.first, "YEAR_MONTH_FORMAT")


def _day(moment: datetime | None, zone: tzinfo | None = None) -> str:
    """The local day; ``zone``: the current time zone read once for many lines (reading
    it per line cost a tenth of the run)."""
    return date_format(timezone.localtime(moment, zone), "DATE_FORMAT") if moment else ""


class _Dates:
    """Local dates of many lines in one format, each date formatted once: Django's
    date_format (its translations, per call) cost more than the rest of a line.
    Datetimes are taken to their local day in ``zone``."""

    __slots__ = ("_format", "_labels", "_zone")

    def __init__(self, format_name: str, zone: tzinfo | None = None) -> None:
        self._format = format_name
        self._zone = zone
        self._labels: dict[date, str] = {}

    def __call__(self, value: datetime | date | None) -> str:
        if value is None:
            return ""
        day = value.astimezone(self._zone).date() if isinstance(value, datetime) else value
        label = self._labels.get(day)
        if label is None:
            label = self._labels[day] = date_format(day, self._format)
        return label


def _money(currency: str, amount: Decimal) -> str:
    return formatting.money(amount, currency)


def _percent(fee: Decimal) -> str:
    """A percentage with the decimals it has: 3, 2.5 ("2,5" in German)."""
    exponent = fee.normalize().as_tuple().exponent
    places = -exponent if isinstance(exponent, int) and exponent < 0 else 0
    return formatting.number(fee, places)


# --- Transactions -----------------------------------------------------------------------


def _session_line(
    organisation_id: int,
    session: sources.PublicSession,
    labels: sources.Labels,
    day: _Dates,
    what: str,
) -> DraftLine:
    """``what``: "Public charging" in the organisation's language, translated once for
    all its lines (a gettext per line cost more than the line)."""
    who = labels.of(organisation_id, session.driver_id, session.connection_id)
    net = cents(session.cost_excl_vat)
    when = day(session.started_at)
    return DraftLine(
        source=LineSource.PUBLIC_SESSION,
        description=" · ".join(part for part in (what, when, who.name, session.place) if part),
        quantity=ONE,
        unit_price=session.cost_excl_vat,
        net_amount=net,
        session_id=session.id,
        driver_id=session.driver_id,
        driver_name=who.name,
        verification_1=who.verification_1,
        verification_2=who.verification_2,
        customer_id=who.customer_id,
        occurred_at=session.started_at,
        place=session.place,
        energy_wh=session.energy_wh,
    )


def _credit_line(
    organisation_id: int, credited: sources.CreditedSession, labels: sources.Labels
) -> DraftLine:
    who = labels.of(organisation_id, credited.driver_id, credited.connection_id)
    # Exactly what its line billed, with the sign turned: the two net to zero.
    return DraftLine(
        source=LineSource.PUBLIC_SESSION_CREDIT,
        description=_(
            "Credited by the charge point operator: public charging session on %(number)s"
        )
        % {"number": credited.invoice_number},
        quantity=-ONE,
        unit_price=credited.invoiced_net,
        net_amount=-credited.invoiced_net,
        credited_session_id=credited.id,
        driver_id=credited.driver_id,
        driver_name=who.name,
        verification_1=who.verification_1,
        verification_2=who.verification_2,
        customer_id=who.customer_id,
        occurred_at=credited.started_at,
        place=credited.place,
        energy_wh=credited.energy_wh,
    )


def _reimbursement_line(
    organisation_id: int,
    paid: sources.PaidReimbursement,
    labels: sources.Labels,
    month: _Dates,
) -> DraftLine:
    who = labels.of(organisation_id, paid.driver_id, paid.connection_id)
    description = _(
        "Home charging reimbursed to the driver: statement %(reference)s (%(month)s)"
    ) % {"reference": paid.reference, "month": month(paid.statement_month)}
    if paid.invoiced_before:
        description += _(", less %(amount)s invoiced before its payment failed") % {
            "amount": formatting.amount(paid.invoiced_before)
        }
    return DraftLine(
        source=LineSource.REIMBURSEMENT,
        description=description,
        quantity=ONE,
        unit_price=paid.amount,
        net_amount=paid.amount,
        pass_through=True,  # paid in the organisation's name: no VAT of ours on it
        payout_line_id=paid.payout_line_id,
        driver_id=paid.driver_id,
        driver_name=who.name,
        verification_1=who.verification_1,
        verification_2=who.verification_2,
        customer_id=who.customer_id,
        occurred_at=paid.settled_at,
        place="Home",
        energy_wh=paid.energy_wh,
    )


# --- Services ---------------------------------------------------------------------------


def _fee_lines(
    organisation_id: int,
    schedule: FeeSchedule,
    month: Month,
    currency: str,
    days: dict[int, int],
    labels: sources.Labels,
    warranty_drivers: int,
    bases: tuple[int, Decimal, int, Decimal],
) -> list[DraftLine]:
    lines: list[DraftLine] = []
    label = _month_label(month)
    if schedule.driver_fee and days:
        whole = sorted(
            d for d, n in days.items() if n >= month.days or not schedule.driver_fee_pro_rata
        )
        if whole:
            lines.append(
                DraftLine(
                    source=LineSource.DRIVER_FEE,
                    description=_("Monthly fee per connected driver, %(month)s") % {"month": label},
                    quantity=Decimal(len(whole)),
                    unit_price=schedule.driver_fee,
                )
            )
        for driver_id in sorted(set(days) - set(whole)):
            share = schedule.driver_fee * days[driver_id] / month.days
            lines.append(
                DraftLine(
                    source=LineSource.DRIVER_FEE,
                    description=_(
                        "Monthly fee per connected driver, %(month)s: %(days)s of %(all)s days"
                    )
                    % {"month": label, "days": days[driver_id], "all": month.days},
                    quantity=ONE,
                    unit_price=cents(share),
                    net_amount=cents(share),  # rounded once, from the exact share
                    driver_id=driver_id,
                    driver_name=labels.of(organisation_id, driver_id, None).name,
                )
            )
    if schedule.warranty_fee and warranty_drivers:
        lines.append(
            DraftLine(
                source=LineSource.WARRANTY_FEE,
                description=_("Home warranty and labour per driver, %(month)s") % {"month": label},
                quantity=Decimal(warranty_drivers),
                unit_price=schedule.warranty_fee,
            )
        )
    sessions, session_net, statements, statement_net = bases
    if schedule.reimbursement_fee and statements:
        lines.append(
            _fee_line(
                LineSource.REIMBURSEMENT_FEE,
                _("Reimbursement service fee"),
                _("Reimbursement service fee per reimbursement statement paid"),
                schedule.reimbursement_fee_basis,
                schedule.reimbursement_fee,
                statements,
                statement_net,
                currency,
            )
        )
    if schedule.public_fee and sessions:
        lines.append(
            _fee_line(
                LineSource.PUBLIC_FEE,
                _("Public charging service fee"),
                _("Public charging service fee per business session"),
                schedule.public_fee_basis,
                schedule.public_fee,
                sessions,
                session_net,
                currency,
            )
        )
    return lines


def _fee_line(
    source: str,
    name: str,
    per_item: str,
    basis: str,
    fee: Decimal,
    count: int,
    amount: Decimal,
    currency: str,
) -> DraftLine:
    if basis == FeeBasis.PERCENT:
        net = cents(amount * fee / HUNDRED)
        return DraftLine(
            source=source,
            description=_("%(fee)s: %(percent)s %% of %(amount)s")
            % {
                "fee": name,
                "percent": _percent(fee),
                "amount": _money(currency, amount),
            },
            quantity=ONE,
            unit_price=net,
            net_amount=net,
        )
    return DraftLine(
        source=source,
        description=per_item,
        quantity=Decimal(count),
        unit_price=fee,
    )


# --- Bundle -----------------------------------------------------------------------------


def _job_line(organisation_id: int, job: sources.CompletedJob, labels: sources.Labels) -> DraftLine:
    who = labels.of(organisation_id, job.driver_id, job.connection_id)
    what = (
        _("Home charger and installation (%(charger)s)") % {"charger": job.charger}
        if job.charger
        else _("Home charger and installation")
    )
    return DraftLine(
        source=LineSource.INSTALLATION,
        description=_("%(what)s, completed %(day)s: the organisation's share of quote %(quote)s")
        % {"what": what, "day": _day(job.completed_at), "quote": job.quote_number},
        quantity=ONE,
        unit_price=job.share_excl_vat,
        net_amount=job.share_excl_vat,
        job_id=job.id,
        driver_id=job.driver_id,
        driver_name=who.name,
        verification_1=who.verification_1,
        verification_2=who.verification_2,
        customer_id=who.customer_id,
        occurred_at=job.completed_at,
        place=job.address,
    )


# --- one organisation -------------------------------------------------------------------


@dataclass
class _Outcome:
    invoices: list[Invoice]
    existing: bool  # the month had invoices of the organisation already
    left_out: int


class _Reads:
    """The sources of a chunk of organisations, read (and locked) together: a query per
    kind of source for the chunk rather than per organisation. Read inside the chunk's
    transaction, so what it locks stays locked until the chunk's invoices commit."""

    def __init__(self, organisations: list[Organisation], month: Month) -> None:
        ids = [organisation.pk for organisation in organisations]
        currencies = {organisation.pk: organisation.currency for organisation in organisations}
        self.existing = sources.existing_invoices(ids, month)
        self.sessions = sources.open_public_sessions(currencies, month)
        self.credited = sources.credited_sessions(ids)
        self.paid = sources.paid_reimbursements(currencies, month)
        self.jobs = sources.completed_jobs(ids, month)
        self.days = sources.connected_days(ids, month)
        self.warranty = sources.drivers_under_warranty(ids, month)
        driver_ids: set[int] = set()
        for sessions, _left_out in self.sessions.values():
            driver_ids.update(s.driver_id for s in sessions if s.driver_id is not None)
        for credited in self.credited.values():
            driver_ids.update(c.driver_id for c in credited if c.driver_id is not None)
        for paid, _carried in self.paid.values():
            driver_ids.update(p.driver_id for p in paid)
        for jobs in self.jobs.values():
            driver_ids.update(j.driver_id for j in jobs)
        for days in self.days.values():
            driver_ids.update(days)
        self.labels = sources.Labels(ids, driver_ids)


def _plan(
    organisation: Organisation, month: Month, schedule: FeeSchedule | None, reads: _Reads
) -> tuple[list[_Planned], bool, int]:
    """The organisation's invoices to issue, whether the month had invoices already,
    and the sources left out (from the chunk's ``reads``)."""
    org = organisation.pk
    currency = organisation.currency
    kinds, bundle_drivers = reads.existing[org]
    planned: list[_Planned] = []
    left_out = 0
    sessions: list[sources.PublicSession] = []
    credited: list[sources.CreditedSession] = []
    paid: list[sources.PaidReimbursement] = []
    if InvoiceKind.TRANSACTIONS not in kinds:
        sessions, other = reads.sessions[org]
        left_out += other
        credited = reads.credited[org]
        paid, other = reads.paid[org]
        left_out += other
    jobs = [
        job
        for job in reads.jobs[org]
        if job.driver_id not in bundle_drivers  # that driver's Bundle waits a month
    ]
    days: dict[int, int] = {}
    warranty = 0
    if InvoiceKind.SERVICES not in kinds and schedule is not None:
        days = reads.days[org]
        warranty = reads.warranty[org]
    labels = reads.labels

    if InvoiceKind.TRANSACTIONS not in kinds:
        day, what = _Dates("DATE_FORMAT", timezone.get_current_timezone()), _("Public charging")
        lines = [_session_line(org, s, labels, day, what) for s in sessions]
        lines += [_credit_line(org, c, labels) for c in credited]
        statement_month = _Dates("YEAR_MONTH_FORMAT")
        lines += [_reimbursement_line(org, p, labels, statement_month) for p in paid if p.amount]
        transactions = _Planned(InvoiceKind.TRANSACTIONS, lines)
        if lines and transactions.total:
            planned.append(transactions)
            bases = (
                len(sessions),
                sum((line.net_amount or ZERO for line in lines[: len(sessions)]), ZERO),
                sum(1 for p in paid if p.amount),
                sum((p.amount for p in paid), ZERO),
            )
        else:
            bases = (0, ZERO, 0, ZERO)
    else:
        bases = sources.transactions_invoice_bases(org, month)
    if InvoiceKind.SERVICES not in kinds and schedule is not None:
        fees = _fee_lines(org, schedule, month, currency, days, labels, warranty, bases)
        services = _Planned(InvoiceKind.SERVICES, fees)
        if fees and services.total:
            planned.append(services)
    by_driver: dict[int, list[DraftLine]] = {}
    for job in jobs:
        by_driver.setdefault(job.driver_id, []).append(_job_line(org, job, labels))
    for driver_id in sorted(by_driver):
        bundle = _Planned(InvoiceKind.BUNDLE, by_driver[driver_id], driver_id=driver_id)
        if bundle.total:
            planned.append(bundle)
    existing = bool(kinds or bundle_drivers)
    return planned, existing, left_out


def _organisation_invoice(
    organisation: Organisation,
    month: Month,
    schedule: FeeSchedule | None,
    issue_date: date | None,
    reads: _Reads,
) -> _Outcome:
    """One organisation's invoices, in a savepoint of the chunk's transaction: all of
    them or (rolled back to the savepoint) none."""
    with transaction.atomic():
        with translation.override(user_language(None, organisation)):
            planned, existing, left_out = _plan(organisation, month, schedule, reads)
        invoices = []
        for plan in planned:
            invoices.append(
                invoice_issue(
                    organisation=organisation,
                    kind=plan.kind,
                    month=month.first,
                    lines=plan.lines,
                    driver=None if plan.driver_id is None else _driver(plan.driver_id),
                    issue_date=issue_date,
                    issued_by=who.MONTHLY_RUN,
                )
            )
        # E-mailed once the chunk commits; what a kill in between leaves unsent the next
        # run queues first (invoices_deliver_pending).
        invoices_deliver_after_commit(invoice.pk for invoice in invoices)
        checkpoints.checkpoint("invoices-written")
    return _Outcome(invoices=invoices, existing=existing, left_out=left_out)


def _driver(driver_id: int) -> User:
    """The invoice's driver by id (only the id is stored: no read)."""
    return User(pk=driver_id)


def _chunks(ids: list[int], size: int) -> Iterator[list[int]]:
    for offset in range(0, len(ids), size):
        yield ids[offset : offset + size]


# Errors that say one organisation's invoices cannot be made as they are.
_REFUSING = (DatabaseError, ArithmeticError, InvalidOperation, ValueError, ValidationError)


def invoices_run(
    month: date, *, chunk_size: int = CHUNK_ORGANISATIONS, issue_date: date | None = None
) -> RunResult:
    """Issue the invoices of ``month`` (any day of it). Safe to run again: it issues
    only what is missing."""
    the_month = Month.of(month)
    result = RunResult(month=the_month.first)
    # A killed earlier run may have committed invoices whose e-mail was never queued.
    invoices_deliver_pending(the_month.first)
    schedules_all = FeeSchedule.objects.filter(valid_from__lte=the_month.first).order_by()
    with_fees = set(schedules_all.values_list("organisation_id", flat=True).distinct())
    organisation_ids = sources.organisations_with_sources(the_month, with_fees)
    counts: Counter[str] = Counter()
    for chunk in _chunks(organisation_ids, max(chunk_size, 1)):
        # The lines written so far and the sources paid since the last analysis: the
        # chunk's queries join them (see evdms.bulk.statistics_refresh).
        statistics_refresh(InvoiceLine, Invoice, PayoutLine, Statement)
        schedules = fee_schedules_in_force(chunk, the_month.first)
        organisations = Organisation.objects.select_related("invoice_payer").in_bulk(chunk)
        outcomes: dict[int, _Outcome | None] = {}
        try:
            with transaction.atomic():
                _constraints_immediate()
                _organisations_lock(chunk)
                reads = _Reads([organisations[pk] for pk in chunk], the_month)
                checkpoints.checkpoint("sources-read")
                for organisation_id in chunk:
                    outcomes[organisation_id] = _organisation_attempts(
                        organisations[organisation_id],
                        the_month,
                        schedules.get(organisation_id),
                        issue_date,
                        reads,
                    )
        except _REFUSING:  # the chunk's commit, or its reads, failed: none of it is done
            logger.exception("Invoices of organisations %s for %s refused", chunk, the_month.first)
            outcomes = dict.fromkeys(chunk)
        for organisation_id in chunk:
            outcome = outcomes[organisation_id]
            if outcome is None:
                result.refused += 1
                result.refused_ids.append(organisation_id)
                continue
            result.left_out += outcome.left_out
            if outcome.invoices:
                result.organisations += 1
                result.issued += len(outcome.invoices)
                result.invoice_ids.extend(invoice.pk for invoice in outcome.invoices)
                counts.update(invoice.kind for invoice in outcome.invoices)
            elif outcome.existing:
                result.skipped += 1
        checkpoints.checkpoint("chunk-committed")
    logger.info("Invoices for %s: %s (%s)", the_month.first, result.counts(), dict(counts))
    return result


def _organisation_attempts(
    organisation: Organisation,
    month: Month,
    schedule: FeeSchedule | None,
    issue_date: date | None,
    reads: _Reads,
) -> _Outcome | None:
    """The organisation's invoices, or None when they are refused (rolled back to its
    savepoint: the chunk's other organisations go on)."""
    for attempt in range(ATTEMPTS):
        try:
            return _organisation_invoice(organisation, month, schedule, issue_date, reads)
        except IntegrityError:
            if attempt + 1 < ATTEMPTS:
                # Read the organisation again: what is done now is skipped.
                reads = _Reads([organisation], month)
                continue
            logger.exception("Invoices of %s for %s refused", organisation, month.first)
        except _REFUSING:
            logger.exception("Invoices of %s for %s refused", organisation, month.first)
            return None
    return None


def _organisations_lock(organisation_ids: list[int]) -> None:
    """The chunk's organisations' rows, locked until it commits: a driver's Business /
    Personal mark waits for them (``session_purpose_set``), so the sessions read are
    invoiced as they were marked. One lock per organisation rather than per session:
    row locks on every public session of the month cost as much as writing them.
    FOR NO KEY UPDATE: rows that refer to an organisation (a charger's new session, an
    audit event) are still written meanwhile."""
    list(
        Organisation.objects.select_for_update(no_key=True)
        .filter(pk__in=organisation_ids)
        .order_by("pk")
        .values_list("pk", flat=True)
    )


def _constraints_immediate() -> None:
    """On PostgreSQL Django's foreign keys are checked at COMMIT (deferred): checked at
    each statement instead, a broken reference refuses its organisation (in its
    savepoint) rather than the whole chunk at its commit."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
