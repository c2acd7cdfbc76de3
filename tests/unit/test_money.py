"""Money: Decimal from Magento's JSON numbers, rounded to cents once, compared within a cent."""

import json
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st
from kudos_sync.domain.money import CENT, MoneyError, format_money, parse_decimal, to_cents, within_one_cent

cents = st.integers(min_value=-(10**12), max_value=10**12).map(lambda c: Decimal(c) / 100)
amounts = st.decimals(min_value=-(10**9), max_value=10**9, places=4, allow_nan=False, allow_infinity=False)


@given(cents)
def test_given_cents_sent_as_a_json_number_then_parsed_to_the_same_decimal(amount: Decimal) -> None:
    received = json.loads(json.dumps(float(amount)))  # what the REST client hands the core
    assert parse_decimal(received) == amount


@given(amounts)
def test_given_an_amount_sent_as_a_string_then_parsed_exactly(amount: Decimal) -> None:
    assert parse_decimal(str(amount)) == amount
    assert parse_decimal(f"  {amount} ") == amount


def test_given_a_float_whose_binary_value_is_not_exact_then_its_written_digits_are_kept() -> None:
    assert parse_decimal(0.1) == Decimal("0.1")
    assert parse_decimal(19.99) + parse_decimal(0.01) == Decimal("20.00")
    assert parse_decimal(1e-7) == Decimal("1E-7")


@pytest.mark.parametrize(
    "bad",
    [None, True, False, "", "abc", "1,50", "NaN", "Infinity", float("nan"), float("inf"), [], {}, "9" * 41],
)
def test_given_something_that_is_not_a_finite_number_then_money_error(bad: object) -> None:
    with pytest.raises(MoneyError):
        parse_decimal(bad)


@given(amounts)
def test_given_any_amount_then_rounding_is_idempotent_and_within_half_a_cent(amount: Decimal) -> None:
    rounded = to_cents(amount)
    assert to_cents(rounded) == rounded
    assert rounded.as_tuple().exponent == -2
    assert abs(rounded - amount) <= CENT / 2


@pytest.mark.parametrize(
    ("amount", "expected"),
    [("0.005", "0.01"), ("0.0049", "0.00"), ("2.675", "2.68"), ("-0.005", "-0.01"), ("10", "10.00")],
)
def test_given_a_half_cent_then_rounded_half_up_away_from_zero(amount: str, expected: str) -> None:
    assert to_cents(Decimal(amount)) == Decimal(expected)


@given(cents, st.integers(min_value=-1, max_value=1))
def test_given_amounts_one_cent_apart_then_within_one_cent(amount: Decimal, step: int) -> None:
    assert within_one_cent(amount, amount + step * CENT)
    assert within_one_cent(amount + step * CENT, amount)


@given(cents, st.integers(min_value=2, max_value=10**6))
def test_given_amounts_more_than_a_cent_apart_then_not_within_one_cent(amount: Decimal, steps: int) -> None:
    assert not within_one_cent(amount, amount + steps * CENT)
    assert not within_one_cent(amount - steps * CENT, amount)


@given(st.lists(cents, max_size=50))
def test_given_cent_amounts_then_sum_of_parsed_floats_is_exact(values: list[Decimal]) -> None:
    parsed = [parse_decimal(json.loads(json.dumps(float(v)))) for v in values]
    assert sum(parsed, Decimal("0")) == sum(values, Decimal("0"))


def test_given_an_amount_then_formatted_with_two_places() -> None:
    assert format_money(Decimal("12.5")) == "12.50"
    assert format_money(Decimal("1234.005")) == "1234.01"
