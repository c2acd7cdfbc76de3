"""In-memory Magento sales side (MagentoSales) and builders of Magento-shaped invoices, credit memos and
orders, for core tests.

The builders write what `GET /V1/invoices`, `/V1/creditmemos` and `/V1/orders` return (schema
definitions `sales-data-*-interface`): amounts as JSON numbers (floats), `created_at` as a UTC string
without zone, negative header `discount_amount`, and configurable products as a parent row carrying
the simple SKU and the price plus a child row at price 0.

    built = InvoiceBuilder(17).with_item("TEE-RED-M", 2, 25).with_shipping(5).guest("a@b.c").build()
    sales.add(built)

`FakeMagentoSales` keeps Magento-shaped JSON, as the store does, and reads it into the domain's types
with the adapter's own reader (`kudos_sync.magento.documents`), so both sides of the port agree on
what a broken document is. It pages like Magento 2.4 (page past the end returns an empty page, total_count is
the count of matches), counts requests per endpoint (orders in batches of `order_batch_size`), can
hide a document until a given time (a late commit: an older `created_at` appearing later) and can
fail the next calls of an operation with a TransientError.
"""

import copy
import itertools
import math
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any, Literal, Self

from kudos_sync.config import TenantConfig
from kudos_sync.domain.errors import RecordError, TransientError
from kudos_sync.domain.sales import MagentoOrder
from kudos_sync.magento.documents import read_document, read_order
from kudos_sync.sync.ports import Clock, DocumentPage, ReadDocument

Stream = Literal["invoices", "creditmemos"]
D = Decimal
_ids = itertools.count(1000)


def magento_time(value: datetime) -> str:
    """Aware datetime -> Magento's UTC string without zone."""
    return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S")


def parse_magento_time(value: str) -> datetime:
    return datetime.strptime(value, "%Y-%m-%d %H:%M:%S").replace(tzinfo=UTC)


def _num(value: Decimal) -> float:
    return float(value)  # Magento's JSON numbers arrive as floats


@dataclass(frozen=True)
class Built:
    """A Magento document with its order, ready for `FakeMagentoSales.add`."""

    stream: Stream
    document: dict[str, Any]
    order: dict[str, Any]

    @property
    def entity_id(self) -> int:
        return int(self.document["entity_id"])

    @property
    def order_id(self) -> int:
        return int(self.order["entity_id"])


@dataclass
class _Row:
    sku: str
    qty: Decimal
    price: Decimal
    tax: Decimal
    discount: Decimal
    configurable: bool
    name: str


