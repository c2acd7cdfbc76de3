"""Magento's sales documents as the pull reads them: validated, typed, and nothing we do not use.

Raw documents come from `GET /V1/invoices`, `/V1/creditmemos` and `/V1/orders` (schema definitions
`sales-data-invoice-interface`, `sales-data-creditmemo-interface`, `sales-data-order-interface` with
their item, address and payment interfaces). The `parse_*` functions turn one raw dict into a model or
raise `RecordError` naming the document ("invoice 000000042 (entity 17)") and the field path
("items[2].qty"). Values are never echoed in messages: a document may hold personal data.

Magento quirks handled here:
- `created_at` is a UTC wall-clock string without zone ("2026-11-01 09:00:00"): parsed to aware UTC.
- Amounts arrive as JSON numbers (floats) or strings: parsed to exact Decimal (`domain.money`).
- Header `discount_amount` is stored negative on invoices and credit memos; item discounts positive.
  Both are kept as Magento sends them; the mapping takes the absolute value of the header's.
- Configurable products put two rows on every document: the parent row (order item `product_type`
  "configurable") carries the simple SKU and the price; the child row (order item with
  `parent_item_id`) carries the same SKU at price 0. See `sellable_items` in `domain.pull_mapping`.
"""

import json
import re
from datetime import UTC, datetime
from decimal import Decimal
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationError,
)

from kudos_sync.domain.errors import RecordError
from kudos_sync.domain.money import parse_decimal

MAX_TEXT = 255
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def _decimal(value: object) -> Decimal:
    return parse_decimal(value)


def _no_control_characters(value: str) -> str:
    if _CONTROL.search(value):
        raise ValueError("must not contain control characters")
    return value


def parse_magento_time(value: object) -> datetime:
    """Magento's "2026-11-01 09:00:00" (UTC, no zone) -> aware UTC datetime; ValueError otherwise."""
    if isinstance(value, datetime):
        parsed = value
    elif isinstance(value, str) and len(value) <= 40:
        try:
            parsed = datetime.fromisoformat(value.strip())
        except ValueError:
            raise ValueError("expected 'YYYY-MM-DD HH:MM:SS' (UTC)") from None
    else:
        raise ValueError("expected 'YYYY-MM-DD HH:MM:SS' (UTC)")
    # Magento writes UTC without a zone; an explicit zone is honoured and converted.
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)


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
UtcDateTime = Annotated[datetime, BeforeValidator(parse_magento_time)]


class _Raw(BaseModel):
    # Magento sends far more than we use; unknown keys are ignored, known ones are checked.
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


# ---------------------------------------------------------------- labels and paths


def _raw_label(kind: str, raw: object) -> str:
    """Name a raw document as well as its own (possibly broken) fields allow."""
    if not isinstance(raw, dict):
        return f"{kind} (not a JSON object)"
    increment = raw.get("increment_id")
    entity = raw.get("entity_id")
    shown_increment = increment if isinstance(increment, str) and 0 < len(increment) <= 50 else None
    shown_entity = entity if isinstance(entity, int) and not isinstance(entity, bool) else None
    if shown_increment and shown_entity is not None:
        return f"{kind} {shown_increment} (entity {shown_entity})"
    if shown_entity is not None:
        return f"{kind} (entity {shown_entity})"
    if shown_increment:
        return f"{kind} {shown_increment}"
    return f"{kind} (no entity id)"


def field_path(loc: tuple[int | str, ...]) -> str:
    """pydantic's ('items', 2, 'qty') -> 'items[2].qty'."""
    path = ""
    for part in loc:
        if isinstance(part, int):
            path += f"[{part}]"
        else:
            path += f".{part}" if path else part
    return path


def _parse[M: _Raw](model: type[M], kind: str, raw: object) -> M:
    label = _raw_label(kind, raw)
    if not isinstance(raw, dict):
        raise RecordError(f"{label}: expected a JSON object", record=label)
    try:
        return model.model_validate(raw)
    except ValidationError as exc:
        errors = exc.errors(include_url=False, include_input=False)
        first = errors[0]
        path = field_path(tuple(p for p in first["loc"] if not str(p).startswith("function-")))
        more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
        message = first["msg"] if first["type"] != "missing" else "is missing"
        raise RecordError(f"{label}: {path or '<root>'}: {message}{more}", record=label, field=path) from None


def parse_invoice(raw: object) -> MagentoInvoice:
    """Validate a raw `/V1/invoices` item; RecordError names the invoice and the field path."""
    return _parse(MagentoInvoice, "invoice", raw)


def parse_creditmemo(raw: object) -> MagentoCreditMemo:
    """Validate a raw `/V1/creditmemos` item; RecordError names the credit memo and the field path."""
    return _parse(MagentoCreditMemo, "credit memo", raw)


def parse_order(raw: object) -> MagentoOrder:
    """Validate a raw `/V1/orders` item; RecordError names the order and the field path."""
    return _parse(MagentoOrder, "order", raw)


def parse_document(stream: Literal["invoices", "creditmemos"], raw: object) -> MagentoDocument:
    """`parse_invoice` or `parse_creditmemo`, by stream."""
    return parse_invoice(raw) if stream == "invoices" else parse_creditmemo(raw)


def document_label(stream: str, raw: object) -> str:
    """The label of a raw document ("invoice 000000042 (entity 17)"), however broken it is."""
    return _raw_label("invoice" if stream == "invoices" else "credit memo", raw)


# ---------------------------------------------------------------- parked payloads

_DOCUMENT_KEYS = frozenset(MagentoCreditMemo.model_fields) - {"stream"}
_ITEM_KEYS = frozenset(MagentoDocumentItem.model_fields)
MAX_PAYLOAD_CHARS = 200_000


def trim_document(raw: object) -> dict[str, Any]:
    """The part of a raw document the pull reads, to keep with a parked record and re-import from.

    Unknown keys (extension attributes, comments, base amounts) are dropped; the known ones are kept
    as they came, so a re-import sees exactly what failed. An absurdly large document keeps only its
    identity (the retry then parks it again with the same reason).
    """
    if not isinstance(raw, dict):
        return {}
    trimmed: dict[str, Any] = {k: v for k, v in raw.items() if k in _DOCUMENT_KEYS and k != "items"}
    items = raw.get("items")
    if isinstance(items, list):
        trimmed["items"] = [
            {k: v for k, v in item.items() if k in _ITEM_KEYS} if isinstance(item, dict) else item
            for item in items
        ]
    elif "items" in raw:
        trimmed["items"] = items
    if len(json.dumps(trimmed, default=str)) > MAX_PAYLOAD_CHARS:
        identity = ("entity_id", "increment_id", "order_id", "created_at")
        return {k: trimmed[k] for k in identity if k in trimmed}
    return trimmed
