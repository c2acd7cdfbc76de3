"""Request parsing as Magento's webapi does it: path decoding, parameter names, types, unknown fields."""

from __future__ import annotations

from typing import Any

import pytest

from sandbox.magento.schema import snake_parameter
from sandbox.magento.testing import SandboxClient, search_query, simple_product

REQUIRED = '"%fieldName" is required. Enter and try again.'
TYPE_ERROR = 'The "{}" value\'s type is invalid. The "{}" type was expected. Verify and try again.'


def create(client: SandboxClient, sku: str, **extra: Any) -> dict[str, Any]:
    response = client.post("/V1/products", json={"product": {**simple_product(sku, sku, 10), **extra}})
    assert response.status_code == 200, response.text
    return response.json()


def raw_get(client: SandboxClient, raw_path: str) -> Any:
    """GET a path exactly as written (no escaping by the client)."""
    url = client.url("/V1/products").replace("/V1/products", raw_path)
    return client.session.get(url, headers=client.sign("GET", url))


# ---------------------------------------------------------------- path values


@pytest.mark.parametrize(
    ("stored", "sent", "found"),
    [
        ("A B", "A+B", True),  # urldecode: + is a space
        ("A B", "A%20B", True),
        ("A+B", "A%2BB", True),
        ("A+B", "A+B", False),  # a literal plus reaches Magento as a space
        ("A/B", "A%2FB", True),
    ],
)
def test_given_sku_in_path_then_decoded_as_php_urldecode(
    sandbox_client: SandboxClient, stored: str, sent: str, found: bool
) -> None:
    create(sandbox_client, stored)
    response = raw_get(sandbox_client, f"/V1/products/{sent}")
    assert response.status_code == (200 if found else 404)
    if found:
        assert response.json()["sku"] == stored


# ---------------------------------------------------------------- parameter names


def test_snake_parameter_matches_php_pattern() -> None:
    assert snake_parameter("sourceItems") == "source_items"
    assert snake_parameter("statusHistory") == "status_history"
    assert snake_parameter("product") == "product"
    assert snake_parameter("skuA1B") == "sku_a1_b"


def test_given_snake_case_top_level_parameter_then_accepted(sandbox_client: SandboxClient) -> None:
    create(sandbox_client, "S1")
    items = [{"sku": "S1", "source_code": "default", "quantity": 4, "status": 1}]
    response = sandbox_client.post("/V1/inventory/source-items", json={"source_items": items})
    assert response.status_code == 200, response.text
    stock = sandbox_client.get("/V1/inventory/source-items", params=search_query([[("sku", "S1", "eq")]]))
    assert stock.json()["items"][0]["quantity"] == 4


def test_given_camel_and_snake_forms_then_camel_wins(sandbox_client: SandboxClient) -> None:
    create(sandbox_client, "S1")
    camel = [{"sku": "S1", "source_code": "default", "quantity": 7, "status": 1}]
    snake = [{"sku": "S1", "source_code": "default", "quantity": 1, "status": 1}]
    response = sandbox_client.post(
        "/V1/inventory/source-items", json={"sourceItems": camel, "source_items": snake}
    )
    assert response.status_code == 200
    stock = sandbox_client.get("/V1/inventory/source-items", params=search_query([[("sku", "S1", "eq")]]))
    assert stock.json()["items"][0]["quantity"] == 7


def test_given_null_parameter_then_required(sandbox_client: SandboxClient) -> None:
    response = sandbox_client.post("/V1/products", json={"product": None})
    assert response.status_code == 400
    assert response.json() == {"message": REQUIRED, "parameters": {"fieldName": "product"}}


def test_given_several_parameters_missing_then_one_error_lists_them(sandbox_client: SandboxClient) -> None:
    response = sandbox_client.post("/V1/integration/admin/token", json={"user": "admin"})
    assert response.status_code == 400
    assert response.json() == {
        "message": "One or more input exceptions have occurred.",
        "errors": [
            {"message": REQUIRED, "parameters": {"fieldName": "username"}},
            {"message": REQUIRED, "parameters": {"fieldName": "password"}},
        ],
    }


def test_given_unknown_top_level_key_then_ignored(sandbox_client: SandboxClient) -> None:
    response = sandbox_client.post(
        "/V1/products", json={"product": simple_product("S1", "S1", 10), "dryRun": True}
    )
    assert response.status_code == 200


