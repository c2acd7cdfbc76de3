"""The canonical pieces of the push's fingerprints (the fingerprints themselves: test_push_fingerprints)."""

from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st
from kudos_sync.domain.fingerprint import canonical_decimal, fingerprint_text

decimals = st.decimals(allow_nan=False, allow_infinity=False, places=4, min_value=-(10**6), max_value=10**6)


@given(decimals)
def test_given_decimal_with_trailing_zeros_when_made_canonical_then_same_as_normalised(
    value: Decimal,
) -> None:
    assert canonical_decimal(value.quantize(Decimal("0.000001"))) == canonical_decimal(value)
    assert Decimal(canonical_decimal(value)) == value


def test_given_decimals_when_made_canonical_then_plain_strings_without_exponent_or_trailing_zeros() -> None:
    assert canonical_decimal(Decimal("10.50")) == "10.5"
    assert canonical_decimal(Decimal("1E+2")) == "100"
    assert canonical_decimal(Decimal("-0.00")) == "0"
    assert canonical_decimal(Decimal("0.000100")) == "0.0001"


@given(st.text(), st.text())
def test_given_texts_then_equal_texts_hash_equally_and_others_differently(text: str, other: str) -> None:
    assert fingerprint_text(text) == fingerprint_text(str(text))
    assert len(fingerprint_text(text)) == 32
    assert (fingerprint_text(text) == fingerprint_text(other)) == (text == other)


def test_a_fingerprint_is_pinned_so_a_deployed_tenant_stays_in_step() -> None:
    # Changing the hash or the canonical text would make every binding look changed: a full resend.
    assert fingerprint_text("49.9|0") == fingerprint_text(f"{canonical_decimal(Decimal('49.90'))}|0")
    assert fingerprint_text("") == "cae66941d9efbd404e4d88758ea67670"
