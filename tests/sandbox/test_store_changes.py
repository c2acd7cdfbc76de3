"""``store.web_team`` and ``store.warehouse``: the store changing behind the sync, as REST shows it."""

from __future__ import annotations

from decimal import Decimal

import pytest


def test_given_a_family_when_the_web_team_edits_it_then_rest_shows_each_change(
    magento_sandbox, sandbox_client
) -> None:
    catalog, web = magento_sandbox.catalog, magento_sandbox.web_team
    red = catalog.add_option("color", "Red")
    womens = catalog.add_category("Womens")
    catalog.add_product("DRESS", "Maxi Dress", None, type_id="configurable", category_ids=[womens.id])
    catalog.add_product("DRESS-RED", "Maxi Dress Red", 80, custom={"color": red}, visibility=1)
    catalog.add_configurable_option("DRESS", "color", [red])
    catalog.link_child("DRESS", "DRESS-RED")
    catalog.add_product("MUG", "Mug", 12)

    web.rename("DRESS-RED", "Red Dress")
    web.set_price("DRESS-RED", "59.90")
    web.disable("DRESS-RED")
    web.unlink_child("DRESS", "DRESS-RED")
    web.unlink_category("DRESS", womens.id)
    web.delete("MUG")

    child = sandbox_client.get("/V1/products/DRESS-RED").json()
    parent = sandbox_client.get("/V1/products/DRESS").json()
    assert (child["name"], child["price"], child["status"]) == ("Red Dress", 59.9, 2)
    assert parent["extension_attributes"].get("configurable_product_links", []) == []
    assert parent["extension_attributes"].get("category_links", []) == []
    assert sandbox_client.get("/V1/products/MUG").status_code == 404


def test_given_a_sale_when_the_web_team_ends_it_then_no_row_is_left(magento_sandbox, sandbox_client) -> None:
    magento_sandbox.catalog.add_product("MUG", "Mug", 12)
    row = {"sku": "MUG", "price": 9, "store_id": 0, "price_from": "2026-11-01 00:00:00", "price_to": None}
    sandbox_client.post("/V1/products/special-price", json={"prices": [row]})

    assert magento_sandbox.web_team.end_sale("MUG") == 1
    assert sandbox_client.post("/V1/products/special-price-information", json={"skus": ["MUG"]}).json() == []
    assert magento_sandbox.web_team.end_sale("MUG") == 0


def test_given_stock_when_shipped_then_deducted_out_of_stock_at_zero_and_never_below(magento_sandbox) -> None:
    magento_sandbox.catalog.add_product("MUG", "Mug", 12)
    magento_sandbox.catalog.set_stock("MUG", "default", 3)
    warehouse = magento_sandbox.warehouse

    assert warehouse.ship("MUG", "default", 2) == Decimal(1)
    assert magento_sandbox.store.source_item("MUG", "default").status == 1
    assert warehouse.ship("MUG", "default", 5) == Decimal(0)
    item = magento_sandbox.store.source_item("MUG", "default")
    assert (item.quantity, item.status) == (Decimal(0), 0)
    warehouse.count("MUG", "default", 4)
    assert magento_sandbox.store.source_item("MUG", "default").quantity == Decimal(4)
    with pytest.raises(KeyError):
        warehouse.ship("MUG", "nowhere", 1)
