"""Products, attribute options, configurable products, media gallery and legacy stock items.

Behaviour follows ``ProductRepository`` (upsert by SKU, case-insensitive SKUs, url_key generated from the
name and unique per store, store-view overrides for scoped attributes), ``OptionManagement``
(duplicate admin labels refused, new option id returned as a string, an empty first option in lists),
the configurable ``OptionRepository``/``LinkManagement`` (one child per call, child must carry every
option attribute), ``GalleryManagement``/``ImageContentValidator`` (base64, MIME must match the bytes,
jpg/jpeg/gif/png only, entry ids as strings, PUT replaces the entry with a new id) and the legacy
``StockRegistry`` kept in step with the ``default`` MSI source.
"""

from __future__ import annotations

import base64
import binascii
import dataclasses
import hashlib
import re
import unicodedata
from decimal import Decimal
from typing import Any

from .errors import (
    MagentoError,
    bad_request,
    not_found,
    product_not_found,
)
from .model import (
    SCOPED_ATTRIBUTES,
    TOP_LEVEL_ATTRIBUTES,
    AttributeOption,
    CategoryLink,
    ConfigurableOption,
    MediaEntry,
    Product,
    SourceItem,
    SpecialPrice,
    StockItem,
    Store,
    source_item_key,
    special_price_key,
)
from .routing import Call, route
from .search import Collection, Filter, parse_search_criteria, search
from .values import eav_text, json_number, now_text, to_bool, to_decimal, to_int

PRODUCTS = "Magento_Catalog::products"
ATTRIBUTES = "Magento_Catalog::attributes_attributes"
INVENTORY = "Magento_CatalogInventory::cataloginventory"

PRICED_TYPES = frozenset({"simple", "virtual", "downloadable"})
IMAGE_ROLES = ("image", "small_image", "thumbnail", "swatch_image")
ATTRIBUTE_LABELS = {"sku": "SKU", "name": "Product Name", "price": "Price"}
MIME_BY_MAGIC = (
    (b"\xff\xd8\xff", "image/jpeg"),
    (b"\x89PNG\r\n\x1a\n", "image/png"),
    (b"GIF87a", "image/gif"),
    (b"GIF89a", "image/gif"),
)
ALLOWED_MIME = frozenset({"image/jpg", "image/jpeg", "image/gif", "image/png"})
EXTENSION_BY_MIME = {"image/jpeg": "jpg", "image/jpg": "jpg", "image/png": "png", "image/gif": "gif"}
FORBIDDEN_NAME = re.compile(r'[\\/?*:";<>()|{}]')
URL_KEY_TAKEN = "URL key for specified store already exists."
UNABLE_TO_SAVE = "The product was unable to be saved. Please try again."

PRODUCT_COLLECTION = Collection(
    fields=frozenset(),
    numeric=frozenset(
        {
            "id",
            "entity_id",
            "price",
            "status",
            "visibility",
            "attribute_set_id",
            "weight",
            "category_id",
            "website_id",
            "special_price",
            "cost",
            "color",
            "size",
        }
    ),
    default_sort=("entity_id",),
    open_fields=True,
)

# fmt: off
DEFAULT_PRODUCT_ATTRIBUTES = frozenset(
    {
        "entity_id", "attribute_set_id", "type_id", "sku", "has_options", "required_options", "created_at",
        "updated_at", "name", "description", "short_description", "price", "special_price",
        "special_from_date", "special_to_date", "cost", "weight", "manufacturer", "meta_title",
        "meta_keyword", "meta_description", "image", "small_image", "thumbnail", "media_gallery", "old_id",
        "tier_price", "color", "news_from_date", "news_to_date", "gallery", "status", "minimal_price",
        "visibility", "custom_design", "custom_design_from", "custom_design_to", "custom_layout_update",
        "custom_layout_update_file", "page_layout", "category_ids", "options_container", "image_label",
        "small_image_label", "thumbnail_label", "country_of_manufacture", "quantity_and_stock_status",
        "custom_layout", "msrp", "msrp_display_actual_price_type", "tax_class_id", "gift_message_available",
        "url_key", "url_path", "swatch_image", "product_has_weight", "links_purchased_separately",
        "samples_title", "links_title", "links_exist", "shipment_type", "sku_type", "weight_type",
        "price_type", "price_view",
    }
)
# fmt: on
"""catalog_product_entity's static columns and the attributes a 2.4 install defines for products."""
PRODUCT_FILTER_FIELDS = frozenset({"category_id", "store_id", "website_id", "id"})
"""Fields ``ProductRepository``'s collection processor handles itself rather than as attributes."""


# ---------------------------------------------------------------- helpers


def empty_attribute(code: str) -> MagentoError:
    return bad_request(
        'The "%1" attribute value is empty. Set the attribute and try again.',
        [ATTRIBUTE_LABELS.get(code, code)],
    )


def format_url_key(text: str) -> str:
    """``Product::formatUrlKey``: transliterate, lower-case, non-alphanumerics to single dashes."""
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    return re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")


def require_product(store: Store, sku: str) -> Product:
    product = store.product_by_sku(sku)
    if product is None:
        raise product_not_found()
    return product


