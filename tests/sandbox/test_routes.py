"""The routes the sandbox serves: the table derived from the schema, the routes clients need, new routes."""

from __future__ import annotations

import ast
import re
from pathlib import Path
from typing import Any

import pytest

from sandbox.magento import MagentoSandbox
from sandbox.magento.coverage import (
    CLIENT_ROUTES,
    COMMON_ROUTES,
    render_markdown,
    route_table,
    served_routes,
)
from sandbox.magento.schema import load_schema
from sandbox.magento.testing import SandboxClient, search_query, simple_product

ROOT = Path(__file__).resolve().parents[2]
CLIENT_SOURCES = ROOT / "layers" / "kudos_sync" / "kudos_sync"
ENTITY_NOT_FOUND = "The entity that was requested doesn't exist. Verify the entity and try again."

# The pull reads three document streams through one f-string ("/V1/{stream}").
DYNAMIC_TEMPLATES = {"/V1/{stream}": ("/V1/orders", "/V1/invoices", "/V1/creditmemos")}


def _shape(template: str) -> str:
    return re.sub(r"\{[^}]*\}", "{}", template)


def test_route_table_file_is_up_to_date() -> None:
    written = (ROOT / "sandbox" / "magento" / "ROUTES.md").read_text(encoding="utf-8")
    assert written == render_markdown(route_table()), "run: python -m sandbox.magento.coverage"


@pytest.mark.parametrize(("method", "template"), CLIENT_ROUTES + COMMON_ROUTES)
def test_every_route_clients_need_is_served(method: str, template: str) -> None:
    assert (method, template) in served_routes()


def test_every_served_route_is_a_schema_route() -> None:
    paths = load_schema()["paths"]
    strays = [(m, t) for m, t in served_routes() if m.lower() not in paths.get(t, {})]
    assert strays == []


def _route_literals(source: str) -> set[str]:
    """String constants and f-strings starting with ``/V1/`` in code (docstrings left out)."""
    tree = ast.parse(source)
    docstrings = {
        id(node.value)
        for node in ast.walk(tree)
        if isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant)
    }
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.JoinedStr):
            text = "".join(
                v.value if isinstance(v, ast.Constant) else "{" + ast.unparse(v.value) + "}"
                for v in node.values
                if isinstance(v, ast.Constant | ast.FormattedValue)
            )
        elif isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in docstrings:
            text = node.value
        else:
            continue
        if text.startswith("/V1/") and text != "/V1/":
            found.add(text)
    return found


def test_every_route_literal_in_our_client_is_a_listed_client_route() -> None:
    listed = {_shape(t) for _, t in CLIENT_ROUTES}
    found: set[str] = set()
    for source in CLIENT_SOURCES.rglob("*.py"):
        for literal in _route_literals(source.read_text(encoding="utf-8")):
            found.update(DYNAMIC_TEMPLATES.get(literal, (literal,)))
    assert len(found) > 10, "too few route literals found: the scan is broken"
    assert sorted(t for t in found if _shape(t) not in listed) == []


def test_route_table_marks_unserved_schema_routes() -> None:
    rows = {(r.method, r.template): r for r in route_table()}
    assert rows[("GET", "/V1/orders/items")].served
    assert not rows[("POST", "/V1/orders/{id}/cancel")].served
    assert rows[("GET", "/V1/orders/{id}/comments")].why == "client"


# ---------------------------------------------------------------- orders: items and comments


def place_order(store: MagentoSandbox, *skus: str) -> Any:
    for sku in skus:
        store.catalog.add_product(sku, sku, 20, qty=10)
    return store.sales.place_order([(sku, 1) for sku in skus], "guest@example.com")


def test_orders_items_is_its_own_route_not_an_order_id(
    magento_sandbox: MagentoSandbox, sandbox_client: SandboxClient
) -> None:
    order = place_order(magento_sandbox, "A", "B")
    response = sandbox_client.get("/V1/orders/items", params=search_query([[("sku", "B", "eq")]]))
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["total_count"] == 1
    assert body["items"][0]["order_id"] == order.entity_id
    assert body["items"][0]["sku"] == "B"
    stats = magento_sandbox.stats()["requests"]
    assert stats == {"GET /V1/orders/items": 1}


def test_orders_items_needs_search_criteria(sandbox_client: SandboxClient) -> None:
    response = sandbox_client.get("/V1/orders/items")
    assert response.status_code == 400
    assert response.json()["parameters"] == {"fieldName": "searchCriteria"}


def test_order_item_by_id(magento_sandbox: MagentoSandbox, sandbox_client: SandboxClient) -> None:
    order = place_order(magento_sandbox, "A")
    item_id = order.items[0].item_id
    assert sandbox_client.get(f"/V1/orders/items/{item_id}").json()["sku"] == "A"
    missing = sandbox_client.get("/V1/orders/items/9999")
    assert (missing.status_code, missing.json()) == (404, {"message": ENTITY_NOT_FOUND})


