"""searchCriteria as Magento reads it: OR within a group, AND across groups, conditions, paging, fields."""

from __future__ import annotations

from typing import Any

import pytest

from sandbox.magento.errors import bad_request
from sandbox.magento.search import Collection, Filter, SearchCriteria, search
from sandbox.magento.testing import SandboxClient, search_query, simple_product


@pytest.fixture
def catalogue(sandbox_client: SandboxClient) -> SandboxClient:
    rows = [
        ("TEE-1", "Crew Tee", 20, 1),
        ("TEE-2", "V Tee", 25, 1),
        ("DRESS-1", "Maxi Dress", 80, 2),
        ("SOCK-1", "Sock", 5.5, 1),
        ("HAT-1", "Hat", 100, 2),
    ]
    for sku, name, price, status in rows:
        response = sandbox_client.post(
            "/V1/products", json={"product": simple_product(sku, name, price, status=status)}
        )
        assert response.status_code == 200
    return sandbox_client


def skus(client: SandboxClient, **query: object) -> list[str]:
    response = client.get("/V1/products", params=search_query(**query))  # type: ignore[arg-type]
    assert response.status_code == 200, response.text
    return [p["sku"] for p in response.json()["items"]]


def test_given_filters_in_one_group_then_or(catalogue) -> None:
    assert skus(catalogue, filters=[[("sku", "TEE-1", "eq"), ("sku", "SOCK-1", "eq")]]) == ["TEE-1", "SOCK-1"]


def test_given_filters_in_two_groups_then_and(catalogue) -> None:
    assert skus(catalogue, filters=[[("price", "20", "gteq")], [("status", "2", "eq")]]) == [
        "DRESS-1",
        "HAT-1",
    ]


@pytest.mark.parametrize(
    ("condition", "value", "expected"),
    [
        ("eq", "tee-1", ["TEE-1"]),  # case-insensitive like MySQL's collation
        ("neq", "TEE-1", ["TEE-2", "DRESS-1", "SOCK-1", "HAT-1"]),
        ("gt", "25", ["DRESS-1", "HAT-1"]),
        ("lt", "20", ["SOCK-1"]),
        ("lteq", "20", ["TEE-1", "SOCK-1"]),
        ("in", "SOCK-1,HAT-1", ["SOCK-1", "HAT-1"]),
        ("nin", "SOCK-1,HAT-1,TEE-1", ["TEE-2", "DRESS-1"]),
        ("like", "%tee%", ["TEE-1", "TEE-2"]),
        ("from", "80", ["DRESS-1", "HAT-1"]),
        ("to", "5.5", ["SOCK-1"]),
        ("notnull", "", ["TEE-1", "TEE-2", "DRESS-1", "SOCK-1", "HAT-1"]),
        ("null", "", []),
    ],
)
def test_given_condition_types_then_magento_semantics(
    catalogue, condition: str, value: str, expected: list[str]
) -> None:
    field = "price" if condition in ("gt", "lt", "lteq", "from", "to") else "sku"
    assert skus(catalogue, filters=[[(field, value, condition)]]) == expected


def test_given_numeric_field_then_compared_as_numbers(catalogue) -> None:
    assert skus(catalogue, filters=[[("price", "100", "lt")]], sort=[("price", "DESC")]) == [
        "DRESS-1",
        "TEE-2",
        "TEE-1",
        "SOCK-1",
    ]


def test_given_sort_orders_and_camel_case_keys_then_applied(catalogue) -> None:
    assert skus(catalogue, sort=[("status", "ASC"), ("price", "DESC")], camel=True) == [
        "TEE-2",
        "TEE-1",
        "SOCK-1",
        "HAT-1",
        "DRESS-1",
    ]
    assert skus(catalogue, sort=[("name", "ASC")], filters=[[("status", "1", "eq")]], camel=True) == [
        "TEE-1",
        "SOCK-1",
        "TEE-2",
    ]


def test_given_paging_then_total_count_and_no_clamp_past_last_page(catalogue) -> None:
    first = catalogue.get(
        "/V1/products", params=search_query(page_size=2, current_page=1, sort=[("entity_id", "ASC")])
    ).json()
    assert [p["sku"] for p in first["items"]] == ["TEE-1", "TEE-2"]
    assert first["total_count"] == 5
    assert first["search_criteria"] == {
        "filter_groups": [],
        "sort_orders": [{"field": "entity_id", "direction": "ASC"}],
        "page_size": 2,
        "current_page": 1,
    }
    assert skus(catalogue, page_size=2, current_page=3) == ["HAT-1"]
    past = catalogue.get("/V1/products", params=search_query(page_size=2, current_page=4)).json()
    assert (past["items"], past["total_count"]) == ([], 5)


def test_given_search_criteria_echo_then_condition_type_defaults_to_eq(catalogue) -> None:
    params = {
        "searchCriteria[filter_groups][0][filters][0][field]": "sku",
        "searchCriteria[filter_groups][0][filters][0][value]": "HAT-1",
    }
    body = catalogue.get("/V1/products", params=params).json()
    assert body["search_criteria"]["filter_groups"] == [
        {"filters": [{"field": "sku", "value": "HAT-1", "condition_type": "eq"}]}
    ]


