"""CI Office catalogue -> the Magento shape each item should have, plus the problems found.

Pure functions over plain data. The output uses slotted dataclasses rather than pydantic models: the
mapping runs over every SKU on every run (tens of thousands), so it must not validate in a hot loop.

Rules (ARCHITECTURE section 2):
- A style with colours or sizes is a configurable parent (sku = style code, visibility 4) with one
  simple child per variant (visibility 1); a style whose single variant has neither colour nor size
  is a plain simple product (sku = the variant's sku, visibility 4).
- Every product gets a unique url_key built from its description and its code, so two "Crew Tee"
  styles never collide: slug(description)-slug(style code) for a configurable parent,
  slug(description)-slug(sku) for a plain simple (so a style that later gains sizes can become a
  parent without colliding with its old simple), slug(description-colour-size)-slug(sku) for a child.
- A bad record is parked as a Problem naming the record and the field; it never blocks the others,
  and what it covers is *held*: left exactly as it is in Magento (not disabled, not re-priced).
"""

import re
import unicodedata
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from decimal import ROUND_FLOOR, Decimal
from functools import lru_cache
from typing import Literal

from kudos_sync.config import Ownership, TenantConfig
from kudos_sync.domain.bulk import bulk_build
from kudos_sync.domain.catalogue import ImageMeta, StockOnHand, Style
from kudos_sync.domain.codes import code_key
from kudos_sync.domain.fingerprint import canonical_decimal, fingerprint_text
from kudos_sync.domain.ids import Sku, SourceCode, StyleCode

VISIBILITY_NOT_VISIBLE = 1
VISIBILITY_CATALOG_SEARCH = 4
STATUS_ENABLED = 1
STATUS_DISABLED = 2
MAX_NAME_LENGTH = 255
MAX_SKU_LENGTH = 64
MAX_IMAGE_BYTES = 5 * 1024 * 1024

# Magento accepts most printable characters in a SKU, but `/`, `\`, `?`, `#` and `%` break the REST
# routes that carry the SKU in the path (/V1/products/{sku}/media, ...), and control characters or
# surrounding blanks are rejected or silently trimmed.
_SKU_PATTERN = re.compile(r"^[^\s/\\?#%\x00-\x1f\x7f](?:[^/\\?#%\x00-\x1f\x7f]*[^\s/\\?#%\x00-\x1f\x7f])?$")
_SLUG_STRIP = re.compile(r"[^a-z0-9]+")

ProductType = Literal["simple", "configurable"]


@dataclass(frozen=True, slots=True)
class Problem:
    """Why a record cannot be synced as it stands: parked under (stream, key), naming the field."""

    stream: str  # products | prices | special_prices | stock | images
    key: str  # the record: a style code, a sku, or "<sku>@<source>"
    field: str
    reason: str


@dataclass(slots=True)  # not frozen: built by the ten thousand, and frozen __init__ is slow
class DesiredProduct:
    """A product as it should be in Magento (ids of categories and options are resolved later)."""

    sku: Sku
    style_code: StyleCode
    type_id: ProductType
    visibility: int
    name: str
    description: str | None
    url_key: str
    category_path: str | None  # only on products that carry the category (parents and simples)
    colour: str | None
    size: str | None
    parent_sku: Sku | None
    child_skus: tuple[Sku, ...]
    price: Decimal | None  # sellable products only

    @property
    def sellable(self) -> bool:
        return self.type_id == "simple"


@dataclass(frozen=True, slots=True)
class DesiredSpecial:
    price: Decimal
    price_from: date | None
    price_to: date | None


@dataclass(slots=True)
class DesiredStock:
    sku: Sku
    source_code: SourceCode
    quantity: Decimal
    in_stock: bool


@dataclass(slots=True)
class DesiredCatalogue:
    """Everything the push wants Magento to hold, keyed the way bindings are keyed."""

    products: dict[str, DesiredProduct] = field(default_factory=dict)
    prices: dict[str, Decimal] = field(default_factory=dict)
    specials: dict[str, DesiredSpecial] = field(default_factory=dict)
    stock: dict[str, DesiredStock] = field(default_factory=dict)  # "<sku>@<source>"
    images: dict[str, tuple[ImageMeta, ...]] = field(default_factory=dict)  # image carrier sku
    category_paths: set[str] = field(default_factory=set)
    option_labels: dict[str, set[str]] = field(default_factory=dict)  # attribute code -> labels
    problems: list[Problem] = field(default_factory=list)
    # Keys left alone this run because their record is parked (not disabled, not deleted, not re-sent).
    held_products: set[str] = field(default_factory=set)
    held_specials: set[str] = field(default_factory=set)