def _stored_value(code: str, value: Any) -> Any:
    if value is None:
        return None
    if code in ("price", "weight", "special_price", "cost", "msrp"):
        return to_decimal(value)
    if code in ("status", "visibility"):
        return to_int(value)
    if isinstance(value, list):
        return [str(v) for v in value]
    if isinstance(value, bool):
        return "1" if value else "0"
    return str(value)


# ---------------------------------------------------------------- rendering


def render_stock_item(product: Product) -> dict[str, Any]:
    stock = product.stock_item or StockItem()
    return {
        "item_id": product.id,
        "product_id": product.id,
        "stock_id": 1,
        "qty": json_number(stock.qty),
        "is_in_stock": stock.is_in_stock,
        "is_qty_decimal": False,
        "show_default_notification_message": False,
        "use_config_min_qty": True,
        "min_qty": 0,
        "use_config_min_sale_qty": 1,
        "min_sale_qty": 1,
        "use_config_max_sale_qty": True,
        "max_sale_qty": 10000,
        "use_config_backorders": True,
        "backorders": 0,
        "use_config_notify_stock_qty": True,
        "notify_stock_qty": 1,
        "use_config_qty_increments": True,
        "qty_increments": 0,
        "use_config_enable_qty_inc": True,
        "enable_qty_increments": False,
        "use_config_manage_stock": True,
        "manage_stock": stock.manage_stock,
        "low_stock_date": stock.low_stock_date,
        "is_decimal_divided": False,
        "stock_status_changed_auto": 0,
    }


def render_media(entry: MediaEntry) -> dict[str, Any]:
    out: dict[str, Any] = {
        "id": entry.id,
        "media_type": entry.media_type,
        "label": entry.label,
        "position": entry.position,
        "disabled": entry.disabled,
        "types": list(entry.types),
        "file": entry.file,
    }
    return {k: v for k, v in out.items() if v is not None}


def render_configurable_option(product: Product, option: ConfigurableOption) -> dict[str, Any]:
    return {
        "id": option.id,
        "attribute_id": str(option.attribute_id),
        "label": option.label,
        "position": option.position,
        "values": [{"value_index": v} for v in option.values],
        "product_id": product.id,
    }


def custom_attributes(store: Store, product: Product, store_id: int) -> list[dict[str, Any]]:
    values = product.values_at(store_id)
    sp = store.special_prices
    custom: dict[str, Any] = {}
    for code, value in values.items():
        if code in TOP_LEVEL_ATTRIBUTES or value is None:
            continue
        custom[code] = eav_text(value)
    special = sp.get(f"{store_id}\x1f{product.sku.casefold()}") or sp.get(f"0\x1f{product.sku.casefold()}")
    if special is not None:
        custom["special_price"] = eav_text(special.price)
        if special.price_from:
            custom["special_from_date"] = special.price_from
        if special.price_to:
            custom["special_to_date"] = special.price_to
    for entry in sorted(product.media, key=lambda m: (m.position, m.id)):
        for role in entry.types:
            custom[role] = entry.file
    if product.category_links:
        custom["category_ids"] = [str(link.category_id) for link in product.category_links]
    composite = product.type_id == "configurable"
    custom.setdefault("options_container", "container2")
    custom.setdefault("tax_class_id", "2")
    custom.setdefault("has_options", "1" if composite else "0")
    custom.setdefault("required_options", "1" if composite else "0")
    return [{"attribute_code": code, "value": value} for code, value in custom.items()]


def render_product(store: Store, product: Product, store_id: int, *, detail: bool = True) -> dict[str, Any]:
    """A product as ``GET /V1/products/{sku}`` shows it in the given store (``detail``) or in a list."""
    values = product.values_at(store_id)
    price = values.get("price")
    out: dict[str, Any] = {
        "id": product.id,
        "sku": product.sku,
        "name": values.get("name"),
        "attribute_set_id": product.attribute_set_id,
        "price": json_number(price) if price is not None else 0,
        "status": values.get("status", 1),
        "visibility": values.get("visibility", 4),
        "type_id": product.type_id,
        "created_at": product.created_at,
        "updated_at": product.updated_at,
    }
    if values.get("weight") is not None:
        out["weight"] = json_number(values["weight"])
    extension: dict[str, Any] = {
        "website_ids": list(product.website_ids),
        "category_links": [
            {"position": link.position, "category_id": str(link.category_id)}
            for link in product.category_links
        ],
    }
    if detail:
        extension["stock_item"] = render_stock_item(product)
    if product.type_id == "configurable":
        extension["configurable_product_options"] = [
            render_configurable_option(product, o) for o in product.configurable_options
        ]
        extension["configurable_product_links"] = list(product.configurable_links)
    out["extension_attributes"] = extension
    out["product_links"] = list(product.product_links)
    out["options"] = list(product.options)
    out["media_gallery_entries"] = [
        render_media(m) for m in sorted(product.media, key=lambda m: (m.position, m.id))
    ]
    out["tier_prices"] = list(product.tier_prices)
    out["custom_attributes"] = custom_attributes(store, product, store_id)
    return {k: v for k, v in out.items() if v is not None}