def test_given_no_search_criteria_then_400_required(catalogue) -> None:
    for path in (
        "/V1/products",
        "/V1/orders",
        "/V1/invoices",
        "/V1/creditmemos",
        "/V1/customers/search",
        "/V1/categories/list",
    ):
        response = catalogue.get(path)
        assert response.status_code == 400, path
        assert response.json() == {
            "message": '"%fieldName" is required. Enter and try again.',
            "parameters": {"fieldName": "searchCriteria"},
        }


def test_given_fields_parameter_then_response_trimmed(catalogue) -> None:
    params = {
        **search_query(filters=[[("sku", "HAT-1", "eq")]]),
        "fields": "items[sku,price,extension_attributes[website_ids]],total_count",
    }
    assert catalogue.get("/V1/products", params=params).json() == {
        "items": [{"sku": "HAT-1", "price": 100, "extension_attributes": {"website_ids": [1]}}],
        "total_count": 1,
    }
    single = catalogue.get("/V1/products/HAT-1", params={"fields": "sku,name"}).json()
    assert single == {"sku": "HAT-1", "name": "Hat"}


def test_given_input_limits_then_default_page_size_and_max(store_with) -> None:
    with store_with(input_limits=True) as (_store, client):
        for i in range(25):
            client.post("/V1/products", json={"product": simple_product(f"P{i:02}", f"Product {i}", 1)})
        body = client.get("/V1/products", params={"searchCriteria": ""}).json()
        assert (len(body["items"]), body["total_count"], body["search_criteria"]["page_size"]) == (20, 25, 20)
        too_big = client.get("/V1/products", params=search_query(page_size=301))
        assert too_big.status_code == 400
        assert too_big.json() == {
            "message": "Maximum SearchCriteria pageSize is %max",
            "parameters": {"max": 300},
        }
        assert client.get("/V1/products", params=search_query(page_size=300)).status_code == 200


def test_given_no_input_limits_then_no_page_size_returns_everything(catalogue) -> None:
    assert len(skus(catalogue)) == 5


def test_given_updated_at_filter_then_dates_compare_as_strings(catalogue, magento_sandbox) -> None:
    magento_sandbox.store.product_by_sku("HAT-1").updated_at = "2030-01-01 00:00:00"
    assert skus(catalogue, filters=[[("updated_at", "2029-12-31 23:59:59", "gt")]]) == ["HAT-1"]


def test_given_unknown_field_on_sales_collection_then_masked_500(catalogue) -> None:
    response = catalogue.get("/V1/orders", params=search_query(filters=[[("no_such_column", "1", "eq")]]))
    assert response.status_code == 500
    assert response.json()["message"].startswith("Internal Error. Details are available in Magento log file.")


@pytest.mark.parametrize(
    ("filters", "expected"),
    [
        ([[("sku", " hat-1 , tee-2,NONE", "in")]], ["TEE-2", "HAT-1"]),  # trimmed, case-insensitive
        ([[("sku", "HAT-1", "eq"), ("sku", "tee-1", "eq")]], ["TEE-1", "HAT-1"]),
        ([[("sku", "HAT-1,TEE-1,SOCK-1", "in")], [("status", "1", "eq")]], ["TEE-1", "SOCK-1"]),
        ([[("sku", "HAT-1", "eq"), ("price", "20", "eq")]], ["TEE-1", "HAT-1"]),  # not an index lookup
        ([[("entity_id", "5.0,2,abc", "in")]], ["TEE-2", "HAT-1"]),  # numeric; "abc" is 0
        ([[("id", "3", "eq")]], ["DRESS-1"]),
    ],
)
def test_given_sku_and_id_filters_then_same_rows_as_a_scan(catalogue, filters, expected) -> None:
    names = {"TEE-1": "crew tee", "TEE-2": "v tee", "DRESS-1": "maxi dress", "SOCK-1": "sock", "HAT-1": "hat"}
    assert skus(catalogue, filters=filters) == expected
    by_name = sorted(expected, key=names.__getitem__, reverse=True)
    assert skus(catalogue, filters=filters, sort=[("name", "DESC")]) == by_name


def test_given_entity_id_order_then_pages_follow_creation_order(catalogue) -> None:
    assert skus(catalogue, sort=[("entity_id", "DESC")], page_size=2, current_page=1) == ["HAT-1", "SOCK-1"]
    assert skus(catalogue, sort=[("id", "ASC"), ("name", "DESC")], page_size=2, current_page=2) == [
        "DRESS-1",
        "SOCK-1",
    ]
    assert skus(catalogue, filters=[[("status", "2", "eq")]], sort=[("entity_id", "DESC")]) == [
        "HAT-1",
        "DRESS-1",
    ]


def test_given_a_narrowed_search_then_only_candidates_are_read() -> None:
    records = list(range(1000))
    seen: list[int] = []

    def row_of(r: int) -> dict[str, Any]:
        seen.append(r)
        return {"n": r, "parity": r % 2}

    criteria = SearchCriteria(
        filter_groups=[[Filter("n", "7,3,500", "in")], [Filter("parity", "1", "eq")]],
        sort_orders=[("n", "DESC")],
    )
    collection = Collection(frozenset({"n", "parity"}), frozenset({"n", "parity"}))
    page, total = search(
        records,
        row_of,
        criteria,
        collection,
        on_unknown=lambda name: bad_request(name),
        narrow=lambda group: [3, 7, 500] if group[0].field == "n" else None,
    )
    assert (page, total) == ([7, 3], 2)
    assert sorted(set(seen)) == [3, 7, 500]
