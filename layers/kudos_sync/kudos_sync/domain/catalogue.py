"""CI Office's catalogue as the push reads it: plain facts, no Magento shape yet.

Values are kept as CI Office holds them (prices may be missing, stock may be negative); the mapping in
`domain.push_mapping` decides what is valid and parks what is not, naming the record and the field.
"""

import gc
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from pydantic import BaseModel, ConfigDict

from kudos_sync.domain.ids import BranchCode, Sku, StyleCode


class Variant(BaseModel):
    """One sellable SKU of a style: a colour/size combination (either may be absent)."""

    model_config = ConfigDict(frozen=True)

    sku: Sku
    colour: str | None = None
    size: str | None = None
    size_order: int = 0
    barcode: str | None = None


class Style(BaseModel):
    """A CI Office style whose Internet Active flag is set, with its variants."""

    model_config = ConfigDict(frozen=True)

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


class StockOnHand(BaseModel):
    """Quantity on hand of one SKU at one branch."""

    model_config = ConfigDict(frozen=True)

    sku: Sku
    branch: BranchCode
    quantity: Decimal


class ImageMeta(BaseModel):
    """An image of a style, without its bytes; `version` changes whenever the bytes do."""

    model_config = ConfigDict(frozen=True)

    image_id: int
    style_code: StyleCode
    sequence: int
    colour: str | None = None
    byte_length: int
    updated_at: datetime

    @property
    def version(self) -> str:
        return f"{self.image_id}:{self.byte_length}:{self.updated_at.isoformat()}"


def trusted_constructor[M: BaseModel](model: type[M]) -> Callable[..., M]:
    """A constructor for `model` from values already of its field types (typed database columns, or
    what this service stored itself), for hot loops that build tens of thousands of instances.

    Skips validation and defaults, so every field must be passed, in declaration order (the order
    `model_dump` follows). Unlike `model_construct`, all instances share one fields-set: a fresh set
    of every field name per instance would be most of the memory of a small model. Sharing is safe
    for frozen models only (nothing can add to it; `model_copy` copies it before updating it).
    """
    config = model.model_config
    if not config.get("frozen") or config.get("extra") == "allow":
        raise TypeError(f"{model.__name__}: trusted construction needs a frozen model without extras")
    if model.__private_attributes__ or model.__pydantic_post_init__:
        raise TypeError(f"{model.__name__}: trusted construction cannot set private attributes")
    fields_set = set(model.model_fields)
    new = object.__new__
    set_attribute = object.__setattr__

    def construct(**values: Any) -> M:
        instance = new(model)
        set_attribute(instance, "__dict__", values)
        set_attribute(instance, "__pydantic_fields_set__", fields_set)
        set_attribute(instance, "__pydantic_extra__", None)
        set_attribute(instance, "__pydantic_private__", None)
        return instance

    return construct


@contextmanager
def bulk_build() -> Iterator[None]:
    """Pause the cyclic garbage collector while tens of thousands of objects that all stay alive are
    built (the catalogue and its mapping, a kind's bindings): it would otherwise walk them again and
    again and find nothing to free (measured: about a sixth of a run's CPU at 20,000 SKUs). Objects
    are still freed as usual when their last reference goes; only cycles wait until it is resumed.
    Not for code that yields to its caller while paused."""
    if not gc.isenabled():
        yield
        return
    gc.disable()
    try:
        yield
    finally:
        gc.enable()