# ---------------------------------------------------------------- small rules


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


def _url_key_from_slug(description_slug: str, code: str, colour: str | None, size: str | None) -> str:
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


def image_set_fingerprint(images: Iterable[ImageMeta]) -> str:
    """The image set's fingerprint: the versions in sequence order."""
    return fingerprint_text("|".join(image.version for image in images))


def owned_on_create(config: TenantConfig, name: str) -> bool:
    """Sent when the product is created (always-owned fields are sent then too)."""
    return config.owns(name) in (Ownership.ALWAYS, Ownership.ON_CREATE)


def owned_always(config: TenantConfig, name: str) -> bool:
    return config.owns(name) is Ownership.ALWAYS


def always_owned(config: TenantConfig) -> frozenset[str]:
    """The fields CI Office owns every run (computed once per run, not per product)."""
    return frozenset(name for name in config.field_ownership if config.owns(name) is Ownership.ALWAYS)


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


# ---------------------------------------------------------------- the mapping


def is_configurable(style: Style) -> bool:
    """A style with colours or sizes (or several SKUs) is a configurable parent with children."""
    return len(style.variants) > 1 or any(
        (v.colour and v.colour.strip()) or (v.size and v.size.strip()) for v in style.variants
    )


def _check_style(style: Style) -> list[Problem]:
    """Style-level problems: any of these holds the whole style."""
    problems: list[Problem] = []
    code = style.code

    def add(field_name: str, reason: str) -> None:
        problems.append(Problem("products", code, field_name, f"style {code}: {reason}"))

    if not is_valid_sku(code):
        add("code", f"style code {code!r} has characters or a length Magento rejects in a SKU")
    description = style.description.strip()
    if not description:
        add("description", "description is empty")
    elif len(description) > MAX_NAME_LENGTH:
        add("description", f"description is {len(description)} characters, Magento allows {MAX_NAME_LENGTH}")
    if style.retail_price is None:
        if style.sale_price is not None:
            add("retail_price", f"sale price {style.sale_price} without a retail price")
        else:
            add("retail_price", "retail price is missing")
    elif style.retail_price < 0:
        add("retail_price", f"retail price {style.retail_price} is negative")
    if style.category_path is None or not style.category_path.strip():
        add("category_path", "internet category is missing")
    elif normalise_category_path(style.category_path) is None:
        add("category_path", f"internet category {style.category_path!r} is empty after trimming")
    if not style.variants:
        add("variants", "style has no SKUs")
    return problems


def _check_special(style: Style, today: date) -> tuple[DesiredSpecial | None, Problem | None]:
    """The style's special price, None when there is no sale or it has ended."""
    if style.sale_price is None:
        return None, None
    code = style.code
    if style.sale_price < 0:
        return None, Problem(
            "special_prices", code, "sale_price", f"style {code}: sale price {style.sale_price} is negative"
        )
    if style.sale_from and style.sale_to and style.sale_to < style.sale_from:
        return None, Problem(
            "special_prices",
            code,
            "sale_to",
            f"style {code}: sale ends {style.sale_to.isoformat()} before it starts "
            f"{style.sale_from.isoformat()}",
        )
    if style.sale_to is not None and style.sale_to < today:
        return None, None  # the sale has ended: any special price sent before is deleted
    return DesiredSpecial(style.sale_price, style.sale_from, style.sale_to), None


def map_catalogue(
    styles: Iterable[Style],
    stock: Iterable[StockOnHand],
    images: Iterable[ImageMeta],
    config: TenantConfig,
    today: date,
) -> DesiredCatalogue:
    """Map the Internet-Active catalogue to the desired Magento state and the problems found."""
    with bulk_build():  # the inputs are read from their iterables in here too
        return _map_catalogue(styles, stock, images, config, today)


