"""The storefront checkout over REST: guest and customer carts, shipping and payment, order placement.

Every order the sandbox holds is placed here: the REST checkout (``/V1/guest-carts/...`` anonymous,
``/V1/carts/...`` and ``/V1/customers/{id}/carts`` for the admin integration) and the Python helper
``store.sales.place_order`` both build a cart and submit it through ``place_cart``, so their documents follow
the same rules. Sources: ``Quote\\Model\\GuestCart\\*`` and ``QuoteIdMask`` (masked ids),
``Quote\\Model\\QuoteManagement::placeOrder``/``submit``, ``QuoteValidator`` (messages before submit),
``Checkout\\Model\\ShippingInformationManagement`` and ``GuestPaymentInformationManagement``,
``Quote\\Model\\Quote\\Address\\Total\\{Subtotal,Shipping,Discount,Tax,Grand}`` (what totals hold),
``OfflineShipping`` flat rate and ``SalesRule`` percent discounts.

What the totals support (the store's configuration lives on ``Store``): one tax rate; catalogue and
shipping prices including or excluding tax (``prices_include_tax``); a percent discount from a coupon,
taken off the price as entered (with tax when prices include it) and never off shipping; a flat rate
charged once per order. Money is rounded half-up to cents per row, as Magento's calculator does.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from .errors import MagentoError, bad_request, no_such_entity, not_found, product_not_found
from .model import Address, Cart, CartItem, Customer, Order, OrderItem, Product, Store
from .routing import Call, route
from .values import json_number, money, now_text, to_decimal, to_int

CART = "Magento_Cart::manage"
ANONYMOUS = "anonymous"
ZERO = Decimal(0)
PAYMENT_METHODS = {
    "checkmo": "Check / Money order",
    "banktransfer": "Bank Transfer Payment",
    "cashondelivery": "Cash On Delivery",
    "purchaseorder": "Purchase Order",
    "free": "No Payment Information Required",
}
OFFERED_PAYMENTS = ("checkmo", "banktransfer", "cashondelivery")
FLATRATE = "flatrate_flatrate"
SHIPPING_MISSING = "The shipping method is missing. Select the shipping method and try again."
PAYMENT_MISSING = "Enter a valid payment method and try again."


# ---------------------------------------------------------------- amounts


@dataclass(frozen=True)
class LineAmounts:
    price: Decimal
    price_incl_tax: Decimal
    row_total: Decimal
    row_total_incl_tax: Decimal
    discount: Decimal
    tax: Decimal
    compensation: Decimal


def line_amounts(unit: Decimal, qty: Decimal, pct: Decimal, rate: Decimal, incl: bool) -> LineAmounts:
    """One row as Magento's quote totals compute it; ``pct`` is a fraction, ``rate`` the tax rate."""
    if incl:
        row_incl = money(unit * qty)
        row_total = money(row_incl / (1 + rate))
        discount = money(row_incl * pct)
        tax = money((row_incl - discount) * rate / (1 + rate))
        return LineAmounts(
            money(unit / (1 + rate)),
            money(unit),
            row_total,
            row_incl,
            discount,
            tax,
            row_incl - row_total - tax,
        )
    row_total = money(unit * qty)
    discount = money(row_total * pct)
    tax = money((row_total - discount) * rate)
    return LineAmounts(
        money(unit),
        money(unit * (1 + rate)),
        row_total,
        row_total + money(row_total * rate),
        discount,
        tax,
        ZERO,
    )


def shipping_amounts(price: Decimal, rate: Decimal, incl: bool) -> tuple[Decimal, Decimal, Decimal]:
    """(amount, tax, amount incl. tax) of a shipping price."""
    price = money(price)
    if incl:
        net = money(price / (1 + rate))
        return net, price - net, price
    tax = money(price * rate)
    return price, tax, price + tax


def unit_price(store: Store, product: Product, when: str) -> Decimal:
    """The catalogue price, or the special price while it is active and lower."""
    special = store.special_prices.get(f"1\x1f{product.sku.casefold()}") or store.special_prices.get(
        f"0\x1f{product.sku.casefold()}"
    )
    price = Decimal(product.values.get("price") or ZERO)
    if special is not None:
        starts = special.price_from is None or special.price_from <= when
        ends = special.price_to is None or when <= special.price_to
        if starts and ends and special.price < price:
            return Decimal(special.price)
    return price


