"""Value conventions of Magento's REST output: UTC timestamps without zone, money as JSON numbers."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

CENT = Decimal("0.01")
TIMESTAMP_FORMAT = "%Y-%m-%d %H:%M:%S"


def now_text() -> str:
    """Current UTC time the way Magento stores it: ``YYYY-MM-DD HH:MM:SS``."""
    return datetime.now(UTC).strftime(TIMESTAMP_FORMAT)


def timestamp_text(moment: datetime | str | None) -> str:
    if moment is None:
        return now_text()
    if isinstance(moment, str):
        return moment
    if moment.tzinfo is not None:
        moment = moment.astimezone(UTC)
    return moment.strftime(TIMESTAMP_FORMAT)


def money(value: Any) -> Decimal:
    """Round to cents, half up, as Magento's price currency does."""
    return Decimal(str(value)).quantize(CENT, rounding=ROUND_HALF_UP)


def to_decimal(value: Any) -> Decimal | None:
    """A numeric input (number or numeric string) as Decimal, else None."""
    if value is None or isinstance(value, bool):
        return None
    try:
        result = Decimal(str(value).strip())
    except (InvalidOperation, ValueError):
        return None
    if not result.is_finite():
        return None
    return result


def json_number(value: Decimal) -> int | float:
    """Decimal to a JSON number: integral values as ints (Magento prints ``45``), others as floats."""
    if value == value.to_integral_value():
        return int(value)
    return float(value)


def decimal_text(value: Decimal, places: int = 6) -> str:
    """An EAV decimal column value as MySQL returns it (``decimal(20,6)`` -> ``"19.950000"``)."""
    return f"{value:.{places}f}"


def _default(value: Any) -> Any:
    if isinstance(value, Decimal):
        return json_number(value)
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")


def dumps(value: Any) -> bytes:
    return json.dumps(value, default=_default, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def drop_nulls(value: Any) -> Any:
    """Magento omits null values of non-required fields; the sandbox simply never sends nulls unless a
    Magento response is known to carry them (payment ``account_status`` and ``cc_last4``)."""
    if isinstance(value, dict):
        return {k: drop_nulls(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [drop_nulls(v) for v in value]
    return value


def to_int(value: Any, default: int | None = None) -> int | None:
    if value is None or value == "":
        return default
    if isinstance(value, bool):
        return int(value)
    try:
        return int(Decimal(str(value).strip()))
    except (InvalidOperation, ValueError, OverflowError):  # "Inf" is no id either
        return default


def to_bool(value: Any, default: bool = False) -> bool:
    if value is None:
        return default
    if isinstance(value, str):
        return value.strip().lower() not in ("", "0", "false")
    return bool(value)


def eav_text(value: Any) -> Any:
    """An attribute value as Magento's EAV output prints it: strings, decimals with 6 places."""
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, Decimal):
        return decimal_text(value)
    if isinstance(value, list):
        return [eav_text(v) for v in value]
    if isinstance(value, int | float):
        return str(value)
    return value
