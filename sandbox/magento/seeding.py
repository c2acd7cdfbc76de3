"""``store.catalog``: seed the catalogue from Python through the same service logic the routes use."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from decimal import Decimal
from typing import Any

from . import catalog, categories, inventory
from .model import Category, Product, Store
from .options import SandboxOptions
from .routing import Call, Scope
from .schema import bind_request
from .search import Limits


class CatalogHelper:
    """Seeding shortcuts for tests and demos; every write goes through the REST handlers' own code."""

    def __init__(
        self, store: Store, options: SandboxOptions, on_write: Callable[[], None] | None = None
    ) -> None:
        self.store = store
        self.options = options
        self._on_write = on_write or (lambda: None)

    def _call(
        self,
        handler: Callable[[Call], Any],
        method: str,
        template: str,
        body: Mapping[str, Any] | None = None,
        params: Mapping[str, str] | None = None,
        scope: str = "all",
    ) -> Any:
        store_id = 0 if scope == "all" else self.store.store_codes[scope]
        bound = bind_request(method, template, dict(body or {}))
        call = Call(
            method,
            template,
            dict(params or {}),
            {},
            bound,
            Scope(scope, store_id),
            self.store,
            self.options,
            Limits(),
        )
        with self.store.lock:
            result = handler(call)
        self._on_write()
        return result

    def add_product(
        self,
        sku: str,
        name: str,
        price: Decimal | float | int | None = 10,
        *,
        type_id: str = "simple",
        custom: Mapping[str, Any] | None = None,
        category_ids: Iterable[int] = (),
        qty: Decimal | int | None = None,
        website_ids: list[int] | None = None,
        visibility: int = 4,
        status: int = 1,
        scope: str = "all",
    ) -> Product:
        """Create or update a product as ``POST /V1/products`` would; ``qty`` also sets the stock."""
        product: dict[str, Any] = {
            "sku": sku,
            "name": name,
            "type_id": type_id,
            "visibility": visibility,
            "status": status,
            "attribute_set_id": 4,
        }
        if price is not None:
            product["price"] = str(price)
        if custom:
            product["custom_attributes"] = [{"attribute_code": k, "value": v} for k, v in custom.items()]
        extension: dict[str, Any] = {}
        if category_ids:
            extension["category_links"] = [{"category_id": str(c), "position": 0} for c in category_ids]
        if qty is not None:
            extension["stock_item"] = {"qty": str(qty), "is_in_stock": Decimal(str(qty)) > 0}
        if website_ids is not None:
            extension["website_ids"] = website_ids
        if extension:
            product["extension_attributes"] = extension
        self._call(catalog.create_product, "POST", "/V1/products", {"product": product}, scope=scope)
        found = self.store.product_by_sku(sku)
        assert found is not None
        return found

    def add_option(
        self, attribute_code: str, label: str, store_labels: Mapping[int, str] | None = None
    ) -> int:
        """Add a colour/size option; returns its option id."""
        option: dict[str, Any] = {"label": label}
        if store_labels:
            option["store_labels"] = [{"store_id": k, "label": v} for k, v in store_labels.items()]
        result = self._call(
            catalog.add_option,
            "POST",
            "/V1/products/attributes/{attributeCode}/options",
            {"option": option},
            {"attributeCode": attribute_code},
        )
        return int(result)

    def add_category(self, name: str, parent_id: int = 2, url_key: str | None = None) -> Category:
        category: dict[str, Any] = {"parent_id": parent_id, "name": name, "is_active": True}
        if url_key:
            category["custom_attributes"] = [{"attribute_code": "url_key", "value": url_key}]
        result = self._call(categories.create_category, "POST", "/V1/categories", {"category": category})
        return self.store.categories[int(result["id"])]

    def add_configurable_option(self, parent_sku: str, attribute_code: str, values: Iterable[int]) -> None:
        attribute = self.store.attributes[attribute_code]
        option = {
            "attribute_id": str(attribute.attribute_id),
            "label": attribute.default_frontend_label,
            "position": 0,
            "is_use_default": True,
            "values": [{"value_index": v} for v in values],
        }
        self._call(
            catalog.add_configurable_option,
            "POST",
            "/V1/configurable-products/{sku}/options",
            {"option": option},
            {"sku": parent_sku},
        )

    def link_child(self, parent_sku: str, child_sku: str) -> None:
        self._call(
            catalog.add_child,
            "POST",
            "/V1/configurable-products/{sku}/child",
            {"childSku": child_sku},
            {"sku": parent_sku},
        )

    def set_stock(self, sku: str, source_code: str, quantity: Decimal | int, status: int = 1) -> None:
        item = {"sku": sku, "source_code": source_code, "quantity": str(quantity), "status": status}
        self._call(inventory.save_source_items, "POST", "/V1/inventory/source-items", {"sourceItems": [item]})