class _DocumentBuilder:
    stream: Stream = "invoices"
    prefix = "0000"

    def __init__(
        self,
        entity_id: int | None = None,
        created_at: datetime | str = "2026-11-01 08:00:00",
        order_id: int | None = None,
    ) -> None:
        self.entity_id = entity_id if entity_id is not None else next(_ids)
        self.order_id = order_id if order_id is not None else self.entity_id + 500_000
        self.created_at = created_at if isinstance(created_at, str) else magento_time(created_at)
        self.rows: list[_Row] = []
        self.shipping = D("0")
        self.shipping_tax = D("0")
        self.shipping_discount = D("0")
        self.customer_id: int | None = None
        self.email = "jane.doe@example.com"
        self.method = "checkmo"
        self.currency = "NZD"
        self.grand_total_override: Decimal | None = None
        self.adjustment_positive = D("0")
        self.adjustment_negative = D("0")
        self.extra_document: dict[str, Any] = {}
        self.billing: dict[str, Any] = {
            "address_type": "billing",
            "firstname": "Jane",
            "lastname": "Doe",
            "street": ["1 Queen Street", "Level 2"],
            "city": "Auckland",
            "region": "Auckland",
            "postcode": "1010",
            "country_id": "NZ",
            "telephone": "021 555 0101",
            "email": "jane.doe@example.com",
        }

    # ---------------------------------------------------------------- rows and totals

    def with_item(
        self,
        sku: str,
        qty: float | str | Decimal = 1,
        price: float | str | Decimal = "10",
        *,
        tax: float | str | Decimal = 0,
        discount: float | str | Decimal = 0,
        name: str | None = None,
    ) -> Self:
        """A simple product row: `price` per unit excl. tax, `tax` and `discount` for the row."""
        self.rows.append(
            _Row(sku, D(str(qty)), D(str(price)), D(str(tax)), D(str(discount)), False, name or sku)
        )
        return self

    def with_configurable_item(
        self,
        sku: str,
        qty: float | str | Decimal = 1,
        price: float | str | Decimal = "10",
        *,
        tax: float | str | Decimal = 0,
        name: str | None = None,
    ) -> Self:
        """A configurable product: parent row with the simple SKU and price, child row at price 0."""
        self.rows.append(_Row(sku, D(str(qty)), D(str(price)), D(str(tax)), D("0"), True, name or sku))
        return self

    def with_shipping(
        self,
        amount: float | str | Decimal,
        tax: float | str | Decimal = 0,
        discount: float | str | Decimal = 0,
    ) -> Self:
        self.shipping, self.shipping_tax = D(str(amount)), D(str(tax))
        self.shipping_discount = D(str(discount))
        return self

    def with_grand_total(self, amount: float | str | Decimal) -> Self:
        self.grand_total_override = D(str(amount))
        return self

    def with_fields(self, **fields: Any) -> Self:
        """Override raw document fields (to break them on purpose)."""
        self.extra_document.update(fields)
        return self

    # ---------------------------------------------------------------- order side

    def guest(self, email: str = "guest@example.com") -> Self:
        self.customer_id, self.email = None, email
        self.billing["email"] = email
        return self

    def customer(self, customer_id: int, email: str = "jane.doe@example.com") -> Self:
        self.customer_id, self.email = customer_id, email
        return self

    def paid_with(self, method: str) -> Self:
        self.method = method
        return self

    def in_currency(self, currency: str) -> Self:
        self.currency = currency
        return self

    def created(self, at: datetime | str) -> Self:
        self.created_at = at if isinstance(at, str) else magento_time(at)
        return self

    # ---------------------------------------------------------------- build

    def _items(self) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
        document_items: list[dict[str, Any]] = []
        order_items: list[dict[str, Any]] = []
        item_id = self.order_id * 100
        for row in self.rows:
            item_id += 1
            row_total = row.qty * row.price
            price_incl = row.price + (row.tax / row.qty if row.qty else D("0"))
            order_items.append(
                {
                    "item_id": item_id,
                    "order_id": self.order_id,
                    "sku": row.sku,
                    "name": row.name,
                    "product_type": "configurable" if row.configurable else "simple",
                    "qty_ordered": _num(row.qty),
                    "price": _num(row.price),
                    "is_qty_decimal": 0,
                }
            )
            document_items.append(
                {
                    "entity_id": item_id + 7,
                    "parent_id": self.entity_id,  # the invoice/credit memo, as in sales_invoice_item
                    "order_item_id": item_id,
                    "product_id": item_id % 1000,
                    "sku": row.sku,
                    "name": row.name,
                    "qty": _num(row.qty),
                    "price": _num(row.price),
                    "base_price": _num(row.price),
                    "price_incl_tax": _num(price_incl),
                    "row_total": _num(row_total),
                    "row_total_incl_tax": _num(row_total + row.tax),
                    "tax_amount": _num(row.tax),
                    "discount_amount": _num(row.discount),
                    "discount_tax_compensation_amount": 0.0,
                    "base_cost": 0.0,
                }
            )
            if row.configurable:
                parent_item_id = item_id
                item_id += 1
                order_items.append(
                    {
                        "item_id": item_id,
                        "order_id": self.order_id,
                        "sku": row.sku,
                        "name": row.name + " (simple)",
                        "product_type": "simple",
                        "parent_item_id": parent_item_id,
                        "qty_ordered": _num(row.qty),
                        "price": 0.0,
                        "is_qty_decimal": 0,
                    }
                )
                document_items.append(
                    {
                        "entity_id": item_id + 7,
                        "parent_id": self.entity_id,
                        "order_item_id": item_id,
                        "product_id": item_id % 1000,
                        "sku": row.sku,
                        "name": row.name + " (simple)",
                        "qty": _num(row.qty),
                        "price": 0.0,
                        "base_price": 0.0,
                        "row_total": 0.0,
                        "tax_amount": 0.0,
                        "discount_amount": 0.0,
                        "base_cost": 0.0,
                    }
                )
        return document_items, order_items

    def _totals(self) -> dict[str, Any]:
        subtotal = sum((r.qty * r.price for r in self.rows), D("0"))
        tax = sum((r.tax for r in self.rows), D("0")) + self.shipping_tax
        discount = sum((r.discount for r in self.rows), D("0")) + self.shipping_discount
        adjustments = self.adjustment_positive - self.adjustment_negative
        grand_total = subtotal + tax + self.shipping - discount + adjustments
        if self.grand_total_override is not None:
            grand_total = self.grand_total_override
        return {
            "subtotal": _num(subtotal),
            "subtotal_incl_tax": _num(subtotal + tax - self.shipping_tax),
            "tax_amount": _num(tax),
            "discount_amount": _num(-discount),
            "shipping_amount": _num(self.shipping),
            "shipping_tax_amount": _num(self.shipping_tax),
            "shipping_incl_tax": _num(self.shipping + self.shipping_tax),
            "grand_total": _num(grand_total),
            "base_grand_total": _num(grand_total),
        }

    def _order(self, order_items: list[dict[str, Any]]) -> dict[str, Any]:
        guest = self.customer_id is None
        order: dict[str, Any] = {
            "entity_id": self.order_id,
            "increment_id": f"{self.order_id:09d}",
            "created_at": self.created_at,
            "customer_email": self.email,
            "customer_firstname": "Jane",
            "customer_lastname": "Doe",
            "customer_is_guest": 1 if guest else 0,
            "order_currency_code": self.currency,
            "base_currency_code": self.currency,
            "billing_address": dict(self.billing),
            "payment": {
                "method": self.method,
                "account_status": None,
                "additional_information": [],
                "cc_last4": None,
            },
            "items": order_items,
            "grand_total": 0.0,
            "base_grand_total": 0.0,
            "extension_attributes": {"shipping_assignments": []},
        }
        if not guest:
            order["customer_id"] = self.customer_id
        return order

    def build(self) -> Built:
        document_items, order_items = self._items()
        document: dict[str, Any] = {
            "entity_id": self.entity_id,
            "increment_id": f"{self.prefix}{self.entity_id:05d}",
            "order_id": self.order_id,
            "created_at": self.created_at,
            "updated_at": self.created_at,
            "order_currency_code": self.currency,
            "base_currency_code": self.currency,
            "store_id": 1,
            "total_qty": _num(sum((r.qty for r in self.rows), D("0"))),
            **self._totals(),
            "items": document_items,
            "comments": [],
            "extension_attributes": {},
        }
        self._add_specifics(document)
        document.update(self.extra_document)
        return Built(self.stream, document, self._order(order_items))

    def _add_specifics(self, document: dict[str, Any]) -> None:
        pass