@dataclass(frozen=True)
class CartSettings:
    rate: Decimal
    incl: bool
    pct: Decimal
    currency: str


def settings_of(store: Store, cart: Cart) -> CartSettings:
    return CartSettings(
        rate=cart.tax_rate if cart.tax_rate is not None else store.tax_rate,
        incl=cart.prices_include_tax if cart.prices_include_tax is not None else store.prices_include_tax,
        pct=cart.discount_percent / 100,
        currency=cart.currency or store.currency,
    )


def _line_unit(store: Store, item: CartItem, when: str) -> tuple[Product, Decimal]:
    product = store.product_by_sku(item.sku)
    if product is None:
        raise product_not_found()
    return product, item.custom_price if item.custom_price is not None else unit_price(store, product, when)


def cart_shipping_price(store: Store, cart: Cart) -> Decimal:
    return cart.shipping_price if cart.shipping_price is not None else store.flatrate_price


# ---------------------------------------------------------------- placing an order


def place_cart(store: Store, cart: Cart, created_at: str | None = None) -> Order:
    """``QuoteManagement::submit``: validate the cart, turn it into an order, deactivate the cart."""
    if not cart.is_active:
        raise no_such_entity("cartId", cart.id)
    if not cart.items:
        raise bad_request(SHIPPING_MISSING if cart.shipping_method is None else "Please specify order items.")
    if cart.shipping_address is None:
        raise bad_request("Please check the shipping address information. %1", [""])
    if cart.shipping_method != FLATRATE:
        raise bad_request(SHIPPING_MISSING)
    if not cart.payment_method:
        raise bad_request(PAYMENT_MISSING)
    customer = store.customers.get(cart.customer_id) if cart.customer_id is not None else None
    email = customer.email if customer else cart.customer_email
    if not email:
        raise bad_request('Email "%1" is invalid.', [""])
    when = created_at or now_text()
    settings = settings_of(store, cart)
    shipping_address = cart.shipping_address
    billing = cart.billing_address or shipping_address
    order = Order(
        entity_id=store.next_id("order"),
        increment_id=f"{store.next_id('order_increment'):09d}",
        customer_id=customer.id if customer else None,
        customer_is_guest=customer is None,
        customer_email=email,
        customer_firstname=customer.firstname if customer else billing.firstname,
        customer_lastname=customer.lastname if customer else billing.lastname,
        customer_group_id=customer.group_id if customer else 0,
        currency=settings.currency,
        prices_include_tax=settings.incl,
        tax_rate=settings.rate,
        payment_method=cart.payment_method,
        billing_address=billing,
        shipping_address=shipping_address,
        billing_address_id=store.next_id("order_address"),
        shipping_address_id=store.next_id("order_address"),
        payment_id=store.next_id("order_payment"),
        quote_id=cart.id,
        created_at=when,
        updated_at=when,
    )
    for item in cart.items:
        product, unit = _line_unit(store, item, when)
        order.items.extend(_order_lines(store, order, product, item.qty, unit, settings.pct, when))
    amount, tax, incl = shipping_amounts(cart_shipping_price(store, cart), settings.rate, settings.incl)
    order.shipping_amount, order.shipping_tax_amount, order.shipping_incl_tax = amount, tax, incl
    store.orders[order.entity_id] = order
    cart.is_active = False
    cart.reserved_order_id = order.entity_id
    cart.updated_at = when
    return order


