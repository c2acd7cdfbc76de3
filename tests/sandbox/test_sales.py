"""Orders, invoices, credit memos and customers, as a store creates and reports them."""

from __future__ import annotations

from decimal import Decimal

import pytest

from sandbox.magento import MagentoError, MagentoSandbox
from sandbox.magento.testing import SandboxClient, configurable_product, search_query, simple_product


@pytest.fixture
def shop(magento_sandbox: MagentoSandbox, sandbox_client: SandboxClient) -> MagentoSandbox:
    for sku, name, price in (("TEE", "Crew Tee", 23), ("SOCK", "Sock", 11.5)):
        sandbox_client.post("/V1/products", json={"product": simple_product(sku, name, price)})
    return magento_sandbox


def test_given_guest_order_then_visible_with_magento_fields(shop, sandbox_client) -> None:
    order = shop.sales.place_order(
        [("TEE", 2), ("SOCK", 1)], "guest@example.com", shipping_amount=Decimal("5.75")
    )
    body = sandbox_client.get(f"/V1/orders/{order.entity_id}").json()
    assert body["increment_id"] == "000000001"
    assert (body["customer_email"], body["customer_is_guest"], body["state"], body["status"]) == (
        "guest@example.com",
        1,
        "new",
        "pending",
    )
    assert "customer_id" not in body
    assert (body["subtotal_incl_tax"], body["shipping_incl_tax"], body["grand_total"]) == (57.5, 5.75, 63.25)
    # 15% GST included: tax is 3/23 of the gross
    assert body["tax_amount"] == pytest.approx(8.25, abs=0.01)
    assert body["subtotal"] + body["tax_amount"] + body["shipping_amount"] == pytest.approx(63.25, abs=0.001)
    assert (body["base_currency_code"], body["order_currency_code"], body["global_currency_code"]) == (
        "NZD",
    ) * 3
    assert body["payment"]["method"] == "checkmo"
    assert body["payment"]["account_status"] is None and body["payment"]["cc_last4"] is None
    assert body["billing_address"]["address_type"] == "billing"
    assignment = body["extension_attributes"]["shipping_assignments"][0]
    assert assignment["shipping"]["address"]["address_type"] == "shipping"
    tee = body["items"][0]
    assert (tee["sku"], tee["qty_ordered"], tee["price_incl_tax"], tee["row_total_incl_tax"]) == (
        "TEE",
        2,
        23,
        46,
    )
    assert tee["price"] == 20 and tee["row_total"] == 40 and tee["tax_amount"] == 6


def test_given_customer_order_with_discount_then_totals_discount_is_negative(shop, sandbox_client) -> None:
    customer = shop.sales.create_customer("ann@example.com", "Ann", "Lee")
    order = shop.sales.place_order([("TEE", 1)], customer, discount_percent=10, payment_method="banktransfer")
    body = sandbox_client.get(f"/V1/orders/{order.entity_id}").json()
    assert (body["customer_id"], body["customer_is_guest"], body["customer_firstname"]) == (
        customer.id,
        0,
        "Ann",
    )
    assert body["discount_amount"] == -2.3
    assert body["items"][0]["discount_amount"] == 2.3
    assert body["grand_total"] == pytest.approx(23 - 2.3 + 5)
    assert body["payment"]["additional_information"] == ["Bank Transfer Payment"]


def test_given_unknown_sku_then_order_refused(shop) -> None:
    with pytest.raises(MagentoError):
        shop.sales.place_order([("NOPE", 1)], "guest@example.com")
    assert shop.store.orders == {}


