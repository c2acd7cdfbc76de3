"""The in-memory store behind the sandbox: catalogue, inventory, sales and customers.

Records keep Magento's own distinctions: EAV values per store (store 0 is global, other ids are store-view
overrides), SKUs that compare case-insensitively (MySQL's utf8 general collation), money as Decimal.
The whole store serialises to JSON (``--state FILE``) through pydantic.
"""

from __future__ import annotations

import threading
from decimal import Decimal
from pathlib import Path
from typing import Any

from pydantic import BaseModel, Field, PrivateAttr, field_validator

SCOPED_ATTRIBUTES = frozenset(
    {
        "name",
        "description",
        "short_description",
        "url_key",
        "status",
        "visibility",
        "meta_title",
        "meta_keyword",
        "meta_description",
    }
)
"""Product attributes with store-view (or website) scope: a write through a store code overrides them."""

TOP_LEVEL_ATTRIBUTES = ("name", "price", "status", "visibility", "weight")
DECIMAL_ATTRIBUTES = frozenset({"price", "weight", "special_price", "cost", "msrp"})
INT_ATTRIBUTES = frozenset({"status", "visibility"})


def typed_value(code: str, value: Any) -> Any:
    """An attribute value with the Python type the sandbox keeps for it (JSON state has lost it)."""
    if value is None or isinstance(value, list):
        return value
    if code in DECIMAL_ATTRIBUTES and not isinstance(value, Decimal):
        return Decimal(str(value))
    if code in INT_ATTRIBUTES and not isinstance(value, int):
        return int(value)
    return value


def sku_key(sku: str) -> str:
    return sku.casefold()


def source_item_key(source_code: str, sku: str) -> str:
    return f"{source_code}\x1f{sku_key(sku)}"


def special_price_key(sku: str, store_id: int) -> str:
    return f"{store_id}\x1f{sku_key(sku)}"


class MediaEntry(BaseModel):
    id: int
    media_type: str = "image"
    label: str | None = None
    position: int = 0
    disabled: bool = False
    types: list[str] = Field(default_factory=list)
    file: str
    mime: str = "image/jpeg"
    sha256: str = ""
    size: int = 0


class CategoryLink(BaseModel):
    category_id: int
    position: int = 0


class ConfigurableOption(BaseModel):
    id: int
    attribute_id: int
    label: str
    position: int = 0
    is_use_default: bool = True
    values: list[int] = Field(default_factory=list)


class StockItem(BaseModel):
    qty: Decimal = Decimal(0)
    is_in_stock: bool = False
    manage_stock: bool = True
    low_stock_date: str | None = None


class Product(BaseModel):
    id: int
    sku: str
    type_id: str = "simple"
    attribute_set_id: int = 4
    created_at: str
    updated_at: str
    values: dict[str, Any] = Field(default_factory=dict)
    """Global (store 0) attribute values, top-level ones (name, price, ...) included."""
    store_values: dict[int, dict[str, Any]] = Field(default_factory=dict)
    website_ids: list[int] = Field(default_factory=lambda: [1])
    category_links: list[CategoryLink] = Field(default_factory=list)
    media: list[MediaEntry] = Field(default_factory=list)
    stock_item: StockItem | None = None
    configurable_options: list[ConfigurableOption] = Field(default_factory=list)
    configurable_links: list[int] = Field(default_factory=list)
    product_links: list[dict[str, Any]] = Field(default_factory=list)
    options: list[dict[str, Any]] = Field(default_factory=list)
    tier_prices: list[dict[str, Any]] = Field(default_factory=list)

    @field_validator("values", mode="after")
    @classmethod
    def _typed_values(cls, values: dict[str, Any]) -> dict[str, Any]:
        return {code: typed_value(code, v) for code, v in values.items()}

    @field_validator("store_values", mode="after")
    @classmethod
    def _typed_store_values(cls, stores: dict[int, dict[str, Any]]) -> dict[int, dict[str, Any]]:
        return {sid: {code: typed_value(code, v) for code, v in vals.items()} for sid, vals in stores.items()}

    def value(self, code: str, store_id: int = 0) -> Any:
        if store_id:
            override = self.store_values.get(store_id, {})
            if code in override:
                return override[code]
        return self.values.get(code)

    def values_at(self, store_id: int) -> dict[str, Any]:
        if not store_id:
            return dict(self.values)
        return {**self.values, **self.store_values.get(store_id, {})}


