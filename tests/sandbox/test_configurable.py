"""Attribute options (color, size) and configurable products: options, one child per call, errors."""

from __future__ import annotations

from sandbox.magento.testing import SandboxClient, configurable_product, simple_product


def add_option(client: SandboxClient, code: str, label: str, **extra: object) -> str:
    response = client.post(
        f"/V1/products/attributes/{code}/options", json={"option": {"label": label, **extra}}
    )
    assert response.status_code == 200, response.text
    return response.json()


def test_given_new_option_then_id_as_string_and_listed_after_an_empty_option(sandbox_client) -> None:
    red = add_option(sandbox_client, "color", "Red", sort_order=2)
    blue = add_option(sandbox_client, "color", "Blue", sort_order=1)
    assert isinstance(red, str) and red.isdigit()
    options = sandbox_client.get("/V1/products/attributes/color/options").json()
    assert options == [
        {"label": " ", "value": ""},
        {"label": "Blue", "value": blue},
        {"label": "Red", "value": red},
    ]


def test_given_duplicate_admin_label_then_400(sandbox_client) -> None:
    add_option(sandbox_client, "size", "M")
    response = sandbox_client.post("/V1/products/attributes/size/options", json={"option": {"label": "M"}})
    assert response.status_code == 400
    assert response.json() == {
        "message": 'Admin store attribute option label "%1" already exists.',
        "parameters": ["M"],
    }


def test_given_store_labels_then_store_scope_reads_the_store_label(sandbox_client) -> None:
    option_id = add_option(sandbox_client, "color", "Red", store_labels=[{"store_id": 1, "label": "Rouge"}])
    by_scope = {
        scope: sandbox_client.get("/V1/products/attributes/color/options", scope=scope).json()[1]
        for scope in ("all", "default")
    }
    assert by_scope == {
        "all": {"label": "Red", "value": option_id},
        "default": {"label": "Rouge", "value": option_id},
    }


def test_given_attribute_then_metadata_and_unknown_attribute_404(sandbox_client) -> None:
    attribute = sandbox_client.get("/V1/products/attributes/color").json()
    assert (attribute["attribute_id"], attribute["attribute_code"], attribute["frontend_input"]) == (
        93,
        "color",
        "select",
    )
    assert sandbox_client.get("/V1/products/attributes/size").json()["attribute_id"] == 141
    missing = sandbox_client.get("/V1/products/attributes/fabric")
    assert missing.status_code == 404
    assert missing.json()["parameters"] == ["fabric"]


def test_given_option_update_and_delete_then_applied(sandbox_client) -> None:
    option_id = add_option(sandbox_client, "size", "S")
    sandbox_client.put(
        f"/V1/products/attributes/size/options/{option_id}",
        json={"option": {"label": "Small", "value": option_id}},
    )
    assert sandbox_client.get("/V1/products/attributes/size/options").json()[1]["label"] == "Small"
    assert sandbox_client.delete(f"/V1/products/attributes/size/options/{option_id}").json() is True
    assert sandbox_client.get("/V1/products/attributes/size/options").json() == [{"label": " ", "value": ""}]


def build_family(client: SandboxClient) -> dict[str, str]:
    ids = {label: add_option(client, "color", label) for label in ("Red", "Blue")}
    ids |= {label: add_option(client, "size", label) for label in ("S", "M")}
    client.post("/V1/products", json={"product": configurable_product("TEE", "Crew Tee")})
    for colour in ("Red", "Blue"):
        for size in ("S", "M"):
            child = simple_product(
                f"TEE-{colour}-{size}",
                f"Crew Tee {colour} {size}",
                20,
                visibility=1,
                custom={"color": ids[colour], "size": ids[size]},
            )
            assert client.post("/V1/products", json={"product": child}).status_code == 200
    return ids