def _map_catalogue(
    styles: Iterable[Style],
    stock: Iterable[StockOnHand],
    images: Iterable[ImageMeta],
    config: TenantConfig,
    today: date,
) -> DesiredCatalogue:
    desired = DesiredCatalogue()
    problems = desired.problems
    colour_attr = config.magento.colour_attribute
    size_attr = config.magento.size_attribute
    style_list = list(styles)

    # Cross-style checks first (set-based): duplicate SKUs and barcodes park every occurrence,
    # because nothing says which one is right. Lists are kept only for values seen more than once.
    # SKUs are compared by `code_key`: `TEE1` and `tee1 ` are one SKU to SQL Server and to Magento.
    seen_skus: dict[str, str] = {}  # code_key -> the first sku with it
    duplicate_skus: dict[str, str] = {}  # sku -> another sku equal to it under code_key (or itself)
    barcode_first: dict[str, str] = {}  # barcode -> its first sku, in the order first seen
    barcode_shared: dict[str, list[str]] = {}  # barcode -> every sku, for barcodes seen more than once
    for style in style_list:
        # The parent's sku (the style code) must not be a variant's.
        parent = (style.code,) if is_configurable(style) else ()
        for sku in (*parent, *(variant.sku for variant in style.variants)):
            key = code_key(sku)
            first = seen_skus.get(key)
            if first is None:
                seen_skus[key] = sku
            else:
                duplicate_skus[sku] = first
                duplicate_skus.setdefault(first, sku)
        for variant in style.variants:
            sku = variant.sku
            if variant.barcode:
                barcode = variant.barcode.strip()
                if barcode not in barcode_first:
                    barcode_first[barcode] = sku
                elif barcode in barcode_shared:
                    barcode_shared[barcode].append(sku)
                else:
                    barcode_shared[barcode] = [barcode_first[barcode], sku]
    del seen_skus
    duplicate_barcodes = {
        sku: barcode
        for barcode in barcode_first
        if barcode in barcode_shared
        for sku in barcode_shared[barcode]
    }

    url_keys: dict[str, str] = {}
    for style in style_list:
        style_problems = _check_style(style)
        if style_problems:
            problems.extend(style_problems)
            desired.held_products.add(style.code)
            desired.held_products.update(variant.sku for variant in style.variants)
            desired.held_specials.update(variant.sku for variant in style.variants)
            continue
        _map_style(style, config, today, desired, duplicate_skus, duplicate_barcodes, url_keys)

    _map_stock(stock, config, desired)
    _map_images(images, desired)
    for label_set in (colour_attr, size_attr):
        desired.option_labels.setdefault(label_set, set())
    return desired


