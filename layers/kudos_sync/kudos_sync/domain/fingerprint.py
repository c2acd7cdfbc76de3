"""The canonical pieces the push's fingerprints are built from (domain.push_fingerprints).

A fingerprint is a short hash of canonical text: Decimal written without exponent or trailing zeros
(so 10, 10.0 and 10.00 are the same price), dates in ISO form, fields joined by a separator no value
holds. Equal values give equal fingerprints in every process and Python version.
"""

import hashlib
from decimal import Decimal

DIGEST_BYTES = 16


def canonical_decimal(value: Decimal) -> str:
    """A Decimal as a plain string with no exponent and no trailing zeros ("10.50" -> "10.5")."""
    if value.is_nan() or value.is_infinite():
        return str(value)
    if value == 0:
        return "0"  # also folds -0 and 0E+3
    return format(value.normalize(), "f")


def fingerprint_text(text: str) -> str:
    """A 32-hex-character blake2b hash of canonical text."""
    return hashlib.blake2b(text.encode("utf-8"), digest_size=DIGEST_BYTES).hexdigest()
