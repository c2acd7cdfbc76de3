"""A ProductWrite as Magento's product object: the status codes, the attribute set every product is
created in, custom attributes as strings, and the links that replace (gallery) or merge (categories)."""

from collections.abc import Callable, Mapping, Sequence
from decimal import Decimal
from typing import Any

from kudos_sync.sync.ports import ProductWrite

STATUS_ENABLED = 1
STATUS_DISABLED = 2


def attribute_value(value: object) -> str:
    """custom_attributes values are strings in Magento's schema."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, Decimal):
        return format(value, "f")
    return str(value)


def product_body(
    write: ProductWrite,
    child_ids: Sequence[int] | None,
    attribute_set_id: int,
    website_ids: Sequence[int],
    attribute_meta: Callable[[str], Mapping[str, str]],
) -> dict[str, Any]:
    """Magento's product object for one write. Every product carries the tenant's attribute set (an
    upsert of an existing product keeps it). Never carries media_gallery_entries (that array replaces
    the gallery); category_links only when category ids are given (an empty list removes every link,
    by Magento's rules). `attribute_meta(code)` gives an attribute's id and label."""
    product: dict[str, Any] = {
        "sku": write.sku,
        "type_id": write.type_id,
        "attribute_set_id": attribute_set_id,
    }
    if write.enabled is not None:
        product["status"] = STATUS_ENABLED if write.enabled else STATUS_DISABLED
    for key, value in (("visibility", write.visibility), ("name", write.name), ("price", write.price)):
        if value is not None:
            product[key] = value
    custom: list[tuple[str, object]] = [
        (code, value)
        for code, value in (("url_key", write.url_key), ("description", write.description))
        if value
    ]
    custom += write.options
    if custom:
        product["custom_attributes"] = [
            {"attribute_code": code, "value": attribute_value(value)} for code, value in custom
        ]
    extension: dict[str, Any] = {"website_ids": list(website_ids)}
    if write.category_ids is not None:
        extension["category_links"] = [
            {"category_id": str(cid), "position": 0} for cid in dict.fromkeys(write.category_ids)
        ]
    if write.type_id == "configurable" and write.configurable_options is not None:
        options = []
        for position, (code, values) in enumerate(write.configurable_options.items()):
            meta = attribute_meta(code)
            options.append(
                {
                    "attribute_id": meta["attribute_id"],
                    "label": meta["label"],
                    "position": position,
                    "values": [{"value_index": int(v)} for v in dict.fromkeys(values)],
                }
            )
        extension["configurable_product_options"] = options
    if write.type_id == "configurable" and child_ids is not None:
        extension["configurable_product_links"] = list(dict.fromkeys(child_ids))
    product["extension_attributes"] = extension
    return product