def test_given_configurable_family_then_options_and_children_link_one_by_one(sandbox_client) -> None:
    ids = build_family(sandbox_client)
    no_options = sandbox_client.post("/V1/configurable-products/TEE/child", json={"childSku": "TEE-Red-S"})
    assert (no_options.status_code, no_options.json()) == (
        400,
        {"message": "The parent product doesn't have configurable product options."},
    )
    for position, (code, attribute_id, labels) in enumerate(
        (("color", "93", ("Red", "Blue")), ("size", "141", ("S", "M")))
    ):
        option = {
            "attribute_id": attribute_id,
            "label": code.title(),
            "position": position,
            "is_use_default": True,
            "values": [{"value_index": int(ids[label])} for label in labels],
        }
        response = sandbox_client.post("/V1/configurable-products/TEE/options", json={"option": option})
        assert response.status_code == 200
        assert response.json().isdigit()
    again = sandbox_client.post(
        "/V1/configurable-products/TEE/options",
        json={"option": {"attribute_id": "93", "label": "Color", "values": [{"value_index": 1}]}},
    )
    assert again.json() == {"message": "Product already has this option"}
    for colour in ("Red", "Blue"):
        for size in ("S", "M"):
            response = sandbox_client.post(
                "/V1/configurable-products/TEE/child", json={"childSku": f"TEE-{colour}-{size}"}
            )
            assert response.json() is True
    duplicate = sandbox_client.post("/V1/configurable-products/TEE/child", json={"childSku": "TEE-Red-S"})
    assert duplicate.json() == {"message": "The product is already attached."}
    children = sandbox_client.get("/V1/configurable-products/TEE/children").json()
    assert sorted(c["sku"] for c in children) == ["TEE-Blue-M", "TEE-Blue-S", "TEE-Red-M", "TEE-Red-S"]
    options = sandbox_client.get("/V1/configurable-products/TEE/options/all").json()
    assert [(o["attribute_id"], o["label"]) for o in options] == [("93", "Color"), ("141", "Size")]
    parent = sandbox_client.get("/V1/products/TEE").json()
    assert len(parent["extension_attributes"]["configurable_product_links"]) == 4
    assert sandbox_client.delete("/V1/configurable-products/TEE/children/TEE-Red-S").json() is True
    missing = sandbox_client.delete("/V1/configurable-products/TEE/children/TEE-Red-S")
    assert missing.status_code == 404


def test_given_child_without_option_value_then_400(sandbox_client) -> None:
    ids = build_family(sandbox_client)
    option = {"attribute_id": "93", "label": "Color", "values": [{"value_index": int(ids["Red"])}]}
    sandbox_client.post("/V1/configurable-products/TEE/options", json={"option": option})
    sandbox_client.post("/V1/products", json={"product": simple_product("PLAIN", "Plain", 5)})
    response = sandbox_client.post("/V1/configurable-products/TEE/child", json={"childSku": "PLAIN"})
    assert response.status_code == 400
    assert response.json() == {
        "message": 'The child product doesn\'t have the "%1" attribute value. '
        "Verify the value and try again.",
        "parameters": ["color"],
    }


def test_given_children_with_the_same_combination_then_400(sandbox_client) -> None:
    ids = build_family(sandbox_client)
    option = {"attribute_id": "93", "label": "Color", "values": [{"value_index": int(ids["Red"])}]}
    sandbox_client.post("/V1/configurable-products/TEE/options", json={"option": option})
    assert (
        sandbox_client.post("/V1/configurable-products/TEE/child", json={"childSku": "TEE-Red-S"}).json()
        is True
    )
    response = sandbox_client.post("/V1/configurable-products/TEE/child", json={"childSku": "TEE-Red-M"})
    assert response.json() == {
        "message": 'Products "%1" and "%2" have the same set of attribute values.',
        "parameters": ["TEE-Red-S", "TEE-Red-M"],
    }


def test_given_simple_parent_then_configurable_routes_refuse(sandbox_client) -> None:
    sandbox_client.post("/V1/products", json={"product": simple_product("S", "Simple", 5)})
    response = sandbox_client.get("/V1/configurable-products/S/children")
    assert response.status_code == 400


def test_given_extension_attributes_then_options_and_links_set_in_one_save(
    sandbox_client, magento_sandbox
) -> None:
    ids = build_family(sandbox_client)
    child_ids = [magento_sandbox.store.product_by_sku(f"TEE-Red-{s}").id for s in ("S", "M")]
    body = {
        "product": {
            "sku": "TEE",
            "extension_attributes": {
                "configurable_product_options": [
                    {
                        "attribute_id": "141",
                        "label": "Size",
                        "position": 0,
                        "values": [{"value_index": int(ids["S"])}],
                    }
                ],
                "configurable_product_links": child_ids,
            },
        }
    }
    product = sandbox_client.put("/V1/products/TEE", json=body).json()
    assert product["extension_attributes"]["configurable_product_links"] == child_ids
    assert product["extension_attributes"]["configurable_product_options"][0]["attribute_id"] == "141"


def test_given_configurable_parent_then_base_price_row_fails(sandbox_client) -> None:
    build_family(sandbox_client)
    failures = sandbox_client.post(
        "/V1/products/base-prices", json={"prices": [{"sku": "TEE", "price": 5, "store_id": 0}]}
    )
    assert failures.json() == [
        {"message": "Invalid attribute %fieldName = %fieldValue.", "parameters": ["SKU", "TEE"]}
    ]