def product_row(store: Store, product: Product, store_id: int) -> dict[str, Any]:
    """The flat row a product collection filters and sorts on."""
    values = product.values_at(store_id)
    row: dict[str, Any] = dict(values)
    row.update(
        {
            "id": product.id,
            "entity_id": product.id,
            "sku": product.sku,
            "type_id": product.type_id,
            "attribute_set_id": product.attribute_set_id,
            "created_at": product.created_at,
            "updated_at": product.updated_at,
            "category_id": [link.category_id for link in product.category_links],
            "website_id": list(product.website_ids),
        }
    )
    row.setdefault("status", 1)
    row.setdefault("visibility", 4)
    return row


# ---------------------------------------------------------------- images


def decode_image(content: dict[str, Any] | None) -> tuple[bytes, str, str]:
    """Validate ``ImageContentInterface`` data; return (bytes, mime, file name with extension)."""
    if not content or not content.get("base64_encoded_data"):
        raise bad_request("The image content is invalid. Verify the content and try again.")
    raw = re.sub(r"\s+", "", str(content["base64_encoded_data"]))
    try:
        data = base64.b64decode(raw, validate=True)
    except (binascii.Error, ValueError):
        raise bad_request("The image content must be valid base64 encoded data.") from None
    detected = next((mime for magic, mime in MIME_BY_MAGIC if data.startswith(magic)), None)
    if detected is None:
        raise bad_request("The image content must be valid base64 encoded data.")
    declared = str(content.get("type") or "")
    if detected != declared or declared not in ALLOWED_MIME:
        raise bad_request("The image MIME type is not valid or not supported.")
    name = str(content.get("name") or "")
    if not name or FORBIDDEN_NAME.search(name):
        raise bad_request("Provided image name contains forbidden characters.")
    name = re.sub(r"[^a-zA-Z0-9_.\-]+", "_", name)
    if "." not in name.strip("."):
        name = f"{name}.{EXTENSION_BY_MIME[declared]}"
    return data, declared, name


def new_media_entry(store: Store, entry: dict[str, Any]) -> MediaEntry:
    data, mime, name = decode_image(entry.get("content"))
    types = [str(t) for t in entry.get("types") or []]
    return MediaEntry(
        id=store.next_id("media"),
        media_type=str(entry.get("media_type") or "image"),
        label=entry.get("label"),
        position=to_int(entry.get("position"), 0) or 0,
        disabled=to_bool(entry.get("disabled")),
        types=types,
        file=store.claim_media_file(name),
        mime=mime,
        sha256=hashlib.sha256(data).hexdigest(),
        size=len(data),
    )


def give_roles(media: list[MediaEntry], holder: MediaEntry) -> None:
    """Each role (image, small_image, thumbnail, ...) belongs to one entry: the latest one to claim it."""
    for other in media:
        if other is not holder:
            other.types = [t for t in other.types if t not in holder.types]


# ---------------------------------------------------------------- product save


def _set_value(product: Product, code: str, value: Any, store_id: int, creating: bool) -> None:
    stored = _stored_value(code, value)
    if code in SCOPED_ATTRIBUTES and store_id:
        product.store_values.setdefault(store_id, {})[code] = stored
        if not creating:
            return
    product.values[code] = stored


def _apply_category_links(store: Store, product: Product, links: list[dict[str, Any]]) -> None:
    if not links:
        product.category_links = []
        return
    current = {link.category_id: link for link in product.category_links}
    for link in links:
        category_id = to_int(link.get("category_id"))
        if category_id is None or category_id not in store.categories:
            raise bad_request(UNABLE_TO_SAVE)
        position = to_int(link.get("position"), 0) or 0
        if category_id in current:
            current[category_id].position = position
        else:
            current[category_id] = CategoryLink(category_id=category_id, position=position)
    product.category_links = list(current.values())


def _apply_stock(store: Store, product: Product, stock: dict[str, Any]) -> None:
    item = product.stock_item or StockItem()
    if stock.get("qty") is not None:
        item.qty = to_decimal(stock["qty"]) or Decimal(0)
    if stock.get("is_in_stock") is not None:
        item.is_in_stock = to_bool(stock["is_in_stock"])
    if stock.get("manage_stock") is not None:
        item.manage_stock = to_bool(stock["manage_stock"])
    product.stock_item = item


def sync_default_source(store: Store, product: Product) -> None:
    """MSI's legacy-stock plugin: the legacy stock item mirrors the ``default`` source item."""
    if product.type_id not in PRICED_TYPES or product.stock_item is None:
        return
    stock = product.stock_item
    store.source_items[source_item_key("default", product.sku)] = SourceItem(
        sku=product.sku, source_code="default", quantity=stock.qty, status=1 if stock.is_in_stock else 0
    )


