"""Money as Decimal: parsed from Magento's JSON numbers without float arithmetic, quantised to cents once.

Magento's REST API sends amounts as JSON numbers (so `json` hands us floats) and, through some
extensions and proxies, as strings. A float is converted through `str()` (its shortest repr, which is
what Magento wrote) and never multiplied or added as a float. Amounts stay exact until they leave the
core in a `LedgerDocument`, where `to_cents` rounds them half-up once.
"""

from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

CENT = Decimal("0.01")
ZERO = Decimal("0")


class MoneyError(ValueError):
    """A value that is not a finite decimal number."""


def parse_decimal(value: object) -> Decimal:
    """A finite Decimal from a JSON number or numeric string; never through float arithmetic.

    Accepts int, float, Decimal and str (surrounding spaces allowed). Rejects bool, None, NaN,
    infinities and anything else with MoneyError.
    """
    if isinstance(value, bool) or value is None:
        raise MoneyError("expected a number")
    if isinstance(value, Decimal):
        result = value
    elif isinstance(value, int):
        result = Decimal(value)
    elif isinstance(value, float):
        # repr() of a float is the shortest string that round-trips: the digits Magento sent.
        result = Decimal(str(value))
    elif isinstance(value, str):
        text = value.strip()
        if not text or len(text) > 40:
            raise MoneyError("expected a numeric string")
        try:
            result = Decimal(text)
        except InvalidOperation:
            raise MoneyError("expected a numeric string") from None
    else:
        raise MoneyError("expected a number")
    if not result.is_finite():
        raise MoneyError("expected a finite number")
    return result


def to_cents(amount: Decimal) -> Decimal:
    """Round to cents, half away from zero (ROUND_HALF_UP), as tills and Magento's totals do."""
    return amount.quantize(CENT, rounding=ROUND_HALF_UP)


def within_one_cent(a: Decimal, b: Decimal) -> bool:
    """True when two amounts differ by at most one cent (rounding noise between row and total)."""
    return abs(a - b) <= CENT


def format_money(amount: Decimal) -> str:
    """`12.5` -> `"12.50"`: for messages, after rounding to cents."""
    return f"{to_cents(amount):.2f}"
