"""Reading what the store holds, item by item: a product we cannot read is named, never guessed."""

from typing import Any

from kudos_sync.domain.errors import RecordError
from kudos_sync.magento.store_products import store_product
from kudos_sync.sync.ports import StoreProduct


def an_item(**changes: Any) -> dict[str, Any]:
    item: dict[str, Any] = {
        "id": 7,
        "sku": "TEE",
        "type_id": "configurable",
        "custom_attributes": [{"attribute_code": "url_key", "value": "crew-tee"}],
        "media_gallery_entries": [{"id": 1}, {"id": 2}],
        "extension_attributes": {
            "category_links": [{"category_id": "3", "position": 0}],
            "configurable_product_links": [11, 12],
            "configurable_product_options": [{"attribute_id": "93", "label": "Color"}],
        },
    }
    item.update(changes)
    return item


def test_given_a_full_item_then_every_field_adoption_compares_is_read() -> None:
    product = store_product(an_item(), "TEE")

    assert product == StoreProduct(
        sku="TEE",
        magento_id=7,
        type_id="configurable",
        url_key="crew-tee",
        category_ids=(3,),
        child_ids=(11, 12),
        configurable_attributes=("93",),
        media_entries=2,
    )


def test_given_an_item_without_a_type_then_a_record_error_names_the_field() -> None:
    product = store_product(an_item(type_id=None), "TEE")

    assert isinstance(product, RecordError) and product.field == "type_id"


def test_given_links_that_are_not_ids_then_a_record_error_not_a_crash() -> None:
    item = an_item(extension_attributes={"category_links": [{"position": 0}]})

    product = store_product(item, "TEE")

    assert isinstance(product, RecordError) and product.field == "links"


def test_given_a_bare_simple_then_it_reads_with_no_links_and_no_gallery() -> None:
    product = store_product({"id": "5", "sku": "MUG-1", "type_id": "simple"}, "MUG-1")

    assert isinstance(product, StoreProduct)
    assert (product.magento_id, product.url_key, product.category_ids, product.media_entries) == (
        5,
        None,
        (),
        0,
    )