def _apply_configurable(store: Store, product: Product, ext: dict[str, Any]) -> None:
    if ext.get("configurable_product_options") is not None:
        options = []
        for raw in ext["configurable_product_options"]:
            attribute_id = to_int(raw.get("attribute_id"))
            if attribute_id is None:
                raise bad_request("Option attribute ID is not specified.")
            existing = next((o for o in product.configurable_options if o.attribute_id == attribute_id), None)
            options.append(
                ConfigurableOption(
                    id=existing.id if existing else store.next_id("configurable_option"),
                    attribute_id=attribute_id,
                    label=str(raw.get("label") or _attribute_label(store, attribute_id)),
                    position=to_int(raw.get("position"), 0) or 0,
                    is_use_default=to_bool(raw.get("is_use_default"), True),
                    values=[
                        v
                        for v in (to_int(x.get("value_index")) for x in raw.get("values") or [])
                        if v is not None
                    ],
                )
            )
        product.configurable_options = options
    if ext.get("configurable_product_links") is not None:
        links = [to_int(x) for x in ext["configurable_product_links"]]
        if any(i is None or i not in store.products for i in links):
            raise bad_request(UNABLE_TO_SAVE)
        children = [store.products[i] for i in links if i is not None]
        _check_distinct_combinations(store, product, children)
        product.configurable_links = [c.id for c in children]


def _attribute_label(store: Store, attribute_id: int) -> str:
    for attribute in store.attributes.values():
        if attribute.attribute_id == attribute_id:
            return attribute.default_frontend_label
    return ""


def _attribute_code(store: Store, attribute_id: int) -> str | None:
    for attribute in store.attributes.values():
        if attribute.attribute_id == attribute_id:
            return attribute.attribute_code
    return None


def _check_distinct_combinations(store: Store, parent: Product, children: list[Product]) -> None:
    codes = [
        _attribute_code(store, o.attribute_id) or str(o.attribute_id) for o in parent.configurable_options
    ]
    seen: dict[tuple[Any, ...], str] = {}
    for child in children:
        combo = tuple(child.values.get(code) for code in codes)
        if combo in seen and any(v is not None for v in combo):
            raise bad_request(
                'Products "%1" and "%2" have the same set of attribute values.', [seen[combo], child.sku]
            )
        seen[combo] = child.sku


def _apply_media(store: Store, product: Product, entries: list[dict[str, Any]]) -> None:
    """``media_gallery_entries`` replaces the gallery: entries not sent are removed."""
    by_id = {m.id: m for m in product.media}
    result: list[MediaEntry] = []
    for raw in entries:
        entry_id = to_int(raw.get("id"))
        if entry_id is not None and entry_id in by_id:
            entry = by_id[entry_id].model_copy(deep=True)
            if raw.get("label") is not None:
                entry.label = raw["label"]
            if raw.get("position") is not None:
                entry.position = to_int(raw["position"], 0) or 0
            if raw.get("disabled") is not None:
                entry.disabled = to_bool(raw["disabled"])
            if raw.get("types") is not None:
                entry.types = [str(t) for t in raw["types"]]
        else:
            entry = new_media_entry(store, raw)
        result.append(entry)
        give_roles(result, entry)
    product.media = result


def save_product(call: Call, data: dict[str, Any], path_sku: str | None = None) -> Product:
    """``ProductRepository::save``: create or update by SKU, validate, then commit atomically."""
    store = call.store
    store_id = call.scope.store_id
    sku = data.get("sku") if data.get("sku") not in (None, "") else path_sku
    if sku is None or str(sku).strip() == "":
        raise empty_attribute("sku")
    sku = str(sku)
    existing = store.product_by_sku(sku)
    creating = existing is None
    now = now_text()
    if existing is not None:
        product = existing.model_copy(deep=True)
    else:
        product = Product(id=0, sku=sku, created_at=now, updated_at=now)
        product.type_id = str(data.get("type_id") or "simple")
    if data.get("type_id") and not creating:
        product.type_id = str(data["type_id"])
    if data.get("attribute_set_id") is not None:
        product.attribute_set_id = to_int(data["attribute_set_id"], 4) or 4
    for code in TOP_LEVEL_ATTRIBUTES:
        if code in data and data[code] is not None:
            _set_value(product, code, data[code], store_id, creating)
    special: dict[str, Any] = {}
    roles: dict[str, Any] = {}
    for attribute in data.get("custom_attributes") or []:
        code = str(attribute.get("attribute_code") or "")
        value = attribute.get("value")
        if not code:
            continue
        if code == "category_ids":
            ids = value if isinstance(value, list) else str(value or "").split(",")
            _apply_category_links(store, product, [{"category_id": i} for i in ids if str(i).strip()])
            continue
        if code in ("special_price", "special_from_date", "special_to_date"):
            special[code] = value  # kept by the special price storage
            continue
        if code in IMAGE_ROLES:
            roles[code] = value  # a role points at a gallery file
            continue
        _set_value(product, code, value, store_id, creating)
    if creating:
        if not product.values.get("name"):
            raise empty_attribute("name")
        if product.type_id in PRICED_TYPES and product.values.get("price") is None:
            raise empty_attribute("price")
        product.values.setdefault("status", 1)
        product.values.setdefault("visibility", 4)
    price = product.values.get("price")
    if price is not None and price < 0:
        raise bad_request("Please enter a number 0 or greater in this field.")
    # url_key: formatted when sent, generated from the name when missing (ProductUrlKeyAutogenerator)
    if product.values.get("url_key"):
        product.values["url_key"] = format_url_key(str(product.values["url_key"]))
    for overrides in product.store_values.values():
        if overrides.get("url_key"):
            overrides["url_key"] = format_url_key(str(overrides["url_key"]))
    if not product.values.get("url_key"):
        product.values["url_key"] = format_url_key(str(product.values.get("name") or "")) or format_url_key(
            sku
        )
    ext = data.get("extension_attributes") or {}
    if ext.get("website_ids") is not None:
        product.website_ids = [i for i in (to_int(x) for x in ext["website_ids"]) if i is not None]
    if ext.get("category_links") is not None:
        _apply_category_links(store, product, ext["category_links"])
    if ext.get("stock_item") is not None:
        _apply_stock(store, product, ext["stock_item"])
    if product.type_id == "configurable":
        _apply_configurable(store, product, ext)
    if data.get("media_gallery_entries") is not None:
        _apply_media(store, product, data["media_gallery_entries"])
    for role, file in roles.items():
        for entry in product.media:
            if role in entry.types and entry.file != file:
                entry.types = [t for t in entry.types if t != role]
            elif entry.file == file and role not in entry.types:
                entry.types.append(role)
    for key in ("product_links", "options", "tier_prices"):
        if data.get(key) is not None:
            setattr(product, key, list(data[key]))
    paths = store.product_request_paths(product)
    if store.url_conflict("product", product.id, paths):
        raise bad_request(URL_KEY_TAKEN)
    if creating:
        product.id = store.next_id("product")
    product.updated_at = now
    store.put_product(product)
    store.index_urls("product", product.id, paths)
    if ext.get("stock_item") is not None:
        sync_default_source(store, product)
    if special:
        _apply_special_attributes(store, product, special)
    return product