def _map_style(
    style: Style,
    config: TenantConfig,
    today: date,
    desired: DesiredCatalogue,
    duplicate_skus: dict[str, str],
    duplicate_barcodes: dict[str, str],
    url_keys: dict[str, str],
) -> None:
    problems = desired.problems
    code = style.code
    description = style.description.strip()
    category = normalise_category_path(style.category_path)
    assert category is not None and style.retail_price is not None  # checked in _check_style
    uses_colour = any(v.colour and v.colour.strip() for v in style.variants)
    uses_size = any(v.size and v.size.strip() for v in style.variants)
    configurable = is_configurable(style)
    long_description = style.long_description.strip() if style.long_description else None

    special, special_problem = _check_special(style, today)
    if special_problem is not None:
        problems.append(special_problem)
        desired.held_specials.update(variant.sku for variant in style.variants)

    def claim_url_key(url_key: str, sku: str) -> bool:
        owner = url_keys.setdefault(url_key, sku)
        if owner != sku:
            problems.append(
                Problem(
                    "products", sku, "url_key", f"sku {sku}: url_key {url_key!r} is also made for {owner}"
                )
            )
            desired.held_products.add(sku)
            return False
        return True

    if not configurable:
        variant = style.variants[0]
        sku = variant.sku
        bad = _variant_problems(code, sku, variant.barcode, duplicate_skus, duplicate_barcodes)
        # slug(description)-slug(sku), not the style code: when sizes are added later the style
        # becomes a configurable parent with sku = style code and url_key slug(description)-slug(code),
        # which must not collide with this (then disabled) simple that keeps its url_key.
        url_key = url_key_for(description, sku)
        if bad:
            problems.extend(bad)
            desired.held_products.add(sku)
            desired.held_specials.add(sku)
            return
        if not claim_url_key(url_key, sku):
            return
        desired.products[sku] = DesiredProduct(
            sku=sku,
            style_code=code,
            type_id="simple",
            visibility=VISIBILITY_CATALOG_SEARCH,
            name=description,
            description=long_description,
            url_key=url_key,
            category_path=category,
            colour=None,
            size=None,
            parent_sku=None,
            child_skus=(),
            price=style.retail_price,
        )
        desired.category_paths.add(category)
        _add_prices(desired, sku, style.retail_price, special)
        return

    parent_sku = Sku(code)
    # Colour/size combinations that more than one SKU of the style has: all of those SKUs are parked.
    combination_first: dict[tuple[str, str], str] = {}
    duplicate_combination: set[str] = set()
    for variant in style.variants:
        combination = (
            variant.colour.strip() if variant.colour else "",
            variant.size.strip() if variant.size else "",
        )
        first = combination_first.get(combination)
        if first is None:
            combination_first[combination] = variant.sku
        else:
            duplicate_combination.update((first, variant.sku))

    retail_price = style.retail_price
    description_slug = slugify(description)
    children: list[DesiredProduct] = []
    ordered = sorted(style.variants, key=lambda v: (v.colour or "", v.size_order, v.size or "", v.sku))
    for variant in ordered:
        sku = variant.sku
        colour = (variant.colour.strip() if variant.colour else "") or None
        size = (variant.size.strip() if variant.size else "") or None
        bad = (
            _variant_problems(code, sku, variant.barcode, duplicate_skus, duplicate_barcodes)
            if sku in duplicate_skus or sku in duplicate_barcodes or not is_valid_sku(sku)
            else []
        )
        if uses_colour and not colour:
            bad.append(_problem(sku, "colour", f"sku {sku}: no colour, but style {code} has colours"))
        if uses_size and not size:
            bad.append(_problem(sku, "size", f"sku {sku}: no size, but style {code} has sizes"))
        if sku in duplicate_combination:
            bad.append(
                _problem(
                    sku,
                    "colour/size",
                    f"sku {sku}: colour {colour or '-'} / size {size or '-'} appears more than once "
                    f"in style {code}",
                )
            )
        name = child_name(description, colour, size)
        if len(name) > MAX_NAME_LENGTH:
            bad.append(
                _problem(sku, "name", f"sku {sku}: name is {len(name)} characters, Magento allows 255")
            )
        if bad:
            problems.extend(bad)
            desired.held_products.add(sku)
            desired.held_specials.add(sku)
            continue
        url_key = _url_key_from_slug(description_slug, sku, colour, size)
        if not claim_url_key(url_key, sku):
            continue
        children.append(
            DesiredProduct(
                sku=sku,
                style_code=code,
                type_id="simple",
                visibility=VISIBILITY_NOT_VISIBLE,
                name=name,
                description=long_description,
                url_key=url_key,
                category_path=None,
                colour=colour if uses_colour else None,
                size=size if uses_size else None,
                parent_sku=parent_sku,
                child_skus=(),
                price=retail_price,
            )
        )
    if not children:
        # Every SKU is parked: leave the parent as it is until one can be synced.
        desired.held_products.add(code)
        return
    parent_url_key = url_key_for(description, code)
    if not claim_url_key(parent_url_key, code):
        desired.held_products.update(child.sku for child in children)
        return
    products, prices, specials, held_specials = (
        desired.products,
        desired.prices,
        desired.specials,
        desired.held_specials,
    )
    option_labels = desired.option_labels
    colour_attribute, size_attribute = config.magento.colour_attribute, config.magento.size_attribute
    for child in children:
        sku = child.sku
        products[sku] = child
        prices[sku] = retail_price  # as _add_prices
        if special is not None and sku not in held_specials:
            specials[sku] = special
        if child.colour:
            option_labels.setdefault(colour_attribute, set()).add(child.colour)
        if child.size:
            option_labels.setdefault(size_attribute, set()).add(child.size)
    desired.products[parent_sku] = DesiredProduct(
        sku=parent_sku,
        style_code=code,
        type_id="configurable",
        visibility=VISIBILITY_CATALOG_SEARCH,
        name=description,
        description=long_description,
        url_key=parent_url_key,
        category_path=category,
        colour=None,
        size=None,
        parent_sku=None,
        child_skus=tuple(child.sku for child in children),
        price=None,
    )
    desired.category_paths.add(category)


def _problem(key: str, field_name: str, reason: str) -> Problem:
    return Problem("products", key, field_name, reason)


