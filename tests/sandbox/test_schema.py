"""Schema conformance: every route is in the 2.4.7 schema and every response the sandbox gives validates."""

from __future__ import annotations

from decimal import Decimal

from sandbox.magento import MagentoSandbox, SandboxOptions
from sandbox.magento.routing import ROUTES
from sandbox.magento.schema import operation, validate_request, validate_response
from sandbox.magento.testing import (
    SandboxClient,
    configurable_product,
    image_entry,
    sandbox_fixture,
    search_query,
    simple_product,
)

recording_sandbox = sandbox_fixture(record=True, input_limits=True, sources=("akl",))


def test_every_sandbox_route_is_an_operation_of_the_schema() -> None:
    missing = [r.key for r in ROUTES if operation(r.method, r.template) is None]
    assert missing == []


def test_validate_request_flags_unknown_properties_and_wrong_types() -> None:
    assert validate_request("POST", "/V1/products", {"product": {"sku": "A", "price": 1}}) == []
    unknown = validate_request("POST", "/V1/products", {"product": {"sku": "A", "colour": "red"}})
    assert unknown and "colour" in unknown[0]
    wrong = validate_request(
        "POST", "/V1/products/base-prices", {"prices": [{"sku": "A", "price": "1", "store_id": 0}]}
    )
    assert wrong and "price" in wrong[0]
    missing = validate_request("POST", "/V1/inventory/source-items", {})
    assert missing and "sourceItems" in missing[0]


def test_validate_response_knows_magento_output_shapes() -> None:
    positional = {"message": "Signature method %1 is not supported", "parameters": ["HMAC-SHA1"]}
    named = {
        "message": "No such entity with %fieldName = %fieldValue",
        "parameters": {"fieldName": "id", "fieldValue": 5},
    }
    assert validate_response("GET", "/V1/categories/{categoryId}", 404, named) == []
    assert validate_response("GET", "/V1/products/{sku}", 400, positional) == []
    assert validate_response("POST", "/V1/products/{sku}/media", 200, "12") == []
    assert validate_response("POST", "/V1/products/{sku}/media", 200, "twelve") != []
    assert validate_response("GET", "/V1/products/{sku}", 200, {"name": "no sku"}) != []


def test_validate_response_refuses_keys_the_interface_does_not_have() -> None:
    product = {"sku": "A", "name": "A", "attribute_set_id": 4, "price": 1, "type_id": "simple"}
    assert validate_response("GET", "/V1/products/{sku}", 200, product) == []
    assert validate_response("GET", "/V1/products/{sku}", 200, {**product, "colour": "red"}) != []
    nested = {**product, "extension_attributes": {"website_ids": [1], "websites": [1]}}
    [problem] = validate_response("GET", "/V1/products/{sku}", 200, nested)
    assert "websites" in problem and problem.startswith("extension_attributes:")
    # a required getter without a value is printed as null and accepted
    assert validate_response("GET", "/V1/products/{sku}", 200, {**product, "sku": None}) == []


def test_order_amount_keys_are_the_interface_names(magento_sandbox: MagentoSandbox) -> None:
    magento_sandbox.catalog.add_product("A", "A", 10, qty=3)
    order = magento_sandbox.sales.place_order([("A", 1)], "guest@example.com")
    magento_sandbox.sales.invoice(order.entity_id)
    client = SandboxClient(magento_sandbox.base_url)
    rendered = client.get(f"/V1/orders/{order.entity_id}").json()
    assert "base_shipping_discount_tax_compensation_amnt" in rendered
    assert "base_shipping_discount_tax_compensation_amount" not in rendered
    assert validate_response("GET", "/V1/orders/{id}", 200, rendered) == []
    invoices = client.get("/V1/invoices", params=search_query()).json()
    assert validate_response("GET", "/V1/invoices", 200, invoices) == []