def _order_lines(
    store: Store, order: Order, product: Product, qty: Decimal, unit: Decimal, pct: Decimal, when: str
) -> list[OrderItem]:
    """The order items of one cart line: a configurable child sells as a parent/child pair."""
    parents = store.parents_of(product.id)
    parent = parents[0] if parents else None
    a = line_amounts(unit, qty, pct, order.tax_rate, order.prices_include_tax)
    weight = product.values.get("weight")
    priced = OrderItem(
        item_id=store.next_id("order_item"),
        order_id=order.entity_id,
        sku=product.sku,
        name=str((parent or product).values.get("name") or product.sku),
        product_id=(parent or product).id,
        product_type="configurable" if parent else product.type_id,
        qty_ordered=qty,
        price=a.price,
        price_incl_tax=a.price_incl_tax,
        original_price=money(unit),
        row_total=a.row_total,
        row_total_incl_tax=a.row_total_incl_tax,
        tax_amount=a.tax,
        tax_percent=order.tax_rate * 100,
        discount_amount=a.discount,
        discount_percent=pct * 100,
        discount_tax_compensation_amount=a.compensation,
        weight=weight,
        created_at=when,
        updated_at=when,
    )
    if parent is None:
        return [priced]
    for option in parent.configurable_options:
        code = next(
            (x.attribute_code for x in store.attributes.values() if x.attribute_id == option.attribute_id),
            None,
        )
        value = to_int(product.values.get(code)) if code else None
        if value is not None:
            priced.option_values.append((option.attribute_id, value))
    child = OrderItem(
        item_id=store.next_id("order_item"),
        order_id=order.entity_id,
        sku=product.sku,
        name=str(product.values.get("name") or product.sku),
        product_id=product.id,
        product_type=product.type_id,
        parent_item_id=priced.item_id,
        qty_ordered=qty,
        weight=weight,
        created_at=when,
        updated_at=when,
    )
    return [priced, child]


# ---------------------------------------------------------------- carts


def new_cart(store: Store, seed: int, *, guest: bool, customer: Customer | None = None) -> Cart:
    when = now_text()
    cart = Cart(id=store.next_id("quote"), created_at=when, updated_at=when)
    if guest:
        # QuoteIdMask: 32 hex characters; seeded so a seeded run sees the same ids
        cart.masked_id = f"{random.Random(f'{seed}:{cart.id}').getrandbits(128):032x}"
    if customer is not None:
        cart.customer_id = customer.id
        cart.customer_email = customer.email
    store.carts[cart.id] = cart
    return cart


def _guest_cart(call: Call) -> Cart:
    masked = call.param("cartId")
    for cart in call.store.carts.values():
        if cart.masked_id == masked and cart.is_active:
            return cart
    raise no_such_entity("cartId", masked)


def _admin_cart(call: Call, name: str = "cartId") -> Cart:
    raw = call.param(name)
    cart = call.store.carts.get(to_int(raw) or -1)
    if cart is None or not cart.is_active:
        raise no_such_entity("cartId", raw)
    return cart


def _address(raw: dict[str, Any] | None) -> Address | None:
    if not raw:
        return None
    street = raw.get("street") or ["1 Queen Street"]
    return Address(
        firstname=str(raw.get("firstname") or ""),
        lastname=str(raw.get("lastname") or ""),
        street=[str(s) for s in street],
        city=str(raw.get("city") or ""),
        postcode=str(raw.get("postcode") or ""),
        country_id=str(raw.get("country_id") or "NZ"),
        region=raw.get("region"),
        region_id=to_int(raw.get("region_id")),
        region_code=raw.get("region_code"),
        telephone=str(raw.get("telephone") or ""),
        company=raw.get("company"),
    )


def _render_address(address: Address | None, cart: Cart, kind: str) -> dict[str, Any]:
    if address is None:
        empty: dict[str, Any] = dict.fromkeys(
            ("region", "region_id", "region_code", "country_id", "telephone", "postcode", "city")
        )
        return {
            **empty,
            "id": 0,
            "street": [""],
            "firstname": None,
            "lastname": None,
            "email": cart.customer_email,
            "same_as_billing": 1,
        }
    return {
        "id": cart.id * 2 + (0 if kind == "billing" else 1),
        "region": address.region,
        "region_id": address.region_id,
        "region_code": address.region_code,
        "country_id": address.country_id,
        "street": list(address.street),
        "telephone": address.telephone,
        "postcode": address.postcode,
        "city": address.city,
        "firstname": address.firstname,
        "lastname": address.lastname,
        "email": cart.customer_email,
        "same_as_billing": 1 if cart.billing_address in (None, address) else 0,
    }