class InvoiceBuilder(_DocumentBuilder):
    stream: Stream = "invoices"
    prefix = "0000"


class CreditMemoBuilder(_DocumentBuilder):
    stream: Stream = "creditmemos"
    prefix = "1000"

    def with_adjustments(
        self, refund: float | str | Decimal = 0, fee: float | str | Decimal = 0
    ) -> "CreditMemoBuilder":
        """Magento's "Adjustment Refund" (adjustment_positive) and "Adjustment Fee" (adjustment_negative)."""
        self.adjustment_positive, self.adjustment_negative = D(str(refund)), D(str(fee))
        return self

    def _add_specifics(self, document: dict[str, Any]) -> None:
        document["adjustment_positive"] = _num(self.adjustment_positive)
        document["adjustment_negative"] = _num(self.adjustment_negative)
        document["adjustment"] = _num(self.adjustment_positive - self.adjustment_negative)
        document["invoice_id"] = document["order_id"] + 1
        document["creditmemo_status"] = 2
        document["state"] = 2


# -------------------------------------------------------------------- the fake port


class FakeMagentoSales:
    """MagentoSales in memory. `requests` counts calls as the REST adapter would send them."""

    def __init__(self, clock: Clock | None = None, order_batch_size: int = 100) -> None:
        self.clock = clock
        self.order_batch_size = order_batch_size
        self.documents: dict[Stream, dict[int, dict[str, Any]]] = {"invoices": {}, "creditmemos": {}}
        self.visible_at: dict[tuple[Stream, int], datetime] = {}
        self.orders: dict[int, dict[str, Any]] = {}
        self.requests: Counter[str] = Counter()
        self.comments: list[tuple[int, str]] = []
        self.searches: list[tuple[Stream, datetime, int, int]] = []
        self._failures: dict[str, list[Exception]] = {}

    # ---------------------------------------------------------------- arrange

    def add(self, built: Built, *, visible_at: datetime | None = None, with_order: bool = True) -> Built:
        """Store a built document (and its order). `visible_at`: the moment its transaction commits;
        before that, searches do not return it (its `created_at` may be earlier: a late commit)."""
        self.documents[built.stream][built.entity_id] = copy.deepcopy(built.document)
        if visible_at is not None:
            self.visible_at[(built.stream, built.entity_id)] = visible_at
        if with_order:
            self.orders[built.order_id] = copy.deepcopy(built.order)
        return built

    def fail_next(self, operation: Literal["search", "orders", "comment"], times: int = 1) -> None:
        """The next `times` calls of an operation raise TransientError (a 503, say)."""
        self._failures.setdefault(operation, []).extend(
            TransientError(f"Magento {operation}: 503 Service Unavailable") for _ in range(times)
        )

    def _maybe_fail(self, operation: str) -> None:
        pending = self._failures.get(operation)
        if pending:
            raise pending.pop(0)

    def _visible(self, stream: Stream, entity_id: int) -> bool:
        at = self.visible_at.get((stream, entity_id))
        return at is None or self.clock is None or self.clock.now() >= at

    # ---------------------------------------------------------------- MagentoSales

    def search_documents(
        self, stream: Stream, created_from: datetime, page: int, page_size: int
    ) -> DocumentPage:
        self.requests[f"search:{stream}"] += 1
        self.searches.append((stream, created_from, page, page_size))
        self._maybe_fail("search")
        # Magento compares the UTC strings at second precision.
        floor = created_from.astimezone(UTC).replace(microsecond=0)
        matches = sorted(
            (
                doc
                for entity_id, doc in self.documents[stream].items()
                if self._visible(stream, entity_id) and parse_magento_time(doc["created_at"]) >= floor
            ),
            key=lambda doc: (doc["created_at"], doc.get("entity_id") or 0),
        )
        start = (page - 1) * page_size
        documents = [read_document(stream, doc) for doc in copy.deepcopy(matches[start : start + page_size])]
        return DocumentPage(documents=documents, total_count=len(matches))

    def reread_parked(self, stream: Stream, payload: dict[str, Any]) -> ReadDocument:
        return read_document(stream, copy.deepcopy(payload))

    def get_orders(self, order_ids: Sequence[int]) -> dict[int, MagentoOrder | RecordError]:
        wanted = list(dict.fromkeys(order_ids))
        self.requests["orders"] += math.ceil(len(wanted) / self.order_batch_size)
        self.requests["orders_calls"] += 1
        self._maybe_fail("orders")
        return {i: read_order(copy.deepcopy(self.orders[i])) for i in wanted if i in self.orders}

    def add_order_comment(self, order_id: int, comment: str) -> None:
        self.requests["comment"] += 1
        self._maybe_fail("comment")
        self.comments.append((order_id, comment))

    # ---------------------------------------------------------------- assert

    @property
    def search_requests(self) -> int:
        return self.requests["search:invoices"] + self.requests["search:creditmemos"]


def at(minutes: float, base: datetime = datetime(2026, 11, 1, 8, 0, tzinfo=UTC)) -> datetime:
    """A moment `minutes` after 2026-11-01 08:00 UTC (the fake clock starts at 09:00)."""
    return base + timedelta(minutes=minutes)


def pull_config(**overrides: Any) -> TenantConfig:
    """A tenant's settings as the pull tests need them (payment `checkmo` -> tender `BANK`)."""
    settings: dict[str, Any] = {
        "tenant": "acme",
        "magento": {"base_url": "https://shop.example.co.nz", "auth": {"kind": "bearer", "token": "t"}},
        "ci_office": {"url": "sqlite://", "web_branch": "WEB"},
        "branch_sources": {"WEB": "default"},
        "payment_mapping": {"checkmo": "BANK", "stripe_payments": "CARD"},
        "base_currency": "NZD",
    }
    sync = overrides.pop("sync", {})
    settings.update(overrides)
    settings["sync"] = {"page_size": 50, "overlap_minutes": 10, "deadline_margin_seconds": 30, **sync}
    return TenantConfig.model_validate(settings)