def _variant_problems(
    style_code: str,
    sku: str,
    barcode: str | None,
    duplicate_skus: dict[str, str],
    duplicate_barcodes: dict[str, str],
) -> list[Problem]:
    bad: list[Problem] = []
    if not is_valid_sku(sku):
        bad.append(
            _problem(
                sku, "sku", f"sku {sku!r} of style {style_code} has characters or a length Magento rejects"
            )
        )
    other = duplicate_skus.get(sku)
    if other == sku:
        bad.append(_problem(sku, "sku", f"sku {sku} appears in more than one style (style {style_code})"))
    elif other is not None:
        bad.append(
            _problem(
                sku,
                "sku",
                f"sku {sku!r} (style {style_code}) and sku {other!r} differ only in case or trailing "
                "spaces: CI Office and Magento hold them as one SKU",
            )
        )
    if sku in duplicate_barcodes:
        bad.append(
            _problem(sku, "barcode", f"sku {sku}: barcode {duplicate_barcodes[sku]} is used by other SKUs")
        )
    return bad


def _add_prices(desired: DesiredCatalogue, sku: str, retail: Decimal, special: DesiredSpecial | None) -> None:
    desired.prices[sku] = retail
    if special is not None and sku not in desired.held_specials:
        desired.specials[sku] = special


def _map_stock(stock: Iterable[StockOnHand], config: TenantConfig, desired: DesiredCatalogue) -> None:
    """quantity = max(0, on hand - safety stock) in whole units, per sellable SKU and mapped source.

    Negative stock on hand (CI Office allows selling below zero) is counted as 0 *per branch* before
    branches that share a source are added up, so one branch's deficit never hides another's stock.
    It is still sent (as 0, out of stock: the truthful sellable quantity) and reported as a problem
    on stream "stock", so the retailer sees the bad count without the web shop overselling.
    """
    sources = [SourceCode(source) for source in sorted(set(config.branch_sources.values()))]
    branch_sources = config.branch_sources
    safety = config.safety_stock
    sellable = [product.sku for product in desired.products.values() if product.type_id == "simple"]
    sellable_set = set(sellable)
    on_hand: dict[tuple[str, str], Decimal] = {}
    negative: dict[tuple[str, str], list[str]] = defaultdict(list)
    zero = Decimal(0)
    for row in stock:
        source = branch_sources.get(row.branch)
        if source is None or row.sku not in sellable_set:
            continue  # unmapped branch, or a SKU that is not pushed
        key = (row.sku, source)
        quantity = row.quantity
        if quantity < 0:
            negative[key].append(f"{row.branch} ({quantity})")
            quantity = zero
        on_hand[key] = on_hand.get(key, zero) + quantity
    rows = desired.stock
    floor = ROUND_FLOOR
    # A handful of distinct quantities over tens of thousands of rows: one Decimal each, kept by its
    # exact text so that equal values written differently stay as they were.
    quantities: dict[str, Decimal] = {}
    for sku in sellable:
        for source in sources:
            total = on_hand.get((sku, source), zero)
            quantity = (total - safety).to_integral_value(rounding=floor)  # whole_units
            if quantity < 0:
                quantity = zero
            quantity = quantities.setdefault(str(quantity), quantity)
            row_key = f"{sku}@{source}"  # stock_key
            rows[row_key] = DesiredStock(sku, source, quantity, quantity > 0)
            if negative and (sku, source) in negative:
                desired.problems.append(
                    Problem(
                        "stock",
                        row_key,
                        "quantity",
                        f"sku {sku}: negative stock on hand at {', '.join(negative[(sku, source)])} "
                        f"sent to source {source} as 0",
                    )
                )


def _map_images(images: Iterable[ImageMeta], desired: DesiredCatalogue) -> None:
    """Per style the ordered image set, on the product that carries images (parent or simple)."""
    carrier: dict[str, str] = {}
    for product in desired.products.values():
        if product.parent_sku is None:
            carrier[product.style_code] = product.sku
    by_style: dict[str, list[ImageMeta]] = defaultdict(list)
    for image in images:
        if image.style_code in carrier:
            by_style[image.style_code].append(image)
    for style_code, sku in carrier.items():
        metas = by_style.get(style_code, [])
        metas.sort(key=lambda image: (image.sequence, image.image_id))
        desired.images[sku] = tuple(metas)


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