def render_cart_item(store: Store, cart: Cart, item: CartItem) -> dict[str, Any]:
    product = store.product_by_sku(item.sku)
    price = ZERO
    if product is not None:
        price = item.custom_price if item.custom_price is not None else unit_price(store, product, now_text())
    return {
        "item_id": item.item_id,
        "sku": item.sku,
        "qty": json_number(item.qty),
        "name": str(product.values.get("name") or item.sku) if product else item.sku,
        "price": json_number(money(price)),
        "product_type": product.type_id if product else "simple",
        "quote_id": cart.masked_id or str(cart.id),
    }


def render_cart(store: Store, cart: Cart) -> dict[str, Any]:
    customer = store.customers.get(cart.customer_id) if cart.customer_id is not None else None
    settings = settings_of(store, cart)
    out: dict[str, Any] = {
        "id": cart.id,
        "created_at": cart.created_at,
        "updated_at": cart.updated_at,
        "is_active": cart.is_active,
        "is_virtual": False,
        "items": [render_cart_item(store, cart, i) for i in cart.items],
        "items_count": len(cart.items),
        "items_qty": json_number(sum((i.qty for i in cart.items), ZERO)),
        "customer": {"email": cart.customer_email, "firstname": None, "lastname": None}
        if customer is None
        else {
            "id": customer.id,
            "group_id": customer.group_id,
            "email": customer.email,
            "firstname": customer.firstname,
            "lastname": customer.lastname,
            "store_id": customer.store_id,
            "website_id": customer.website_id,
        },
        "billing_address": _render_address(cart.billing_address, cart, "billing"),
        "orig_order_id": 0,
        "currency": {
            "global_currency_code": settings.currency,
            "base_currency_code": settings.currency,
            "store_currency_code": settings.currency,
            "quote_currency_code": settings.currency,
            "store_to_base_rate": 0,
            "store_to_quote_rate": 0,
            "base_to_global_rate": 1,
            "base_to_quote_rate": 1,
        },
        "customer_is_guest": customer is None,
        "customer_note_notify": True,
        "customer_tax_class_id": 3,
        "store_id": 1,
    }
    if cart.reserved_order_id is not None:
        out["reserved_order_id"] = str(cart.reserved_order_id)
    return out


def render_totals(store: Store, cart: Cart) -> dict[str, Any]:
    """``CartTotalRepository::get``: the quote's totals, items and total segments."""
    s = settings_of(store, cart)
    when = now_text()
    items: list[dict[str, Any]] = []
    subtotal = subtotal_incl = discount = tax = compensation = qty = ZERO
    for item in cart.items:
        product, unit = _line_unit(store, item, when)
        a = line_amounts(unit, item.qty, s.pct, s.rate, s.incl)
        subtotal += a.row_total
        subtotal_incl += a.row_total_incl_tax
        discount += a.discount
        tax += a.tax
        compensation += a.compensation
        qty += item.qty
        items.append(
            {
                "item_id": item.item_id,
                "price": json_number(a.price),
                "base_price": json_number(a.price),
                "qty": json_number(item.qty),
                "row_total": json_number(a.row_total),
                "base_row_total": json_number(a.row_total),
                "row_total_with_discount": 0,
                "tax_amount": json_number(a.tax),
                "base_tax_amount": json_number(a.tax),
                "tax_percent": json_number(s.rate * 100),
                "discount_amount": json_number(a.discount),
                "base_discount_amount": json_number(a.discount),
                "discount_percent": json_number(s.pct * 100),
                "price_incl_tax": json_number(a.price_incl_tax),
                "base_price_incl_tax": json_number(a.price_incl_tax),
                "row_total_incl_tax": json_number(a.row_total_incl_tax),
                "base_row_total_incl_tax": json_number(a.row_total_incl_tax),
                "options": "[]",
                "weee_tax_applied_amount": None,
                "weee_tax_applied": None,
                "name": str(product.values.get("name") or product.sku),
            }
        )
    ship = ship_tax = ship_incl = ZERO
    if cart.shipping_method == FLATRATE and cart.items:
        ship, ship_tax, ship_incl = shipping_amounts(cart_shipping_price(store, cart), s.rate, s.incl)
    tax += ship_tax
    grand = subtotal + tax + compensation + ship - discount
    n = json_number
    segments = [
        {"code": "subtotal", "title": "Subtotal", "value": n(subtotal_incl if s.incl else subtotal)},
        {"code": "shipping", "title": "Shipping & Handling", "value": n(ship_incl if s.incl else ship)},
    ]
    if discount:
        label = f"Discount ({cart.coupon_code})" if cart.coupon_code else "Discount"
        segments.append({"code": "discount", "title": label, "value": n(-discount)})
    segments += [
        {"code": "tax", "title": "Tax", "value": n(tax)},
        {"code": "grand_total", "title": "Grand Total", "value": n(grand), "area": "footer"},
    ]
    out: dict[str, Any] = {
        "grand_total": n(grand),
        "base_grand_total": n(grand),
        "subtotal": n(subtotal),
        "base_subtotal": n(subtotal),
        "discount_amount": n(-discount),
        "base_discount_amount": n(-discount),
        "subtotal_with_discount": n(subtotal - discount),
        "base_subtotal_with_discount": n(subtotal - discount),
        "shipping_amount": n(ship),
        "base_shipping_amount": n(ship),
        "shipping_discount_amount": 0,
        "base_shipping_discount_amount": 0,
        "tax_amount": n(tax),
        "base_tax_amount": n(tax),
        "weee_tax_applied_amount": None,
        "shipping_tax_amount": n(ship_tax),
        "base_shipping_tax_amount": n(ship_tax),
        "subtotal_incl_tax": n(subtotal_incl),
        "shipping_incl_tax": n(ship_incl),
        "base_shipping_incl_tax": n(ship_incl),
        "base_currency_code": s.currency,
        "quote_currency_code": s.currency,
        "items_qty": n(qty),
        "items": items,
        "total_segments": segments,
    }
    if cart.coupon_code:
        out["coupon_code"] = cart.coupon_code
    return out


