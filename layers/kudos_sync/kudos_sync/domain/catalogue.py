"""CI Office's catalogue as the push reads it: plain facts, no Magento shape yet.

Values are kept as CI Office holds them (prices may be missing, stock may be negative); the mapping in
`domain.push_mapping` decides what is valid and parks what is not, naming the record and the field.

Plain slotted dataclasses: a run builds one per style, SKU, stock row and image (hundreds of thousands
at 50,000 SKUs) from typed database columns, so nothing here validates.
"""

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from kudos_sync.domain.ids import BranchCode, Sku, StyleCode


@dataclass(frozen=True, slots=True, kw_only=True)
class Variant:
    """One sellable SKU of a style: a colour/size combination (either may be absent)."""

    sku: Sku
    colour: str | None = None
    size: str | None = None
    size_order: int = 0
    barcode: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class Style:
    """A CI Office style whose Internet Active flag is set, with its variants."""

    code: StyleCode
    description: str
    brand: str | None = None
    stock_group: str | None = None
    category_path: str | None = None  # "Womens/Dresses"
    long_description: str | None = None
    retail_price: Decimal | None = None
    sale_price: Decimal | None = None
    sale_from: date | None = None
    sale_to: date | None = None
    variants: tuple[Variant, ...] = ()


@dataclass(frozen=True, slots=True, kw_only=True)
class StockOnHand:
    """Quantity on hand of one SKU at one branch."""

    sku: Sku
    branch: BranchCode
    quantity: Decimal


@dataclass(frozen=True, slots=True, kw_only=True)
class ImageMeta:
    """An image of a style, without its bytes; `version` changes whenever the bytes do."""

    image_id: int
    style_code: StyleCode
    sequence: int
    colour: str | None = None
    byte_length: int
    updated_at: datetime

    @property
    def version(self) -> str:
        return f"{self.image_id}:{self.byte_length}:{self.updated_at.isoformat()}"