def _apply_special_attributes(store: Store, product: Product, special: dict[str, Any]) -> None:
    """``special_price`` and its dates sent as custom attributes land in the global special price."""
    key = special_price_key(product.sku, 0)
    current = store.special_prices.get(key)
    if "special_price" in special and to_decimal(special["special_price"]) is None:
        store.special_prices.pop(key, None)
        return
    price = to_decimal(special.get("special_price")) if "special_price" in special else None
    if price is None and current is None:
        return
    record = current.model_copy() if current else SpecialPrice(sku=product.sku, store_id=0, price=price or 0)
    if price is not None:
        record.price = price
    for code, field in (("special_from_date", "price_from"), ("special_to_date", "price_to")):
        if code in special:
            setattr(record, field, str(special[code]) if special[code] else None)
    store.special_prices[key] = record


# ---------------------------------------------------------------- product routes


@route("POST", "/V1/products", PRODUCTS)
def create_product(call: Call) -> Any:
    product = save_product(call, call.body["product"])
    return render_product(call.store, product, call.scope.store_id)


@route("PUT", "/V1/products/{sku}", PRODUCTS)
def update_product(call: Call) -> Any:
    product = save_product(call, call.body["product"], call.param("sku"))
    return render_product(call.store, product, call.scope.store_id)


@route("GET", "/V1/products/{sku}", PRODUCTS)
def get_product(call: Call) -> Any:
    product = require_product(call.store, call.param("sku"))
    store_id = to_int(call.query.get("storeId"), call.scope.store_id)
    return render_product(call.store, product, store_id if store_id is not None else call.scope.store_id)


@route("DELETE", "/V1/products/{sku}", PRODUCTS)
def delete_product(call: Call) -> Any:
    store = call.store
    product = require_product(store, call.param("sku"))
    store.remove_product(product)
    store.index_urls("product", product.id, set())
    for parent in store.products.values():
        if product.id in parent.configurable_links:
            parent.configurable_links = [i for i in parent.configurable_links if i != product.id]
    key = product.sku.casefold()
    for k in [k for k, item in store.source_items.items() if item.sku.casefold() == key]:
        del store.source_items[k]
    for k in [k for k, sp in store.special_prices.items() if sp.sku.casefold() == key]:
        del store.special_prices[k]
    return True


PRODUCT_ID_FIELDS = frozenset({"entity_id", "id"})
"""Products are kept in the order they were created, which is ascending id order."""


def _indexed_products(store: Store, group: list[Filter]) -> list[Product] | None:
    """The products an OR group of ``sku``/id ``eq``/``in`` filters can match, from the store's indexes.

    None for any other group. Products come back in id order, the order of ``store.products``.
    """
    found: dict[int, Product] = {}
    for flt in group:
        if flt.condition_type == "eq":
            values = [flt.value or ""]
        elif flt.condition_type == "in":
            values = [v.strip() for v in (flt.value or "").split(",")]
        else:
            return None
        for value in values:
            if flt.field == "sku":
                product = store.product_by_sku(value)
            elif flt.field in PRODUCT_ID_FIELDS:
                number = to_decimal(value)
                if number is None:
                    number = Decimal(0)  # MySQL casts a non-numeric literal to 0
                product = store.products.get(int(number)) if number == number.to_integral_value() else None
            else:
                return None
            if product is not None:
                found[product.id] = product
    return [found[i] for i in sorted(found)]


