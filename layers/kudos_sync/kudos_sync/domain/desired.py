"""The Magento shape the push wants, keyed the way bindings are keyed, and the problems found on the way.

The push's hot structures are slotted dataclasses rather than pydantic models: the mapping builds one
per SKU on every run (tens of thousands), so nothing here validates.
"""

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Literal

from kudos_sync.domain.catalogue import ImageMeta
from kudos_sync.domain.ids import Sku, SourceCode, StyleCode

VISIBILITY_NOT_VISIBLE = 1
VISIBILITY_CATALOG_SEARCH = 4
STATUS_ENABLED = 1
STATUS_DISABLED = 2
MAX_NAME_LENGTH = 255
MAX_SKU_LENGTH = 64

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
