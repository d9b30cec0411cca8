"""Who pays what of an installation quote: the one rule, by the connection's payment
model. Pure (no database), Decimal only, so the pages, the API, the stored quote and the
property tests all use the very same figures.

Each line is priced excl. VAT (quantity × unit price, rounded to the cent), its VAT is
rounded to the cent, and its total incl. VAT is the sum of the two. Each line is then
split incl. VAT between the organisation and the driver, whole cents, the two parts
adding up to the line's total; the shares are the sums of the parts, so they add up to
the quote's total too.

- Direct Model: the organisation pays the standard package lines up to the connection's
  standard price (incl. VAT); the rest of them and every other line is the driver's.
- Employee Programme: the driver pays everything.
- Budget Model: the organisation pays the standard package and extra lines up to the
  connection's budget (incl. VAT), in the order of the lines; the excess is the driver's.
- Customised Quoting: the organisation pays the standard package and extra lines (and
  approves each quote).
- In every model, a ``driver_extra`` line (asked for by the driver) is the driver's.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

CENT = Decimal("0.01")
ZERO = Decimal("0.00")

# The values of connections.models.InstallationPaymentModel and
# installations.models.LineKind, repeated so this module stays free of Django.
DIRECT = "direct"
EMPLOYEE_PROGRAMME = "employee_programme"
BUDGET = "budget"
CUSTOMISED_QUOTING = "customised_quoting"
PAYMENT_MODELS = (DIRECT, EMPLOYEE_PROGRAMME, BUDGET, CUSTOMISED_QUOTING)

STANDARD_PACKAGE = "standard_package"
EXTRA = "extra"
DRIVER_EXTRA = "driver_extra"
LINE_KINDS = (STANDARD_PACKAGE, EXTRA, DRIVER_EXTRA)


def cents(value: Decimal) -> Decimal:
    """Rounded to the cent, half up (as invoices round)."""
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


@dataclass(frozen=True)
class LineInput:
    kind: str
    description: str
    quantity: Decimal
    unit_price: Decimal  # excl. VAT
    vat_rate: Decimal  # percent, e.g. Decimal("21.00")


@dataclass(frozen=True)
class LineSplit:
    kind: str
    description: str
    quantity: Decimal
    unit_price: Decimal
    vat_rate: Decimal
    total_excl_vat: Decimal
    vat: Decimal
    total_incl_vat: Decimal
    organisation_part: Decimal  # incl. VAT
    driver_part: Decimal  # incl. VAT


@dataclass(frozen=True)
class Split:
    lines: tuple[LineSplit, ...]
    total_excl_vat: Decimal
    total_vat: Decimal
    total_incl_vat: Decimal
    organisation_share: Decimal
    driver_share: Decimal


def line_totals(line: LineInput) -> tuple[Decimal, Decimal, Decimal]:
    """(excl. VAT, VAT, incl. VAT) of one line, each to the cent."""
    excl = cents(line.quantity * line.unit_price)
    vat = cents(excl * line.vat_rate / Decimal(100))
    return excl, vat, excl + vat


def _organisation_cap(
    payment_model: str, standard_price: Decimal | None, budget: Decimal | None
) -> tuple[frozenset[str], Decimal | None]:
    """The line kinds the organisation pays in this model, and at most how much of them
    in all (None: no cap)."""
    if payment_model == DIRECT:
        if standard_price is None or standard_price < 0:
            raise ValueError("The Direct Model needs the connection's standard package price.")
        return frozenset({STANDARD_PACKAGE}), cents(standard_price)
    if payment_model == EMPLOYEE_PROGRAMME:
        return frozenset(), None
    if payment_model == BUDGET:
        if budget is None or budget < 0:
            raise ValueError("The Budget Model needs the connection's installation budget.")
        return frozenset({STANDARD_PACKAGE, EXTRA}), cents(budget)
    if payment_model == CUSTOMISED_QUOTING:
        return frozenset({STANDARD_PACKAGE, EXTRA}), None
    raise ValueError(f"Unknown installation payment model {payment_model!r}.")


def split_quote(
    *,
    lines: Sequence[LineInput],
    payment_model: str,
    standard_price: Decimal | None,
    budget: Decimal | None,
) -> Split:
    """Price every line and split it between the organisation and the driver."""
    kinds, cap = _organisation_cap(payment_model, standard_price, budget)
    left = cap
    result: list[LineSplit] = []
    for line in lines:
        if line.kind not in LINE_KINDS:
            raise ValueError(f"Unknown quote line kind {line.kind!r}.")
        excl, vat, incl = line_totals(line)
        organisation = ZERO
        if line.kind in kinds:
            organisation = incl if left is None else min(incl, left)
            if left is not None:
                left -= organisation
        result.append(
            LineSplit(
                kind=line.kind,
                description=line.description,
                quantity=line.quantity,
                unit_price=line.unit_price,
                vat_rate=line.vat_rate,
                total_excl_vat=excl,
                vat=vat,
                total_incl_vat=incl,
                organisation_part=organisation,
                driver_part=incl - organisation,
            )
        )
    return Split(
        lines=tuple(result),
        total_excl_vat=sum((x.total_excl_vat for x in result), ZERO),
        total_vat=sum((x.vat for x in result), ZERO),
        total_incl_vat=sum((x.total_incl_vat for x in result), ZERO),
        organisation_share=sum((x.organisation_part for x in result), ZERO),
        driver_share=sum((x.driver_part for x in result), ZERO),
    )


def approvals_needed(*, payment_model: str, split: Split) -> tuple[bool, bool]:
    """(organisation, driver): whose approval the quote needs. The organisation approves
    only in Customised Quoting (in Direct and Budget its part is fixed by the
    connection's terms); the driver approves whenever their share is above zero."""
    if payment_model not in PAYMENT_MODELS:
        raise ValueError(f"Unknown installation payment model {payment_model!r}.")
    return payment_model == CUSTOMISED_QUOTING, split.driver_share > 0
