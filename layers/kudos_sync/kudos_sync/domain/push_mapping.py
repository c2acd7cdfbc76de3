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

from collections import defaultdict
from collections.abc import Iterable
from datetime import date
from decimal import ROUND_FLOOR, Decimal

from kudos_sync.config import TenantConfig
from kudos_sync.domain.bulk import bulk_build
from kudos_sync.domain.catalogue import ImageMeta, StockOnHand, Style
from kudos_sync.domain.desired import (
    MAX_NAME_LENGTH,
    VISIBILITY_CATALOG_SEARCH,
    VISIBILITY_NOT_VISIBLE,
    DesiredCatalogue,
    DesiredProduct,
    DesiredSpecial,
    DesiredStock,
    Problem,
)
from kudos_sync.domain.ids import Sku, SourceCode
from kudos_sync.domain.push_checks import (
    check_special,
    check_style,
    find_duplicates,
    is_configurable,
    problem,
    variant_problems,
)
from kudos_sync.domain.push_rules import (
    child_name,
    is_valid_sku,
    normalise_category_path,
    slugify,
    url_key_for,
    url_key_from_slug,
)


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

    duplicate_skus, duplicate_barcodes = find_duplicates(style_list)
    styles_mapper = _StyleMapper(config, today, desired, duplicate_skus, duplicate_barcodes)
    for style in style_list:
        style_problems = check_style(style)
        if style_problems:
            problems.extend(style_problems)
            desired.held_products.add(style.code)
            desired.held_products.update(variant.sku for variant in style.variants)
            desired.held_specials.update(variant.sku for variant in style.variants)
            continue
        styles_mapper.map(style)

    _map_stock(stock, config, desired)
    _map_images(images, desired)
    for label_set in (colour_attr, size_attr):
        desired.option_labels.setdefault(label_set, set())
    return desired


