"""MSI sources and source items.

``SourceItemsSaveHandler``: an empty list is "Input data is empty"; every item goes through the validator
chain (sku not empty and without surrounding spaces, source code not empty and without whitespace,
numeric quantity, known status) and one invalid item rejects the whole request with
"Validation Failed: <first error>" plus the ``errors`` list; nothing is saved. An unknown source code
fails the multi-row insert on its foreign key, so the batch fails as "Could not save Source Item".
Magento accepts unknown SKUs and negative quantities; ``strict_source_items`` rejects them too.
Saving the ``default`` source also updates the legacy stock item.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from .errors import MagentoError, bad_request, internal_error, not_found
from .model import Source, SourceItem, StockItem, Store, source_item_key
from .routing import Call, route
from .search import Collection, parse_search_criteria, search
from .values import json_number, now_text, to_bool, to_decimal, to_int

SOURCES = "Magento_InventoryApi::source"

SOURCE_ITEM_COLLECTION = Collection(
    fields=frozenset({"sku", "source_code", "quantity", "status", "source_item_id"}),
    numeric=frozenset({"quantity", "status", "source_item_id"}),
)
SOURCE_COLLECTION = Collection(
    fields=frozenset(
        {"source_code", "name", "enabled", "description", "country_id", "postcode", "latitude", "longitude"}
    ),
    numeric=frozenset({"enabled", "latitude", "longitude"}),
)


def render_source(source: Source) -> dict[str, Any]:
    out: dict[str, Any] = {
        "source_code": source.source_code,
        "name": source.name,
        "enabled": source.enabled,
        "description": source.description,
        "latitude": json_number(source.latitude) if source.latitude is not None else 0,
        "longitude": json_number(source.longitude) if source.longitude is not None else 0,
        "country_id": source.country_id,
        "postcode": source.postcode,
        **source.extra,
    }
    return {k: v for k, v in out.items() if v is not None}


def render_source_item(item: SourceItem) -> dict[str, Any]:
    return {
        "sku": item.sku,
        "source_code": item.source_code,
        "quantity": json_number(item.quantity),
        "status": item.status,
    }


def _field_error(template: str, field: str) -> dict[str, Any]:
    return {"message": template, "parameters": {"field": field}}


def _item_errors(store: Store, raw: dict[str, Any], strict: bool) -> list[dict[str, Any]]:
    errors: list[dict[str, Any]] = []
    sku = "" if raw.get("sku") is None else str(raw.get("sku"))
    if sku.strip() == "":
        errors.append(_field_error('"%field" can not be empty.', "sku"))
    elif sku != sku.strip():
        errors.append(_field_error('"%field" can not contain leading or trailing spaces.', "sku"))
    code = "" if raw.get("source_code") is None else str(raw.get("source_code"))
    if code.strip() == "":
        errors.append(_field_error('"%field" can not be empty.', "source_code"))
    elif any(ch.isspace() for ch in code):
        errors.append(_field_error('"%field" can not contain whitespaces.', "source_code"))
    quantity = to_decimal(raw.get("quantity"))
    if quantity is None:
        errors.append(_field_error('"%field" should be numeric.', "quantity"))
    status = raw.get("status")
    if to_decimal(status) is None:
        errors.append(_field_error('"%field" should be numeric.', "status"))
    elif to_int(status) not in (0, 1):
        errors.append(_field_error('"%field" should a known status.', "status"))
    if strict:
        if sku.strip() and store.product_by_sku(sku) is None:
            errors.append({"message": 'Product with SKU "%sku" does not exist.', "parameters": {"sku": sku}})
        if quantity is not None and quantity < 0:
            errors.append(_field_error('"%field" can not be negative.', "quantity"))
    return errors


def _render_phrase(message: str, parameters: dict[str, Any]) -> str:
    for key, value in parameters.items():
        message = message.replace(f"%{key}", str(value))
    return message


@route("POST", "/V1/inventory/source-items", SOURCES)
def save_source_items(call: Call) -> Any:
    store = call.store
    items = call.body["sourceItems"]
    if not items:
        raise bad_request("Input data is empty")
    errors: list[dict[str, Any]] = []
    for raw in items:
        errors.extend(_item_errors(store, raw, call.options.strict_source_items))
    if errors:
        first = errors[0]
        raise bad_request(
            "Validation Failed: " + _render_phrase(first["message"], first["parameters"]), errors=errors
        )
    if any(str(raw["source_code"]) not in store.sources for raw in items):
        raise bad_request("Could not save Source Item")
    now = now_text()
    for raw in items:
        product = store.product_by_sku(str(raw["sku"]))
        sku = product.sku if product is not None else str(raw["sku"])
        quantity = to_decimal(raw["quantity"]) or Decimal(0)
        status = to_int(raw["status"], 0) or 0
        item = SourceItem(sku=sku, source_code=str(raw["source_code"]), quantity=quantity, status=status)
        store.source_items[source_item_key(item.source_code, sku)] = item
        if product is not None:
            if item.source_code == "default" and product.type_id in ("simple", "virtual", "downloadable"):
                stock = product.stock_item or StockItem()
                stock.qty = quantity
                stock.is_in_stock = status == 1
                product.stock_item = stock
            product.updated_at = now
    return []


@route("POST", "/V1/inventory/source-items-delete", SOURCES)
def delete_source_items(call: Call) -> Any:
    store = call.store
    items = call.body["sourceItems"]
    if not items:
        raise bad_request("Input data is empty")
    for raw in items:
        store.source_items.pop(source_item_key(str(raw.get("source_code")), str(raw.get("sku"))), None)
    return []


@route("GET", "/V1/inventory/source-items", SOURCES)
def list_source_items(call: Call) -> Any:
    criteria = parse_search_criteria(call.query, call.limits)
    items, total = search(
        list(call.store.source_items.values()),
        lambda i: {"sku": i.sku, "source_code": i.source_code, "quantity": i.quantity, "status": i.status},
        criteria,
        SOURCE_ITEM_COLLECTION,
        on_unknown=_unknown_column,
    )
    return {
        "items": [render_source_item(i) for i in items],
        "search_criteria": criteria.echo(),
        "total_count": total,
    }


def _unknown_column(name: str) -> MagentoError:
    return internal_error()


@route("GET", "/V1/inventory/sources", SOURCES)
def list_sources(call: Call) -> Any:
    criteria = parse_search_criteria(call.query, call.limits, required=False)
    sources, total = search(
        list(call.store.sources.values()),
        lambda s: s.model_dump(),
        criteria,
        SOURCE_COLLECTION,
        on_unknown=_unknown_column,
    )
    return {
        "items": [render_source(s) for s in sources],
        "search_criteria": criteria.echo(),
        "total_count": total,
    }


@route("GET", "/V1/inventory/sources/{sourceCode}", SOURCES)
def get_source(call: Call) -> Any:
    code = call.param("sourceCode")
    source = call.store.sources.get(code)
    if source is None:
        raise not_found('Source with code "%value" does not exist.', {"value": code})
    return render_source(source)


def _save_source(store: Store, raw: dict[str, Any], code: str | None = None) -> None:
    code = code or str(raw.get("source_code") or "")
    errors = []
    for field in ("name", "postcode", "country_id"):
        if not str(raw.get(field) or "").strip() and not (code in store.sources and field not in raw):
            errors.append({"message": '"%field" can not be empty.', "parameters": {"field": field}})
    if not code.strip():
        errors.insert(0, {"message": '"%field" can not be empty.', "parameters": {"field": "source_code"}})
    elif any(ch.isspace() for ch in code):
        errors.insert(
            0, {"message": '"%field" can not contain whitespaces.', "parameters": {"field": "source_code"}}
        )
    if errors:
        raise bad_request("Validation Failed", errors=errors)
    existing = store.sources.get(code)
    known = {
        "source_code",
        "name",
        "enabled",
        "description",
        "latitude",
        "longitude",
        "country_id",
        "postcode",
    }
    source = existing.model_copy(deep=True) if existing else Source(source_code=code, name=str(raw["name"]))
    if raw.get("name") is not None:
        source.name = str(raw["name"])
    if raw.get("enabled") is not None:
        source.enabled = to_bool(raw["enabled"])
    if raw.get("description") is not None:
        source.description = str(raw["description"])
    for coord in ("latitude", "longitude"):
        if raw.get(coord) is not None:
            setattr(source, coord, to_decimal(raw[coord]))
    if raw.get("country_id") is not None:
        source.country_id = str(raw["country_id"])
    if raw.get("postcode") is not None:
        source.postcode = str(raw["postcode"])
    source.extra.update({k: v for k, v in raw.items() if k not in known and k != "extension_attributes"})
    store.sources[code] = source


@route("POST", "/V1/inventory/sources", SOURCES)
def create_source(call: Call) -> Any:
    _save_source(call.store, call.body["source"])
    return []


@route("PUT", "/V1/inventory/sources/{sourceCode}", SOURCES)
def update_source(call: Call) -> Any:
    code = call.param("sourceCode")
    if code not in call.store.sources:
        raise not_found('Source with code "%value" does not exist.', {"value": code})
    _save_source(call.store, call.body["source"], code)
    return []