def _shipping_methods(store: Store, cart: Cart) -> list[dict[str, Any]]:
    s = settings_of(store, cart)
    amount, _tax, incl = shipping_amounts(cart_shipping_price(store, cart), s.rate, s.incl)
    shown = incl if s.incl else amount
    return [
        {
            "carrier_code": "flatrate",
            "method_code": "flatrate",
            "carrier_title": "Flat Rate",
            "method_title": "Fixed",
            "amount": json_number(shown),
            "base_amount": json_number(shown),
            "available": True,
            "error_message": "",
            "price_excl_tax": json_number(amount),
            "price_incl_tax": json_number(incl),
        }
    ]


def _payment_methods() -> list[dict[str, Any]]:
    return [{"code": code, "title": PAYMENT_METHODS[code]} for code in OFFERED_PAYMENTS]


# ---------------------------------------------------------------- shared steps


def _add_item(call: Call, cart: Cart) -> dict[str, Any]:
    raw = call.body["cartItem"]
    sku = str(raw.get("sku") or "")
    product = call.store.product_by_sku(sku)
    if product is None:
        raise product_not_found()
    if product.type_id == "configurable":
        raise bad_request("You need to choose options for your item.")
    qty = to_decimal(raw.get("qty")) or Decimal(1)
    if qty <= 0:
        raise bad_request("The qty value is required to update quote item.")
    for item in cart.items:
        if item.sku.casefold() == product.sku.casefold():
            item.qty += qty
            break
    else:
        item = CartItem(item_id=call.store.next_id("quote_item"), sku=product.sku, qty=qty)
        cart.items.append(item)
    cart.updated_at = now_text()
    return render_cart_item(call.store, cart, item)


def _delete_item(call: Call, cart: Cart) -> bool:
    wanted = to_int(call.param("itemId"))
    kept = [i for i in cart.items if i.item_id != wanted]
    if len(kept) == len(cart.items):
        raise not_found("The %1 Cart doesn't contain the %2 item.", [cart.id, call.param("itemId")])
    cart.items = kept
    cart.updated_at = now_text()
    return True


def _apply_coupon(call: Call, cart: Cart) -> bool:
    code = call.param("couponCode")
    if not cart.items:
        raise not_found('The "%1" Cart doesn\'t contain products.', [cart.id])
    percent = next((p for c, p in call.store.coupons.items() if c.casefold() == code.casefold()), None)
    if percent is None:
        raise not_found("The coupon code isn't valid. Verify the code and try again.")
    cart.coupon_code, cart.discount_percent = code, percent
    cart.updated_at = now_text()
    return True


