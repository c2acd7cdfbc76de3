"""Catalog reads and writes general-purpose clients use beside products: attribute sets, product types, link
types, product links and stock statuses.

The store has one product attribute set, ``Default`` (id 4, entity type 4, the set a 2.4 install creates),
holding every product attribute the store knows. Product links are the ``product_links`` of the product
(``ProductLinkManagement``, ``ProductLinkRepository``): link types ``related`` (1), ``upsell`` (4),
``crosssell`` (5) and ``associated`` (3, grouped products).
"""

from __future__ import annotations

from typing import Any

from .catalog import INVENTORY, PRODUCTS, render_attribute, render_stock_item, require_product
from .errors import MagentoError, internal_error, no_such_entity, not_found
from .model import Product, StockItem, sku_key
from .routing import Call, route
from .search import Collection, parse_search_criteria, search
from .values import json_number, now_text, to_int

CATALOG = "Magento_Catalog::catalog"
SETS = "Magento_Catalog::sets"

DEFAULT_SET = {"attribute_set_id": 4, "attribute_set_name": "Default", "sort_order": 2, "entity_type_id": 4}
SET_COLLECTION = Collection(
    frozenset(DEFAULT_SET), frozenset({"attribute_set_id", "sort_order", "entity_type_id"}), ()
)
LINK_TYPES = {"related": 1, "crosssell": 5, "upsell": 4, "associated": 3}
PRODUCT_TYPES = (
    ("simple", "Simple Product"),
    ("virtual", "Virtual Product"),
    ("bundle", "Bundle Product"),
    ("downloadable", "Downloadable Product"),
    ("configurable", "Configurable Product"),
    ("grouped", "Grouped Product"),
)


# ---------------------------------------------------------------- attribute sets


@route("GET", "/V1/products/attribute-sets/sets/list", SETS)
def list_attribute_sets(call: Call) -> Any:
    criteria = parse_search_criteria(call.query, call.limits)
    found, total = search([DEFAULT_SET], lambda s: s, criteria, SET_COLLECTION, on_unknown=_no_column)
    return {"items": [dict(s) for s in found], "search_criteria": criteria.echo(), "total_count": total}


def _no_column(name: str) -> MagentoError:
    return internal_error()  # an SQL "Column not found", masked


def _attribute_set(raw_id: str) -> dict[str, Any]:
    if to_int(raw_id) != DEFAULT_SET["attribute_set_id"]:
        raise no_such_entity("id", raw_id)
    return dict(DEFAULT_SET)


@route("GET", "/V1/products/attribute-sets/{attributeSetId}", SETS)
def get_attribute_set(call: Call) -> Any:
    return _attribute_set(call.param("attributeSetId"))


@route("GET", "/V1/products/attribute-sets/{attributeSetId}/attributes", SETS)
def list_set_attributes(call: Call) -> Any:
    _attribute_set(call.param("attributeSetId"))
    attributes = sorted(call.store.attributes.values(), key=lambda a: a.attribute_id)
    return [render_attribute(a, call.scope.store_id) for a in attributes]


# ---------------------------------------------------------------- types


@route("GET", "/V1/products/types", PRODUCTS)
def product_types(call: Call) -> Any:
    return [{"name": name, "label": label} for name, label in PRODUCT_TYPES]


@route("GET", "/V1/products/links/types", PRODUCTS)
def link_types(call: Call) -> Any:
    return [{"code": code, "name": name} for name, code in LINK_TYPES.items()]


# ---------------------------------------------------------------- product links


def _link_type(name: str) -> str:
    if name not in LINK_TYPES:
        raise not_found('The "%1" link type is unknown. Verify the type and try again.', [name])
    return name


def render_link(product: Product, link: dict[str, Any], position: int) -> dict[str, Any]:
    return {
        "sku": product.sku,
        "link_type": link.get("link_type"),
        "linked_product_sku": link.get("linked_product_sku"),
        "linked_product_type": link.get("linked_product_type") or "simple",
        "position": to_int(link.get("position"), position),
    }


@route("GET", "/V1/products/{sku}/links/{type}", CATALOG)
def linked_items(call: Call) -> Any:
    product = require_product(call.store, call.param("sku"))
    kind = _link_type(call.param("type"))
    links = [link for link in product.product_links if link.get("link_type") == kind]
    return [render_link(product, link, i) for i, link in enumerate(links)]


@route("POST", "/V1/products/{sku}/links", CATALOG)
def set_links(call: Call) -> Any:
    store = call.store
    product = require_product(store, call.param("sku"))
    added: list[dict[str, Any]] = []
    for raw in call.body["items"]:
        kind = _link_type(str(raw.get("link_type") or ""))
        linked = require_product(store, str(raw.get("linked_product_sku") or ""))
        added.append(
            {
                "sku": product.sku,
                "link_type": kind,
                "linked_product_sku": linked.sku,
                "linked_product_type": linked.type_id,
                "position": to_int(raw.get("position"), 0),
            }
        )
    keys = {(a["link_type"], sku_key(a["linked_product_sku"])) for a in added}
    kept = [
        link
        for link in product.product_links
        if (link.get("link_type"), sku_key(str(link.get("linked_product_sku")))) not in keys
    ]
    product.product_links = kept + added
    product.updated_at = now_text()
    return True


@route("DELETE", "/V1/products/{sku}/links/{type}/{linkedProductSku}", CATALOG)
def delete_link(call: Call) -> Any:
    product = require_product(call.store, call.param("sku"))
    kind, linked = call.param("type"), call.param("linkedProductSku")
    kept = [
        link
        for link in product.product_links
        if not (
            link.get("link_type") == kind and sku_key(str(link.get("linked_product_sku"))) == sku_key(linked)
        )
    ]
    if len(kept) == len(product.product_links):
        raise not_found("Product %1 doesn't have linked %2 as %3", [product.sku, linked, kind])
    product.product_links = kept
    product.updated_at = now_text()
    return True


# ---------------------------------------------------------------- stock status


@route("GET", "/V1/stockStatuses/{productSku}", INVENTORY)
def stock_status(call: Call) -> Any:
    sku = call.param("productSku")
    product = call.store.product_by_sku(sku)
    if product is None:
        raise not_found('The Product with the "%1" SKU doesn\'t exist.', [sku])
    stock = product.stock_item or StockItem()
    return {
        "product_id": product.id,
        "stock_id": 1,
        "qty": json_number(stock.qty),
        "stock_status": 1 if stock.is_in_stock else 0,
        "stock_item": render_stock_item(product),
    }
