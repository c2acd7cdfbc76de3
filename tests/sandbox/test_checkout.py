"""Orders the way a storefront makes them: guest and customer carts over REST, then admin documents."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from sandbox.magento import MagentoSandbox, SandboxOptions
from sandbox.magento.checkout import line_amounts
from sandbox.magento.testing import SandboxClient

ADDRESS = {
    "firstname": "Ann",
    "lastname": "Lee",
    "street": ["1 Queen Street"],
    "city": "Auckland",
    "postcode": "1010",
    "country_id": "NZ",
    "telephone": "021 000 0000",
}
SHIPPING = {
    "addressInformation": {
        "shipping_address": ADDRESS,
        "billing_address": ADDRESS,
        "shipping_carrier_code": "flatrate",
        "shipping_method_code": "flatrate",
    }
}
PAY = {"email": "ann@example.com", "paymentMethod": {"method": "checkmo"}}


@pytest.fixture
def shop() -> Any:
    with MagentoSandbox(SandboxOptions(record=True, seed=7)) as store:
        store.catalog.add_product("TEE", "Tee", 23.00, qty=10)
        store.catalog.add_product("CAP", "Cap", 11.50, qty=10)
        yield store
        assert store.schema_violations == [], store.schema_violations[0]
        assert store.unexpected_errors == []


def guest_checkout(client: SandboxClient, coupon: str | None = None) -> tuple[str, dict[str, Any], str]:
    """Cart id, the totals before placing, and the order id."""
    cart = client.post("/V1/guest-carts").json()
    for sku, qty in (("TEE", 2), ("CAP", 1)):
        added = client.post(f"/V1/guest-carts/{cart}/items", json={"cartItem": {"sku": sku, "qty": qty}})
        assert added.status_code == 200, added.text
    if coupon:
        assert client.put(f"/V1/guest-carts/{cart}/coupons/{coupon}").json() is True
    methods = client.post(
        f"/V1/guest-carts/{cart}/estimate-shipping-methods", json={"address": ADDRESS}
    ).json()
    assert [(m["carrier_code"], m["method_code"]) for m in methods] == [("flatrate", "flatrate")]
    details = client.post(f"/V1/guest-carts/{cart}/shipping-information", json=SHIPPING).json()
    assert "checkmo" in [p["code"] for p in details["payment_methods"]]
    totals = client.get(f"/V1/guest-carts/{cart}/totals").json()
    assert totals == details["totals"]
    order_id = client.post(f"/V1/guest-carts/{cart}/payment-information", json=PAY).json()
    return cart, totals, order_id


def test_guest_checkout_places_an_order_with_the_quote_totals(shop: MagentoSandbox) -> None:
    client = SandboxClient(shop.base_url, oauth=None)  # guest routes are anonymous
    cart, totals, order_id = guest_checkout(client)
    assert isinstance(order_id, str) and order_id.isdigit()
    # prices include 15% tax: 2 x 23.00 + 11.50 = 57.50 incl., shipping 5.00 incl.
    assert totals["grand_total"] == 62.5
    assert totals["subtotal_incl_tax"] == 57.5
    assert totals["tax_amount"] == pytest.approx(8.15)
    assert totals["shipping_incl_tax"] == 5
    admin = SandboxClient(shop.base_url)
    order = admin.get(f"/V1/orders/{order_id}").json()
    assert order["grand_total"] == totals["grand_total"]
    assert order["tax_amount"] == totals["tax_amount"]
    assert order["subtotal"] == totals["subtotal"]
    assert order["customer_is_guest"] == 1 and order["customer_email"] == "ann@example.com"
    assert [(i["sku"], i["qty_ordered"]) for i in order["items"]] == [("TEE", 2), ("CAP", 1)]
    [placed] = [c for c in shop.store.carts.values() if c.masked_id == cart]
    assert (order["quote_id"], placed.reserved_order_id) == (placed.id, int(order_id))
    gone = client.get(f"/V1/guest-carts/{cart}")
    assert gone.status_code == 404
    assert gone.json()["parameters"] == {"fieldName": "cartId", "fieldValue": cart}


def test_coupon_discount_is_taken_off_the_items_not_shipping(shop: MagentoSandbox) -> None:
    shop.store.coupons["TENOFF"] = Decimal(10)
    client = SandboxClient(shop.base_url, oauth=None)
    _cart, totals, order_id = guest_checkout(client, coupon="TENOFF")
    assert totals["discount_amount"] == -5.75
    assert totals["grand_total"] == 56.75
    assert totals["coupon_code"] == "TENOFF"
    order = SandboxClient(shop.base_url).get(f"/V1/orders/{order_id}").json()
    assert (order["discount_amount"], order["grand_total"]) == (-5.75, 56.75)


def test_store_with_prices_excluding_tax_adds_tax_on_top(shop: MagentoSandbox) -> None:
    shop.store.prices_include_tax = False
    client = SandboxClient(shop.base_url, oauth=None)
    _cart, totals, _order = guest_checkout(client)
    assert totals["subtotal"] == 57.5
    assert totals["shipping_amount"] == 5
    assert totals["tax_amount"] == pytest.approx(9.38)  # 8.63 on items + 0.75 on shipping
    assert totals["grand_total"] == pytest.approx(71.88)


def test_customer_cart_then_invoice_and_credit_memo_over_admin_routes(shop: MagentoSandbox) -> None:
    customer = shop.sales.create_customer("bob@example.com", "Bob", "Ng")
    admin = SandboxClient(shop.base_url)
    cart = admin.post(f"/V1/customers/{customer.id}/carts").json()
    assert isinstance(cart, int)
    assert admin.post(f"/V1/customers/{customer.id}/carts").json() == cart  # the active cart again
    admin.post(f"/V1/carts/{cart}/items", json={"cartItem": {"sku": "TEE", "qty": 1, "quote_id": str(cart)}})
    admin.post(f"/V1/carts/{cart}/shipping-information", json=SHIPPING)
    order_id = admin.put(f"/V1/carts/{cart}/order", json={"paymentMethod": {"method": "banktransfer"}}).json()
    order = admin.get(f"/V1/orders/{order_id}").json()
    assert (order["customer_id"], order["customer_is_guest"]) == (customer.id, 0)
    assert order["payment"]["method"] == "banktransfer"
    invoice_id = admin.post(f"/V1/order/{order_id}/invoice", json={"capture": True}).json()
    memo_id = admin.post(f"/V1/order/{order_id}/refund", json={}).json()
    invoice = admin.get(f"/V1/invoices/{invoice_id}").json()
    memo = admin.get(f"/V1/creditmemo/{memo_id}").json()
    assert invoice["grand_total"] == order["grand_total"] == 28  # 23.00 + 5.00 shipping, tax included
    assert memo["order_id"] == int(order_id) and memo["items"][0]["sku"] == "TEE"


def test_the_python_helper_places_orders_through_the_same_checkout(shop: MagentoSandbox) -> None:
    client = SandboxClient(shop.base_url, oauth=None)
    _cart, _totals, rest_id = guest_checkout(client)
    helper = shop.sales.place_order([("TEE", 2), ("CAP", 1)], "ann@example.com")
    admin = SandboxClient(shop.base_url)
    by_rest = admin.get(f"/V1/orders/{rest_id}").json()
    by_helper = admin.get(f"/V1/orders/{helper.entity_id}").json()
    for key in ("grand_total", "subtotal", "tax_amount", "shipping_incl_tax", "discount_amount"):
        assert by_rest[key] == by_helper[key], key
    assert len(shop.store.carts) == 2 and not any(c.is_active for c in shop.store.carts.values())


def test_checkout_refusals(shop: MagentoSandbox) -> None:
    client = SandboxClient(shop.base_url, oauth=None)
    cart = client.post("/V1/guest-carts").json()
    client.post(f"/V1/guest-carts/{cart}/items", json={"cartItem": {"sku": "TEE", "qty": 1}})
    early = client.post(f"/V1/guest-carts/{cart}/payment-information", json=PAY)
    assert early.status_code == 400
    assert early.json()["message"] == "The shipping address is missing. Set the address and try again." or (
        early.json()["message"].startswith("Please check the shipping address")
    )
    wrong = {"addressInformation": {**SHIPPING["addressInformation"], "shipping_carrier_code": "ups"}}
    carrier = client.post(f"/V1/guest-carts/{cart}/shipping-information", json=wrong)
    assert (carrier.status_code, carrier.json()["parameters"]) == (404, ["ups", "flatrate"])
    coupon = client.put(f"/V1/guest-carts/{cart}/coupons/NOPE")
    assert coupon.status_code == 404
    unknown = client.post(
        "/V1/guest-carts/0123456789abcdef0123456789abcdef/items", json={"cartItem": {"sku": "TEE"}}
    )
    assert unknown.status_code == 404
    sku = client.post(f"/V1/guest-carts/{cart}/items", json={"cartItem": {"sku": "NOPE", "qty": 1}})
    assert sku.status_code == 404
    admin_only = client.get("/V1/carts/1")
    assert admin_only.status_code == 401


def test_masked_ids_are_deterministic_for_a_seed() -> None:
    def first_cart(seed: int) -> str:
        with MagentoSandbox(SandboxOptions(seed=seed)) as store:
            return str(SandboxClient(store.base_url, oauth=None).post("/V1/guest-carts").json())

    assert first_cart(3) == first_cart(3)
    assert first_cart(3) != first_cart(4)
    assert len(first_cart(3)) == 32


def test_line_amounts_with_tax_included_add_up_to_the_price_paid() -> None:
    a = line_amounts(Decimal("23.00"), Decimal(3), Decimal("0.1"), Decimal("0.15"), True)
    assert (a.row_total_incl_tax, a.row_total, a.discount, a.tax) == (
        Decimal("69.00"),
        Decimal("60.00"),
        Decimal("6.90"),
        Decimal("8.10"),
    )
    assert a.row_total + a.tax + a.compensation - a.discount == a.row_total_incl_tax - a.discount


def test_line_amounts_with_tax_excluded_tax_the_discounted_row_half_up() -> None:
    a = line_amounts(Decimal("23.00"), Decimal(3), Decimal("0.1"), Decimal("0.15"), False)
    assert (a.row_total, a.discount, a.tax, a.compensation) == (
        Decimal("69.00"),
        Decimal("6.90"),
        Decimal("9.32"),  # 62.10 x 15% = 9.315
        Decimal(0),
    )