def _save_shipping(call: Call, cart: Cart) -> dict[str, Any]:
    info = call.body["addressInformation"]
    carrier = str(info.get("shipping_carrier_code") or "")
    method = str(info.get("shipping_method_code") or "")
    if not cart.items:
        raise bad_request(
            "The shipping method can't be set for an empty cart. Add an item to cart and try again."
        )
    address = _address(info.get("shipping_address"))
    if address is None or not address.country_id:
        raise bad_request("The shipping address is missing. Set the address and try again.")
    if f"{carrier}_{method}" != FLATRATE:
        raise not_found("Carrier with such method not found: %1, %2", [carrier, method])
    cart.shipping_address = address
    cart.billing_address = _address(info.get("billing_address")) or cart.billing_address or address
    cart.shipping_method = FLATRATE
    cart.updated_at = now_text()
    return {"payment_methods": _payment_methods(), "totals": render_totals(call.store, cart)}


def _payment_method(raw: Any) -> str:
    method = str((raw or {}).get("method") or "")
    if method not in OFFERED_PAYMENTS:
        raise bad_request("The requested Payment Method is not available.")
    return method


def _place(call: Call, cart: Cart) -> str:
    order = place_cart(call.store, cart)
    return str(order.entity_id)  # the id string the database hands back (``@return int``)


# ---------------------------------------------------------------- guest carts (anonymous)


@route("POST", "/V1/guest-carts", ANONYMOUS, anonymous=True)
def create_guest_cart(call: Call) -> Any:
    return new_cart(call.store, call.options.seed, guest=True).masked_id


@route("GET", "/V1/guest-carts/{cartId}", ANONYMOUS, anonymous=True)
def get_guest_cart(call: Call) -> Any:
    return render_cart(call.store, _guest_cart(call))


@route("GET", "/V1/guest-carts/{cartId}/items", ANONYMOUS, anonymous=True)
def guest_cart_items(call: Call) -> Any:
    cart = _guest_cart(call)
    return [render_cart_item(call.store, cart, i) for i in cart.items]


@route("POST", "/V1/guest-carts/{cartId}/items", ANONYMOUS, anonymous=True)
def add_guest_item(call: Call) -> Any:
    return _add_item(call, _guest_cart(call))


@route("DELETE", "/V1/guest-carts/{cartId}/items/{itemId}", ANONYMOUS, anonymous=True)
def delete_guest_item(call: Call) -> Any:
    return _delete_item(call, _guest_cart(call))


@route("PUT", "/V1/guest-carts/{cartId}/coupons/{couponCode}", ANONYMOUS, anonymous=True)
def guest_coupon(call: Call) -> Any:
    return _apply_coupon(call, _guest_cart(call))


@route("POST", "/V1/guest-carts/{cartId}/estimate-shipping-methods", ANONYMOUS, anonymous=True)
def guest_estimate(call: Call) -> Any:
    return _shipping_methods(call.store, _guest_cart(call))


@route("POST", "/V1/guest-carts/{cartId}/shipping-information", ANONYMOUS, anonymous=True)
def guest_shipping(call: Call) -> Any:
    return _save_shipping(call, _guest_cart(call))


@route("GET", "/V1/guest-carts/{cartId}/payment-methods", ANONYMOUS, anonymous=True)
def guest_payment_methods(call: Call) -> Any:
    _guest_cart(call)
    return _payment_methods()


@route("GET", "/V1/guest-carts/{cartId}/totals", ANONYMOUS, anonymous=True)
def guest_totals(call: Call) -> Any:
    return render_totals(call.store, _guest_cart(call))


@route("POST", "/V1/guest-carts/{cartId}/payment-information", ANONYMOUS, anonymous=True)
def guest_pay_and_place(call: Call) -> Any:
    cart = _guest_cart(call)
    cart.customer_email = str(call.body["email"])
    cart.payment_method = _payment_method(call.body["paymentMethod"])
    billing = _address(call.body.get("billingAddress"))
    if billing is not None:
        cart.billing_address = billing
    return _place(call, cart)