def test_order_comments_list_in_creation_order(
    magento_sandbox: MagentoSandbox, sandbox_client: SandboxClient
) -> None:
    order = place_order(magento_sandbox, "A")
    for text in ("first", "second"):
        posted = sandbox_client.post(
            f"/V1/orders/{order.entity_id}/comments",
            json={"statusHistory": {"comment": text, "is_customer_notified": 0, "is_visible_on_front": 0}},
        )
        assert posted.json() is True
    body = sandbox_client.get(f"/V1/orders/{order.entity_id}/comments").json()
    assert [h["comment"] for h in body["items"]][-2:] == ["first", "second"]
    assert body["total_count"] == len(body["items"])
    assert all(h["parent_id"] == order.entity_id for h in body["items"])
    assert body["search_criteria"]["filter_groups"][0]["filters"][0]["field"] == "parent_id"


def test_comments_of_an_unknown_order_are_an_empty_list(sandbox_client: SandboxClient) -> None:
    response = sandbox_client.get("/V1/orders/424242/comments")
    assert response.status_code == 200
    assert (response.json()["items"], response.json()["total_count"]) == ([], 0)


# ---------------------------------------------------------------- catalog extras


def test_attribute_sets_and_types(sandbox_client: SandboxClient) -> None:
    sets = sandbox_client.get("/V1/products/attribute-sets/sets/list", params=search_query()).json()
    assert [s["attribute_set_name"] for s in sets["items"]] == ["Default"]
    assert sandbox_client.get("/V1/products/attribute-sets/4").json()["attribute_set_id"] == 4
    missing = sandbox_client.get("/V1/products/attribute-sets/99")
    assert missing.status_code == 404
    codes = [
        a["attribute_code"] for a in sandbox_client.get("/V1/products/attribute-sets/4/attributes").json()
    ]
    assert {"color", "size"} <= set(codes)
    types = {t["name"] for t in sandbox_client.get("/V1/products/types").json()}
    assert {"simple", "configurable"} <= types
    links = {t["name"]: t["code"] for t in sandbox_client.get("/V1/products/links/types").json()}
    assert links["related"] == 1 and links["upsell"] == 4 and links["crosssell"] == 5


def test_product_links_set_read_and_delete(sandbox_client: SandboxClient) -> None:
    for sku in ("A", "B"):
        sandbox_client.post("/V1/products", json={"product": simple_product(sku, sku, 5)})
    link = {"sku": "A", "link_type": "related", "linked_product_sku": "B", "position": 1}
    assert sandbox_client.post("/V1/products/A/links", json={"items": [link]}).json() is True
    related = sandbox_client.get("/V1/products/A/links/related").json()
    assert [(r["linked_product_sku"], r["position"]) for r in related] == [("B", 1)]
    assert sandbox_client.get("/V1/products/A").json()["product_links"][0]["linked_product_sku"] == "B"
    assert sandbox_client.get("/V1/products/A/links/upsell").json() == []
    assert sandbox_client.get("/V1/products/A/links/nope").status_code == 404
    assert sandbox_client.delete("/V1/products/A/links/related/B").json() is True
    again = sandbox_client.delete("/V1/products/A/links/related/B")
    assert again.status_code == 404
    assert again.json()["parameters"] == ["A", "B", "related"]


def test_stock_status(magento_sandbox: MagentoSandbox, sandbox_client: SandboxClient) -> None:
    magento_sandbox.catalog.add_product("A", "A", 5, qty=3)
    status = sandbox_client.get("/V1/stockStatuses/A").json()
    assert (status["qty"], status["stock_status"]) == (3, 1)
    assert status["stock_item"]["qty"] == 3
    assert sandbox_client.get("/V1/stockStatuses/nope").status_code == 404


def test_searches_on_the_newer_list_routes_mask_an_unknown_column_as_magento_does(
    sandbox_client: SandboxClient,
) -> None:
    """Found by schemathesis: an unknown sort or filter field on the order-items and attribute-set
    searches is Magento's SQL "Column not found", masked as a 500 (as for /V1/orders); a page size out
    of range or an empty sort direction on a known column is not."""
    unknown = [
        ("/V1/orders/items", {"searchCriteria[sortOrders][0][field]": "J{h"}),
        ("/V1/products/attribute-sets/sets/list", {"searchCriteria[sortOrders][0][field]": "\x0bd"}),
    ]
    for path, query in unknown:
        response = sandbox_client.get(path, params=query)
        assert response.status_code == 500, (path, response.text)
        assert response.json()["message"].startswith("Internal Error. Details are available in Magento log")
    known = [
        (
            "/V1/orders/items",
            {"searchCriteria[pageSize]": "-12", "searchCriteria[currentPage]": "109600652495"},
        ),
        (
            "/V1/products/attribute-sets/sets/list",
            {
                "searchCriteria[sortOrders][0][field]": "sort_order",
                "searchCriteria[sortOrders][0][direction]": "",
            },
        ),
    ]
    for path, query in known:
        response = sandbox_client.get(path, params=query)
        assert response.status_code < 500, (path, query, response.text)
