"""Who pays what: worked examples, and properties over random quotes for all four
payment models."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from evdms.installations.payer_split import (
    BUDGET,
    CUSTOMISED_QUOTING,
    DIRECT,
    DRIVER_EXTRA,
    EMPLOYEE_PROGRAMME,
    EXTRA,
    STANDARD_PACKAGE,
    LineInput,
    Split,
    approvals_needed,
    split_quote,
)

D = Decimal


def line(kind: str, quantity: str, unit_price: str, vat: str = "21", text: str = "x") -> LineInput:
    return LineInput(
        kind=kind, description=text, quantity=D(quantity), unit_price=D(unit_price), vat_rate=D(vat)
    )


QUOTE = [
    line(STANDARD_PACKAGE, "1", "1000.00", text="Standard package"),
    line(EXTRA, "5", "12.50", text="Extra cable (m)"),
    line(DRIVER_EXTRA, "1", "99.99", text="Black cable"),
]
# 1000.00 + 210.00 = 1210.00; 62.50 + 13.13 = 75.63; 99.99 + 21.00 = 120.99 → 1406.62


def test_line_figures_are_rounded_per_line_to_the_cent():
    split = split_quote(
        lines=QUOTE, payment_model=EMPLOYEE_PROGRAMME, standard_price=None, budget=None
    )
    assert [(x.total_excl_vat, x.vat, x.total_incl_vat) for x in split.lines] == [
        (D("1000.00"), D("210.00"), D("1210.00")),
        (D("62.50"), D("13.13"), D("75.63")),  # 13.125 rounds half up
        (D("99.99"), D("21.00"), D("120.99")),  # 20.9979
    ]
    assert (split.total_excl_vat, split.total_vat, split.total_incl_vat) == (
        D("1162.49"),
        D("244.13"),
        D("1406.62"),
    )
    assert (split.organisation_share, split.driver_share) == (D("0.00"), D("1406.62"))
    assert approvals_needed(payment_model=EMPLOYEE_PROGRAMME, split=split) == (False, True)


def test_direct_model_organisation_pays_the_standard_package_up_to_its_price():
    split = split_quote(lines=QUOTE, payment_model=DIRECT, standard_price=D("1150.00"), budget=None)
    assert [(x.organisation_part, x.driver_part) for x in split.lines] == [
        (D("1150.00"), D("60.00")),
        (D("0.00"), D("75.63")),
        (D("0.00"), D("120.99")),
    ]
    assert (split.organisation_share, split.driver_share) == (D("1150.00"), D("256.62"))
    assert approvals_needed(payment_model=DIRECT, split=split) == (False, True)


def test_direct_model_with_only_a_standard_package_within_the_price_needs_no_approval():
    split = split_quote(
        lines=QUOTE[:1], payment_model=DIRECT, standard_price=D("1500"), budget=None
    )
    assert (split.organisation_share, split.driver_share) == (D("1210.00"), D("0.00"))
    assert approvals_needed(payment_model=DIRECT, split=split) == (False, False)


def test_budget_model_organisation_pays_standard_and_extras_up_to_the_budget():
    split = split_quote(lines=QUOTE, payment_model=BUDGET, standard_price=None, budget=D("1250"))
    assert [(x.organisation_part, x.driver_part) for x in split.lines] == [
        (D("1210.00"), D("0.00")),
        (D("40.00"), D("35.63")),
        (D("0.00"), D("120.99")),
    ]
    assert (split.organisation_share, split.driver_share) == (D("1250.00"), D("156.62"))


def test_customised_quoting_organisation_pays_all_but_the_drivers_own_extras_and_approves():
    split = split_quote(
        lines=QUOTE, payment_model=CUSTOMISED_QUOTING, standard_price=None, budget=None
    )
    assert (split.organisation_share, split.driver_share) == (D("1285.63"), D("120.99"))
    assert approvals_needed(payment_model=CUSTOMISED_QUOTING, split=split) == (True, True)
    alone = split_quote(
        lines=QUOTE[:2], payment_model=CUSTOMISED_QUOTING, standard_price=None, budget=None
    )
    assert approvals_needed(payment_model=CUSTOMISED_QUOTING, split=alone) == (True, False)


def test_a_model_without_its_figure_or_an_unknown_model_is_refused():
    with pytest.raises(ValueError, match="standard package price"):
        split_quote(lines=QUOTE, payment_model=DIRECT, standard_price=None, budget=None)
    with pytest.raises(ValueError, match="budget"):
        split_quote(lines=QUOTE, payment_model=BUDGET, standard_price=None, budget=None)
    with pytest.raises(ValueError, match="Unknown"):
        split_quote(lines=QUOTE, payment_model="free_lunch", standard_price=None, budget=None)
    with pytest.raises(ValueError, match="Unknown quote line kind"):
        split_quote(
            lines=[line("gift", "1", "1")],
            payment_model=EMPLOYEE_PROGRAMME,
            standard_price=None,
            budget=None,
        )


# --- properties --------------------------------------------------------------------------

money = st.decimals(min_value=D("0.00"), max_value=D("100000.00"), places=2)
quantities = st.decimals(min_value=D("0.01"), max_value=D("1000.00"), places=2)
vat_rates = st.decimals(min_value=D("0.00"), max_value=D("100.00"), places=2)
lines = st.lists(
    st.builds(
        LineInput,
        kind=st.sampled_from([STANDARD_PACKAGE, EXTRA, DRIVER_EXTRA]),
        description=st.just("line"),
        quantity=quantities,
        unit_price=money,
        vat_rate=vat_rates,
    ),
    min_size=1,
    max_size=50,
)
caps = st.decimals(min_value=D("0.01"), max_value=D("1000000.00"), places=2)


def _total(split: Split, *kinds: str) -> Decimal:
    return sum((x.total_incl_vat for x in split.lines if x.kind in kinds), D("0.00"))


def _check_common(split: Split) -> None:
    assert split.organisation_share >= 0 and split.driver_share >= 0
    assert split.organisation_share + split.driver_share == split.total_incl_vat
    assert split.total_excl_vat + split.total_vat == split.total_incl_vat
    for x in split.lines:
        assert x.organisation_part >= 0 and x.driver_part >= 0
        assert x.organisation_part + x.driver_part == x.total_incl_vat
        assert x.total_excl_vat + x.vat == x.total_incl_vat
        if x.kind == DRIVER_EXTRA:
            assert x.organisation_part == 0
    amounts = [
        split.total_excl_vat,
        split.total_vat,
        split.total_incl_vat,
        split.organisation_share,
        split.driver_share,
    ]
    for x in split.lines:
        amounts += [x.total_excl_vat, x.vat, x.total_incl_vat, x.organisation_part, x.driver_part]
    for amount in amounts:
        assert amount.as_tuple().exponent == -2, amount


@given(lines=lines, standard_price=caps)
def test_direct_property(lines, standard_price):
    split = split_quote(
        lines=lines, payment_model=DIRECT, standard_price=standard_price, budget=None
    )
    _check_common(split)
    assert split.organisation_share <= standard_price
    assert split.organisation_share == min(standard_price, _total(split, STANDARD_PACKAGE))
    for x in split.lines:
        if x.kind != STANDARD_PACKAGE:
            assert x.organisation_part == 0  # extras are the driver's
    assert approvals_needed(payment_model=DIRECT, split=split) == (False, split.driver_share > 0)


@given(lines=lines)
def test_employee_programme_property(lines):
    split = split_quote(
        lines=lines, payment_model=EMPLOYEE_PROGRAMME, standard_price=None, budget=None
    )
    _check_common(split)
    assert split.organisation_share == 0 and split.driver_share == split.total_incl_vat


@given(lines=lines, budget=caps)
def test_budget_property(lines, budget):
    split = split_quote(lines=lines, payment_model=BUDGET, standard_price=None, budget=budget)
    _check_common(split)
    assert split.organisation_share <= budget
    assert split.organisation_share == min(budget, _total(split, STANDARD_PACKAGE, EXTRA))
    assert approvals_needed(payment_model=BUDGET, split=split) == (False, split.driver_share > 0)


@given(lines=lines)
def test_customised_quoting_property(lines):
    split = split_quote(
        lines=lines, payment_model=CUSTOMISED_QUOTING, standard_price=None, budget=None
    )
    _check_common(split)
    assert split.driver_share == _total(split, DRIVER_EXTRA)
    for x in split.lines:
        assert x.driver_part == (x.total_incl_vat if x.kind == DRIVER_EXTRA else 0)
    assert approvals_needed(payment_model=CUSTOMISED_QUOTING, split=split)[0] is True