def test_given_full_invoice_through_api_then_document_and_order_updated(shop, sandbox_client) -> None:
    order = shop.sales.place_order([("TEE", 2), ("SOCK", 1)], "guest@example.com")
    response = sandbox_client.post(
        f"/V1/order/{order.entity_id}/invoice", json={"capture": True, "notify": False}
    )
    assert response.status_code == 200
    invoice_id = response.json()
    invoice = sandbox_client.get(f"/V1/invoices/{invoice_id}").json()
    assert (invoice["order_id"], invoice["increment_id"], invoice["state"], invoice["total_qty"]) == (
        order.entity_id,
        "000000001",
        2,
        3,
    )
    lines = {i["sku"]: i for i in invoice["items"]}
    assert lines["TEE"]["qty"] == 2 and lines["TEE"]["row_total_incl_tax"] == 46
    assert lines["TEE"]["order_item_id"] == order.items[0].item_id
    assert invoice["grand_total"] == 62.5 and invoice["shipping_incl_tax"] == 5
    after = sandbox_client.get(f"/V1/orders/{order.entity_id}").json()
    assert (after["state"], after["total_paid"], after["total_invoiced"], after["total_due"]) == (
        "processing",
        62.5,
        62.5,
        0,
    )
    again = sandbox_client.post(f"/V1/order/{order.entity_id}/invoice", json={})
    assert again.status_code == 400
    assert again.json() == {
        "message": "Invoice Document Validation Error(s):\nThe order does not allow an invoice to be created."
    }


def test_given_partial_invoices_then_amounts_add_up_to_the_order(shop, sandbox_client) -> None:
    order = shop.sales.place_order([("SOCK", 3)], "guest@example.com", discount_percent=10)
    item_id = order.items[0].item_id
    first = shop.sales.invoice(order.entity_id, {item_id: 1})
    second = shop.sales.invoice(order.entity_id, {item_id: 2})
    docs = [sandbox_client.get(f"/V1/invoices/{i.entity_id}").json() for i in (first, second)]
    body = sandbox_client.get(f"/V1/orders/{order.entity_id}").json()
    for key in ("grand_total", "tax_amount", "discount_amount", "subtotal"):
        assert sum(Decimal(str(d[key])) for d in docs) == Decimal(str(body[key])), key
    too_many = sandbox_client.post(
        f"/V1/order/{order.entity_id}/invoice", json={"items": [{"order_item_id": item_id, "qty": 1}]}
    )
    assert too_many.status_code == 400


def test_given_over_quantity_invoice_then_400_names_the_item(shop, sandbox_client) -> None:
    order = shop.sales.place_order([("TEE", 1)], "guest@example.com")
    body = {"items": [{"order_item_id": order.items[0].item_id, "qty": 5}]}
    response = sandbox_client.post(f"/V1/order/{order.entity_id}/invoice", json=body)
    assert response.json() == {
        "message": "Invoice Document Validation Error(s):\n"
        'We found an invalid quantity to invoice item "Crew Tee".'
    }


def test_given_partial_refund_with_adjustments_then_credit_memo(shop, sandbox_client) -> None:
    order = shop.sales.place_order([("TEE", 2), ("SOCK", 1)], "guest@example.com")
    shop.sales.invoice(order.entity_id)
    tee_id, sock_id = order.items[0].item_id, order.items[1].item_id
    body = {
        "items": [{"order_item_id": tee_id, "qty": 1}],
        "arguments": {"shipping_amount": 5, "adjustment_positive": 2, "adjustment_negative": 1.5},
    }
    response = sandbox_client.post(f"/V1/order/{order.entity_id}/refund", json=body)
    assert response.status_code == 200, response.text
    memo = sandbox_client.get(f"/V1/creditmemo/{response.json()}").json()
    assert (memo["adjustment_positive"], memo["adjustment_negative"], memo["adjustment"]) == (2, 1.5, 0.5)
    assert memo["grand_total"] == 23 + 5 + 2 - 1.5
    lines = {i["order_item_id"]: i for i in memo["items"]}
    assert lines[tee_id]["qty"] == 1 and lines[tee_id]["row_total_incl_tax"] == 23
    assert lines[sock_id]["qty"] == 0  # Magento lists unrefunded items with qty 0
    assert lines[tee_id]["base_cost"] is None
    after = sandbox_client.get(f"/V1/orders/{order.entity_id}").json()
    assert after["total_refunded"] == 28.5 and after["state"] == "processing"
    too_many = sandbox_client.post(
        f"/V1/order/{order.entity_id}/refund", json={"items": [{"order_item_id": tee_id, "qty": 2}]}
    )
    assert too_many.json() == {
        "message": "Creditmemo Document Validation Error(s):\n"
        "The quantity to refund must not be greater than the unrefunded quantity."
    }


