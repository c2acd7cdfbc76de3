"""Categories: seeded roots, tree and list, url keys per parent, move, product assignments."""

from __future__ import annotations

from typing import Any

from sandbox.magento.testing import SandboxClient, search_query, simple_product


def create(client: SandboxClient, name: str, parent_id: int = 2, **extra: Any) -> dict[str, Any]:
    response = client.post(
        "/V1/categories",
        json={"category": {"parent_id": parent_id, "name": name, "is_active": True, **extra}},
    )
    assert response.status_code == 200, response.text
    return response.json()


def test_given_new_store_then_root_catalog_and_default_category_exist(sandbox_client) -> None:
    tree = sandbox_client.get("/V1/categories", scope="all").json()
    assert (tree["id"], tree["name"], tree["level"]) == (1, "Root Catalog", 0)
    assert [(c["id"], c["name"], c["level"]) for c in tree["children_data"]] == [(2, "Default Category", 1)]
    store_tree = sandbox_client.get("/V1/categories", scope="default").json()
    assert store_tree["id"] == 2


def test_given_categories_then_tree_depth_and_product_counts(sandbox_client) -> None:
    womens = create(sandbox_client, "Womens")
    dresses = create(sandbox_client, "Dresses", womens["id"])
    assert (dresses["level"], dresses["path"], dresses["parent_id"]) == (
        3,
        f"1/2/{womens['id']}/{dresses['id']}",
        womens["id"],
    )
    attrs = {a["attribute_code"]: a["value"] for a in dresses["custom_attributes"]}
    assert (attrs["url_key"], attrs["url_path"]) == ("dresses", "womens/dresses")
    sandbox_client.post("/V1/products", json={"product": simple_product("D-1", "Dress", 50)})
    link = {"productLink": {"sku": "D-1", "position": 1, "category_id": str(dresses["id"])}}
    assert sandbox_client.post(f"/V1/categories/{dresses['id']}/products", json=link).json() is True
    tree = sandbox_client.get("/V1/categories", params={"rootCategoryId": womens["id"]}).json()
    assert tree["children_data"][0]["product_count"] == 1
    assert tree["product_count"] == 1  # anchor categories count their children's products
    shallow = sandbox_client.get("/V1/categories", params={"rootCategoryId": 2, "depth": 1}).json()
    assert shallow["children_data"][0]["children_data"] == []


def test_given_same_name_under_one_parent_then_url_key_conflict_but_other_parent_ok(sandbox_client) -> None:
    womens, mens = create(sandbox_client, "Womens"), create(sandbox_client, "Mens")
    create(sandbox_client, "Tops", womens["id"])
    create(sandbox_client, "Tops", mens["id"])
    response = sandbox_client.post(
        "/V1/categories", json={"category": {"parent_id": womens["id"], "name": "Tops"}}
    )
    assert (response.status_code, response.json()) == (
        400,
        {"message": "URL key for specified store already exists."},
    )


def test_given_product_url_key_equal_to_category_path_then_conflict(sandbox_client) -> None:
    create(sandbox_client, "Sale")
    response = sandbox_client.post("/V1/products", json={"product": simple_product("S-1", "Sale", 5)})
    assert response.json() == {"message": "URL key for specified store already exists."}


def test_given_category_update_then_renamed_and_unknown_id_404(sandbox_client) -> None:
    cat = create(sandbox_client, "Womens")
    updated = sandbox_client.put(f"/V1/categories/{cat['id']}", json={"category": {"name": "Women"}}).json()
    assert updated["name"] == "Women"
    missing = sandbox_client.put("/V1/categories/999", json={"category": {"name": "X"}})
    assert missing.status_code == 404
    assert missing.json() == {
        "message": "No such entity with %fieldName = %fieldValue",
        "parameters": {"fieldName": "id", "fieldValue": 999},
    }


def test_given_move_then_path_level_and_position_change(sandbox_client) -> None:
    a, b = create(sandbox_client, "A"), create(sandbox_client, "B")
    child = create(sandbox_client, "Child", a["id"])
    grandchild = create(sandbox_client, "Grand", child["id"])
    assert sandbox_client.put(f"/V1/categories/{child['id']}/move", json={"parentId": b["id"]}).json() is True
    moved = sandbox_client.get(f"/V1/categories/{grandchild['id']}").json()
    assert moved["path"] == f"1/2/{b['id']}/{child['id']}/{grandchild['id']}"
    assert moved["level"] == 4
    refused = sandbox_client.put(f"/V1/categories/{b['id']}/move", json={"parentId": grandchild["id"]})
    assert refused.json() == {
        "message": "Operation do not allow to move a parent category to any of children category"
    }
    c = create(sandbox_client, "C")
    sandbox_client.put(f"/V1/categories/{c['id']}/move", json={"parentId": 2, "afterId": 0})
    tree = sandbox_client.get("/V1/categories", scope="default").json()
    assert [x["name"] for x in tree["children_data"]] == ["C", "A", "B"]


def test_given_assignments_then_listed_and_removed(sandbox_client) -> None:
    cat = create(sandbox_client, "Womens")
    sandbox_client.post("/V1/products", json={"product": simple_product("P-1", "P1", 5)})
    sandbox_client.put(
        f"/V1/categories/{cat['id']}/products",
        json={"productLink": {"sku": "P-1", "position": 3, "category_id": str(cat["id"])}},
    )
    assert sandbox_client.get(f"/V1/categories/{cat['id']}/products").json() == [
        {"sku": "P-1", "position": 3, "category_id": str(cat["id"])}
    ]
    assert sandbox_client.delete(f"/V1/categories/{cat['id']}/products/P-1").json() is True
    again = sandbox_client.delete(f"/V1/categories/{cat['id']}/products/P-1")
    assert (again.status_code, again.json()) == (
        400,
        {"message": "The category doesn't contain the specified product."},
    )
    unknown = sandbox_client.post(
        f"/V1/categories/{cat['id']}/products",
        json={"productLink": {"sku": "NOPE", "category_id": str(cat["id"])}},
    )
    assert unknown.status_code == 404


def test_given_category_list_then_search_criteria_apply(sandbox_client) -> None:
    for name in ("Womens", "Mens", "Kids"):
        create(sandbox_client, name)
    response = sandbox_client.get(
        "/V1/categories/list",
        params=search_query(filters=[[("name", "%ens", "like")]], sort=[("name", "ASC")]),
    )
    body = response.json()
    assert [c["name"] for c in body["items"]] == ["Mens", "Womens"]
    assert body["total_count"] == 2


def test_given_nameless_category_then_could_not_save(sandbox_client) -> None:
    response = sandbox_client.post("/V1/categories", json={"category": {"parent_id": 2, "name": ""}})
    assert response.status_code == 400
    assert response.json()["message"] == "Could not save category: %1"


def test_given_category_id_that_is_no_integer_then_404_not_500(sandbox_client) -> None:
    # Found by schemathesis: "Inf" overflowed the integer conversion into a 500.
    for category_id in ("Inf", "-Infinity", "NaN", "abc"):
        response = sandbox_client.get(f"/V1/categories/{category_id}/products")
        assert response.status_code == 404, (category_id, response.text)