class SpecialPrice(BaseModel):
    sku: str
    store_id: int
    price: Decimal
    price_from: str | None = None
    price_to: str | None = None


class AttributeOption(BaseModel):
    option_id: int
    label: str
    sort_order: int = 0
    is_default: bool = False
    store_labels: dict[int, str] = Field(default_factory=dict)


class Attribute(BaseModel):
    attribute_id: int
    attribute_code: str
    default_frontend_label: str
    frontend_input: str = "select"
    backend_type: str = "int"
    scope: str = "global"
    is_user_defined: bool = True
    options: list[AttributeOption] = Field(default_factory=list)


class Category(BaseModel):
    id: int
    parent_id: int
    name: str
    is_active: bool = True
    position: int = 0
    level: int = 0
    path: str = ""
    include_in_menu: bool = True
    url_key: str | None = None
    created_at: str
    updated_at: str
    custom: dict[str, Any] = Field(default_factory=dict)
    """Other attribute values (description, meta_title, ...), global."""
    store_values: dict[int, dict[str, Any]] = Field(default_factory=dict)
    """Store-view overrides of name, url_key, is_active, description, ..."""

    def value(self, code: str, store_id: int = 0) -> Any:
        if store_id:
            override = self.store_values.get(store_id, {})
            if code in override:
                return override[code]
        if code in ("name", "url_key", "is_active", "include_in_menu", "position"):
            return getattr(self, code)
        return self.custom.get(code)


class Source(BaseModel):
    source_code: str
    name: str
    enabled: bool = True
    description: str | None = None
    latitude: Decimal | None = None
    longitude: Decimal | None = None
    country_id: str = "NZ"
    postcode: str = "0000"
    extra: dict[str, Any] = Field(default_factory=dict)


class SourceItem(BaseModel):
    sku: str
    source_code: str
    quantity: Decimal
    status: int


class Address(BaseModel):
    id: int = 0
    firstname: str
    lastname: str
    street: list[str] = Field(default_factory=lambda: ["1 Queen Street"])
    city: str = "Auckland"
    postcode: str = "1010"
    country_id: str = "NZ"
    region: str | None = "Auckland"
    region_id: int | None = None
    region_code: str | None = "AUK"
    telephone: str = "021 000 0000"
    company: str | None = None
    default_billing: bool = False
    default_shipping: bool = False


class Customer(BaseModel):
    id: int
    email: str
    firstname: str
    lastname: str
    group_id: int = 1
    store_id: int = 1
    website_id: int = 1
    created_at: str
    updated_at: str
    created_in: str = "Default Store View"
    dob: str | None = None
    gender: int | None = None
    addresses: list[Address] = Field(default_factory=list)


class OrderItem(BaseModel):
    item_id: int
    order_id: int
    sku: str
    name: str
    product_id: int | None
    product_type: str = "simple"
    parent_item_id: int | None = None
    qty_ordered: Decimal
    qty_invoiced: Decimal = Decimal(0)
    qty_refunded: Decimal = Decimal(0)
    qty_canceled: Decimal = Decimal(0)
    qty_shipped: Decimal = Decimal(0)
    price: Decimal = Decimal(0)
    price_incl_tax: Decimal = Decimal(0)
    original_price: Decimal = Decimal(0)
    row_total: Decimal = Decimal(0)
    row_total_incl_tax: Decimal = Decimal(0)
    tax_amount: Decimal = Decimal(0)
    tax_percent: Decimal = Decimal(0)
    discount_amount: Decimal = Decimal(0)
    discount_percent: Decimal = Decimal(0)
    discount_tax_compensation_amount: Decimal = Decimal(0)
    row_invoiced: Decimal = Decimal(0)
    tax_invoiced: Decimal = Decimal(0)
    discount_invoiced: Decimal = Decimal(0)
    amount_refunded: Decimal = Decimal(0)
    tax_refunded: Decimal = Decimal(0)
    discount_refunded: Decimal = Decimal(0)
    weight: Decimal | None = None
    option_values: list[tuple[int, int]] = Field(default_factory=list)
    """(attribute id, option id) chosen on a configurable parent item."""
    created_at: str
    updated_at: str


