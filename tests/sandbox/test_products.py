"""Products: upsert by SKU, ids, url keys, store-view overrides, extension attributes, input binding."""

from __future__ import annotations

from typing import Any

from sandbox.magento.testing import SandboxClient, simple_product, sku_path

NOT_FOUND = "The product that was requested doesn't exist. Verify the product and try again."


def custom(product: dict[str, Any]) -> dict[str, Any]:
    return {a["attribute_code"]: a["value"] for a in product["custom_attributes"]}


def create(client: SandboxClient, sku: str, name: str, price: Any = 10, **kw: Any) -> dict[str, Any]:
    response = client.post("/V1/products", json={"product": simple_product(sku, name, price, **kw)})
    assert response.status_code == 200, response.text
    return response.json()


def test_given_new_sku_when_posted_then_created_with_id_and_generated_url_key(sandbox_client) -> None:
    product = create(sandbox_client, "TEE-1", "Crew Tee", 29.95)
    assert product["id"] == 1
    assert product["price"] == 29.95
    assert product["type_id"] == "simple"
    assert custom(product)["url_key"] == "crew-tee"
    assert product["extension_attributes"]["website_ids"] == [1]
    assert product["extension_attributes"]["stock_item"]["qty"] == 0
    assert len(product["created_at"]) == 19


def test_given_existing_sku_when_posted_again_then_updated_not_duplicated(
    sandbox_client, magento_sandbox
) -> None:
    first = create(sandbox_client, "TEE-1", "Crew Tee", 20)
    again = create(sandbox_client, "tee-1", "Crew Tee", 25)  # SKUs compare case-insensitively
    assert again["id"] == first["id"]
    assert again["sku"] == "TEE-1"
    assert again["price"] == 25
    assert len(magento_sandbox.store.products) == 1


def test_given_put_then_product_updated_and_missing_sku_404(sandbox_client) -> None:
    create(sandbox_client, "TEE-1", "Crew Tee", 20)
    response = sandbox_client.put("/V1/products/TEE-1", json={"product": {"sku": "TEE-1", "status": 2}})
    assert response.status_code == 200
    assert response.json()["status"] == 2
    missing = sandbox_client.get("/V1/products/NOPE")
    assert missing.status_code == 404
    assert missing.json() == {"message": NOT_FOUND}


def test_given_delete_then_true_and_gone(sandbox_client) -> None:
    create(sandbox_client, "TEE-1", "Crew Tee")
    assert sandbox_client.delete("/V1/products/TEE-1").json() is True
    assert sandbox_client.get("/V1/products/TEE-1").status_code == 404
    assert sandbox_client.delete("/V1/products/TEE-1").status_code == 404


def test_given_two_products_with_same_name_then_url_key_conflict(sandbox_client) -> None:
    create(sandbox_client, "TEE-1", "Crew Tee")
    response = sandbox_client.post("/V1/products", json={"product": simple_product("TEE-2", "Crew Tee", 10)})
    assert response.status_code == 400
    assert response.json() == {"message": "URL key for specified store already exists."}
    unique = create(sandbox_client, "TEE-2", "Crew Tee", url_key="Crew Tee TEE 2")
    assert custom(unique)["url_key"] == "crew-tee-tee-2"


def test_given_deleted_product_then_its_url_key_is_free(sandbox_client) -> None:
    create(sandbox_client, "TEE-1", "Crew Tee")
    sandbox_client.delete("/V1/products/TEE-1")
    create(sandbox_client, "TEE-2", "Crew Tee")


def test_given_new_product_without_name_or_price_then_400_attribute_empty(sandbox_client) -> None:
    no_name = sandbox_client.post("/V1/products", json={"product": {"sku": "X", "price": 1}})
    no_price = sandbox_client.post("/V1/products", json={"product": {"sku": "X", "name": "X"}})
    empty_sku = sandbox_client.post("/V1/products", json={"product": {"sku": "", "name": "X", "price": 1}})
    template = 'The "%1" attribute value is empty. Set the attribute and try again.'
    assert no_name.json() == {"message": template, "parameters": ["Product Name"]}
    assert no_price.json() == {"message": template, "parameters": ["Price"]}
    assert empty_sku.json() == {"message": template, "parameters": ["SKU"]}
    assert {no_name.status_code, no_price.status_code, empty_sku.status_code} == {400}


def test_given_missing_product_key_then_400_field_required(sandbox_client) -> None:
    response = sandbox_client.post("/V1/products", json={"prodcut": {}})
    assert response.status_code == 400
    assert response.json() == {
        "message": '"%fieldName" is required. Enter and try again.',
        "parameters": {"fieldName": "product"},
    }