@route("PUT", "/V1/guest-carts/{cartId}/order", ANONYMOUS, anonymous=True)
def guest_place(call: Call) -> Any:
    cart = _guest_cart(call)
    if call.body.get("paymentMethod") is not None:
        cart.payment_method = _payment_method(call.body["paymentMethod"])
    return _place(call, cart)


# ---------------------------------------------------------------- customer carts (admin integration)


@route("POST", "/V1/customers/{customerId}/carts", CART)
def create_customer_cart(call: Call) -> Any:
    raw = call.param("customerId")
    customer = call.store.customers.get(to_int(raw) or -1)
    if customer is None:
        raise no_such_entity("customerId", raw)
    for cart in call.store.carts.values():
        if cart.customer_id == customer.id and cart.is_active:
            return cart.id  # QuoteManagement::createEmptyCartForCustomer hands back the active cart
    return new_cart(call.store, call.options.seed, guest=False, customer=customer).id


@route("GET", "/V1/carts/{cartId}", CART)
def get_cart(call: Call) -> Any:
    return render_cart(call.store, _admin_cart(call))


@route("GET", "/V1/carts/{cartId}/items", CART)
def cart_items(call: Call) -> Any:
    cart = _admin_cart(call)
    return [render_cart_item(call.store, cart, i) for i in cart.items]


@route("POST", "/V1/carts/{quoteId}/items", CART)
def add_cart_item(call: Call) -> Any:
    return _add_item(call, _admin_cart(call, "quoteId"))


@route("DELETE", "/V1/carts/{cartId}/items/{itemId}", CART)
def delete_cart_item(call: Call) -> Any:
    return _delete_item(call, _admin_cart(call))


@route("PUT", "/V1/carts/{cartId}/coupons/{couponCode}", CART)
def cart_coupon(call: Call) -> Any:
    return _apply_coupon(call, _admin_cart(call))


@route("POST", "/V1/carts/{cartId}/estimate-shipping-methods", CART)
def cart_estimate(call: Call) -> Any:
    return _shipping_methods(call.store, _admin_cart(call))


@route("POST", "/V1/carts/{cartId}/shipping-information", CART)
def cart_shipping(call: Call) -> Any:
    return _save_shipping(call, _admin_cart(call))


@route("GET", "/V1/carts/{cartId}/payment-methods", CART)
def cart_payment_methods(call: Call) -> Any:
    _admin_cart(call)
    return _payment_methods()


@route("GET", "/V1/carts/{cartId}/totals", CART)
def cart_totals(call: Call) -> Any:
    return render_totals(call.store, _admin_cart(call))


@route("PUT", "/V1/carts/{cartId}/order", CART)
def cart_place(call: Call) -> Any:
    cart = _admin_cart(call)
    if call.body.get("paymentMethod") is not None:
        cart.payment_method = _payment_method(call.body["paymentMethod"])
    return _place(call, cart)


# ---------------------------------------------------------------- the Python helper's way in


def helper_cart(
    store: Store,
    items: list[tuple[str, Decimal, Decimal | None]],
    customer: Customer | None,
    email: str,
    address: Address,
    *,
    payment_method: str,
    discount_percent: Decimal,
    shipping_price: Decimal,
    tax_rate: Decimal,
    prices_include_tax: bool,
    currency: str | None,
    when: str,
) -> Cart:
    """A cart filled as a shopper would, with the helper's overrides of store configuration."""
    cart = Cart(
        id=store.next_id("quote"),
        customer_id=customer.id if customer else None,
        customer_email=email,
        shipping_address=address,
        billing_address=address,
        shipping_method=FLATRATE,
        payment_method=payment_method,
        discount_percent=discount_percent,
        shipping_price=shipping_price,
        tax_rate=tax_rate,
        prices_include_tax=prices_include_tax,
        currency=currency,
        created_at=when,
        updated_at=when,
    )
    for sku, qty, price in items:
        product = store.product_by_sku(sku)
        if product is None:
            raise MagentoError(
                404, "The product that was requested doesn't exist. Verify the product and try again."
            )
        cart.items.append(
            CartItem(item_id=store.next_id("quote_item"), sku=product.sku, qty=qty, custom_price=price)
        )
    store.carts[cart.id] = cart
    return cart
