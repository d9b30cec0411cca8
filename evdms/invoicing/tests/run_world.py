"""Sources for the invoice run's tests, made directly (each source has its own tests):
drivers connected to a connection of an organisation, public sessions as CDRs leave
them, statements paid by a SEPA payout, completed installations with their quote."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from itertools import count
from typing import Any

from django.utils import timezone

from evdms.accounts.models import Organisation, User
from evdms.charging.models import ChargingSession, SessionKind, SessionPurpose, SessionStatus
from evdms.connections.models import Connection
from evdms.enrolment.models import Membership
from evdms.installations.models import (
    InstallationJob,
    JobStatus,
    LineKind,
    Quote,
    QuoteLine,
    QuoteStatus,
)
from evdms.invoicing.models import FeeBasis, FeeSchedule
from evdms.reimbursements.models import (
    PayoutBatch,
    PayoutLine,
    PayoutLineStatus,
    Statement,
    StatementLine,
    StatementStatus,
)
from evdms.testing.fixtures import make_connection

OCTOBER = date(2026, 10, 1)
_serial = count(1)


def local(day: date, hour: int = 12) -> datetime:
    """Noon (or ``hour``) of a local day, as an aware datetime."""
    return datetime(day.year, day.month, day.day, hour, tzinfo=timezone.get_current_timezone())


def billed_organisation(
    organisation: Organisation, country: str = "NL", vat_number: str = ""
) -> Organisation:
    organisation.billing_name = f"{organisation.name} B.V."
    organisation.billing_address = "Keizersgracht 1"
    organisation.billing_postcode = "1015 AA"
    organisation.billing_city = "Amsterdam"
    organisation.billing_country = country
    organisation.vat_number = vat_number
    organisation.accounts_payable_email = f"ap@{organisation.slug}.example"
    organisation.save()
    return organisation


def fee_schedule(organisation: Organisation, **fees: Any) -> FeeSchedule:
    values: dict[str, Any] = {
        "driver_fee": Decimal("5.00"),
        "driver_fee_pro_rata": True,
        "warranty_fee": Decimal("2.50"),
        "reimbursement_fee_basis": FeeBasis.PER_ITEM,
        "reimbursement_fee": Decimal("0.50"),
        "public_fee_basis": FeeBasis.PERCENT,
        "public_fee": Decimal("3"),
        "valid_from": date(2026, 1, 1),
    }
    values.update(fees)
    return FeeSchedule.objects.create(organisation=organisation, **values)


def public_connection(organisation: Organisation, name: str = "Drivers") -> Connection:
    return make_connection(
        organisation,
        name=f"{organisation.slug}_{name}",
        pay_for_public_charging="yes",
        payment_via="direct_invoice_service",
        customer_id=f"CUST-{organisation.slug}",
    )


def driver(
    connection: Connection,
    name: str,
    connected: datetime | None = None,
    ended: datetime | None = None,
) -> User:
    user = User.objects.create_user(
        f"{name.lower().replace(' ', '.')}@drivers.example", "a long passphrase", full_name=name
    )
    Membership.objects.create(
        connection=connection,
        organisation=connection.organisation,
        driver=user,
        status="removed" if ended else "connected",
        connected_at=connected or datetime(2026, 1, 1, tzinfo=UTC),
        ended_at=ended,
        verification_1=f"EMP-{user.pk}",
        verification_2="Sales",
    )
    return user


def membership_of(user: User, organisation: Organisation) -> Membership:
    return Membership.objects.filter(driver=user, organisation=organisation).latest("pk")


def public_session(
    user: User,
    organisation: Organisation,
    started: datetime,
    cost: str,
    purpose: str = SessionPurpose.BUSINESS,
    energy_wh: int = 10_000,
    location: str = "Gent Zuid",
    currency: str = "EUR",
) -> ChargingSession:
    membership = membership_of(user, organisation)
    n = next(_serial)
    return ChargingSession.objects.create(
        organisation=organisation,
        kind=SessionKind.PUBLIC,
        public_key=f"NL*CPO*C*CDR-{n}",
        driver=user,
        connection=membership.connection,
        transaction_id=f"CDR-{n}",
        started_at=started,
        ended_at=started + timedelta(hours=1),
        energy_wh=energy_wh,
        status=SessionStatus.COMPLETED,
        cost_excl_vat=Decimal(cost),
        # None where it would not fit the column (the out-of-range cases).
        cost_incl_vat=Decimal(cost) * Decimal("1.21") if Decimal(cost) < 10**9 else None,
        currency=currency,
        purpose=purpose,
        operator="Zuid Charging",
        location_name=location,
        location_address="F.Rooseveltlaan 3A, 9000 Gent",
        flags=["final record received"],
    )


def credit(session: ChargingSession) -> None:
    """What a credit CDR does to the session it names."""
    ChargingSession.objects.filter(pk=session.pk).update(status=SessionStatus.CREDITED)


@dataclass
class Paid:
    statement: Statement
    line: PayoutLine


def paid_statement(
    user: User,
    organisation: Organisation,
    total: str,
    settled: datetime,
    month: date = date(2026, 9, 1),
    status: str = PayoutLineStatus.PAID,
    energy_wh: int = 40_000,
) -> Paid:
    """A statement of ``month`` for the driver, paid by a SEPA payout line settled at
    ``settled`` (or still pending / failed)."""
    membership = membership_of(user, organisation)
    statement = Statement.objects.create(
        driver=user,
        connection=membership.connection,
        month=month,
        currency="EUR",
        total=Decimal(total),
        status=StatementStatus.PAID
        if status == PayoutLineStatus.PAID
        else StatementStatus.IN_BATCH,
    )
    n = next(_serial)
    home = ChargingSession.objects.create(
        organisation=organisation,
        kind=SessionKind.HOME,
        public_key=f"NL*CPO*H*HOME-{n}",
        driver=user,
        connection=membership.connection,
        transaction_id=f"HOME-{n}",
        started_at=datetime(month.year, month.month, 5, 18, tzinfo=UTC),
        energy_wh=energy_wh,
        status=SessionStatus.COMPLETED,
    )
    StatementLine.objects.create(
        statement=statement,
        session=home,
        energy_wh=energy_wh,
        driver_price=Decimal("0.25"),
        cap=Decimal("0.30"),
        price_used=Decimal("0.25"),
        amount=Decimal(total),
    )
    batch = PayoutBatch.objects.create(
        execution_date=settled.date(),
        status=PayoutBatch.Status.EXPORTED,
        exported_at=settled,
        total=Decimal(total),
    )
    line = PayoutLine.objects.create(
        batch=batch,
        statement=statement,
        end_to_end_id=statement.reference,
        amount=Decimal(total),
        status=status,
        settled_at=None if status == PayoutLineStatus.PENDING else settled,
        failure_reason="AC04 closed account" if status == PayoutLineStatus.FAILED else "",
    )
    return Paid(statement=statement, line=line)


def completed_job(
    user: User,
    organisation: Organisation,
    completed: datetime,
    standard_excl: str = "1000.00",
    extra_excl: str = "100.00",
    warranty_until: date | None = date(2028, 10, 1),
) -> InstallationJob:
    """A completed job with an approved quote: the standard package is the
    organisation's (21 % VAT), an extra the driver asked for is the driver's."""
    membership = membership_of(user, organisation)
    job = InstallationJob.objects.create(
        organisation=organisation,
        connection=membership.connection,
        membership=membership,
        driver=user,
        status=JobStatus.COMPLETED,
        address="Damrak 1",
        postcode="1012 AB",
        city="Amsterdam",
        country="NL",
        commissioned_at=completed - timedelta(days=1),
        completed_at=completed,
        charger_vendor="Alfen",
        charger_model="Eve Single",
        charger_serial=f"ACE{next(_serial):05d}",
        warranty_months=24 if warranty_until else None,
        warranty_until=warranty_until,
    )
    standard = Decimal(standard_excl)
    extra = Decimal(extra_excl)
    s_vat = (standard * Decimal("0.21")).quantize(Decimal("0.01"))
    e_vat = (extra * Decimal("0.21")).quantize(Decimal("0.01"))
    quote = Quote.objects.create(
        job=job,
        number=1,
        status=QuoteStatus.APPROVED,
        payment_model="customised_quoting",
        currency="EUR",
        total_excl_vat=standard + extra,
        total_vat=s_vat + e_vat,
        total_incl_vat=standard + extra + s_vat + e_vat,
        organisation_share=standard + s_vat,
        driver_share=extra + e_vat,
    )
    for position, (kind, excl, vat, org) in enumerate(
        [
            (LineKind.STANDARD_PACKAGE, standard, s_vat, standard + s_vat),
            (LineKind.DRIVER_EXTRA, extra, e_vat, Decimal(0)),
        ],
        start=1,
    ):
        QuoteLine.objects.create(
            quote=quote,
            position=position,
            kind=kind,
            description=str(kind),
            quantity=Decimal(1),
            unit_price=excl,
            vat_rate=Decimal("21.00"),
            total_excl_vat=excl,
            vat=vat,
            total_incl_vat=excl + vat,
            organisation_part=org,
            driver_part=excl + vat - org,
        )
    return job