class _StyleMapper:
    """Maps one valid style after another into the desired catalogue (the run's shared facts held once)."""

    def __init__(
        self,
        config: TenantConfig,
        today: date,
        desired: DesiredCatalogue,
        duplicate_skus: dict[str, str],
        duplicate_barcodes: dict[str, str],
    ) -> None:
        self.config = config
        self.today = today
        self.desired = desired
        self.duplicate_skus = duplicate_skus
        self.duplicate_barcodes = duplicate_barcodes
        self.url_keys: dict[str, str] = {}  # url_key -> the sku it was made for

    def map(self, style: Style) -> None:
        special, special_problem = check_special(style, self.today)
        if special_problem is not None:
            self.desired.problems.append(special_problem)
            self.desired.held_specials.update(variant.sku for variant in style.variants)
        if is_configurable(style):
            self._map_configurable(style, special)
        else:
            self._map_simple(style, special)

    def _claim_url_key(self, url_key: str, sku: str) -> bool:
        """False (the product parked and held) when another product already has this url_key."""
        owner = self.url_keys.setdefault(url_key, sku)
        if owner == sku:
            return True
        reason = f"sku {sku}: url_key {url_key!r} is also made for {owner}"
        self.desired.problems.append(Problem("products", sku, "url_key", reason))
        self.desired.held_products.add(sku)
        return False

    def _hold(self, sku: str, bad: list[Problem]) -> None:
        self.desired.problems.extend(bad)
        self.desired.held_products.add(sku)
        self.desired.held_specials.add(sku)

    def _map_simple(self, style: Style, special: DesiredSpecial | None) -> None:
        """A style without colours or sizes: one simple product, visible in the catalogue."""
        desired = self.desired
        variant = style.variants[0]
        sku = variant.sku
        bad = variant_problems(style.code, sku, variant.barcode, self.duplicate_skus, self.duplicate_barcodes)
        description = style.description.strip()
        # slug(description)-slug(sku), not the style code: when sizes are added later the style
        # becomes a configurable parent with sku = style code and url_key slug(description)-slug(code),
        # which must not collide with this (then disabled) simple that keeps its url_key.
        url_key = url_key_for(description, sku)
        if bad:
            self._hold(sku, bad)
            return
        if not self._claim_url_key(url_key, sku):
            return
        category = normalise_category_path(style.category_path)
        assert category is not None and style.retail_price is not None  # checked in check_style
        desired.products[sku] = DesiredProduct(
            sku=sku,
            style_code=style.code,
            type_id="simple",
            visibility=VISIBILITY_CATALOG_SEARCH,
            name=description,
            description=_long_description(style),
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

    def _map_configurable(self, style: Style, special: DesiredSpecial | None) -> None:
        """A style with colours or sizes: a configurable parent with one simple child per valid variant."""
        code = style.code
        children = self._children(style)
        if not children:
            # Every SKU is parked: leave the parent as it is until one can be synced.
            self.desired.held_products.add(code)
            return
        description = style.description.strip()
        parent_url_key = url_key_for(description, code)
        if not self._claim_url_key(parent_url_key, code):
            self.desired.held_products.update(child.sku for child in children)
            return
        category = normalise_category_path(style.category_path)
        assert category is not None and style.retail_price is not None  # checked in check_style
        self._add_children(children, style.retail_price, special)
        self.desired.products[Sku(code)] = DesiredProduct(
            sku=Sku(code),
            style_code=code,
            type_id="configurable",
            visibility=VISIBILITY_CATALOG_SEARCH,
            name=description,
            description=_long_description(style),
            url_key=parent_url_key,
            category_path=category,
            colour=None,
            size=None,
            parent_sku=None,
            child_skus=tuple(child.sku for child in children),
            price=None,
        )
        self.desired.category_paths.add(category)

    def _children(self, style: Style) -> list[DesiredProduct]:
        """The style's children that can be sent, ordered by colour and size; the others parked."""
        code = style.code
        uses_colour = any(v.colour and v.colour.strip() for v in style.variants)
        uses_size = any(v.size and v.size.strip() for v in style.variants)
        duplicate_combination = _duplicate_combinations(style)
        description = style.description.strip()
        description_slug = slugify(description)
        long_description = _long_description(style)
        children: list[DesiredProduct] = []
        for variant in sorted(
            style.variants, key=lambda v: (v.colour or "", v.size_order, v.size or "", v.sku)
        ):
            sku = variant.sku
            colour = (variant.colour.strip() if variant.colour else "") or None
            size = (variant.size.strip() if variant.size else "") or None
            bad = (
                variant_problems(code, sku, variant.barcode, self.duplicate_skus, self.duplicate_barcodes)
                if sku in self.duplicate_skus or sku in self.duplicate_barcodes or not is_valid_sku(sku)
                else []
            )
            if uses_colour and not colour:
                bad.append(problem(sku, "colour", f"sku {sku}: no colour, but style {code} has colours"))
            if uses_size and not size:
                bad.append(problem(sku, "size", f"sku {sku}: no size, but style {code} has sizes"))
            if sku in duplicate_combination:
                combination = f"colour {colour or '-'} / size {size or '-'}"
                reason = f"sku {sku}: {combination} appears more than once in style {code}"
                bad.append(problem(sku, "colour/size", reason))
            name = child_name(description, colour, size)
            if len(name) > MAX_NAME_LENGTH:
                bad.append(
                    problem(sku, "name", f"sku {sku}: name is {len(name)} characters, Magento allows 255")
                )
            if bad:
                self._hold(sku, bad)
                continue
            url_key = url_key_from_slug(description_slug, sku, colour, size)
            if not self._claim_url_key(url_key, sku):
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
                    parent_sku=Sku(code),
                    child_skus=(),
                    price=style.retail_price,
                )
            )
        return children

    def _add_children(
        self, children: list[DesiredProduct], retail: Decimal, special: DesiredSpecial | None
    ) -> None:
        """The children, their prices, and the colour and size labels they use."""
        desired = self.desired
        products, prices, specials, held_specials = (
            desired.products,
            desired.prices,
            desired.specials,
            desired.held_specials,
        )
        option_labels = desired.option_labels
        colour_attribute, size_attribute = (
            self.config.magento.colour_attribute,
            self.config.magento.size_attribute,
        )
        for child in children:
            sku = child.sku
            products[sku] = child
            prices[sku] = retail  # as _add_prices
            if special is not None and sku not in held_specials:
                specials[sku] = special
            if child.colour:
                option_labels.setdefault(colour_attribute, set()).add(child.colour)
            if child.size:
                option_labels.setdefault(size_attribute, set()).add(child.size)


def _long_description(style: Style) -> str | None:
    return style.long_description.strip() if style.long_description else None


def _duplicate_combinations(style: Style) -> set[str]:
    """SKUs whose colour/size combination another SKU of the style also has: all of them are parked."""
    first_sku: dict[tuple[str, str], str] = {}
    duplicates: set[str] = set()
    for variant in style.variants:
        combination = (
            variant.colour.strip() if variant.colour else "",
            variant.size.strip() if variant.size else "",
        )
        first = first_sku.setdefault(combination, variant.sku)
        if first != variant.sku:
            duplicates.update((first, variant.sku))
    return duplicates


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