def is_product_field(store: Store, name: str) -> bool:
    """Whether the product collection can filter on ``name``: an attribute of the store or a special field."""
    return name in DEFAULT_PRODUCT_ATTRIBUTES or name in PRODUCT_FILTER_FIELDS or name in store.attributes


def invalid_attribute(name: str) -> MagentoError:
    """Eav ``AbstractCollection`` on a filter by an attribute that does not exist."""
    return bad_request("Invalid attribute name: %1", [name])


@route("GET", "/V1/products", PRODUCTS)
def list_products(call: Call) -> Any:
    criteria = parse_search_criteria(call.query, call.limits)
    store, store_id = call.store, call.scope.store_id
    for group in criteria.filter_groups:
        for flt in group:
            if not is_product_field(store, flt.field):
                raise invalid_attribute(flt.field)
    # Eav AbstractCollection::addAttributeToSort skips an attribute it does not know
    known_sorts = [(name, d) for name, d in criteria.sort_orders if is_product_field(store, name)]
    items, total = search(
        store.products.values(),
        lambda p: product_row(store, p, store_id),
        dataclasses.replace(criteria, sort_orders=known_sorts),
        PRODUCT_COLLECTION,
        on_unknown=invalid_attribute,
        narrow=lambda group: _indexed_products(store, group),
        ordered_by=PRODUCT_ID_FIELDS,
    )
    return {
        "items": [render_product(store, p, store_id, detail=False) for p in items],
        "search_criteria": criteria.echo(),
        "total_count": total,
    }


# ---------------------------------------------------------------- attributes and options


def _attribute(store: Store, code: str) -> Any:
    attribute = store.attributes.get(code)
    if attribute is None:
        raise not_found(
            'The attribute with a "%1" attributeCode doesn\'t exist. Verify the attribute and try again.',
            [code],
        )
    return attribute


def _option_label(option: Any, store_id: int) -> str:
    if store_id and store_id in option.store_labels:
        return str(option.store_labels[store_id])
    return str(option.label)


def render_options(attribute: Any, store_id: int) -> list[dict[str, Any]]:
    """Option list as the table source gives it: an empty option first, then by sort order."""
    out: list[dict[str, Any]] = [{"label": " ", "value": ""}]
    for option in sorted(attribute.options, key=lambda o: (o.sort_order, o.option_id)):
        out.append({"label": _option_label(option, store_id), "value": str(option.option_id)})
    return out


@route("GET", "/V1/products/attributes/{attributeCode}", ATTRIBUTES)
def get_attribute(call: Call) -> Any:
    return render_attribute(_attribute(call.store, call.param("attributeCode")), call.scope.store_id)


def render_attribute(attribute: Any, store_id: int) -> dict[str, Any]:
    """``ProductAttributeInterface`` of one attribute, its options labelled for ``store_id``."""
    return {
        "is_wysiwyg_enabled": False,
        "is_html_allowed_on_front": True,
        "used_for_sort_by": False,
        "is_filterable": True,
        "is_filterable_in_search": True,
        "is_used_in_grid": True,
        "is_visible_in_grid": False,
        "is_filterable_in_grid": True,
        "position": 0,
        "apply_to": ["simple", "virtual", "configurable"],
        "is_searchable": "1",
        "is_visible_in_advanced_search": "1",
        "is_comparable": "1",
        "is_used_for_promo_rules": "0",
        "is_visible_on_front": "0",
        "used_in_product_listing": "0",
        "is_visible": True,
        "scope": attribute.scope,
        "attribute_id": attribute.attribute_id,
        "attribute_code": attribute.attribute_code,
        "frontend_input": attribute.frontend_input,
        "entity_type_id": "4",
        "is_required": False,
        "options": render_options(attribute, store_id),
        "is_user_defined": attribute.is_user_defined,
        "default_frontend_label": attribute.default_frontend_label,
        "frontend_labels": [],
        "backend_type": attribute.backend_type,
        "source_model": "Magento\\Eav\\Model\\Entity\\Attribute\\Source\\Table",
        "default_value": "",
        "is_unique": "0",
        "validation_rules": [],
    }


@route("GET", "/V1/products/attributes/{attributeCode}/options", ATTRIBUTES)
def list_options(call: Call) -> Any:
    return render_options(_attribute(call.store, call.param("attributeCode")), call.scope.store_id)


def _admin_label(option: dict[str, Any]) -> str:
    label = str(option.get("label") or "").strip()
    for store_label in option.get("store_labels") or []:
        if to_int(store_label.get("store_id")) == 0 and store_label.get("label"):
            label = str(store_label["label"]).strip()
    return label


def _store_labels(option: dict[str, Any]) -> dict[int, str]:
    out: dict[int, str] = {}
    for store_label in option.get("store_labels") or []:
        sid = to_int(store_label.get("store_id"))
        if sid and store_label.get("label") is not None:
            out[sid] = str(store_label["label"])
    return out


