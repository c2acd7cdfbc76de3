"""The fingerprints the push compares with its bindings: a short hash of exactly what a write carries,
so equal desired state gives an equal fingerprint in every process and only a change gives another.

Each is built from its own canonical text rather than `fingerprint.fingerprint()` (the push computes
tens of thousands per run); the rules are the same: Decimal without exponent or trailing zeros, dates
in ISO form, fields joined by a separator no value holds.
"""

from collections.abc import Iterable
from decimal import Decimal
from functools import lru_cache

from kudos_sync.domain.catalogue import ImageMeta
from kudos_sync.domain.desired import STATUS_ENABLED, DesiredProduct, DesiredSpecial, DesiredStock
from kudos_sync.domain.fingerprint import canonical_decimal, fingerprint_text


def image_set_fingerprint(images: Iterable[ImageMeta]) -> str:
    """The image set's fingerprint: the versions in sequence order."""
    return fingerprint_text("|".join(image.version for image in images))


def product_fingerprint(
    product: DesiredProduct, always: frozenset[str], child_skus: tuple[str, ...] | None = None
) -> str:
    """Fingerprint of the always-owned fields only (status, visibility, type, category, colour/size,
    parent/children links, and name/description/url_key only if the tenant set them to `always`), so
    a web-team edit or a CI change of an on_create field never causes a write. `child_skus` overrides
    the desired children with the ones actually linkable this run. `always` is always_owned(config)."""
    children = product.child_skus if child_skus is None else child_skus
    parts = [
        "v2",
        product.type_id,
        str(product.visibility),
        str(STATUS_ENABLED),
        product.colour or "",
        product.size or "",
        product.parent_sku or "",
        ",".join(children),
    ]
    if "categories" in always:
        parts.append(product.category_path or "")
    if "name" in always:
        parts.append(product.name)
    if "description" in always:
        parts.append(product.description or "")
    if "url_key" in always:
        parts.append(product.url_key)
    return fingerprint_text("\x1f".join(parts))


# Prices and stock quantities repeat across thousands of SKUs: their fingerprints are memoised
# (Decimal("10") and Decimal("10.00") are equal keys, and have the same canonical form too).
@lru_cache(maxsize=65536)
def price_fingerprint(price: Decimal, store_ids: tuple[int, ...]) -> str:
    return fingerprint_text(f"{canonical_decimal(price)}|{','.join(map(str, store_ids))}")


def special_fingerprint(special: DesiredSpecial, store_ids: tuple[int, ...]) -> str:
    return fingerprint_text(
        f"{canonical_decimal(special.price)}|{special.price_from.isoformat() if special.price_from else ''}|"
        f"{special.price_to.isoformat() if special.price_to else ''}|{','.join(map(str, store_ids))}"
    )


def stock_fingerprint(stock: DesiredStock) -> str:
    return _stock_fingerprint(stock.quantity, stock.in_stock)


@lru_cache(maxsize=65536)
def _stock_fingerprint(quantity: Decimal, in_stock: bool) -> str:
    return fingerprint_text(f"{canonical_decimal(quantity)}|{int(in_stock)}")
