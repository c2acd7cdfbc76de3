"""Stable fingerprints of what was sent, so a run sends only what changed (ARCHITECTURE section 2).

A fingerprint is a short hash of canonical JSON: keys sorted, no whitespace, Decimal written without
exponent or trailing zeros (so 10, 10.0 and 10.00 are the same price), dates and datetimes in ISO
form, tuples/lists as arrays, sets sorted, enums by value, pydantic models by their fields. Equal
values give equal fingerprints in every process and Python version; any field change gives another.
"""

import hashlib
import json
from collections.abc import Mapping
from datetime import date, datetime
from decimal import Decimal
from enum import Enum
from typing import Any

from pydantic import BaseModel

DIGEST_BYTES = 16


def canonical_decimal(value: Decimal) -> str:
    """A Decimal as a plain string with no exponent and no trailing zeros ("10.50" -> "10.5")."""
    if value.is_nan() or value.is_infinite():
        return str(value)
    if value == 0:
        return "0"  # also folds -0 and 0E+3
    text = format(value.normalize(), "f")
    return text


def canonical(value: Any) -> Any:
    """The JSON-ready canonical form of a value (see the module docstring)."""
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, Decimal):
        return {"$d": canonical_decimal(value)}
    if isinstance(value, float):
        # Floats are never money here; repr is the shortest round-tripping form.
        return {"$f": repr(value)}
    if isinstance(value, Enum):
        return canonical(value.value)
    if isinstance(value, datetime):
        return {"$t": value.isoformat()}
    if isinstance(value, date):
        return {"$date": value.isoformat()}
    if isinstance(value, BaseModel):
        return canonical(dict(value))
    if isinstance(value, Mapping):
        return {str(k): canonical(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [canonical(v) for v in value]
    if isinstance(value, set | frozenset):
        items = [canonical(v) for v in value]
        return sorted(items, key=lambda item: json.dumps(item, sort_keys=True))
    if isinstance(value, bytes):
        return {"$b": hashlib.sha256(value).hexdigest()}
    raise TypeError(f"cannot fingerprint a value of type {type(value).__name__}")


def canonical_json(value: Any) -> str:
    """Canonical JSON text of a value: sorted keys, compact, UTF-8 kept."""
    return json.dumps(canonical(value), sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def fingerprint(value: Any) -> str:
    """A 32-hex-character blake2b hash of the value's canonical JSON."""
    return hashlib.blake2b(canonical_json(value).encode("utf-8"), digest_size=DIGEST_BYTES).hexdigest()


def fingerprint_text(text: str) -> str:
    """Hash of an already canonical string (hot paths that build their own canonical text)."""
    return hashlib.blake2b(text.encode("utf-8"), digest_size=DIGEST_BYTES).hexdigest()