def test_given_full_refund_then_order_closed(shop, sandbox_client) -> None:
    order = shop.sales.place_order([("TEE", 1)], "guest@example.com")
    shop.sales.invoice(order.entity_id)
    shop.sales.refund(order.entity_id, shipping_amount=5)
    assert sandbox_client.get(f"/V1/orders/{order.entity_id}").json()["state"] == "closed"


def test_given_uninvoiced_order_then_refund_refused(shop, sandbox_client) -> None:
    order = shop.sales.place_order([("TEE", 1)], "guest@example.com")
    response = sandbox_client.post(f"/V1/order/{order.entity_id}/refund", json={})
    assert response.json() == {
        "message": "Creditmemo Document Validation Error(s):\nWe can't create creditmemo for the order."
    }
    assert sandbox_client.post("/V1/order/999/refund", json={}).status_code == 404


def test_given_configurable_child_sold_then_parent_and_child_items(shop, sandbox_client) -> None:
    red = sandbox_client.post(
        "/V1/products/attributes/color/options", json={"option": {"label": "Red"}}
    ).json()
    sandbox_client.post("/V1/products", json={"product": configurable_product("DRESS", "Maxi Dress")})
    child = simple_product("DRESS-RED", "Maxi Dress Red", 80, visibility=1, custom={"color": red})
    sandbox_client.post("/V1/products", json={"product": child})
    option = {"attribute_id": "93", "label": "Color", "values": [{"value_index": int(red)}]}
    sandbox_client.post("/V1/configurable-products/DRESS/options", json={"option": option})
    sandbox_client.post("/V1/configurable-products/DRESS/child", json={"childSku": "DRESS-RED"})
    order = shop.sales.place_order([("DRESS-RED", 1)], "guest@example.com")
    body = sandbox_client.get(f"/V1/orders/{order.entity_id}").json()
    parent_item, child_item = body["items"]
    assert (
        parent_item["product_type"],
        parent_item["sku"],
        parent_item["name"],
        parent_item["price_incl_tax"],
    ) == ("configurable", "DRESS-RED", "Maxi Dress", 80)
    assert (child_item["product_type"], child_item["price"], child_item["parent_item_id"]) == (
        "simple",
        0,
        parent_item["item_id"],
    )
    assert child_item["parent_item"]["item_id"] == parent_item["item_id"]
    assert parent_item["product_option"]["extension_attributes"]["configurable_item_options"] == [
        {"option_id": "93", "option_value": int(red)}
    ]
    invoice = shop.sales.invoice(order.entity_id)
    lines = sandbox_client.get(f"/V1/invoices/{invoice.entity_id}").json()["items"]
    assert [(line["sku"], line["price"], line["qty"]) for line in lines] == [
        ("DRESS-RED", 69.57, 1),
        ("DRESS-RED", 0, 1),
    ]