def test_given_unknown_property_then_400_not_supported(sandbox_client) -> None:
    body = {"product": {**simple_product("X", "X", 1), "colour_code": "red"}}
    response = sandbox_client.post("/V1/products", json=body)
    assert response.status_code == 400
    assert response.json() == {
        "message": '"%fieldName" is not supported. Correct the field name and try again.',
        "parameters": {"fieldName": "ColourCode"},
    }


def test_given_wrong_type_then_400_and_numeric_strings_are_accepted(sandbox_client) -> None:
    bad = sandbox_client.post(
        "/V1/products", json={"product": {**simple_product("X", "X"), "price": "cheap"}}
    )
    assert bad.status_code == 400
    assert bad.json() == {
        "message": 'Error occurred during "price" processing. '
        'The "cheap" value\'s type is invalid. The "float" type was expected. Verify and try again.'
    }
    ok = sandbox_client.post("/V1/products", json={"product": {**simple_product("X", "X"), "price": "12.50"}})
    assert ok.json()["price"] == 12.5


def test_given_bad_json_or_content_type_then_magento_errors(sandbox_client) -> None:
    url = sandbox_client.url("/V1/products")
    headers = sandbox_client.sign("POST", url)
    bad_json = sandbox_client.session.post(
        url, data="{nope", headers={**headers, "Content-Type": "application/json"}
    )
    assert (bad_json.status_code, bad_json.json()) == (400, {"message": "Decoding error."})
    headers = sandbox_client.sign("POST", url)
    no_type = sandbox_client.session.post(url, data='{"product": {}}', headers=headers)
    assert (no_type.status_code, no_type.json()) == (400, {"message": "Content-Type header is empty."})


def test_given_sku_with_slash_then_it_travels_as_percent_2f(sandbox_client) -> None:
    create(sandbox_client, "TEE/RED/M", "Tee Red M")
    response = sandbox_client.get(f"/V1/products/{sku_path('TEE/RED/M')}")
    assert response.status_code == 200
    assert response.json()["sku"] == "TEE/RED/M"
    update = sandbox_client.put(
        f"/V1/products/{sku_path('TEE/RED/M')}", json={"product": {"sku": "TEE/RED/M", "price": 11}}
    )
    assert update.json()["price"] == 11


def test_given_store_scope_write_then_override_shadows_global_value(sandbox_client) -> None:
    create(sandbox_client, "TEE-1", "Crew Tee")
    body = {"product": {"sku": "TEE-1", "name": "Store Tee", "price": 12}}
    assert sandbox_client.put("/V1/products/TEE-1", json=body, scope="default").status_code == 200
    assert sandbox_client.get("/V1/products/TEE-1", scope="default").json()["name"] == "Store Tee"
    assert sandbox_client.get("/V1/products/TEE-1", scope="").json()["name"] == "Store Tee"  # /rest/V1
    assert sandbox_client.get("/V1/products/TEE-1", scope="all").json()["name"] == "Crew Tee"
    # a later global write does not reach the store view that has its own value
    sandbox_client.put("/V1/products/TEE-1", json={"product": {"sku": "TEE-1", "name": "Global Tee"}})
    assert sandbox_client.get("/V1/products/TEE-1", scope="default").json()["name"] == "Store Tee"
    assert sandbox_client.get("/V1/products/TEE-1", scope="all").json()["name"] == "Global Tee"
    # price is global: the store-scope write changed it everywhere
    assert sandbox_client.get("/V1/products/TEE-1", scope="all").json()["price"] == 12


def test_given_extra_store_view_then_its_code_is_a_scope(store_with) -> None:
    from sandbox.magento import StoreView

    with store_with(extra_store_views=(StoreView(2, "fr", "French"),)) as (_store, client):
        create(client, "TEE-1", "Crew Tee")
        client.put("/V1/products/TEE-1", json={"product": {"sku": "TEE-1", "name": "T-shirt"}}, scope="fr")
        assert client.get("/V1/products/TEE-1", scope="fr").json()["name"] == "T-shirt"
        assert client.get("/V1/products/TEE-1", scope="default").json()["name"] == "Crew Tee"
        assert client.get("/V1/products/TEE-1", params={"storeId": 2}).json()["name"] == "T-shirt"


