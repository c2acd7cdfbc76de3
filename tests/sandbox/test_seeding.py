"""``store.catalog``: seeding from Python uses the same service logic as the REST routes."""

from __future__ import annotations

import pytest

from sandbox.magento import MagentoError


def test_given_seeded_family_then_visible_through_rest(magento_sandbox, sandbox_client) -> None:
    catalog = magento_sandbox.catalog
    red = catalog.add_option("color", "Red", store_labels={1: "Rouge"})
    womens = catalog.add_category("Womens")
    catalog.add_product("DRESS", "Maxi Dress", None, type_id="configurable", category_ids=[womens.id])
    catalog.add_product("DRESS-RED", "Maxi Dress Red", 80, custom={"color": red}, qty=3, visibility=1)
    catalog.add_configurable_option("DRESS", "color", [red])
    catalog.link_child("DRESS", "DRESS-RED")
    catalog.set_stock("DRESS-RED", "default", 7)
    parent = sandbox_client.get("/V1/products/DRESS").json()
    child_id = magento_sandbox.store.product_by_sku("DRESS-RED").id
    assert parent["extension_attributes"]["configurable_product_links"] == [child_id]
    assert parent["extension_attributes"]["category_links"] == [
        {"position": 0, "category_id": str(womens.id)}
    ]
    assert sandbox_client.get("/V1/stockItems/DRESS-RED").json()["qty"] == 7
    order = magento_sandbox.sales.place_order([("DRESS-RED", 1)], "guest@example.com")
    assert [i.product_type for i in order.items] == ["configurable", "simple"]


def test_given_bad_seed_then_magento_error_raised(magento_sandbox) -> None:
    magento_sandbox.catalog.add_product("A", "Same Name", 1)
    with pytest.raises(MagentoError) as caught:
        magento_sandbox.catalog.add_product("B", "Same Name", 1)
    assert caught.value.message == "URL key for specified store already exists."