def _tour(store: MagentoSandbox, client: SandboxClient) -> None:
    """Exercise every route, with successes and failures, through real HTTP."""
    ok = lambda r: r.status_code == 200  # noqa: E731
    red = client.post(
        "/V1/products/attributes/color/options", json={"option": {"label": "Red", "sort_order": 1}}
    ).json()
    small = client.post("/V1/products/attributes/size/options", json={"option": {"label": "S"}}).json()
    client.post("/V1/products/attributes/size/options", json={"option": {"label": "S"}})
    client.get("/V1/products/attributes/color")
    client.get("/V1/products/attributes/color/options")
    client.put(
        f"/V1/products/attributes/size/options/{small}", json={"option": {"label": "Small", "value": small}}
    )
    tmp = client.post("/V1/products/attributes/size/options", json={"option": {"label": "Tmp"}}).json()
    client.delete(f"/V1/products/attributes/size/options/{tmp}")
    cat = client.post(
        "/V1/categories", json={"category": {"parent_id": 2, "name": "Womens", "is_active": True}}
    ).json()
    sub = client.post("/V1/categories", json={"category": {"parent_id": cat["id"], "name": "Tops"}}).json()
    client.put(f"/V1/categories/{sub['id']}", json={"category": {"name": "Tops & Tees"}})
    client.get("/V1/categories", params={"rootCategoryId": 2, "depth": 3})
    client.get("/V1/categories/list", params=search_query(page_size=10))
    client.get(f"/V1/categories/{cat['id']}")
    client.get("/V1/categories/999")
    client.post("/V1/products", json={"product": configurable_product("TEE", "Crew Tee")})
    child = simple_product("TEE-R-S", "Crew Tee R S", 25, visibility=1, custom={"color": red, "size": small})
    child["extension_attributes"] = {
        "stock_item": {"qty": 4, "is_in_stock": True},
        "category_links": [{"category_id": str(sub["id"]), "position": 1}],
    }
    assert ok(client.post("/V1/products", json={"product": child}))
    client.post("/V1/products", json={"product": simple_product("PLAIN", "Plain", 9)})
    client.post("/V1/products", json={"product": simple_product("DUP", "Plain", 9)})
    client.put(
        "/V1/products/PLAIN", json={"product": {"sku": "PLAIN", "name": "Plain Store"}}, scope="default"
    )
    for attribute_id, value in (("93", red), ("141", small)):
        option = {
            "attribute_id": attribute_id,
            "label": "X",
            "position": 0,
            "values": [{"value_index": int(value)}],
        }
        client.post("/V1/configurable-products/TEE/options", json={"option": option})
    options = client.get("/V1/configurable-products/TEE/options/all").json()
    client.get(f"/V1/configurable-products/TEE/options/{options[0]['id']}")
    client.post("/V1/configurable-products/TEE/child", json={"childSku": "TEE-R-S"})
    client.post("/V1/configurable-products/TEE/child", json={"childSku": "TEE-R-S"})
    client.get("/V1/configurable-products/TEE/children")
    client.get("/V1/products/TEE")
    client.get("/V1/products/TEE-R-S", scope="default")
    client.get("/V1/products", params=search_query(filters=[[("type_id", "simple", "eq")]], page_size=5))
    client.get("/V1/products", params={**search_query(), "fields": "items[sku],total_count"})
    client.get("/V1/products/NOPE")
    entry = client.post("/V1/products/PLAIN/media", json={"entry": image_entry()}).json()
    client.get("/V1/products/PLAIN/media")
    client.get(f"/V1/products/PLAIN/media/{entry}")
    client.put(f"/V1/products/PLAIN/media/{entry}", json={"entry": {**image_entry(), "label": "New"}})
    client.post(
        "/V1/products/PLAIN/media",
        json={
            "entry": {
                **image_entry(),
                "content": {"base64_encoded_data": "!", "type": "image/png", "name": "x.png"},
            }
        },
    )
    gallery = client.get("/V1/products/PLAIN/media").json()
    client.delete(f"/V1/products/PLAIN/media/{gallery[0]['id']}")
    client.post(
        "/V1/products/base-prices",
        json={
            "prices": [
                {"sku": "PLAIN", "price": 10, "store_id": 0},
                {"sku": "NOPE", "price": -1, "store_id": 7},
            ]
        },
    )
    client.post("/V1/products/base-prices-information", json={"skus": ["PLAIN", "TEE-R-S"]})
    special = {
        "sku": "TEE-R-S",
        "price": 20,
        "store_id": 0,
        "price_from": "2030-01-01 00:00:00",
        "price_to": "2030-02-01 00:00:00",
    }
    client.post("/V1/products/special-price", json={"prices": [special, {**special, "sku": "NOPE"}]})
    client.post("/V1/products/special-price-information", json={"skus": ["TEE-R-S"]})
    client.post("/V1/products/special-price-delete", json={"prices": [special]})
    client.get("/V1/inventory/sources")
    client.get("/V1/inventory/sources/akl")
    client.get("/V1/inventory/sources/nope")
    client.post(
        "/V1/inventory/sources",
        json={
            "source": {
                "source_code": "wlg",
                "name": "Wellington",
                "enabled": True,
                "country_id": "NZ",
                "postcode": "6011",
            }
        },
    )
    client.put(
        "/V1/inventory/sources/wlg",
        json={
            "source": {"source_code": "wlg", "name": "Wellington CBD", "country_id": "NZ", "postcode": "6011"}
        },
    )
    items = [
        {"sku": "TEE-R-S", "source_code": "akl", "quantity": 3, "status": 1},
        {"sku": "PLAIN", "source_code": "default", "quantity": 1, "status": 1},
    ]
    client.post("/V1/inventory/source-items", json={"sourceItems": items})
    client.post("/V1/inventory/source-items", json={"sourceItems": [{**items[0], "status": 9}]})
    client.post("/V1/inventory/source-items", json={"sourceItems": [items[0]] * 21})
    client.get("/V1/inventory/source-items", params=search_query(filters=[[("source_code", "akl", "eq")]]))
    client.post(
        "/V1/inventory/source-items-delete",
        json={"sourceItems": [{"sku": "PLAIN", "source_code": "default"}]},
    )
    client.put("/V1/products/PLAIN/stockItems/1", json={"stockItem": {"qty": 8, "is_in_stock": True}})
    client.get("/V1/stockItems/PLAIN")
    client.post(
        f"/V1/categories/{cat['id']}/products",
        json={"productLink": {"sku": "PLAIN", "position": 0, "category_id": str(cat["id"])}},
    )
    client.put(
        f"/V1/categories/{cat['id']}/products",
        json={"productLink": {"sku": "PLAIN", "position": 2, "category_id": str(cat["id"])}},
    )
    client.get(f"/V1/categories/{cat['id']}/products")
    client.delete(f"/V1/categories/{cat['id']}/products/PLAIN")
    client.put(f"/V1/categories/{sub['id']}/move", json={"parentId": 2, "afterId": 0})
    other = client.post("/V1/categories", json={"category": {"parent_id": 2, "name": "Gone"}}).json()
    client.delete(f"/V1/categories/{other['id']}")
    # sales
    customer = store.sales.create_customer("ann@example.com", "Ann", "Lee")
    order = store.sales.place_order([("TEE-R-S", 2), ("PLAIN", 1)], customer, discount_percent=Decimal(5))
    guest = store.sales.place_order([("PLAIN", 1)], "guest@example.com")
    invoice_id = client.post(f"/V1/order/{order.entity_id}/invoice", json={"capture": True}).json()
    client.post(f"/V1/order/{order.entity_id}/invoice", json={})
    memo_id = client.post(
        f"/V1/order/{order.entity_id}/refund",
        json={
            "items": [{"order_item_id": order.items[0].item_id, "qty": 1}],
            "arguments": {"adjustment_negative": 1},
        },
    ).json()
    client.post(f"/V1/order/{guest.entity_id}/refund", json={})
    history = {
        "comment": "Synced",
        "is_customer_notified": 0,
        "is_visible_on_front": 0,
        "parent_id": order.entity_id,
    }
    client.post(f"/V1/orders/{order.entity_id}/comments", json={"statusHistory": history})
    client.get("/V1/orders", params=search_query(page_size=10))
    client.get(f"/V1/orders/{order.entity_id}")
    client.get("/V1/orders/999")
    client.get("/V1/invoices", params=search_query())
    client.get(f"/V1/invoices/{invoice_id}")
    client.get("/V1/creditmemos", params=search_query())
    client.get(f"/V1/creditmemo/{memo_id}")
    client.get(f"/V1/orders/{order.entity_id}/comments")
    client.get("/V1/orders/items", params=search_query(filters=[[("order_id", order.entity_id, "eq")]]))
    client.get(f"/V1/orders/items/{order.items[0].item_id}")
    client.get(f"/V1/invoices/{invoice_id}/comments")
    client.get(f"/V1/creditmemo/{memo_id}/comments")
    client.get("/V1/customers/search", params=search_query())
    client.get(f"/V1/customers/{customer.id}")
    client.post(
        "/V1/customers", json={"customer": {"email": "bob@example.com", "firstname": "Bob", "lastname": "Ng"}}
    )
    client.post("/V1/integration/admin/token", json={"username": "admin", "password": "x"})
    for path in (
        "/V1/store/storeViews",
        "/V1/store/websites",
        "/V1/store/storeGroups",
        "/V1/store/storeConfigs",
    ):
        client.get(path)
    # storefront checkout
    store.store.coupons["FIVE"] = Decimal(5)
    guest = SandboxClient(store.base_url, oauth=None)
    cart = guest.post("/V1/guest-carts").json()
    guest.get(f"/V1/guest-carts/{cart}")
    item = guest.post(f"/V1/guest-carts/{cart}/items", json={"cartItem": {"sku": "PLAIN", "qty": 2}}).json()
    guest.post(f"/V1/guest-carts/{cart}/items", json={"cartItem": {"sku": "TEE-R-S", "qty": 1}})
    guest.get(f"/V1/guest-carts/{cart}/items")
    guest.delete(f"/V1/guest-carts/{cart}/items/{item['item_id']}")
    guest.put(f"/V1/guest-carts/{cart}/coupons/FIVE")
    address = {"firstname": "A", "lastname": "B", "street": ["1 St"], "city": "Akl", "postcode": "1010",
               "country_id": "NZ", "telephone": "1"}  # fmt: skip
    shipping = {
        "addressInformation": {
            "shipping_address": address,
            "shipping_carrier_code": "flatrate",
            "shipping_method_code": "flatrate",
        }
    }
    guest.post(f"/V1/guest-carts/{cart}/estimate-shipping-methods", json={"address": address})
    guest.post(f"/V1/guest-carts/{cart}/shipping-information", json=shipping)
    guest.get(f"/V1/guest-carts/{cart}/payment-methods")
    guest.get(f"/V1/guest-carts/{cart}/totals")
    pay = {"email": "g@example.com", "paymentMethod": {"method": "checkmo"}, "billingAddress": address}
    guest.post(f"/V1/guest-carts/{cart}/payment-information", json=pay)
    second = guest.post("/V1/guest-carts").json()
    guest.post(f"/V1/guest-carts/{second}/items", json={"cartItem": {"sku": "PLAIN", "qty": 1}})
    guest.post(f"/V1/guest-carts/{second}/shipping-information", json=shipping)
    guest.put(f"/V1/guest-carts/{second}/order", json={"paymentMethod": {"method": "checkmo"}})
    mine = client.post(f"/V1/customers/{customer.id}/carts").json()
    client.get(f"/V1/carts/{mine}")
    line = client.post(f"/V1/carts/{mine}/items", json={"cartItem": {"sku": "PLAIN", "qty": 1}}).json()
    client.post(f"/V1/carts/{mine}/items", json={"cartItem": {"sku": "TEE-R-S", "qty": 1}})
    client.get(f"/V1/carts/{mine}/items")
    client.delete(f"/V1/carts/{mine}/items/{line['item_id']}")
    client.put(f"/V1/carts/{mine}/coupons/FIVE")
    client.post(f"/V1/carts/{mine}/estimate-shipping-methods", json={"address": address})
    client.post(f"/V1/carts/{mine}/shipping-information", json=shipping)
    client.get(f"/V1/carts/{mine}/payment-methods")
    client.get(f"/V1/carts/{mine}/totals")
    client.put(f"/V1/carts/{mine}/order", json={"paymentMethod": {"method": "banktransfer"}})
    client.get(f"/V1/carts/{mine}")
    # catalog extras
    client.get("/V1/products/attribute-sets/sets/list", params=search_query())
    client.get("/V1/products/attribute-sets/4")
    client.get("/V1/products/attribute-sets/4/attributes")
    client.get("/V1/products/types")
    client.get("/V1/products/links/types")
    link = {"sku": "PLAIN", "link_type": "related", "linked_product_sku": "TEE-R-S", "position": 1}
    client.post("/V1/products/PLAIN/links", json={"items": [link]})
    client.get("/V1/products/PLAIN/links/related")
    client.delete("/V1/products/PLAIN/links/related/TEE-R-S")
    client.get("/V1/stockStatuses/PLAIN")
    client.delete("/V1/products/DUP")
    client.delete("/V1/configurable-products/TEE/children/TEE-R-S")
    client.delete(f"/V1/configurable-products/TEE/options/{options[0]['id']}")


def test_given_recording_sandbox_then_every_response_and_own_request_conforms(recording_sandbox) -> None:
    client = SandboxClient(recording_sandbox.base_url)
    _tour(recording_sandbox, client)
    routes_hit = set(recording_sandbox.stats()["requests"])
    registered = {r.key for r in ROUTES}
    assert registered - routes_hit == set()
    assert recording_sandbox.schema_violations == []


def test_given_a_client_sending_unknown_fields_then_violation_recorded(recording_sandbox) -> None:
    client = SandboxClient(recording_sandbox.base_url)
    client.post("/V1/products", json={"product": {**simple_product("A", "A", 1), "colour": "red"}})
    violations = recording_sandbox.schema_violations
    assert [(v["method"], v["route"], v["direction"]) for v in violations] == [
        ("POST", "/V1/products", "request")
    ]
    assert "colour" in violations[0]["error"]


def test_given_record_off_then_no_violations_collected() -> None:
    with MagentoSandbox(SandboxOptions()) as store:
        client = SandboxClient(store.base_url)
        client.post("/V1/products", json={"product": {**simple_product("A", "A", 1), "colour": "red"}})
        assert store.schema_violations == []
