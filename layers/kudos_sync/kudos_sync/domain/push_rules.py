"""Small rules of the push mapping: names, url keys, category paths, SKUs, ownership, images."""

import re
import unicodedata
from decimal import ROUND_FLOOR, Decimal
from functools import lru_cache

from kudos_sync.config import Ownership, TenantConfig
from kudos_sync.domain.catalogue import ImageMeta
from kudos_sync.domain.desired import MAX_SKU_LENGTH, Problem

MAX_IMAGE_BYTES = 5 * 1024 * 1024

# Magento accepts most printable characters in a SKU, but `/`, `\`, `?`, `#` and `%` break the REST
# routes that carry the SKU in the path (/V1/products/{sku}/media, ...), and control characters or
# surrounding blanks are rejected or silently trimmed.
_SKU_PATTERN = re.compile(r"^[^\s/\\?#%\x00-\x1f\x7f](?:[^/\\?#%\x00-\x1f\x7f]*[^\s/\\?#%\x00-\x1f\x7f])?$")
_SLUG_STRIP = re.compile(r"[^a-z0-9]+")


@lru_cache(maxsize=65536)  # descriptions, colours and sizes repeat across thousands of SKUs
def slugify(text: str) -> str:
    """Lower-case ASCII words joined by hyphens ("Crème Tee / XL" -> "creme-tee-xl")."""
    if not text.isascii():
        text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    return _SLUG_STRIP.sub("-", text.lower()).strip("-")


def url_key_for(description: str, code: str, *details: str | None) -> str:
    """slug(description[-detail...])-slug(code): unique because the code is. The slug of a joined
    text equals the join of the parts' slugs, so the cached per-part slugs are used."""
    parts = [slugify(description), *(slugify(d) for d in details if d), slugify(code)]
    return "-".join(part for part in parts if part)


def url_key_from_slug(description_slug: str, code: str, colour: str | None, size: str | None) -> str:
    """url_key_for(description, code, colour, size) with slugify(description) computed once per style."""
    parts = [
        description_slug,
        slugify(colour) if colour else "",
        slugify(size) if size else "",
        slugify(code),
    ]
    return "-".join(part for part in parts if part)


def normalise_category_path(path: str | None) -> str | None:
    """Trim every segment and drop empty ones; None when nothing is left."""
    if path is None:
        return None
    segments = [segment.strip() for segment in path.split("/")]
    kept = [segment for segment in segments if segment]
    return "/".join(kept) if kept else None


def category_prefixes(path: str) -> list[str]:
    """ "A/B/C" -> ["A", "A/B", "A/B/C"] (parents first)."""
    segments = path.split("/")
    return ["/".join(segments[: i + 1]) for i in range(len(segments))]


def is_valid_sku(sku: str) -> bool:
    return 0 < len(sku) <= MAX_SKU_LENGTH and _SKU_PATTERN.match(sku) is not None


def child_name(description: str, colour: str | None, size: str | None) -> str:
    """ "<description> - <colour> / <size>" (either part may be absent)."""
    detail = " / ".join(part for part in (colour, size) if part)
    return f"{description} - {detail}" if detail else description


def stock_key(sku: str, source_code: str) -> str:
    return f"{sku}@{source_code}"


def whole_units(quantity: Decimal) -> Decimal:
    """Round down to whole units (a half-counted item is not sellable)."""
    return quantity.to_integral_value(rounding=ROUND_FLOOR)


def owned_on_create(config: TenantConfig, name: str) -> bool:
    """Sent when the product is created (always-owned fields are sent then too)."""
    return config.owns(name) in (Ownership.ALWAYS, Ownership.ON_CREATE)


def owned_always(config: TenantConfig, name: str) -> bool:
    return config.owns(name) is Ownership.ALWAYS


def always_owned(config: TenantConfig) -> frozenset[str]:
    """The fields CI Office owns every run (computed once per run, not per product)."""
    return frozenset(name for name in config.field_ownership if config.owns(name) is Ownership.ALWAYS)


def image_problem(sku: str, image: ImageMeta, reason: str) -> Problem:
    return Problem(
        "images",
        sku,
        f"image {image.image_id} (sequence {image.sequence})",
        f"sku {sku}: image {image.image_id} of style {image.style_code}: {reason}",
    )


def sniff_image(data: bytes) -> tuple[str, str] | None:
    """(content type, extension) of JPEG, PNG or GIF bytes; None for anything else."""
    if data.startswith(b"\xff\xd8\xff"):
        return "image/jpeg", "jpg"
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png", "png"
    if data.startswith((b"GIF87a", b"GIF89a")):
        return "image/gif", "gif"
    return None
