"""MSI sources and source items: all-or-nothing batches, Magento's validation messages."""

from __future__ import annotations

from sandbox.magento.testing import SandboxClient, search_query, simple_product


def seed(client: SandboxClient, skus: tuple[str, ...] = ("A", "B")) -> None:
    for sku in skus:
        client.post("/V1/products", json={"product": simple_product(sku, f"Product {sku}", 10)})


def items(client: SandboxClient, **query: object) -> list[dict]:
    response = client.get("/V1/inventory/source-items", params=search_query(**query))  # type: ignore[arg-type]
    assert response.status_code == 200, response.text
    return response.json()["items"]


def test_given_default_source_then_listed_and_extra_sources_can_be_added(sandbox_client) -> None:
    sources = sandbox_client.get("/V1/inventory/sources").json()
    assert [s["source_code"] for s in sources["items"]] == ["default"]
    new = {"source_code": "akl", "name": "Auckland", "enabled": True, "country_id": "NZ", "postcode": "1010"}
    assert sandbox_client.post("/V1/inventory/sources", json={"source": new}).status_code == 200
    assert sandbox_client.get("/V1/inventory/sources/akl").json()["name"] == "Auckland"
    missing = sandbox_client.get("/V1/inventory/sources/nope")
    assert missing.status_code == 404
    assert missing.json() == {
        "message": 'Source with code "%value" does not exist.',
        "parameters": {"value": "nope"},
    }


def test_given_configured_sources_then_seeded(store_with) -> None:
    with store_with(sources=("akl", "wlg")) as (_store, client):
        codes = [s["source_code"] for s in client.get("/V1/inventory/sources").json()["items"]]
        assert codes == ["default", "akl", "wlg"]


def test_given_valid_batch_then_saved_and_searchable(store_with) -> None:
    with store_with(sources=("akl",)) as (_store, client):
        seed(client)
        batch = [
            {"sku": "A", "source_code": "akl", "quantity": 5, "status": 1},
            {"sku": "B", "source_code": "akl", "quantity": 0, "status": 0},
            {"sku": "A", "source_code": "default", "quantity": 2, "status": 1},
        ]
        response = client.post("/V1/inventory/source-items", json={"sourceItems": batch})
        assert (response.status_code, response.json()) == (200, [])
        assert items(client, filters=[[("source_code", "akl", "eq")]], sort=[("sku", "ASC")]) == batch[:2]
        # saving the default source updates the legacy stock item
        assert client.get("/V1/stockItems/A").json()["qty"] == 2


def test_given_one_invalid_item_then_whole_batch_rejected(store_with) -> None:
    with store_with(sources=("akl",)) as (_store, client):
        seed(client)
        batch = [
            {"sku": "A", "source_code": "akl", "quantity": 5, "status": 1},
            {"sku": "B", "source_code": "akl", "status": 1},
        ]
        response = client.post("/V1/inventory/source-items", json={"sourceItems": batch})
        assert response.status_code == 400
        assert response.json() == {
            "message": 'Validation Failed: "quantity" should be numeric.',
            "errors": [{"message": '"%field" should be numeric.', "parameters": {"field": "quantity"}}],
        }
        assert items(client) == []
        typed = [{"sku": "B", "source_code": "akl", "quantity": "lots", "status": 1}]
        response = client.post("/V1/inventory/source-items", json={"sourceItems": typed})
        assert response.json() == {  # the input processor answers first, with a rendered message
            "message": 'Error occurred during "quantity" processing. '
            'The "lots" value\'s type is invalid. The "float" type was expected. Verify and try again.'
        }


def test_given_unknown_source_then_batch_fails_on_save(sandbox_client) -> None:
    seed(sandbox_client)
    batch = [
        {"sku": "A", "source_code": "default", "quantity": 5, "status": 1},
        {"sku": "B", "source_code": "nowhere", "quantity": 5, "status": 1},
    ]
    response = sandbox_client.post("/V1/inventory/source-items", json={"sourceItems": batch})
    assert (response.status_code, response.json()) == (400, {"message": "Could not save Source Item"})
    assert items(sandbox_client) == []


def test_given_empty_list_then_input_data_is_empty(sandbox_client) -> None:
    response = sandbox_client.post("/V1/inventory/source-items", json={"sourceItems": []})
    assert (response.status_code, response.json()) == (400, {"message": "Input data is empty"})


def test_given_bad_status_or_spaced_sku_then_validation_messages(sandbox_client) -> None:
    seed(sandbox_client)
    batch = [
        {"sku": " A", "source_code": "default", "quantity": 1, "status": 1},
        {"sku": "B", "source_code": "default", "quantity": 1, "status": 7},
    ]
    body = sandbox_client.post("/V1/inventory/source-items", json={"sourceItems": batch}).json()
    assert body["message"] == 'Validation Failed: "sku" can not contain leading or trailing spaces.'
    assert [e["message"] for e in body["errors"]] == [
        '"%field" can not contain leading or trailing spaces.',
        '"%field" should a known status.',
    ]


def test_given_unknown_sku_or_negative_qty_then_magento_accepts_them(sandbox_client) -> None:
    seed(sandbox_client)
    batch = [
        {"sku": "GHOST", "source_code": "default", "quantity": 1, "status": 1},
        {"sku": "A", "source_code": "default", "quantity": -3, "status": 0},
    ]
    assert sandbox_client.post("/V1/inventory/source-items", json={"sourceItems": batch}).json() == []
    assert {i["sku"]: i["quantity"] for i in items(sandbox_client)} == {"GHOST": 1, "A": -3}


def test_given_strict_source_items_then_unknown_sku_and_negative_qty_reject_the_batch(store_with) -> None:
    with store_with(strict_source_items=True) as (_store, client):
        seed(client)
        for bad in ({"sku": "GHOST", "quantity": 1}, {"sku": "A", "quantity": -3}):
            batch = [
                {"sku": "B", "source_code": "default", "quantity": 1, "status": 1},
                {**bad, "source_code": "default", "status": 1},
            ]
            response = client.post("/V1/inventory/source-items", json={"sourceItems": batch})
            assert response.status_code == 400
            assert response.json()["message"].startswith("Validation Failed: ")
        assert items(client) == []


def test_given_delete_then_source_items_removed(sandbox_client) -> None:
    seed(sandbox_client)
    batch = [{"sku": "A", "source_code": "default", "quantity": 1, "status": 1}]
    sandbox_client.post("/V1/inventory/source-items", json={"sourceItems": batch})
    response = sandbox_client.post(
        "/V1/inventory/source-items-delete", json={"sourceItems": [{"sku": "A", "source_code": "default"}]}
    )
    assert (response.status_code, response.json()) == (200, [])
    assert items(sandbox_client) == []


def test_given_input_limits_then_21_source_items_refused(store_with) -> None:
    with store_with(input_limits=True) as (_store, client):
        seed(client, tuple(f"S{i}" for i in range(21)))
        batch = [{"sku": f"S{i}", "source_code": "default", "quantity": 1, "status": 1} for i in range(21)]
        response = client.post("/V1/inventory/source-items", json={"sourceItems": batch})
        assert response.status_code == 400
        assert response.json()["parameters"] == {
            "type": "\\Magento\\InventoryApi\\Api\\Data\\SourceItemInterface",
            "max": 20,
        }


def test_given_source_items_search_without_criteria_then_400(sandbox_client) -> None:
    response = sandbox_client.get("/V1/inventory/source-items")
    assert response.status_code == 400
    assert response.json() == {
        "message": '"%fieldName" is required. Enter and try again.',
        "parameters": {"fieldName": "searchCriteria"},
    }
