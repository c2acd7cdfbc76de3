"""Fingerprints: equal values hash equally, any field change hashes differently."""

import copy
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from hypothesis import assume, given, settings
from hypothesis import strategies as st
from kudos_sync.domain.fingerprint import canonical, canonical_decimal, canonical_json, fingerprint

decimals = st.decimals(allow_nan=False, allow_infinity=False, places=4, min_value=-(10**6), max_value=10**6)
scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(10**9), max_value=10**9),
    st.text(max_size=12),
    decimals,
    st.dates(),
    st.datetimes(timezones=st.just(UTC)),
)
values = st.recursive(
    scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4).map(tuple),
        st.dictionaries(st.text(max_size=6), inner, max_size=4),
    ),
    max_leaves=12,
)
records = st.dictionaries(st.text(min_size=1, max_size=8), values, min_size=1, max_size=6)


@settings(max_examples=60)
@given(records)
def test_given_equal_values_when_fingerprinted_then_fingerprints_are_equal(record: dict[str, Any]) -> None:
    reordered = dict(reversed(list(copy.deepcopy(record).items())))
    assert fingerprint(record) == fingerprint(reordered)
    assert len(fingerprint(record)) == 32


@settings(max_examples=60)
@given(records, st.data())
def test_given_any_field_changed_when_fingerprinted_then_fingerprint_differs(
    record: dict[str, Any], data: st.DataObject
) -> None:
    key = data.draw(st.sampled_from(sorted(record)))
    replacement = data.draw(values)
    assume(canonical(replacement) != canonical(record[key]))
    changed = {**record, key: replacement}
    assert fingerprint(changed) != fingerprint(record)


@settings(max_examples=60)
@given(records, st.text(min_size=1, max_size=8), values)
def test_given_a_field_added_when_fingerprinted_then_fingerprint_differs(
    record: dict[str, Any], key: str, value: Any
) -> None:
    assume(key not in record)
    assert fingerprint({**record, key: value}) != fingerprint(record)


@given(decimals)
def test_given_decimal_with_trailing_zeros_when_fingerprinted_then_same_as_normalised(value: Decimal) -> None:
    padded = value.quantize(Decimal("0.000001"))
    assert fingerprint({"price": value}) == fingerprint({"price": padded})
    assert canonical_decimal(padded) == canonical_decimal(value)


def test_given_decimals_when_made_canonical_then_plain_strings_without_exponent_or_trailing_zeros() -> None:
    assert canonical_decimal(Decimal("10.50")) == "10.5"
    assert canonical_decimal(Decimal("1E+2")) == "100"
    assert canonical_decimal(Decimal("-0.00")) == "0"
    assert canonical_decimal(Decimal("0.000100")) == "0.0001"


def test_given_a_decimal_and_the_same_text_when_fingerprinted_then_they_differ() -> None:
    assert fingerprint({"v": Decimal("1")}) != fingerprint({"v": "1"})
    assert fingerprint({"v": date(2026, 1, 1)}) != fingerprint({"v": "2026-01-01"})


def test_given_dates_when_made_canonical_then_iso() -> None:
    assert canonical_json({"b": date(2026, 11, 1), "a": datetime(2026, 11, 1, 9, tzinfo=UTC)}) == (
        '{"a":{"$t":"2026-11-01T09:00:00+00:00"},"b":{"$date":"2026-11-01"}}'
    )