def test_given_unknown_nested_key_in_snake_or_camel_case_then_named_in_upper_camel(
    sandbox_client: SandboxClient,
) -> None:
    for key in ("colour_code", "colourCode"):
        body = {"product": {**simple_product("S1", "S1", 1), key: "red"}}
        response = sandbox_client.post("/V1/products", json=body)
        assert response.status_code == 400
        assert response.json()["parameters"] == {"fieldName": "ColourCode"}


def test_given_camel_case_nested_key_then_bound_as_snake_case(sandbox_client: SandboxClient) -> None:
    product = {**simple_product("S1", "S1", 1)}
    product["typeId"] = product.pop("type_id")
    product["attributeSetId"] = product.pop("attribute_set_id")
    response = sandbox_client.post("/V1/products", json={"product": product})
    assert response.status_code == 200, response.text
    assert response.json()["type_id"] == "simple"


# ---------------------------------------------------------------- types


def test_given_nested_wrong_type_then_each_enclosing_property_is_named(sandbox_client: SandboxClient) -> None:
    extension = {"stock_item": {"qty": "plenty", "is_in_stock": True}}
    body = {"product": {**simple_product("S1", "S1", 1), "extension_attributes": extension}}
    response = sandbox_client.post("/V1/products", json=body)
    assert response.status_code == 400
    assert response.json() == {
        "message": 'Error occurred during "extension_attributes" processing. '
        'Error occurred during "stock_item" processing. '
        'Error occurred during "qty" processing. ' + TYPE_ERROR.format("plenty", "float")
    }


def test_given_top_level_scalar_of_wrong_type_then_rendered_without_wrapping(
    sandbox_client: SandboxClient,
) -> None:
    response = sandbox_client.put("/V1/categories/2/move", json={"parentId": "root"})
    assert response.status_code == 400
    assert response.json() == {"message": TYPE_ERROR.format("root", "int")}


def test_given_scalar_where_array_of_objects_expected_then_not_all_parameters_valid(
    sandbox_client: SandboxClient,
) -> None:
    response = sandbox_client.post("/V1/products/base-prices", json={"prices": "nope"})
    assert response.status_code == 400
    assert response.json() == {"message": "Not all parameters valid."}


@pytest.mark.parametrize(("value", "ok"), [("12", True), (" 12.5", True), ("1e2", True), ("12abc", False)])
def test_given_numeric_strings_then_php_is_numeric_decides(
    sandbox_client: SandboxClient, value: str, ok: bool
) -> None:
    response = sandbox_client.post("/V1/products", json={"product": simple_product("S1", "S1", value)})
    assert (response.status_code == 200) is ok, response.text


def test_given_scalar_where_object_expected_then_empty_object(sandbox_client: SandboxClient) -> None:
    create(sandbox_client, "S1")
    body = {"product": {**simple_product("S1", "S1", 1), "extension_attributes": "none"}}
    response = sandbox_client.post("/V1/products", json=body)
    assert response.status_code == 200, response.text


def test_given_script_element_in_a_string_then_refused(sandbox_client: SandboxClient) -> None:
    body = {"product": {**simple_product("S1", "S1", 1), "name": "Tee <script>alert(1)</script>"}}
    response = sandbox_client.post("/V1/products", json=body)
    assert response.status_code == 400
    assert response.json() == {
        "message": '"%field_name" does not contains valid value.',
        "parameters": {"field_name": "name"},
    }


# ---------------------------------------------------------------- unknown attributes


def test_given_filter_on_unknown_product_attribute_then_400(sandbox_client: SandboxClient) -> None:
    create(sandbox_client, "S1")
    response = sandbox_client.get("/V1/products", params=search_query([[("colr", "red", "eq")]]))
    assert response.status_code == 400
    assert response.json() == {"message": "Invalid attribute name: %1", "parameters": ["colr"]}


def test_given_filter_on_known_attributes_then_searched(sandbox_client: SandboxClient) -> None:
    create(sandbox_client, "S1")
    for field, value in (("color", "1"), ("url_key", "s1"), ("category_id", "2"), ("entity_id", "1")):
        response = sandbox_client.get("/V1/products", params=search_query([[(field, value, "eq")]]))
        assert response.status_code == 200, (field, response.text)


def test_given_sort_on_unknown_product_attribute_then_ignored(sandbox_client: SandboxClient) -> None:
    create(sandbox_client, "S2")
    create(sandbox_client, "S1")
    response = sandbox_client.get("/V1/products", params=search_query(sort=[("colr", "DESC")]))
    assert response.status_code == 200
    body = response.json()
    assert [p["sku"] for p in body["items"]] == ["S2", "S1"]
    assert body["search_criteria"]["sort_orders"] == [{"field": "colr", "direction": "DESC"}]