@route("POST", "/V1/products/attributes/{attributeCode}/options", ATTRIBUTES)
def add_option(call: Call) -> Any:
    attribute = _attribute(call.store, call.param("attributeCode"))
    option = call.body["option"]
    label = _admin_label(option)
    if not label:
        raise bad_request("The attribute option label is empty. Enter the value and try again.")
    if any(o.label == label for o in attribute.options):
        raise bad_request('Admin store attribute option label "%1" already exists.', [label])
    new = AttributeOption(
        option_id=call.store.next_id("attribute_option"),
        label=label,
        sort_order=to_int(option.get("sort_order"), 0) or 0,
        is_default=to_bool(option.get("is_default")),
        store_labels=_store_labels(option),
    )
    attribute.options.append(new)
    return str(new.option_id)


def _find_option(attribute: Any, option_id: str) -> Any:
    wanted = to_int(option_id)
    for option in attribute.options:
        if option.option_id == wanted:
            return option
    raise not_found(
        'The "%1" attribute doesn\'t include an option with "%2" ID.', [attribute.attribute_code, option_id]
    )


@route("PUT", "/V1/products/attributes/{attributeCode}/options/{optionId}", ATTRIBUTES)
def update_option(call: Call) -> Any:
    attribute = _attribute(call.store, call.param("attributeCode"))
    target = _find_option(attribute, call.param("optionId"))
    option = call.body["option"]
    label = _admin_label(option)
    if label and any(o.label == label and o is not target for o in attribute.options):
        raise bad_request('Admin store attribute option label "%1" already exists.', [label])
    if label:
        target.label = label
    if option.get("sort_order") is not None:
        target.sort_order = to_int(option["sort_order"], 0) or 0
    if option.get("store_labels") is not None:
        target.store_labels = _store_labels(option)
    return True


@route("DELETE", "/V1/products/attributes/{attributeCode}/options/{optionId}", ATTRIBUTES)
def delete_option(call: Call) -> Any:
    attribute = _attribute(call.store, call.param("attributeCode"))
    target = _find_option(attribute, call.param("optionId"))
    attribute.options.remove(target)
    return True


# ---------------------------------------------------------------- configurable products


def _configurable(store: Store, sku: str) -> Product:
    product = require_product(store, sku)
    if product.type_id != "configurable":
        raise bad_request('This is implemented for the "%1" configurable product only.', [sku])
    return product


@route("POST", "/V1/configurable-products/{sku}/options", PRODUCTS)
def add_configurable_option(call: Call) -> Any:
    store = call.store
    product = _configurable(store, call.param("sku"))
    raw = call.body["option"]
    problems = []
    attribute_id = to_int(raw.get("attribute_id"))
    if not attribute_id:
        problems.append("Option attribute ID is not specified.")
    if not raw.get("label"):
        problems.append("Option label is not specified.")
    values = raw.get("values") or []
    if not values:
        problems.append("Option values are not specified.")
    elif any(v.get("value_index") is None for v in values):
        problems.append("Value index is not specified for an option.")
    if len(problems) == 1:
        raise bad_request(problems[0])
    if problems:
        raise bad_request(
            "One or more input exceptions have occurred.", errors=[{"message": p} for p in problems]
        )
    assert attribute_id is not None
    if _attribute_code(store, attribute_id) is None:
        raise bad_request("An error occurred while saving the option. Please try to save again.")
    if any(o.attribute_id == attribute_id for o in product.configurable_options):
        raise bad_request("Product already has this option")
    option = ConfigurableOption(
        id=store.next_id("configurable_option"),
        attribute_id=attribute_id,
        label=str(raw["label"]),
        position=to_int(raw.get("position"), 0) or 0,
        is_use_default=to_bool(raw.get("is_use_default"), True),
        values=[to_int(v["value_index"], 0) or 0 for v in values],
    )
    product.configurable_options.append(option)
    product.updated_at = now_text()
    return str(option.id)


@route("GET", "/V1/configurable-products/{sku}/options/all", PRODUCTS)
def list_configurable_options(call: Call) -> Any:
    product = _configurable(call.store, call.param("sku"))
    return [render_configurable_option(product, o) for o in product.configurable_options]


def _configurable_option(product: Product, option_id: str) -> ConfigurableOption:
    wanted = to_int(option_id)
    for option in product.configurable_options:
        if option.id == wanted:
            return option
    raise not_found(
        'The "%1" entity that was requested doesn\'t exist. Verify the entity and try again.', [option_id]
    )


@route("GET", "/V1/configurable-products/{sku}/options/{id}", PRODUCTS)
def get_configurable_option(call: Call) -> Any:
    product = _configurable(call.store, call.param("sku"))
    return render_configurable_option(product, _configurable_option(product, call.param("id")))


@route("DELETE", "/V1/configurable-products/{sku}/options/{id}", PRODUCTS)
def delete_configurable_option(call: Call) -> Any:
    product = _configurable(call.store, call.param("sku"))
    product.configurable_options.remove(_configurable_option(product, call.param("id")))
    return True