def test_given_category_links_then_sent_links_merge_and_empty_list_clears(sandbox_client) -> None:
    for name in ("Womens", "Mens"):
        sandbox_client.post(
            "/V1/categories", json={"category": {"parent_id": 2, "name": name, "is_active": True}}
        )
    create(sandbox_client, "TEE-1", "Crew Tee")

    def links(ext_links: list[dict[str, Any]]) -> list[tuple[str, int]]:
        body = {"product": {"sku": "TEE-1", "extension_attributes": {"category_links": ext_links}}}
        product = sandbox_client.put("/V1/products/TEE-1", json=body).json()
        return sorted(
            (x["category_id"], x["position"]) for x in product["extension_attributes"]["category_links"]
        )

    assert links([{"category_id": "3", "position": 0}]) == [("3", 0)]
    assert links([{"category_id": "4", "position": 2}]) == [("3", 0), ("4", 2)]
    assert links([{"category_id": "3", "position": 5}]) == [("3", 5), ("4", 2)]
    assert links([]) == []


def test_given_stock_item_in_product_then_legacy_and_default_source_follow(sandbox_client) -> None:
    body = simple_product("TEE-1", "Crew Tee", 10)
    body["extension_attributes"] = {"stock_item": {"qty": 7, "is_in_stock": True}}
    sandbox_client.post("/V1/products", json={"product": body})
    stock = sandbox_client.get("/V1/stockItems/TEE-1").json()
    assert (stock["qty"], stock["is_in_stock"]) == (7, True)
    items = sandbox_client.get(
        "/V1/inventory/source-items",
        params={
            "searchCriteria[filter_groups][0][filters][0][field]": "sku",
            "searchCriteria[filter_groups][0][filters][0][value]": "TEE-1",
        },
    ).json()["items"]
    assert items == [{"sku": "TEE-1", "source_code": "default", "quantity": 7, "status": 1}]


def test_given_legacy_stock_item_put_then_item_id_returned(sandbox_client) -> None:
    product = create(sandbox_client, "TEE-1", "Crew Tee")
    response = sandbox_client.put(
        "/V1/products/TEE-1/stockItems/1", json={"stockItem": {"qty": 3, "is_in_stock": True}}
    )
    assert response.json() == product["id"]
    assert sandbox_client.get("/V1/stockItems/TEE-1").json()["qty"] == 3
    missing = sandbox_client.get("/V1/stockItems/NOPE")
    assert missing.status_code == 404
    assert missing.json() == {
        "message": 'The Product with the "%1" SKU doesn\'t exist.',
        "parameters": ["NOPE"],
    }


def test_given_custom_attributes_then_round_tripped_as_strings(sandbox_client) -> None:
    product = create(
        sandbox_client, "TEE-1", "Crew Tee", custom={"description": "<p>Soft</p>", "color": 5, "cost": 4.5}
    )
    attrs = custom(product)
    assert attrs["description"] == "<p>Soft</p>"
    assert attrs["color"] == "5"
    assert attrs["cost"] == "4.500000"
    assert attrs["tax_class_id"] == "2"


def test_given_website_ids_then_replaced(sandbox_client) -> None:
    body = simple_product("TEE-1", "Crew Tee", extension_attributes={"website_ids": []})
    product = sandbox_client.post("/V1/products", json={"product": body}).json()
    assert product["extension_attributes"]["website_ids"] == []


def test_given_special_price_and_roles_as_custom_attributes_then_honoured(sandbox_client) -> None:
    from sandbox.magento.testing import image_entry

    create(
        sandbox_client,
        "TEE-1",
        "Crew Tee",
        30,
        custom={"special_price": 25, "special_from_date": "2030-01-01 00:00:00"},
    )
    info = sandbox_client.post("/V1/products/special-price-information", json={"skus": ["TEE-1"]}).json()
    assert info == [
        {"price": 25, "store_id": 0, "sku": "TEE-1", "price_from": "2030-01-01 00:00:00", "price_to": None}
    ]
    sandbox_client.post("/V1/products/TEE-1/media", json={"entry": image_entry("a.png")})
    second = sandbox_client.post("/V1/products/TEE-1/media", json={"entry": image_entry("b.png", types=[])})
    body = {
        "product": {
            "sku": "TEE-1",
            "custom_attributes": [{"attribute_code": "thumbnail", "value": "/b/_/b.png"}],
        }
    }
    product = sandbox_client.put("/V1/products/TEE-1", json=body).json()
    roles = {e["file"]: e["types"] for e in product["media_gallery_entries"]}
    assert roles == {"/a/_/a.png": ["image", "small_image"], "/b/_/b.png": ["thumbnail"]}
    assert second.status_code == 200
    cleared = {
        "product": {"sku": "TEE-1", "custom_attributes": [{"attribute_code": "special_price", "value": ""}]}
    }
    sandbox_client.put("/V1/products/TEE-1", json=cleared)
    assert (
        sandbox_client.post("/V1/products/special-price-information", json={"skus": ["TEE-1"]}).json() == []
    )