class StatusHistory(BaseModel):
    entity_id: int
    comment: str
    status: str | None = None
    is_customer_notified: int = 0
    is_visible_on_front: int = 0
    entity_name: str = "order"
    created_at: str


class Order(BaseModel):
    entity_id: int
    increment_id: str
    state: str = "new"
    status: str = "pending"
    store_id: int = 1
    customer_id: int | None = None
    customer_is_guest: bool = True
    customer_email: str
    customer_firstname: str | None = None
    customer_lastname: str | None = None
    customer_group_id: int = 0
    currency: str = "NZD"
    prices_include_tax: bool = True
    tax_rate: Decimal = Decimal("0.15")
    payment_method: str = "checkmo"
    shipping_method: str = "flatrate_flatrate"
    shipping_description: str = "Flat Rate - Fixed"
    items: list[OrderItem] = Field(default_factory=list)
    billing_address: Address
    shipping_address: Address
    shipping_amount: Decimal = Decimal(0)
    shipping_incl_tax: Decimal = Decimal(0)
    shipping_tax_amount: Decimal = Decimal(0)
    shipping_invoiced: Decimal = Decimal(0)
    shipping_tax_invoiced: Decimal = Decimal(0)
    shipping_refunded: Decimal = Decimal(0)
    shipping_tax_refunded: Decimal = Decimal(0)
    adjustment_positive: Decimal = Decimal(0)
    adjustment_negative: Decimal = Decimal(0)
    total_paid: Decimal = Decimal(0)
    total_refunded: Decimal = Decimal(0)
    status_histories: list[StatusHistory] = Field(default_factory=list)
    billing_address_id: int = 0
    shipping_address_id: int = 0
    payment_id: int = 0
    quote_id: int | None = None
    """The cart the order was placed from."""
    created_at: str
    updated_at: str


class CartItem(BaseModel):
    item_id: int
    sku: str
    qty: Decimal
    custom_price: Decimal | None = None
    """A unit price fixed for this line (the admin's custom price); None: the catalogue price."""


class Cart(BaseModel):
    """A quote: what a storefront checkout builds before it becomes an order."""

    id: int
    masked_id: str | None = None
    """Guest carts are addressed by a 32-character masked id (``quote_id_mask``)."""
    customer_id: int | None = None
    customer_email: str | None = None
    items: list[CartItem] = Field(default_factory=list)
    shipping_address: Address | None = None
    billing_address: Address | None = None
    shipping_method: str | None = None
    payment_method: str | None = None
    coupon_code: str | None = None
    discount_percent: Decimal = Decimal(0)
    shipping_price: Decimal | None = None
    """Overrides the carrier's price (the Python helper's ``shipping_amount``)."""
    tax_rate: Decimal | None = None
    prices_include_tax: bool | None = None
    currency: str | None = None
    is_active: bool = True
    reserved_order_id: int | None = None
    created_at: str
    updated_at: str


class DocumentItem(BaseModel):
    """An invoice or credit memo line."""

    entity_id: int
    order_item_id: int
    sku: str
    name: str
    product_id: int | None
    qty: Decimal
    price: Decimal = Decimal(0)
    price_incl_tax: Decimal = Decimal(0)
    row_total: Decimal = Decimal(0)
    row_total_incl_tax: Decimal = Decimal(0)
    tax_amount: Decimal = Decimal(0)
    discount_amount: Decimal = Decimal(0)
    discount_tax_compensation_amount: Decimal = Decimal(0)
    is_child: bool = False


class Invoice(BaseModel):
    entity_id: int
    increment_id: str
    order_id: int
    state: int = 2
    items: list[DocumentItem] = Field(default_factory=list)
    shipping_amount: Decimal = Decimal(0)
    shipping_incl_tax: Decimal = Decimal(0)
    shipping_tax_amount: Decimal = Decimal(0)
    created_at: str
    updated_at: str


class Creditmemo(BaseModel):
    entity_id: int
    increment_id: str
    order_id: int
    invoice_id: int | None = None
    state: int = 2
    items: list[DocumentItem] = Field(default_factory=list)
    shipping_amount: Decimal = Decimal(0)
    shipping_incl_tax: Decimal = Decimal(0)
    shipping_tax_amount: Decimal = Decimal(0)
    adjustment_positive: Decimal = Decimal(0)
    adjustment_negative: Decimal = Decimal(0)
    created_at: str
    updated_at: str