@route("POST", "/V1/configurable-products/{sku}/child", PRODUCTS)
def add_child(call: Call) -> Any:
    store = call.store
    parent = _configurable(store, call.param("sku"))
    child = require_product(store, str(call.body["childSku"]))
    if not parent.configurable_options:
        raise bad_request("The parent product doesn't have configurable product options.")
    if child.id in parent.configurable_links:
        raise bad_request("The product is already attached.")
    for option in parent.configurable_options:
        code = _attribute_code(store, option.attribute_id) or str(option.attribute_id)
        if child.values.get(code) in (None, ""):
            raise bad_request(
                'The child product doesn\'t have the "%1" attribute value. Verify the value and try again.',
                [code],
            )
    children = [store.products[i] for i in parent.configurable_links if i in store.products]
    _check_distinct_combinations(store, parent, [*children, child])
    parent.configurable_links.append(child.id)
    parent.updated_at = now_text()
    return True


@route("GET", "/V1/configurable-products/{sku}/children", PRODUCTS)
def list_children(call: Call) -> Any:
    store = call.store
    parent = _configurable(store, call.param("sku"))
    return [
        render_product(store, store.products[i], call.scope.store_id, detail=False)
        for i in parent.configurable_links
        if i in store.products
    ]


@route("DELETE", "/V1/configurable-products/{sku}/children/{childSku}", PRODUCTS)
def remove_child(call: Call) -> Any:
    store = call.store
    parent = _configurable(store, call.param("sku"))
    child = store.product_by_sku(call.param("childSku"))
    if child is None or child.id not in parent.configurable_links:
        raise not_found("The option that was requested doesn't exist. Verify the entity and try again.")
    parent.configurable_links.remove(child.id)
    parent.updated_at = now_text()
    return True


# ---------------------------------------------------------------- media gallery


def _media_entry(product: Product, entry_id: str, message: str) -> MediaEntry:
    wanted = to_int(entry_id)
    for entry in product.media:
        if entry.id == wanted:
            return entry
    raise not_found(message)


@route("POST", "/V1/products/{sku}/media", PRODUCTS)
def add_media(call: Call) -> Any:
    store = call.store
    product = require_product(store, call.param("sku"))
    entry = new_media_entry(store, call.body["entry"])
    product.media.append(entry)
    give_roles(product.media, entry)
    product.updated_at = now_text()
    return str(entry.id)


@route("GET", "/V1/products/{sku}/media", PRODUCTS)
def list_media(call: Call) -> Any:
    product = require_product(call.store, call.param("sku"))
    return [render_media(m) for m in sorted(product.media, key=lambda m: (m.position, m.id))]


@route("GET", "/V1/products/{sku}/media/{entryId}", PRODUCTS)
def get_media(call: Call) -> Any:
    product = require_product(call.store, call.param("sku"))
    return render_media(
        _media_entry(product, call.param("entryId"), "The image doesn't exist. Verify and try again.")
    )


@route("PUT", "/V1/products/{sku}/media/{entryId}", PRODUCTS)
def update_media(call: Call) -> Any:
    """Magento removes the entry and stores the submitted one under a new id (#24639)."""
    store = call.store
    product = require_product(store, call.param("sku"))
    old = _media_entry(
        product,
        call.param("entryId"),
        "No image with the provided ID was found. Verify the ID and try again.",
    )
    raw = call.body["entry"]
    if raw.get("content"):
        entry = new_media_entry(store, raw)
    else:
        entry = old.model_copy(deep=True)
        entry.id = store.next_id("media")
        if raw.get("label") is not None:
            entry.label = raw["label"]
        if raw.get("position") is not None:
            entry.position = to_int(raw["position"], 0) or 0
        if raw.get("disabled") is not None:
            entry.disabled = to_bool(raw["disabled"])
        if raw.get("types") is not None:
            entry.types = [str(t) for t in raw["types"]]
    product.media = [m for m in product.media if m.id != old.id] + [entry]
    give_roles(product.media, entry)
    product.updated_at = now_text()
    return True


@route("DELETE", "/V1/products/{sku}/media/{entryId}", PRODUCTS)
def delete_media(call: Call) -> Any:
    product = require_product(call.store, call.param("sku"))
    old = _media_entry(product, call.param("entryId"), "The image doesn't exist. Verify and try again.")
    product.media = [m for m in product.media if m.id != old.id]
    product.updated_at = now_text()
    return True


# ---------------------------------------------------------------- legacy stock


@route("PUT", "/V1/products/{productSku}/stockItems/{itemId}", INVENTORY)
def update_stock_item(call: Call) -> Any:
    store = call.store
    product = require_product(store, call.param("productSku"))
    _apply_stock(store, product, call.body["stockItem"])
    sync_default_source(store, product)
    product.updated_at = now_text()
    return product.id


@route("GET", "/V1/stockItems/{productSku}", INVENTORY)
def get_stock_item(call: Call) -> Any:
    sku = call.param("productSku")
    product = call.store.product_by_sku(sku)
    if product is None:
        raise not_found('The Product with the "%1" SKU doesn\'t exist.', [sku])
    return render_stock_item(product)
