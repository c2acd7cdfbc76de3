"""``store.web_team`` and ``store.warehouse``: the store changing behind the sync, as a running shop's
does. The web team edits in the admin (names, prices, status, a sale ended, a product deleted, a child
unlinked from its configurable, a category link removed); the warehouse ships orders, and MSI deducts
the shipped quantity from the source (status out of stock at zero, as MSI's source deduction does).

Every change goes through the REST handlers' own code (as ``store.catalog`` seeding does), so the store
is left exactly as those admin and MSI actions would leave it. Usable from tests, the demo and the
chaos harness; the sandbox stays independent of the product's code.
"""

from __future__ import annotations

from decimal import Decimal

from . import catalog, categories, inventory, prices
from .seeding import CatalogHelper


class WebTeam:
    """Admin edits of the catalogue."""

    def __init__(self, helper: CatalogHelper) -> None:
        self._helper = helper
        self.store = helper.store

    def _update(self, sku: str, product: dict[str, object]) -> None:
        self._helper._call(
            catalog.update_product,
            "PUT",
            "/V1/products/{sku}",
            {"product": {"sku": sku, **product}},
            {"sku": sku},
        )

    def rename(self, sku: str, name: str) -> None:
        self._update(sku, {"name": name})

    def set_url_key(self, sku: str, url_key: str) -> None:
        self._update(sku, {"custom_attributes": [{"attribute_code": "url_key", "value": url_key}]})

    def disable(self, sku: str) -> None:
        self._update(sku, {"status": 2})

    def enable(self, sku: str) -> None:
        self._update(sku, {"status": 1})

    def set_price(self, sku: str, price: Decimal | int | str, store_id: int = 0) -> None:
        row = {"sku": sku, "price": str(price), "store_id": store_id}
        self._helper._call(prices.update_base_prices, "POST", "/V1/products/base-prices", {"prices": [row]})

    def end_sale(self, sku: str) -> int:
        """Delete every special price row of a SKU; returns how many there were."""
        rows = [
            {
                "sku": s.sku,
                "price": str(s.price),
                "store_id": s.store_id,
                "price_from": s.price_from,
                "price_to": s.price_to,
            }
            for s in self.store.special_prices.values()
            if s.sku.casefold() == sku.casefold()
        ]
        if rows:
            self._helper._call(
                prices.delete_special_prices, "POST", "/V1/products/special-price-delete", {"prices": rows}
            )
        return len(rows)

    def delete(self, sku: str) -> None:
        self._helper._call(catalog.delete_product, "DELETE", "/V1/products/{sku}", None, {"sku": sku})

    def unlink_child(self, parent_sku: str, child_sku: str) -> None:
        self._helper._call(
            catalog.remove_child,
            "DELETE",
            "/V1/configurable-products/{sku}/children/{childSku}",
            None,
            {"sku": parent_sku, "childSku": child_sku},
        )

    def unlink_category(self, sku: str, category_id: int) -> None:
        self._helper._call(
            categories.unassign,
            "DELETE",
            "/V1/categories/{categoryId}/products/{sku}",
            None,
            {"categoryId": str(category_id), "sku": sku},
        )


class Warehouse:
    """Shipments and counts at the MSI sources."""

    def __init__(self, helper: CatalogHelper) -> None:
        self._helper = helper
        self.store = helper.store

    def _save(self, sku: str, source_code: str, quantity: Decimal) -> None:
        item = {
            "sku": sku,
            "source_code": source_code,
            "quantity": str(quantity),
            "status": int(quantity > 0),
        }
        self._helper._call(
            inventory.save_source_items, "POST", "/V1/inventory/source-items", {"sourceItems": [item]}
        )

    def ship(self, sku: str, source_code: str, quantity: Decimal | int) -> Decimal:
        """Deduct a shipped quantity from a source (never below zero); returns what is left."""
        item = self.store.source_item(sku, source_code)
        if item is None:
            raise KeyError(f"no source item for {sku} at {source_code}")
        left = max(Decimal(0), item.quantity - Decimal(quantity))
        self._save(item.sku, item.source_code, left)
        return left

    def count(self, sku: str, source_code: str, quantity: Decimal | int) -> None:
        """A shelf count typed in the admin."""
        self._save(sku, source_code, Decimal(quantity))