def _seed_attributes() -> dict[str, Attribute]:
    return {
        "color": Attribute(attribute_id=93, attribute_code="color", default_frontend_label="Color"),
        "size": Attribute(attribute_id=141, attribute_code="size", default_frontend_label="Size"),
    }


class Store(BaseModel):
    """Everything a sandbox store holds. Mutate only while holding ``lock``."""

    products: dict[int, Product] = Field(default_factory=dict)
    categories: dict[int, Category] = Field(default_factory=dict)
    attributes: dict[str, Attribute] = Field(default_factory=_seed_attributes)
    special_prices: dict[str, SpecialPrice] = Field(default_factory=dict)
    """Keyed by ``special_price_key(sku, store_id)``."""
    sources: dict[str, Source] = Field(default_factory=dict)
    source_items: dict[str, SourceItem] = Field(default_factory=dict)
    """Keyed by ``source_item_key(source_code, sku)``: MSI's unique (source_code, sku)."""
    customers: dict[int, Customer] = Field(default_factory=dict)
    orders: dict[int, Order] = Field(default_factory=dict)
    invoices: dict[int, Invoice] = Field(default_factory=dict)
    creditmemos: dict[int, Creditmemo] = Field(default_factory=dict)
    sequences: dict[str, int] = Field(default_factory=dict)
    carts: dict[int, Cart] = Field(default_factory=dict)
    coupons: dict[str, Decimal] = Field(default_factory=dict)
    """Coupon code -> percent off (a cart price rule "Percent of product price discount")."""
    tax_rate: Decimal = Decimal("0.15")
    """The one tax rate of the store (tax class "Taxable Goods", every address)."""
    prices_include_tax: bool = True
    """``tax/calculation/price_includes_tax`` (shipping follows the same setting)."""
    flatrate_price: Decimal = Decimal("5.00")
    """``carriers/flatrate/price``, charged once per order (``carriers/flatrate/type`` O)."""
    store_codes: dict[str, int] = Field(default_factory=lambda: {"default": 1})
    store_names: dict[int, str] = Field(default_factory=lambda: {1: "Default Store View"})
    currency: str = "NZD"

    _lock: threading.RLock = PrivateAttr(default_factory=threading.RLock)
    _sku_index: dict[str, int] = PrivateAttr(default_factory=dict)
    _urls: dict[tuple[int, str], tuple[str, int]] = PrivateAttr(default_factory=dict)
    _url_owned: dict[tuple[str, int], set[tuple[int, str]]] = PrivateAttr(default_factory=dict)
    _media_files: set[str] = PrivateAttr(default_factory=set)
    _media_suffixes: dict[str, int] = PrivateAttr(default_factory=dict)

    def model_post_init(self, context: Any, /) -> None:
        self.reindex()
        if not self.categories:
            now = "1970-01-01 00:00:00"
            self.categories[1] = Category(
                id=1, parent_id=0, name="Root Catalog", level=0, path="1", created_at=now, updated_at=now
            )
            self.categories[2] = Category(
                id=2,
                parent_id=1,
                name="Default Category",
                level=1,
                path="1/2",
                position=1,
                created_at=now,
                updated_at=now,
            )
        if "default" not in self.sources:
            self.sources["default"] = Source(
                source_code="default", name="Default Source", description="Default Source", country_id="US"
            )
        self.sequences.setdefault("category", max(self.categories))
        self.sequences.setdefault("attribute_option", 4)

    # ------------------------------------------------------------ plumbing

    @property
    def lock(self) -> threading.RLock:
        return self._lock

    def next_id(self, name: str) -> int:
        value = self.sequences.get(name, 0) + 1
        self.sequences[name] = value
        return value

    def reindex(self) -> None:
        self._sku_index = {sku_key(p.sku): p.id for p in self.products.values()}
        self._urls = {}
        self._url_owned = {}
        for category in self.categories.values():
            self.index_urls("category", category.id, self.category_request_paths(category))
        for product in self.products.values():
            self.index_urls("product", product.id, self.product_request_paths(product))
        self._media_files = {m.file for p in self.products.values() for m in p.media}
        self._media_suffixes = {}

    def store_ids(self) -> list[int]:
        return sorted(self.store_codes.values())

    # ------------------------------------------------------------ products

    def product_by_sku(self, sku: str) -> Product | None:
        pid = self._sku_index.get(sku_key(sku))
        return self.products.get(pid) if pid is not None else None

    def put_product(self, product: Product) -> None:
        old = self.products.get(product.id)
        if old is not None and sku_key(old.sku) != sku_key(product.sku):
            self._sku_index.pop(sku_key(old.sku), None)
        self.products[product.id] = product
        self._sku_index[sku_key(product.sku)] = product.id

    def remove_product(self, product: Product) -> None:
        self.products.pop(product.id, None)
        self._sku_index.pop(sku_key(product.sku), None)

    def parents_of(self, product_id: int) -> list[Product]:
        return [p for p in self.products.values() if product_id in p.configurable_links]

    def source_item(self, sku: str, source_code: str) -> SourceItem | None:
        return self.source_items.get(source_item_key(source_code, sku))

    # ------------------------------------------------------------ URL rewrites

    def product_request_paths(self, product: Product) -> set[tuple[int, str]]:
        """(store id, request path) of the product's own rewrites: ``<url_key>.html`` per store view."""
        if not product.website_ids:
            return set()
        out = set()
        for store_id in self.store_ids():
            key = product.value("url_key", store_id)
            if key:
                out.add((store_id, f"{key}.html"))
        return out

    def category_url_path(self, category: Category, store_id: int) -> str | None:
        """``parent/child`` url path below the store root (levels 0 and 1 have none)."""
        if category.level < 2:
            return None
        parts: list[str] = []
        node: Category | None = category
        while node is not None and node.level >= 2:
            key = node.value("url_key", store_id)
            if not key:
                return None
            parts.append(str(key))
            node = self.categories.get(node.parent_id)
        return "/".join(reversed(parts))

    def category_request_paths(self, category: Category) -> set[tuple[int, str]]:
        out = set()
        for store_id in self.store_ids():
            path = self.category_url_path(category, store_id)
            if path:
                out.add((store_id, f"{path}.html"))
        return out

    def url_conflict(self, kind: str, entity_id: int, paths: set[tuple[int, str]]) -> bool:
        return any(self._urls.get(p, (kind, entity_id)) != (kind, entity_id) for p in paths)

    def index_urls(self, kind: str, entity_id: int, paths: set[tuple[int, str]]) -> None:
        owner = (kind, entity_id)
        for old in self._url_owned.pop(owner, set()):
            if self._urls.get(old) == owner:
                del self._urls[old]
        for path in paths:
            self._urls[path] = owner
        if paths:
            self._url_owned[owner] = set(paths)

    # ------------------------------------------------------------ media files

    def claim_media_file(self, name: str) -> str:
        """``/a/b/name.ext`` with Magento's dispersion path and ``_1``, ``_2`` suffixes for taken names."""
        stem, dot, ext = name.rpartition(".")
        if not dot:
            stem, ext = name, ""
        first = stem[:1].lower() or "_"
        second = stem[1:2].lower() or "_"
        prefix = f"/{first.replace('.', '_')}/{second.replace('.', '_')}/"
        candidate = f"{prefix}{name}"
        # Taken names stay taken, so the search for a free suffix resumes where the last one for this name
        # stopped rather than walking every earlier upload of the same file name again.
        n = self._media_suffixes.get(candidate, 0)
        asked = candidate
        if n:
            candidate = f"{prefix}{stem}_{n}{dot}{ext}"
        while candidate in self._media_files:
            n += 1
            candidate = f"{prefix}{stem}_{n}{dot}{ext}"
        self._media_files.add(candidate)
        self._media_suffixes[asked] = n
        return candidate

    # ------------------------------------------------------------ persistence

    def save(self, path: Path) -> None:
        with self._lock:
            text = self.model_dump_json(indent=None)
        tmp = path.with_suffix(path.suffix + ".tmp")
        tmp.write_text(text, encoding="utf-8")
        tmp.replace(path)

    @classmethod
    def load(cls, path: Path) -> Store:
        return cls.model_validate_json(path.read_text(encoding="utf-8"))
