"""A Magento client nobody here wrote (``pymagento`` from PyPI) gets Magento's answers from the sandbox.

pymagento authenticates with the integration token as a bearer token, which 2.4.2 always accepts and
2.4.4+ only when the store allows it; it escapes path values itself and pages through searchCriteria.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import requests

from sandbox.magento import DEMO_OAUTH, MagentoSandbox, SandboxOptions

magento = pytest.importorskip("magento")  # pymagento; a dev extra


@pytest.fixture
def store() -> Iterator[MagentoSandbox]:
    with MagentoSandbox(SandboxOptions(magento_version="2.4.2", record=True)) as running:
        yield running
        assert running.schema_violations == [], running.schema_violations[0]
        assert running.unexpected_errors == []


def client_for(store: MagentoSandbox, **kw: Any) -> Any:
    return magento.Magento(token=DEMO_OAUTH.access_token, base_url=store.base_url, **kw)


def product(sku: str, price: float) -> dict[str, Any]:
    return {
        "sku": sku,
        "name": f"Product {sku}",
        "price": price,
        "attribute_set_id": 4,
        "type_id": "simple",
        "status": 1,
        "visibility": 4,
        "extension_attributes": {"stock_item": {"qty": 5, "is_in_stock": True}},
    }


def test_catalogue_calls_get_magentos_answers(store: MagentoSandbox) -> None:
    api = client_for(store)
    saved = api.save_product(product("TEE 1", 20))
    assert saved["sku"] == "TEE 1"
    api.save_product(product("A+B", 12))
    assert api.get_product("TEE 1")["price"] == 20  # escaped as TEE%201
    assert api.get_product("A+B")["sku"] == "A+B"  # escaped as A%2BB, decoded as urldecode does
    assert api.get_product("missing") is None  # 404 read as "not there"
    assert sorted(p["sku"] for p in api.get_products()) == ["A+B", "TEE 1"]
    assert api.get_product_stock_item("TEE 1")["qty"] == 5
    assert [s["quantity"] for s in api.get_source_items(sku="TEE 1")] == [5]
    assert {"color", "size"} <= {a["attribute_code"] for a in api.get_attribute_set_attributes(4)}
    # pymagento asks for /V1/product/types, which Magento does not have: a 404 it reads as "nothing"
    assert api.get_products_types() is None
    assert store.stats()["requests"]["GET (no route)"] == 1


def test_sales_calls_get_magentos_answers(store: MagentoSandbox) -> None:
    store.catalog.add_product("TEE", "Tee", 23, qty=5)
    customer = store.sales.create_customer("ann@example.com", "Ann", "Lee")
    order = store.sales.place_order([("TEE", 2)], customer)
    api = client_for(store)
    assert [o["entity_id"] for o in api.get_orders()] == [order.entity_id]
    assert api.get_order(order.entity_id)["grand_total"] == 51  # 46.00 + 5.00 shipping, tax included
    items = list(api.get_orders_items(sku="TEE"))
    assert [(i["order_id"], i["qty_ordered"]) for i in items] == [(order.entity_id, 2)]
    assert api.get_order_item(items[0]["item_id"])["sku"] == "TEE"
    invoice_id = api.create_order_invoice(order.entity_id)
    assert [str(i["entity_id"]) for i in api.get_invoices()] == [str(invoice_id)]
    assert [c["email"] for c in api.get_customers()] == ["ann@example.com"]


def test_on_2_4_7_the_token_is_refused_as_magento_refuses_it() -> None:
    with MagentoSandbox(SandboxOptions()) as store, pytest.raises(requests.HTTPError) as refused:
        client_for(store).get_product("TEE")
    assert refused.value.response is not None and refused.value.response.status_code == 401
    assert refused.value.response.json() == {
        "message": "The consumer isn't authorized to access %resources.",
        "parameters": {"resources": "Magento_Catalog::products"},
    }
