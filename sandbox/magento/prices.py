"""The efficient price API: base prices and special prices with partial success.

``BasePriceStorage`` / ``SpecialPriceStorage``: every row is validated on its own; failed rows are skipped
and reported as ``{message, parameters}`` with placeholder messages, the rest are written, and the HTTP
status stays 200 (``[]`` when all rows succeeded). Base prices accept simple, virtual and downloadable
products only (a configurable parent is an invalid SKU). Price scope is global (Magento's default), so a
base price is stored once and read back with ``store_id`` 0; special prices are kept per store id.
SKUs compare case-insensitively, as ``InvalidSkuProcessor`` does with ``strcasecmp``.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from .model import SpecialPrice, Store, special_price_key
from .routing import Call, route
from .values import json_number, now_text, to_decimal, to_int

CATALOG = "Magento_Catalog::catalog"

BASE_PRICE_TYPES = frozenset({"simple", "virtual", "downloadable"})
SPECIAL_PRICE_TYPES = frozenset({"simple", "virtual", "downloadable", "bundle"})
ROW_ID = "Row ID: SKU = %SKU, Store ID: %storeId, Price From: %priceFrom, Price To: %priceTo."


def _text(value: Any) -> str:
    """A parameter value as PHP casts it to string."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "1" if value else ""
    if isinstance(value, float | int | Decimal):
        number = to_decimal(value)
        return str(json_number(number)) if number is not None else str(value)
    return str(value)


def _valid_sku(store: Store, sku: Any, types: frozenset[str]) -> str | None:
    """The stored SKU when ``sku`` names a product of an allowed type."""
    if not sku:
        return None
    product = store.product_by_sku(str(sku))
    if product is None or product.type_id not in types:
        return None
    return product.sku


def _store_exists(store: Store, store_id: int | None) -> bool:
    return store_id is not None and (store_id == 0 or store_id in store.store_ids())


def _is_date(value: str) -> bool:
    try:
        return datetime.strptime(value, "%Y-%m-%d %H:%M:%S").strftime("%Y-%m-%d %H:%M:%S") == value
    except ValueError:
        return False


@route("POST", "/V1/products/base-prices", CATALOG)
def update_base_prices(call: Call) -> Any:
    store = call.store
    failures: list[dict[str, Any]] = []
    valid: list[tuple[str, Decimal]] = []
    for row in call.body["prices"]:
        sku = row.get("sku")
        price = to_decimal(row.get("price"))
        store_id = to_int(row.get("store_id"))
        failed = False
        stored_sku = _valid_sku(store, sku, BASE_PRICE_TYPES)
        if stored_sku is None:
            failures.append(
                {"message": "Invalid attribute %fieldName = %fieldValue.", "parameters": ["SKU", _text(sku)]}
            )
            failed = True
        if price is None or price < 0:
            failures.append(
                {
                    "message": "Invalid attribute %fieldName = %fieldValue.",
                    "parameters": ["Price", _text(row.get("price"))],
                }
            )
            failed = True
        if not _store_exists(store, store_id):
            failures.append(
                {
                    "message": "Requested store is not found. Row ID: SKU = %SKU, Store ID: %storeId.",
                    "parameters": [_text(sku), _text(row.get("store_id"))],
                }
            )
            failed = True
        if not failed and stored_sku is not None and price is not None:
            valid.append((stored_sku, price))
    now = now_text()
    for sku, price in valid:
        product = store.product_by_sku(sku)
        if product is not None:
            product.values["price"] = price
            product.updated_at = now
    return failures


@route("POST", "/V1/products/base-prices-information", CATALOG)
def get_base_prices(call: Call) -> Any:
    store = call.store
    out = []
    for sku in call.body["skus"]:
        stored = _valid_sku(store, sku, BASE_PRICE_TYPES)
        product = store.product_by_sku(stored) if stored else None
        if product is not None and product.values.get("price") is not None:
            out.append({"price": json_number(product.values["price"]), "store_id": 0, "sku": product.sku})
    return out


def _special_failures(store: Store, row: dict[str, Any]) -> tuple[list[dict[str, Any]], SpecialPrice | None]:
    sku = row.get("sku")
    store_id = to_int(row.get("store_id"))
    price = to_decimal(row.get("price"))
    price_from = row.get("price_from") or None
    price_to = row.get("price_to") or None
    tail = [_text(sku), _text(row.get("store_id")), _text(price_from), _text(price_to)]
    failures: list[dict[str, Any]] = []
    stored_sku = _valid_sku(store, sku, SPECIAL_PRICE_TYPES)
    if stored_sku is None:
        failures.append(
            {
                "message": "The product that was requested doesn't exist. Verify the product and try again. "
                + ROW_ID,
                "parameters": tail,
            }
        )
    if not _store_exists(store, store_id):
        failures.append({"message": "Requested store is not found. " + ROW_ID, "parameters": tail})
    if price is None or price < 0:
        failures.append(
            {
                "message": "Invalid attribute Price = %price. " + ROW_ID,
                "parameters": [_text(row.get("price")), *tail],
            }
        )
    for label, value in (("Price From", price_from), ("Price To", price_to)):
        if value and not _is_date(str(value)):
            failures.append(
                {"message": "Invalid attribute %label = %priceTo. " + ROW_ID, "parameters": [label, *tail]}
            )
    if failures or stored_sku is None or price is None or store_id is None:
        return failures, None
    return [], SpecialPrice(
        sku=stored_sku, store_id=store_id, price=price, price_from=price_from, price_to=price_to
    )


def _touch(store: Store, sku: str) -> None:
    product = store.product_by_sku(sku)
    if product is not None:
        product.updated_at = now_text()


@route("POST", "/V1/products/special-price", CATALOG)
def update_special_prices(call: Call) -> Any:
    store = call.store
    all_failures: list[dict[str, Any]] = []
    accepted: list[SpecialPrice] = []
    for row in call.body["prices"]:
        failures, special = _special_failures(store, row)
        all_failures.extend(failures)
        if special is not None:
            accepted.append(special)
    for special in accepted:
        store.special_prices[special_price_key(special.sku, special.store_id)] = special
        _touch(store, special.sku)
    return all_failures


@route("POST", "/V1/products/special-price-delete", CATALOG)
def delete_special_prices(call: Call) -> Any:
    store = call.store
    all_failures: list[dict[str, Any]] = []
    for row in call.body["prices"]:
        failures, special = _special_failures(store, row)
        all_failures.extend(failures)
        if special is None:
            continue
        removed = store.special_prices.pop(special_price_key(special.sku, special.store_id), None)
        if removed is not None:
            _touch(store, special.sku)
    return all_failures


@route("POST", "/V1/products/special-price-information", CATALOG)
def get_special_prices(call: Call) -> Any:
    store = call.store
    wanted = {
        s.casefold() for s in (_valid_sku(store, sku, SPECIAL_PRICE_TYPES) for sku in call.body["skus"]) if s
    }
    out = []
    for special in sorted(store.special_prices.values(), key=lambda s: (s.sku.casefold(), s.store_id)):
        if special.sku.casefold() in wanted:
            out.append(
                {
                    "price": json_number(special.price),
                    "store_id": special.store_id,
                    "sku": special.sku,
                    "price_from": special.price_from,
                    "price_to": special.price_to,
                }
            )
    return out
