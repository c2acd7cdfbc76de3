"""The sales documents the pull imports: invoices, credit memos and their orders, typed and checked.

These are the shapes of Magento's sales documents (`sales-data-invoice-interface`,
`sales-data-creditmemo-interface`, `sales-data-order-interface` with their item, address and payment
interfaces), holding only what the pull uses, with the value rules the ledger needs: exact Decimal
amounts, aware UTC times, bounded text without control characters. The Magento adapter
(`kudos_sync.magento.documents`) reads raw JSON into them; the core never sees raw documents.

Kept as Magento sends them: header `discount_amount` is negative on invoices and credit memos and
item discounts positive (the mapping takes the absolute value of the header's); configurable products
put two rows on every document, the parent row (order item `product_type` "configurable") carrying the
simple SKU and the price, the child row (order item with `parent_item_id`) the same SKU at price 0
(see `sellable_items` in `domain.pull_mapping`).
"""

import re
from datetime import UTC, datetime
from decimal import Decimal
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, StringConstraints

from kudos_sync.domain.money import parse_decimal

MAX_TEXT = 255
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def _decimal(value: object) -> Decimal:
    return parse_decimal(value)


def _no_control_characters(value: str) -> str:
    if _CONTROL.search(value):
        raise ValueError("must not contain control characters")
    return value


def _in_utc(value: datetime) -> datetime:
    # Time inside is aware UTC: the adapter converts the source's convention at the edge.
    if value.tzinfo is None:
        raise ValueError("must carry a time zone")
    return value.astimezone(UTC)


Amount = Annotated[Decimal, BeforeValidator(_decimal)]
NonNegativeAmount = Annotated[Decimal, BeforeValidator(_decimal), Field(ge=0)]
Quantity = Annotated[Decimal, BeforeValidator(_decimal), Field(ge=0)]
EntityId = Annotated[int, Field(gt=0, lt=2**63)]
Text = Annotated[
    str, StringConstraints(strip_whitespace=True, max_length=MAX_TEXT), AfterValidator(_no_control_characters)
]
SkuText = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=MAX_TEXT),
    AfterValidator(_no_control_characters),
]
CurrencyCode = Annotated[
    str, StringConstraints(strip_whitespace=True, to_upper=True, pattern=r"^[A-Za-z]{3}$")
]
UtcDateTime = Annotated[datetime, AfterValidator(_in_utc)]


class _Raw(BaseModel):
    # The source sends far more than we use; unknown keys are ignored, known ones are checked.
    model_config = ConfigDict(frozen=True, extra="ignore")


class MagentoDocumentItem(_Raw):
    """One row of an invoice or credit memo (`sales-data-invoice-item-interface` and
    `sales-data-creditmemo-item-interface`). Amounts are in the order currency, per row."""

    entity_id: int | None = None
    order_item_id: EntityId
    sku: SkuText
    name: Text | None = None
    qty: Quantity
    price: NonNegativeAmount = Decimal("0")
    price_incl_tax: NonNegativeAmount | None = None
    row_total: NonNegativeAmount = Decimal("0")
    row_total_incl_tax: NonNegativeAmount | None = None
    tax_amount: NonNegativeAmount = Decimal("0")
    discount_amount: NonNegativeAmount = Decimal("0")
    discount_tax_compensation_amount: NonNegativeAmount = Decimal("0")


class _MagentoDocument(_Raw):
    entity_id: EntityId
    increment_id: SkuText
    order_id: EntityId
    created_at: UtcDateTime
    order_currency_code: CurrencyCode | None = None
    base_currency_code: CurrencyCode | None = None
    grand_total: NonNegativeAmount
    subtotal: NonNegativeAmount = Decimal("0")
    tax_amount: NonNegativeAmount = Decimal("0")
    discount_amount: Amount = Decimal("0")  # negative in Magento
    shipping_amount: NonNegativeAmount = Decimal("0")
    shipping_tax_amount: NonNegativeAmount = Decimal("0")
    shipping_incl_tax: NonNegativeAmount | None = None
    shipping_discount_tax_compensation_amount: NonNegativeAmount = Decimal("0")
    items: list[MagentoDocumentItem]

    @property
    def label(self) -> str:
        raise NotImplementedError


class MagentoInvoice(_MagentoDocument):
    """`sales-data-invoice-interface`, the fields the pull uses."""

    stream: Literal["invoices"] = "invoices"

    @property
    def label(self) -> str:
        return f"invoice {self.increment_id} (entity {self.entity_id})"


class MagentoCreditMemo(_MagentoDocument):
    """`sales-data-creditmemo-interface`, the fields the pull uses."""

    stream: Literal["creditmemos"] = "creditmemos"
    adjustment_positive: NonNegativeAmount = Decimal("0")  # extra refund
    adjustment_negative: NonNegativeAmount = Decimal("0")  # fee kept back

    @property
    def label(self) -> str:
        return f"credit memo {self.increment_id} (entity {self.entity_id})"


MagentoDocument = MagentoInvoice | MagentoCreditMemo


class MagentoOrderItem(_Raw):
    """`sales-data-order-item-interface`: what the pull needs to pair configurable rows."""

    item_id: EntityId
    sku: SkuText
    name: Text | None = None
    product_type: Text | None = None
    parent_item_id: EntityId | None = None
    is_qty_decimal: int | None = None


class MagentoAddress(_Raw):
    """`sales-data-order-address-interface` (the billing address)."""

    firstname: Text | None = None
    lastname: Text | None = None
    company: Text | None = None
    street: list[Text] = Field(default_factory=list, max_length=10)
    city: Text | None = None
    region: Text | None = None
    postcode: Text | None = None
    country_id: Text | None = None
    telephone: Text | None = None
    email: Text | None = None


class MagentoPayment(_Raw):
    """`sales-data-order-payment-interface`: only the method decides the CI tender."""

    method: SkuText


class MagentoOrder(_Raw):
    """`sales-data-order-interface`, the fields the pull uses."""

    entity_id: EntityId
    increment_id: SkuText
    customer_id: EntityId | None = None
    customer_is_guest: int | None = None
    customer_email: Text | None = None
    customer_firstname: Text | None = None
    customer_lastname: Text | None = None
    order_currency_code: CurrencyCode | None = None
    base_currency_code: CurrencyCode | None = None
    billing_address: MagentoAddress | None = None
    payment: MagentoPayment
    items: list[MagentoOrderItem] = Field(default_factory=list)

    @property
    def label(self) -> str:
        return f"order {self.increment_id} (entity {self.entity_id})"

    @property
    def is_guest(self) -> bool:
        return bool(self.customer_is_guest) or self.customer_id is None
