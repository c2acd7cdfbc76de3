"""Base and special prices: HTTP 200 with partial success and Magento's placeholder messages."""

from __future__ import annotations

from sandbox.magento.testing import SandboxClient, configurable_product, simple_product

INVALID = "Invalid attribute %fieldName = %fieldValue."
ROW_ID = "Row ID: SKU = %SKU, Store ID: %storeId, Price From: %priceFrom, Price To: %priceTo."


def seed(client: SandboxClient) -> None:
    for sku, name in (("A", "Alpha"), ("B", "Beta")):
        assert client.post("/V1/products", json={"product": simple_product(sku, name, 10)}).status_code == 200
    client.post("/V1/products", json={"product": configurable_product("PARENT", "Parent")})


def test_given_valid_rows_then_empty_list_and_prices_stored(sandbox_client) -> None:
    seed(sandbox_client)
    rows = [{"sku": "A", "price": 12.5, "store_id": 0}, {"sku": "b", "price": 20, "store_id": 1}]
    response = sandbox_client.post("/V1/products/base-prices", json={"prices": rows})
    assert (response.status_code, response.json()) == (200, [])
    info = sandbox_client.post(
        "/V1/products/base-prices-information", json={"skus": ["A", "B", "NOPE"]}
    ).json()
    assert info == [{"price": 12.5, "store_id": 0, "sku": "A"}, {"price": 20, "store_id": 0, "sku": "B"}]
    assert sandbox_client.get("/V1/products/A").json()["price"] == 12.5


def test_given_bad_rows_then_they_fail_alone_and_good_rows_apply(sandbox_client) -> None:
    seed(sandbox_client)
    rows = [
        {"sku": "A", "price": 11, "store_id": 0},
        {"sku": "NOPE", "price": 5, "store_id": 0},
        {"sku": "B", "price": -1, "store_id": 0},
        {"sku": "PARENT", "price": 30, "store_id": 0},
        {"sku": "B", "price": 9, "store_id": 99},
    ]
    response = sandbox_client.post("/V1/products/base-prices", json={"prices": rows})
    assert response.status_code == 200
    assert response.json() == [
        {"message": INVALID, "parameters": ["SKU", "NOPE"]},
        {"message": INVALID, "parameters": ["Price", "-1"]},
        {"message": INVALID, "parameters": ["SKU", "PARENT"]},
        {
            "message": "Requested store is not found. Row ID: SKU = %SKU, Store ID: %storeId.",
            "parameters": ["B", "99"],
        },
    ]
    info = sandbox_client.post("/V1/products/base-prices-information", json={"skus": ["A", "B"]}).json()
    assert [(p["sku"], p["price"]) for p in info] == [("A", 11), ("B", 10)]


def test_given_special_prices_then_set_read_and_deleted(sandbox_client) -> None:
    seed(sandbox_client)
    row = {
        "sku": "A",
        "price": 7.5,
        "store_id": 0,
        "price_from": "2030-01-01 00:00:00",
        "price_to": "2030-02-01 00:00:00",
    }
    assert sandbox_client.post("/V1/products/special-price", json={"prices": [row]}).json() == []
    info = sandbox_client.post("/V1/products/special-price-information", json={"skus": ["A", "B"]}).json()
    assert info == [row]
    attrs = {
        a["attribute_code"]: a["value"]
        for a in sandbox_client.get("/V1/products/A").json()["custom_attributes"]
    }
    assert attrs["special_price"] == "7.500000"
    assert attrs["special_from_date"] == "2030-01-01 00:00:00"
    assert sandbox_client.post("/V1/products/special-price-delete", json={"prices": [row]}).json() == []
    assert sandbox_client.post("/V1/products/special-price-information", json={"skus": ["A"]}).json() == []


def test_given_special_price_without_dates_then_dates_read_back_as_null(sandbox_client) -> None:
    seed(sandbox_client)
    row = {"sku": "A", "price": 8, "store_id": 0}
    assert sandbox_client.post("/V1/products/special-price", json={"prices": [row]}).json() == []
    info = sandbox_client.post("/V1/products/special-price-information", json={"skus": ["A"]}).json()
    assert info == [{"price": 8, "store_id": 0, "sku": "A", "price_from": None, "price_to": None}]


def test_given_bad_special_price_rows_then_row_failures(sandbox_client) -> None:
    seed(sandbox_client)
    rows = [
        {"sku": "NOPE", "price": 5, "store_id": 0},
        {"sku": "A", "price": -2, "store_id": 0},
        {"sku": "B", "price": 5, "store_id": 42},
        {"sku": "A", "price": 5, "store_id": 0, "price_from": "tomorrow"},
    ]
    failures = sandbox_client.post("/V1/products/special-price", json={"prices": rows}).json()
    assert failures == [
        {
            "message": "The product that was requested doesn't exist. Verify the product and try again. "
            + ROW_ID,
            "parameters": ["NOPE", "0", "", ""],
        },
        {"message": "Invalid attribute Price = %price. " + ROW_ID, "parameters": ["-2", "A", "0", "", ""]},
        {"message": "Requested store is not found. " + ROW_ID, "parameters": ["B", "42", "", ""]},
        {
            "message": "Invalid attribute %label = %priceTo. " + ROW_ID,
            "parameters": ["Price From", "A", "0", "tomorrow", ""],
        },
    ]
    assert (
        sandbox_client.post("/V1/products/special-price-information", json={"skus": ["A", "B"]}).json() == []
    )


def test_given_input_limits_then_21_prices_refused_whole(store_with) -> None:
    with store_with(input_limits=True) as (_store, client):
        seed(client)
        rows = [{"sku": "A", "price": 10 + i, "store_id": 0} for i in range(21)]
        response = client.post("/V1/products/base-prices", json={"prices": rows})
        assert response.status_code == 400
        assert response.json() == {
            "message": 'Maximum items of type "%type" is %max',
            "parameters": {"type": "\\Magento\\Catalog\\Api\\Data\\BasePriceInterface", "max": 20},
        }
        assert client.post("/V1/products/base-prices", json={"prices": rows[:20]}).json() == []
