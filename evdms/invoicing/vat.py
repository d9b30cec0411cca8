"""VAT on the platform's invoices: which category and rate a line gets, and the rounding.

Pure (no database), Decimal only, so the monthly run, credit notes, the e-invoice and the
property tests use the very same figures.

Rounding, as EN 16931 does it: each line's net amount is rounded to the cent, half up
(BT-131); the VAT of each category and rate is its basis (the sum of those lines) × the
rate, rounded once to the cent, half up (BR-CO-17); the totals are exact sums of those.

Categories (UNCL5305):
- ``S`` standard: the seller's country's standard rate, for a buyer in the seller's
  country, or an EU buyer without a valid VAT number of its own country;
- ``AE`` reverse charge: a business buyer in another EU member state with a valid VAT
  number (the buyer accounts for the VAT);
- ``O`` not subject to VAT: a buyer outside the EU (the place of supply of a business
  service is the buyer's country). EN 16931 allows no other category on such an invoice
  (BR-O-11), so every line of it is ``O``, pass-through ones too;
- ``E`` exempt, for pass-through amounts (home energy reimbursed to drivers in the
  buyer's name and for its account): outside the taxable amount (VAT Directive art. 79(c),
  exemption code VATEX-EU-79-C). Not ``O``: BR-O-11 would then forbid the standard-rate
  lines next to them on the Transactions invoice.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

CENT = Decimal("0.01")
ZERO = Decimal("0.00")

EU_MEMBER_STATES = frozenset(
    [
        "AT",
        "BE",
        "BG",
        "CY",
        "CZ",
        "DE",
        "DK",
        "EE",
        "ES",
        "FI",
        "FR",
        "GR",
        "HR",
        "HU",
        "IE",
        "IT",
        "LT",
        "LU",
        "LV",
        "MT",
        "NL",
        "PL",
        "PT",
        "RO",
        "SE",
        "SI",
        "SK",
    ]
)

STANDARD = "S"
REVERSE_CHARGE = "AE"
EXEMPT = "E"
OUT_OF_SCOPE = "O"

REVERSE_CHARGE_REASON = "Reverse charge: VAT to be accounted for by the recipient"
REVERSE_CHARGE_CODE = "VATEX-EU-AE"
PASS_THROUGH_REASON = (
    "Disbursement: paid in the name and for the account of the customer (art. 79(c))"
)
PASS_THROUGH_CODE = "VATEX-EU-79-C"
OUT_OF_SCOPE_REASON = "Not subject to EU VAT: service to a business outside the EU"
OUT_OF_SCOPE_CODE = "VATEX-EU-O"


def cents(value: Decimal) -> Decimal:
    """Rounded to the cent, half up: the one rounding rule of invoices."""
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


def vat_country(vat_number: str) -> str:
    """The member state of a compact EU VAT number (Greece writes EL)."""
    prefix = vat_number[:2].upper()
    return "GR" if prefix == "EL" else prefix


@dataclass(frozen=True)
class Treatment:
    category: str
    rate: Decimal  # percent
    exemption_reason: str = ""
    exemption_code: str = ""


@dataclass(frozen=True)
class Parties:
    """What the VAT treatment depends on. ``buyer_vat_number`` is compact and already
    checksum-valid (the organisation's form refuses others), or blank."""

    seller_country: str
    buyer_country: str
    buyer_vat_number: str
    standard_rate: Decimal


def treatment_for(parties: Parties, *, pass_through: bool = False) -> Treatment:
    """The category and rate of a line for these parties."""
    buyer_country = parties.buyer_country.upper()
    if buyer_country and buyer_country not in EU_MEMBER_STATES:
        return Treatment(OUT_OF_SCOPE, ZERO, OUT_OF_SCOPE_REASON, OUT_OF_SCOPE_CODE)
    if pass_through:
        return Treatment(EXEMPT, ZERO, PASS_THROUGH_REASON, PASS_THROUGH_CODE)
    if (
        buyer_country
        and buyer_country != parties.seller_country.upper()
        and parties.buyer_vat_number
        and vat_country(parties.buyer_vat_number) == buyer_country
    ):
        return Treatment(REVERSE_CHARGE, ZERO, REVERSE_CHARGE_REASON, REVERSE_CHARGE_CODE)
    return Treatment(STANDARD, parties.standard_rate)


@dataclass(frozen=True)
class VatLine:
    """One row of the VAT breakdown (EN 16931 BG-23)."""

    category: str
    rate: Decimal
    basis: Decimal
    amount: Decimal
    exemption_reason: str
    exemption_code: str


@dataclass(frozen=True)
class Totals:
    excl_vat: Decimal
    vat: Decimal
    incl_vat: Decimal
    breakdown: tuple[VatLine, ...]


def line_net(quantity: Decimal, unit_price: Decimal) -> Decimal:
    return cents(quantity * unit_price)


def totals(lines: Iterable[tuple[Decimal, Treatment]]) -> Totals:
    """The breakdown and totals of lines given as (net amount, treatment); the net
    amounts are whole cents already (``line_net``)."""
    groups: dict[tuple[str, Decimal], list[Decimal]] = {}
    reasons: dict[tuple[str, Decimal], Treatment] = {}
    for net, treatment in lines:
        key = (treatment.category, treatment.rate)
        groups.setdefault(key, []).append(net)
        reasons.setdefault(key, treatment)
    breakdown = []
    for key in sorted(groups):
        basis = sum(groups[key], ZERO)
        category, rate = key
        treatment = reasons[key]
        breakdown.append(
            VatLine(
                category=category,
                rate=rate,
                basis=basis,
                amount=cents(basis * rate / 100),
                exemption_reason=treatment.exemption_reason,
                exemption_code=treatment.exemption_code,
            )
        )
    excl = sum((row.basis for row in breakdown), ZERO)
    vat = sum((row.amount for row in breakdown), ZERO)
    return Totals(excl_vat=excl, vat=vat, incl_vat=excl + vat, breakdown=tuple(breakdown))


def net_of_gross(gross: Decimal, rate: Decimal) -> Decimal:
    """The net amount (whole cents) whose VAT at ``rate`` makes ``gross``: used where a
    price was agreed incl. VAT (an installation quote's share). Half up; the gross on
    the invoice may then differ by a cent from the agreed one, never more."""
    return cents(gross * 100 / (100 + rate))


def pro_rata(amount: Decimal, days: int, days_in_month: int) -> Decimal:
    """A monthly amount for ``days`` of the month, unrounded (the line rounds once)."""
    return amount * days / days_in_month


def exact_sum(values: Sequence[Decimal]) -> Decimal:
    return sum(values, ZERO)