def test_given_late_commit_then_created_at_filter_sees_it_in_order(shop, sandbox_client) -> None:
    orders = [shop.sales.place_order([("TEE", 1)], f"g{i}@example.com") for i in range(3)]
    shop.sales.invoice(orders[0].entity_id, created_at="2030-01-01 10:00:05")
    shop.sales.invoice(orders[1].entity_id, created_at="2030-01-01 10:00:09")
    shop.sales.invoice(orders[2].entity_id, created_at="2030-01-01 10:00:07")  # committed late
    query = search_query(
        filters=[[("created_at", "2030-01-01 10:00:06", "gt")]],
        sort=[("created_at", "ASC"), ("entity_id", "ASC")],
    )
    body = sandbox_client.get("/V1/invoices", params=query).json()
    assert [(i["entity_id"], i["created_at"]) for i in body["items"]] == [
        (3, "2030-01-01 10:00:07"),
        (2, "2030-01-01 10:00:09"),
    ]
    batch = sandbox_client.get(
        "/V1/orders",
        params=search_query(filters=[[("entity_id", f"{orders[0].entity_id},{orders[2].entity_id}", "in")]]),
    ).json()
    assert [o["entity_id"] for o in batch["items"]] == [orders[0].entity_id, orders[2].entity_id]


def test_given_order_comment_then_history_and_status(shop, sandbox_client) -> None:
    order = shop.sales.place_order([("TEE", 1)], "guest@example.com")
    history = {
        "comment": "Imported to CI Office",
        "is_customer_notified": 0,
        "is_visible_on_front": 0,
        "parent_id": order.entity_id,
        "status": "processing",
    }
    assert (
        sandbox_client.post(f"/V1/orders/{order.entity_id}/comments", json={"statusHistory": history}).json()
        is True
    )
    body = sandbox_client.get(f"/V1/orders/{order.entity_id}").json()
    assert body["status"] == "processing"
    assert body["status_histories"][0]["comment"] == "Imported to CI Office"


def test_given_customers_then_search_and_get(shop, sandbox_client) -> None:
    ann = shop.sales.create_customer("ann@example.com", "Ann", "Lee")
    shop.sales.create_customer("bob@example.com", "Bob", "Ng")
    found = sandbox_client.get(
        "/V1/customers/search", params=search_query(filters=[[("email", "ANN@example.com", "eq")]])
    ).json()
    assert [c["id"] for c in found["items"]] == [ann.id]
    customer = sandbox_client.get(f"/V1/customers/{ann.id}").json()
    assert (customer["email"], customer["firstname"], customer["default_billing"]) == (
        "ann@example.com",
        "Ann",
        str(ann.addresses[0].id),
    )
    assert customer["addresses"][0]["default_billing"] is True
    missing = sandbox_client.get("/V1/customers/999")
    assert missing.status_code == 404
    assert missing.json() == {
        "message": "No such entity with %fieldName = %fieldValue",
        "parameters": {"fieldName": "customerId", "fieldValue": 999},
    }
    with pytest.raises(MagentoError):
        shop.sales.create_customer("ann@example.com", "Ann", "Again")


def test_given_many_orders_then_paging_by_total_count(shop, sandbox_client) -> None:
    for i in range(7):
        shop.sales.place_order([("SOCK", 1)], f"g{i}@example.com")
    seen, page = [], 1
    while True:
        body = sandbox_client.get("/V1/orders", params=search_query(page_size=3, current_page=page)).json()
        seen.extend(o["entity_id"] for o in body["items"])
        if page * 3 >= body["total_count"]:
            break
        page += 1
    assert seen == list(range(1, 8))


def test_given_refund_beyond_what_was_paid_then_refused(shop, sandbox_client) -> None:
    order = shop.sales.place_order([("TEE", 1)], "guest@example.com")
    shop.sales.invoice(order.entity_id)
    too_much = sandbox_client.post(
        f"/V1/order/{order.entity_id}/refund", json={"arguments": {"adjustment_positive": 100}}
    )
    assert too_much.json() == {
        "message": "Creditmemo Document Validation Error(s):\nThe most money available to refund is NZ$28.00."
    }
    shipping = sandbox_client.post(
        f"/V1/order/{order.entity_id}/refund", json={"items": [], "arguments": {"shipping_amount": 50}}
    )
    assert shipping.json() == {
        "message": "Maximum shipping amount allowed to refund is: %1",
        "parameters": ["NZ$4.35"],
    }
    assert shop.store.creditmemos == {}
