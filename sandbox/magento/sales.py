"""Orders, invoices, credit memos and customers, as a store creates and reports them.

The storefront is not emulated: tests place orders through ``SalesHelper`` (``store.sales``), then invoice
and refund either through the helper or through ``POST /V1/order/{id}/invoice|refund`` as the admin would.
Money is Decimal, rounded half-up to cents per row. Conventions that matter to a reader of these
documents and that Magento really has:

- totals' ``discount_amount`` is negative on orders, invoices and credit memos, positive on their items;
- a configurable product sells as two order items: the parent (``product_type`` configurable, carrying the
  child's SKU and all amounts) and the child (simple, price 0, ``parent_item_id``, nested ``parent_item``);
- a credit memo lists every refundable order item, with ``qty`` 0 for those not refunded;
- payment ``account_status`` and ``cc_last4`` are printed as ``null`` (required fields without a value);
- partial documents take amounts pro rata; the last one takes the remainder, so sums always match.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from .errors import MagentoError, bad_request, internal_error, no_such_entity, not_found
from .model import (
    Address,
    Creditmemo,
    Customer,
    DocumentItem,
    Invoice,
    Order,
    OrderItem,
    StatusHistory,
    Store,
)
from .routing import Call, route
from .search import Collection, Filter, parse_search_criteria, search
from .values import json_number, money, now_text, timestamp_text, to_decimal, to_int

if TYPE_CHECKING:
    from collections.abc import Callable

ORDERS = "Magento_Sales::actions_view"
INVOICES = "Magento_Sales::sales_invoice"
CREDITMEMOS = "Magento_Sales::sales_creditmemo"
CUSTOMERS = "Magento_Customer::customer"

PAYMENT_TITLES = {
    "checkmo": "Check / Money order",
    "banktransfer": "Bank Transfer Payment",
    "cashondelivery": "Cash On Delivery",
    "purchaseorder": "Purchase Order",
    "free": "No Payment Information Required",
}
ENTITY_NOT_FOUND = "The entity that was requested doesn't exist. Verify the entity and try again."
AMOUNT_FIELDS = (
    "row_total",
    "row_total_incl_tax",
    "tax_amount",
    "discount_amount",
    "discount_tax_compensation_amount",
)
ZERO = Decimal(0)


def _n(value: Decimal | None) -> int | float:
    return json_number(value if value is not None else ZERO)


def _increment(n: int) -> str:
    return f"{n:09d}"


CURRENCY_SYMBOLS = {"NZD": "NZ$", "AUD": "A$", "USD": "$", "EUR": "€", "GBP": "£"}


def format_price(amount: Decimal, currency: str) -> str:
    """``PriceCurrency::format`` for the messages that quote an amount."""
    return f"{CURRENCY_SYMBOLS.get(currency, currency + ' ')}{amount:,.2f}"


# ---------------------------------------------------------------- totals


def _priced(order: Order) -> list[OrderItem]:
    """Items that carry amounts: everything except children of configurable items."""
    return [i for i in order.items if i.parent_item_id is None]


def order_totals(order: Order) -> dict[str, Decimal]:
    items = _priced(order)
    subtotal = sum((i.row_total for i in items), ZERO)
    subtotal_incl = sum((i.row_total_incl_tax for i in items), ZERO)
    discount = sum((i.discount_amount for i in items), ZERO)
    item_tax = sum((i.tax_amount for i in items), ZERO)
    compensation = sum((i.discount_tax_compensation_amount for i in items), ZERO)
    tax = item_tax + order.shipping_tax_amount
    grand = subtotal + tax + compensation + order.shipping_amount - discount
    return {
        "subtotal": subtotal,
        "subtotal_incl_tax": subtotal_incl,
        "discount": discount,
        "tax": tax,
        "compensation": compensation,
        "grand_total": grand,
        "qty": sum((i.qty_ordered for i in items), ZERO),
    }


def document_totals(doc: Invoice | Creditmemo) -> dict[str, Decimal]:
    lines = [i for i in doc.items if not i.is_child]
    subtotal = sum((i.row_total for i in lines), ZERO)
    discount = sum((i.discount_amount for i in lines), ZERO)
    compensation = sum((i.discount_tax_compensation_amount for i in lines), ZERO)
    tax = sum((i.tax_amount for i in lines), ZERO) + doc.shipping_tax_amount
    adjustment = ZERO
    if isinstance(doc, Creditmemo):
        adjustment = doc.adjustment_positive - doc.adjustment_negative
    return {
        "subtotal": subtotal,
        "subtotal_incl_tax": sum((i.row_total_incl_tax for i in lines), ZERO),
        "discount": discount,
        "compensation": compensation,
        "tax": tax,
        "grand_total": subtotal + tax + compensation + doc.shipping_amount - discount + adjustment,
        "qty": sum((i.qty for i in lines), ZERO),
    }


def _split_tax(gross: Decimal, rate: Decimal) -> tuple[Decimal, Decimal]:
    """(net, tax) of a tax-inclusive amount."""
    net = money(gross / (1 + rate))
    return net, gross - net


# ---------------------------------------------------------------- rendering


def base_key(key: str) -> str:
    """The base-currency twin of an amount key; ``OrderInterface`` and the document interfaces shorten one."""
    if key == "shipping_discount_tax_compensation_amount":
        return "base_shipping_discount_tax_compensation_amnt"
    return f"base_{key}"


def render_address(address: Address, kind: str, order: Order, entity_id: int) -> dict[str, Any]:
    out: dict[str, Any] = {
        "address_type": kind,
        "city": address.city,
        "country_id": address.country_id,
        "email": order.customer_email,
        "entity_id": entity_id,
        "firstname": address.firstname,
        "lastname": address.lastname,
        "parent_id": order.entity_id,
        "postcode": address.postcode,
        "region": address.region,
        "region_code": address.region_code,
        "region_id": address.region_id,
        "street": list(address.street),
        "telephone": address.telephone,
        "company": address.company,
    }
    if order.customer_id is not None:
        out["customer_id"] = order.customer_id
        if address.id:
            out["customer_address_id"] = address.id
    return {k: v for k, v in out.items() if v is not None}


def render_order_item(order: Order, item: OrderItem, with_parent: bool = True) -> dict[str, Any]:
    out: dict[str, Any] = {
        "amount_refunded": _n(item.amount_refunded),
        "base_amount_refunded": _n(item.amount_refunded),
        "base_discount_amount": _n(item.discount_amount),
        "base_discount_invoiced": _n(item.discount_invoiced),
        "base_discount_tax_compensation_amount": _n(item.discount_tax_compensation_amount),
        "base_original_price": _n(item.original_price),
        "base_price": _n(item.price),
        "base_price_incl_tax": _n(item.price_incl_tax),
        "base_row_invoiced": _n(item.row_invoiced),
        "base_row_total": _n(item.row_total),
        "base_row_total_incl_tax": _n(item.row_total_incl_tax),
        "base_tax_amount": _n(item.tax_amount),
        "base_tax_invoiced": _n(item.tax_invoiced),
        "created_at": item.created_at,
        "discount_amount": _n(item.discount_amount),
        "discount_invoiced": _n(item.discount_invoiced),
        "discount_percent": _n(item.discount_percent),
        "free_shipping": 0,
        "discount_tax_compensation_amount": _n(item.discount_tax_compensation_amount),
        "is_qty_decimal": 0,
        "is_virtual": 0,
        "item_id": item.item_id,
        "name": item.name,
        "no_discount": 0,
        "order_id": order.entity_id,
        "original_price": _n(item.original_price),
        "price": _n(item.price),
        "price_incl_tax": _n(item.price_incl_tax),
        "product_id": item.product_id,
        "product_type": item.product_type,
        "qty_canceled": _n(item.qty_canceled),
        "qty_invoiced": _n(item.qty_invoiced),
        "qty_ordered": _n(item.qty_ordered),
        "qty_refunded": _n(item.qty_refunded),
        "qty_shipped": _n(item.qty_shipped),
        "quote_item_id": item.item_id,
        "row_invoiced": _n(item.row_invoiced),
        "row_total": _n(item.row_total),
        "row_total_incl_tax": _n(item.row_total_incl_tax),
        "row_weight": _n((item.weight or ZERO) * item.qty_ordered),
        "sku": item.sku,
        "store_id": order.store_id,
        "tax_amount": _n(item.tax_amount),
        "tax_invoiced": _n(item.tax_invoiced),
        "tax_percent": _n(item.tax_percent),
        "updated_at": item.updated_at,
    }
    if item.weight is not None:
        out["weight"] = _n(item.weight)
    if item.option_values:
        out["product_option"] = {
            "extension_attributes": {
                "configurable_item_options": [
                    {"option_id": str(attribute_id), "option_value": value}
                    for attribute_id, value in item.option_values
                ]
            }
        }
    if item.parent_item_id is not None:
        out["parent_item_id"] = item.parent_item_id
        parent = next((i for i in order.items if i.item_id == item.parent_item_id), None)
        if with_parent and parent is not None:
            out["parent_item"] = render_order_item(order, parent, with_parent=False)
    return {k: v for k, v in out.items() if v is not None}


def render_order(store: Store, order: Order) -> dict[str, Any]:
    t = order_totals(order)
    invoiced = [inv for inv in store.invoices.values() if inv.order_id == order.entity_id]
    memos = [cm for cm in store.creditmemos.values() if cm.order_id == order.entity_id]
    inv_totals = [document_totals(inv) for inv in invoiced]
    cm_totals = [document_totals(cm) for cm in memos]
    total_invoiced = sum((x["grand_total"] for x in inv_totals), ZERO)
    subtotal_invoiced = sum((x["subtotal"] for x in inv_totals), ZERO)
    tax_invoiced = sum((x["tax"] for x in inv_totals), ZERO)
    discount_invoiced = sum((x["discount"] for x in inv_totals), ZERO)
    subtotal_refunded = sum((x["subtotal"] for x in cm_totals), ZERO)
    tax_refunded = sum((x["tax"] for x in cm_totals), ZERO)
    discount_refunded = sum((x["discount"] for x in cm_totals), ZERO)
    title = PAYMENT_TITLES.get(order.payment_method, order.payment_method)
    grand = t["grand_total"]
    money_fields: dict[str, Decimal] = {
        "discount_amount": -t["discount"],
        "grand_total": grand,
        "discount_tax_compensation_amount": t["compensation"],
        "shipping_amount": order.shipping_amount,
        "shipping_discount_amount": ZERO,
        "shipping_discount_tax_compensation_amount": ZERO,
        "shipping_incl_tax": order.shipping_incl_tax,
        "shipping_tax_amount": order.shipping_tax_amount,
        "subtotal": t["subtotal"],
        "subtotal_incl_tax": t["subtotal_incl_tax"],
        "tax_amount": t["tax"],
        "total_due": grand - order.total_paid,
        "total_paid": order.total_paid,
        "total_qty_ordered": t["qty"],
    }
    if invoiced:
        money_fields.update(
            {
                "discount_invoiced": -discount_invoiced,
                "shipping_invoiced": order.shipping_invoiced,
                "subtotal_invoiced": subtotal_invoiced,
                "tax_invoiced": tax_invoiced,
                "total_invoiced": total_invoiced,
            }
        )
    if memos:
        money_fields.update(
            {
                "adjustment_negative": order.adjustment_negative,
                "adjustment_positive": order.adjustment_positive,
                "discount_refunded": -discount_refunded,
                "shipping_refunded": order.shipping_refunded,
                "shipping_tax_refunded": order.shipping_tax_refunded,
                "subtotal_refunded": subtotal_refunded,
                "tax_refunded": tax_refunded,
                "total_offline_refunded": order.total_refunded,
                "total_refunded": order.total_refunded,
            }
        )
    out: dict[str, Any] = {}
    for key, value in money_fields.items():
        out[key] = _n(value)
        out[base_key(key)] = _n(value)
    out.update(
        {
            "base_currency_code": order.currency,
            "base_to_global_rate": 1,
            "base_to_order_rate": 1,
            "billing_address_id": order.billing_address_id,
            "created_at": order.created_at,
            "customer_email": order.customer_email,
            "customer_firstname": order.customer_firstname,
            "customer_group_id": order.customer_group_id,
            "customer_id": order.customer_id,
            "customer_is_guest": 1 if order.customer_is_guest else 0,
            "customer_lastname": order.customer_lastname,
            "customer_note_notify": 1,
            "email_sent": 1,
            "entity_id": order.entity_id,
            "global_currency_code": order.currency,
            "increment_id": order.increment_id,
            "is_virtual": 0,
            "order_currency_code": order.currency,
            "protect_code": f"{order.entity_id:06x}",
            "quote_id": order.quote_id if order.quote_id is not None else order.entity_id,
            "remote_ip": "127.0.0.1",
            "shipping_description": order.shipping_description,
            "state": order.state,
            "status": order.status,
            "store_currency_code": order.currency,
            "store_id": order.store_id,
            "store_name": "Main Website\nMain Website Store\nDefault Store View",
            "store_to_base_rate": 0,
            "store_to_order_rate": 0,
            "total_item_count": len(_priced(order)),
            "updated_at": order.updated_at,
            "weight": _n(sum(((i.weight or ZERO) * i.qty_ordered for i in _priced(order)), ZERO)),
        }
    )
    items = [render_order_item(order, i) for i in order.items]
    out["items"] = items
    out["billing_address"] = render_address(order.billing_address, "billing", order, order.billing_address_id)
    out["payment"] = {
        "account_status": None,
        "additional_information": [title],
        "amount_ordered": _n(grand),
        "amount_paid": _n(order.total_paid),
        "amount_refunded": _n(order.total_refunded),
        "base_amount_ordered": _n(grand),
        "base_amount_paid": _n(order.total_paid),
        "base_amount_refunded": _n(order.total_refunded),
        "base_shipping_amount": _n(order.shipping_amount),
        "base_shipping_captured": _n(order.shipping_invoiced),
        "cc_last4": None,
        "entity_id": order.payment_id,
        "method": order.payment_method,
        "parent_id": order.entity_id,
        "shipping_amount": _n(order.shipping_amount),
        "shipping_captured": _n(order.shipping_invoiced),
    }
    out["status_histories"] = [
        render_history(order, h)
        for h in sorted(order.status_histories, key=lambda h: (h.created_at, h.entity_id), reverse=True)
    ]
    shipping_total = {
        "base_shipping_amount": _n(order.shipping_amount),
        "base_shipping_discount_amount": 0,
        "base_shipping_discount_tax_compensation_amnt": 0,
        "base_shipping_incl_tax": _n(order.shipping_incl_tax),
        "base_shipping_invoiced": _n(order.shipping_invoiced),
        "base_shipping_refunded": _n(order.shipping_refunded),
        "base_shipping_tax_amount": _n(order.shipping_tax_amount),
        "base_shipping_tax_refunded": _n(order.shipping_tax_refunded),
        "shipping_amount": _n(order.shipping_amount),
        "shipping_discount_amount": 0,
        "shipping_discount_tax_compensation_amount": 0,
        "shipping_incl_tax": _n(order.shipping_incl_tax),
        "shipping_invoiced": _n(order.shipping_invoiced),
        "shipping_refunded": _n(order.shipping_refunded),
        "shipping_tax_amount": _n(order.shipping_tax_amount),
        "shipping_tax_refunded": _n(order.shipping_tax_refunded),
    }
    percent = order.tax_rate * 100
    out["extension_attributes"] = {
        "shipping_assignments": [
            {
                "shipping": {
                    "address": render_address(
                        order.shipping_address, "shipping", order, order.shipping_address_id
                    ),
                    "method": order.shipping_method,
                    "total": shipping_total,
                },
                "items": items,
            }
        ],
        "payment_additional_info": [{"key": "method_title", "value": title}],
        "applied_taxes": [
            {
                "code": "GST",
                "title": "GST",
                "percent": _n(percent),
                "amount": _n(t["tax"]),
                "base_amount": _n(t["tax"]),
            }
        ]
        if t["tax"]
        else [],
    }
    return {k: v for k, v in out.items() if v is not None}


def _document_common(store: Store, order: Order, doc: Invoice | Creditmemo) -> dict[str, Any]:
    t = document_totals(doc)
    money_fields = {
        "discount_amount": -t["discount"],
        "grand_total": t["grand_total"],
        "discount_tax_compensation_amount": t["compensation"],
        "shipping_amount": doc.shipping_amount,
        "shipping_incl_tax": doc.shipping_incl_tax,
        "shipping_tax_amount": doc.shipping_tax_amount,
        "shipping_discount_tax_compensation_amount": ZERO,
        "subtotal": t["subtotal"],
        "subtotal_incl_tax": t["subtotal_incl_tax"],
        "tax_amount": t["tax"],
    }
    out: dict[str, Any] = {}
    for key, value in money_fields.items():
        out[key] = _n(value)
        out[base_key(key)] = _n(value)
    out.update(
        {
            "base_currency_code": order.currency,
            "base_to_global_rate": 1,
            "base_to_order_rate": 1,
            "billing_address_id": order.billing_address_id,
            "created_at": doc.created_at,
            "email_sent": 1,
            "entity_id": doc.entity_id,
            "global_currency_code": order.currency,
            "increment_id": doc.increment_id,
            "order_currency_code": order.currency,
            "order_id": order.entity_id,
            "shipping_address_id": order.shipping_address_id,
            "state": doc.state,
            "store_currency_code": order.currency,
            "store_id": order.store_id,
            "store_to_base_rate": 0,
            "store_to_order_rate": 0,
            "updated_at": doc.updated_at,
            "comments": [],
        }
    )
    return out


def render_document_item(doc_id: int, line: DocumentItem, creditmemo: bool) -> dict[str, Any]:
    if line.is_child:
        out: dict[str, Any] = {
            "base_price": 0,
            "entity_id": line.entity_id,
            "name": line.name,
            "parent_id": doc_id,
            "price": 0,
            "product_id": line.product_id,
            "sku": line.sku,
            "order_item_id": line.order_item_id,
            "qty": _n(line.qty),
        }
    else:
        out = {
            "base_discount_amount": _n(line.discount_amount),
            "base_discount_tax_compensation_amount": _n(line.discount_tax_compensation_amount),
            "base_price": _n(line.price),
            "base_price_incl_tax": _n(line.price_incl_tax),
            "base_row_total": _n(line.row_total),
            "base_row_total_incl_tax": _n(line.row_total_incl_tax),
            "base_tax_amount": _n(line.tax_amount),
            "discount_amount": _n(line.discount_amount),
            "discount_tax_compensation_amount": _n(line.discount_tax_compensation_amount),
            "entity_id": line.entity_id,
            "name": line.name,
            "parent_id": doc_id,
            "price": _n(line.price),
            "price_incl_tax": _n(line.price_incl_tax),
            "product_id": line.product_id,
            "row_total": _n(line.row_total),
            "row_total_incl_tax": _n(line.row_total_incl_tax),
            "sku": line.sku,
            "tax_amount": _n(line.tax_amount),
            "order_item_id": line.order_item_id,
            "qty": _n(line.qty),
        }
    if creditmemo:
        out["base_cost"] = None
    return {k: v for k, v in out.items() if v is not None or k == "base_cost"}


def render_invoice(store: Store, invoice: Invoice) -> dict[str, Any]:
    order = store.orders[invoice.order_id]
    out = _document_common(store, order, invoice)
    out["can_void_flag"] = 0
    out["total_qty"] = _n(document_totals(invoice)["qty"])
    out["items"] = [render_document_item(invoice.entity_id, line, creditmemo=False) for line in invoice.items]
    return out


def render_creditmemo(store: Store, memo: Creditmemo) -> dict[str, Any]:
    order = store.orders[memo.order_id]
    out = _document_common(store, order, memo)
    adjustment = memo.adjustment_positive - memo.adjustment_negative
    for key, value in (
        ("adjustment", adjustment),
        ("adjustment_negative", memo.adjustment_negative),
        ("adjustment_positive", memo.adjustment_positive),
    ):
        out[key] = _n(value)
        out[f"base_{key}"] = _n(value)
    out["creditmemo_status"] = memo.state
    if memo.invoice_id is not None:
        out["invoice_id"] = memo.invoice_id
    out["items"] = [render_document_item(memo.entity_id, line, creditmemo=True) for line in memo.items]
    return out


def render_customer(customer: Customer) -> dict[str, Any]:
    billing = next((a for a in customer.addresses if a.default_billing), None)
    shipping = next((a for a in customer.addresses if a.default_shipping), None)
    out: dict[str, Any] = {
        "id": customer.id,
        "group_id": customer.group_id,
        "default_billing": str(billing.id) if billing else None,
        "default_shipping": str(shipping.id) if shipping else None,
        "created_at": customer.created_at,
        "updated_at": customer.updated_at,
        "created_in": customer.created_in,
        "dob": customer.dob,
        "email": customer.email,
        "firstname": customer.firstname,
        "lastname": customer.lastname,
        "gender": customer.gender,
        "store_id": customer.store_id,
        "website_id": customer.website_id,
        "addresses": [
            {
                "id": a.id,
                "customer_id": customer.id,
                "region": {"region_code": a.region_code, "region": a.region, "region_id": a.region_id or 0},
                "region_id": a.region_id or 0,
                "country_id": a.country_id,
                "street": list(a.street),
                "telephone": a.telephone,
                "postcode": a.postcode,
                "city": a.city,
                "firstname": a.firstname,
                "lastname": a.lastname,
                "company": a.company,
                "default_shipping": a.default_shipping,
                "default_billing": a.default_billing,
            }
            for a in customer.addresses
        ],
        "disable_auto_group_change": 0,
        "extension_attributes": {"is_subscribed": False},
    }
    out["addresses"] = [{k: v for k, v in a.items() if v is not None} for a in out["addresses"]]
    return {k: v for k, v in out.items() if v is not None}


# ---------------------------------------------------------------- the sales helper


def _document_lines(
    store: Store,
    order: Order,
    wanted: dict[int, Decimal],
    remaining: Callable[[OrderItem], Decimal],
    previous: Callable[[OrderItem], list[DocumentItem]],
    sequence: str,
    include_zero: bool,
) -> list[DocumentItem]:
    """Document lines for the priced items in ``wanted`` (plus their configurable children)."""
    lines: list[DocumentItem] = []
    for item in _priced(order):
        qty = wanted.get(item.item_id)
        if qty is None:
            if not include_zero or remaining(item) <= 0:
                continue
            qty = ZERO
        rest = remaining(item)
        if qty == rest and qty > 0:
            amounts = {
                f: getattr(item, f) - sum((getattr(p, f) for p in previous(item)), ZERO)
                for f in AMOUNT_FIELDS
            }
        else:
            ratio = qty / item.qty_ordered
            amounts = {f: money(getattr(item, f) * ratio) for f in AMOUNT_FIELDS}
        lines.append(
            DocumentItem(
                entity_id=store.next_id(sequence),
                order_item_id=item.item_id,
                sku=item.sku,
                name=item.name,
                product_id=item.product_id,
                qty=qty,
                price=item.price,
                price_incl_tax=item.price_incl_tax,
                **amounts,
            )
        )
        for child in order.items:
            if child.parent_item_id == item.item_id:
                lines.append(
                    DocumentItem(
                        entity_id=store.next_id(sequence),
                        order_item_id=child.item_id,
                        sku=child.sku,
                        name=child.name,
                        product_id=child.product_id,
                        qty=qty,
                        is_child=True,
                    )
                )
    return lines


class SalesHelper:
    """Creates the sales documents a real storefront and admin would (``store.sales``)."""

    def __init__(self, store: Store, on_write: Callable[[], None] | None = None) -> None:
        self.store = store
        self._on_write = on_write or (lambda: None)

    # ------------------------------------------------------------ customers

    def create_customer(
        self,
        email: str,
        firstname: str,
        lastname: str,
        *,
        address: Address | dict[str, Any] | None = None,
        created_at: datetime | str | None = None,
        dob: str | None = None,
        gender: int | None = None,
        group_id: int = 1,
    ) -> Customer:
        """Register a customer with one default billing/shipping address."""
        store = self.store
        with store.lock:
            if any(c.email.casefold() == email.casefold() for c in store.customers.values()):
                raise bad_request(
                    "A customer with the same email address already exists in an associated website."
                )
            when = timestamp_text(created_at)
            customer = Customer(
                id=store.next_id("customer"),
                email=email,
                firstname=firstname,
                lastname=lastname,
                created_at=when,
                updated_at=when,
                dob=dob,
                gender=gender,
                group_id=group_id,
            )
            if isinstance(address, dict):
                address = Address(**{"firstname": firstname, "lastname": lastname, **address})
            addr = address or Address(firstname=firstname, lastname=lastname)
            addr = addr.model_copy(update={"id": store.next_id("customer_address")})
            addr.default_billing = addr.default_shipping = True
            customer.addresses.append(addr)
            store.customers[customer.id] = customer
        self._on_write()
        return customer

    # ------------------------------------------------------------ orders

    def place_order(
        self,
        items: Sequence[tuple[str, int | Decimal] | tuple[str, int | Decimal, Decimal]],
        customer: Customer | int | str | None = None,
        *,
        payment_method: str = "checkmo",
        discount_percent: Decimal | int = 0,
        shipping_amount: Decimal | int = Decimal("5.00"),
        tax_rate: Decimal = Decimal("0.15"),
        currency: str | None = None,
        created_at: datetime | str | None = None,
        prices_include_tax: bool = True,
        firstname: str = "Guest",
        lastname: str = "Shopper",
        address: Address | None = None,
    ) -> Order:
        """Place an order through the checkout: ``items`` are ``(sku, qty)`` or ``(sku, qty, unit_price)``.

        A cart is filled and submitted by the same code as the REST checkout (``checkout.place_cart``);
        the arguments stand in for what a shopper and the store's configuration would choose.
        ``customer`` is a Customer, a customer id, or an e-mail for a guest order. Unit prices default to
        the catalogue price (special price when active); they include tax unless ``prices_include_tax`` is
        False. Selling a child of a configurable yields the parent/child item pair. Stock is not touched.
        """
        from .checkout import helper_cart, place_cart

        store = self.store
        with store.lock:
            when = timestamp_text(created_at)
            cust: Customer | None = None
            if isinstance(customer, Customer):
                cust = customer
            elif isinstance(customer, int):
                cust = store.customers.get(customer)
                if cust is None:
                    raise no_such_entity("customerId", customer)
            email = cust.email if cust else (customer if isinstance(customer, str) else "guest@example.com")
            first = cust.firstname if cust else firstname
            last = cust.lastname if cust else lastname
            addr = address or (
                cust.addresses[0] if cust and cust.addresses else Address(firstname=first, lastname=last)
            )
            if not items:
                raise bad_request("The order has no items.")
            lines = [(e[0], Decimal(str(e[1])), Decimal(str(e[2])) if len(e) > 2 else None) for e in items]
            cart = helper_cart(
                store,
                lines,
                cust,
                email,
                addr,
                payment_method=payment_method,
                discount_percent=Decimal(str(discount_percent)),
                shipping_price=Decimal(str(shipping_amount)),
                tax_rate=Decimal(str(tax_rate)),
                prices_include_tax=prices_include_tax,
                currency=currency,
                when=when,
            )
            order = place_cart(store, cart, created_at=when)
            if cust is None:
                order.customer_firstname, order.customer_lastname = first, last
        self._on_write()
        return order

    # ------------------------------------------------------------ invoices

    def invoice(
        self,
        order_id: int,
        items: Sequence[tuple[int, int | Decimal]] | Mapping[int, int | Decimal] | None = None,
        created_at: datetime | str | None = None,
    ) -> Invoice:
        """Invoice the order (all remaining qty, or ``{order_item_id: qty}``) and capture payment offline."""
        store = self.store
        with store.lock:
            order = store.orders.get(order_id)
            if order is None:
                raise not_found(ENTITY_NOT_FOUND)
            when = timestamp_text(created_at)
            wanted = self._wanted(order, items, lambda i: i.qty_ordered - i.qty_invoiced - i.qty_canceled)
            errors = []
            if order.state in ("closed", "canceled", "holded") or all(
                i.qty_ordered - i.qty_invoiced - i.qty_canceled <= 0 for i in _priced(order)
            ):
                errors.append("The order does not allow an invoice to be created.")
            elif wanted is None:
                errors.append(
                    "The invoice contains one or more items that are not part of the original order."
                )
            else:
                for item in _priced(order):
                    if item.item_id in wanted and wanted[item.item_id] > item.qty_ordered - item.qty_invoiced:
                        errors.append(f'We found an invalid quantity to invoice item "{item.name}".')
                if not errors and sum(wanted.values(), ZERO) <= 0:
                    errors.append(
                        "The invoice can't be created without products. Add products and try again."
                    )
            if errors:
                raise bad_request("Invoice Document Validation Error(s):\n" + "\n".join(errors))
            assert wanted is not None
            invoice_id = store.next_id("invoice")
            lines = _document_lines(
                store,
                order,
                wanted,
                remaining=lambda i: i.qty_ordered - i.qty_invoiced,
                previous=lambda i: self._previous_lines(order, i, invoices=True),
                sequence="invoice_item",
                include_zero=False,
            )
            invoice = Invoice(
                entity_id=invoice_id,
                increment_id=_increment(store.next_id("invoice_increment")),
                order_id=order.entity_id,
                items=lines,
                created_at=when,
                updated_at=when,
            )
            if order.shipping_invoiced == 0:
                invoice.shipping_amount = order.shipping_amount
                invoice.shipping_incl_tax = order.shipping_incl_tax
                invoice.shipping_tax_amount = order.shipping_tax_amount
                order.shipping_invoiced = order.shipping_amount
                order.shipping_tax_invoiced = order.shipping_tax_amount
            for line in lines:
                item = next(i for i in order.items if i.item_id == line.order_item_id)
                item.qty_invoiced += line.qty
                if not line.is_child:
                    item.row_invoiced += line.row_total
                    item.tax_invoiced += line.tax_amount
                    item.discount_invoiced += line.discount_amount
                item.updated_at = now_text()
            order.total_paid += document_totals(invoice)["grand_total"]
            order.state = order.status = "processing"
            order.updated_at = max(order.updated_at, now_text())
            store.invoices[invoice.entity_id] = invoice
        self._on_write()
        return invoice

    def _wanted(
        self,
        order: Order,
        items: Sequence[tuple[int, int | Decimal]] | Mapping[int, int | Decimal] | None,
        default_qty: Callable[[OrderItem], Decimal],
    ) -> dict[int, Decimal] | None:
        """Requested qty per priced order item id (child ids count for their parent); None if unknown ids."""
        if not items:
            return {i.item_id: default_qty(i) for i in _priced(order) if default_qty(i) > 0}
        pairs = items.items() if isinstance(items, Mapping) else items
        by_id = {i.item_id: i for i in order.items}
        wanted: dict[int, Decimal] = {}
        for item_id, qty in pairs:
            item = by_id.get(int(item_id))
            if item is None:
                return None
            target = item.parent_item_id or item.item_id
            wanted[target] = wanted.get(target, ZERO) + Decimal(str(qty))
        return wanted

    def _previous_lines(self, order: Order, item: OrderItem, invoices: bool) -> list[DocumentItem]:
        docs = self.store.invoices.values() if invoices else self.store.creditmemos.values()
        return [
            line
            for d in docs
            if d.order_id == order.entity_id
            for line in d.items
            if line.order_item_id == item.item_id
        ]

    # ------------------------------------------------------------ refunds

    def refund(
        self,
        order_id: int,
        items: Sequence[tuple[int, int | Decimal]] | Mapping[int, int | Decimal] | None = None,
        adjustment_positive: Decimal | int = 0,
        adjustment_negative: Decimal | int = 0,
        shipping_amount: Decimal | int = 0,
        created_at: datetime | str | None = None,
    ) -> Creditmemo:
        """Refund offline (``POST /V1/order/{id}/refund``): items as ``{order_item_id: qty}``; none = all
        invoiced and not yet refunded. ``shipping_amount`` is in the order's price convention (incl. tax
        when prices include tax); ``adjustment_positive`` adds a refund, ``adjustment_negative`` is a fee."""
        store = self.store
        with store.lock:
            order = store.orders.get(order_id)
            if order is None:
                raise not_found(ENTITY_NOT_FOUND)
            when = timestamp_text(created_at)
            wanted = self._wanted(order, items, lambda i: i.qty_invoiced - i.qty_refunded)
            adj_pos, adj_neg = money(adjustment_positive), money(adjustment_negative)
            shipping = money(shipping_amount)
            errors: list[str] = []
            if order.total_paid <= 0 or order.state in ("closed", "canceled"):
                errors.append("We can't create creditmemo for the order.")
            elif wanted is None:
                errors.append("The creditmemo contains product item that is not part of the original order.")
            else:
                for item in _priced(order):
                    if wanted.get(item.item_id, ZERO) > item.qty_invoiced - item.qty_refunded:
                        errors.append(
                            "The quantity to refund must not be greater than the unrefunded quantity."
                        )
                        break
            if errors:
                raise bad_request("Creditmemo Document Validation Error(s):\n" + "\n".join(errors))
            assert wanted is not None
            if order.prices_include_tax:
                ship_incl = shipping
                ship_net, ship_tax = _split_tax(shipping, order.tax_rate)
            else:
                ship_net = shipping
                ship_tax = money(shipping * order.tax_rate)
                ship_incl = shipping + ship_tax
            available_shipping = order.shipping_invoiced - order.shipping_refunded
            if ship_net > available_shipping:
                raise bad_request(
                    "Maximum shipping amount allowed to refund is: %1",
                    [format_price(available_shipping, order.currency)],
                )
            lines = _document_lines(
                store,
                order,
                wanted,
                remaining=lambda i: i.qty_invoiced - i.qty_refunded,
                previous=lambda i: self._previous_lines(order, i, invoices=False),
                sequence="creditmemo_item",
                include_zero=True,
            )
            memo = Creditmemo(
                entity_id=0,
                increment_id="",
                order_id=order.entity_id,
                items=lines,
                shipping_amount=ship_net,
                shipping_incl_tax=ship_incl,
                shipping_tax_amount=ship_tax,
                adjustment_positive=adj_pos,
                adjustment_negative=adj_neg,
                created_at=when,
                updated_at=when,
            )
            total = document_totals(memo)["grand_total"]
            available = order.total_paid - order.total_refunded
            if total <= 0:
                errors.append("The credit memo's total must be positive.")
            elif total > available:
                errors.append(
                    f"The most money available to refund is {format_price(available, order.currency)}."
                )
            if errors:
                raise bad_request("Creditmemo Document Validation Error(s):\n" + "\n".join(errors))
            memo.entity_id = store.next_id("creditmemo")
            memo.increment_id = _increment(store.next_id("creditmemo_increment"))
            for line in lines:
                item = next(i for i in order.items if i.item_id == line.order_item_id)
                item.qty_refunded += line.qty
                if not line.is_child:
                    item.amount_refunded += line.row_total
                    item.tax_refunded += line.tax_amount
                    item.discount_refunded += line.discount_amount
                item.updated_at = now_text()
            order.shipping_refunded += ship_net
            order.shipping_tax_refunded += ship_tax
            order.adjustment_positive += adj_pos
            order.adjustment_negative += adj_neg
            order.total_refunded += total
            everything = all(i.qty_refunded >= i.qty_ordered for i in _priced(order))
            if everything or order.total_refunded >= order_totals(order)["grand_total"]:
                order.state = order.status = "closed"
            order.updated_at = max(order.updated_at, now_text())
            store.creditmemos[memo.entity_id] = memo
        self._on_write()
        return memo

    def add_comment(
        self, order_id: int, comment: str, status: str | None = None, notify: bool = False
    ) -> None:
        store = self.store
        with store.lock:
            order = store.orders.get(order_id)
            if order is None:
                raise not_found(ENTITY_NOT_FOUND)
            _add_history(
                store, order, {"comment": comment, "status": status, "is_customer_notified": int(notify)}
            )
        self._on_write()


def _add_history(store: Store, order: Order, raw: dict[str, Any]) -> None:
    status = raw.get("status") or order.status
    order.status_histories.append(
        StatusHistory(
            entity_id=store.next_id("order_status_history"),
            comment=str(raw.get("comment") or ""),
            status=str(status),
            is_customer_notified=to_int(raw.get("is_customer_notified"), 0) or 0,
            is_visible_on_front=to_int(raw.get("is_visible_on_front"), 0) or 0,
            created_at=now_text(),
        )
    )
    order.status = str(status)
    order.updated_at = now_text()


# ---------------------------------------------------------------- routes


def _unknown_column(name: str) -> MagentoError:
    # The SQL error of a filter on a missing column reaches the client masked, as any non-localized error.
    return internal_error()


def _flat(rendered: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in rendered.items() if not isinstance(v, dict | list)}


ORDER_COLUMNS = frozenset(
    {
        "entity_id",
        "increment_id",
        "state",
        "status",
        "created_at",
        "updated_at",
        "customer_email",
        "customer_id",
        "customer_is_guest",
        "customer_firstname",
        "customer_lastname",
        "customer_group_id",
        "grand_total",
        "base_grand_total",
        "subtotal",
        "base_subtotal",
        "tax_amount",
        "shipping_amount",
        "discount_amount",
        "total_paid",
        "total_invoiced",
        "total_refunded",
        "total_due",
        "store_id",
        "order_currency_code",
        "base_currency_code",
        "quote_id",
        "total_qty_ordered",
        "total_item_count",
    }
)
DOCUMENT_COLUMNS = frozenset(
    {
        "entity_id",
        "increment_id",
        "order_id",
        "state",
        "created_at",
        "updated_at",
        "grand_total",
        "base_grand_total",
        "subtotal",
        "tax_amount",
        "shipping_amount",
        "discount_amount",
        "store_id",
        "invoice_id",
        "creditmemo_status",
        "adjustment_positive",
        "adjustment_negative",
        "billing_address_id",
        "shipping_address_id",
    }
)
CUSTOMER_COLUMNS = frozenset(
    {
        "id",
        "entity_id",
        "email",
        "firstname",
        "lastname",
        "created_at",
        "updated_at",
        "group_id",
        "store_id",
        "website_id",
        "dob",
        "gender",
        "created_in",
    }
)
_NUMERIC = frozenset(
    {
        "entity_id",
        "id",
        "order_id",
        "customer_id",
        "customer_is_guest",
        "customer_group_id",
        "grand_total",
        "base_grand_total",
        "subtotal",
        "base_subtotal",
        "tax_amount",
        "shipping_amount",
        "discount_amount",
        "total_paid",
        "total_invoiced",
        "total_refunded",
        "total_due",
        "store_id",
        "quote_id",
        "total_qty_ordered",
        "total_item_count",
        "state",
        "invoice_id",
        "creditmemo_status",
        "adjustment_positive",
        "adjustment_negative",
        "group_id",
        "website_id",
        "gender",
        "billing_address_id",
        "shipping_address_id",
    }
)
ORDER_COLLECTION = Collection(ORDER_COLUMNS, _NUMERIC - {"state"}, ("entity_id",))
DOCUMENT_COLLECTION = Collection(DOCUMENT_COLUMNS, _NUMERIC, ("entity_id",))
CUSTOMER_COLLECTION = Collection(CUSTOMER_COLUMNS, _NUMERIC, ("entity_id",))


def _search_results(
    call: Call,
    records: list[Any],
    render: Callable[[Any], dict[str, Any]],
    collection: Collection,
    entity_id: Callable[[Any], int] = lambda r: int(r.entity_id),
) -> Any:
    criteria = parse_search_criteria(call.query, call.limits)
    rendered: dict[int, dict[str, Any]] = {}

    def rendering(record: Any) -> dict[str, Any]:
        # Only the records a search reads are rendered: a lookup by id must not render every document.
        found = rendered.get(id(record))
        if found is None:
            found = rendered[id(record)] = render(record)
        return found

    page, total = search(
        records,
        lambda r: _row(rendering(r)),
        criteria,
        collection,
        on_unknown=_unknown_column,
        narrow=lambda group: _by_entity_id(records, group, entity_id),
    )
    return {
        "items": [rendering(r) for r in page],
        "search_criteria": criteria.echo(),
        "total_count": total,
    }


def _by_entity_id(
    records: list[Any], group: list[Filter], entity_id: Callable[[Any], int]
) -> list[Any] | None:
    """The records an OR group of ``entity_id`` ``eq``/``in`` filters can match, in their own order."""
    wanted: set[int] = set()
    for flt in group:
        if flt.field != "entity_id" or flt.condition_type not in ("eq", "in"):
            return None
        values = [flt.value or ""] if flt.condition_type == "eq" else (flt.value or "").split(",")
        for value in values:
            number = to_decimal(value)
            if number is None:
                number = Decimal(0)  # MySQL casts a non-numeric literal to 0
            if number == number.to_integral_value():
                wanted.add(int(number))
    return [r for r in records if entity_id(r) in wanted]


def _row(rendered: dict[str, Any]) -> dict[str, Any]:
    row = _flat(rendered)
    if "id" in row:
        row.setdefault("entity_id", row["id"])
    return row


@route("GET", "/V1/orders", ORDERS)
def list_orders(call: Call) -> Any:
    store = call.store
    return _search_results(
        call, list(store.orders.values()), lambda o: render_order(store, o), ORDER_COLLECTION
    )


@route("GET", "/V1/orders/{id}", ORDERS)
def get_order(call: Call) -> Any:
    order = call.store.orders.get(to_int(call.param("id")) or -1)
    if order is None:
        raise not_found(ENTITY_NOT_FOUND)
    return render_order(call.store, order)


@route("POST", "/V1/orders/{id}/comments", ORDERS)
def add_order_comment(call: Call) -> Any:
    order = call.store.orders.get(to_int(call.param("id")) or -1)
    if order is None:
        raise not_found(ENTITY_NOT_FOUND)
    _add_history(call.store, order, call.body["statusHistory"])
    return True


ORDER_ITEM_COLUMNS = frozenset(
    {
        "item_id",
        "order_id",
        "parent_item_id",
        "quote_item_id",
        "store_id",
        "created_at",
        "updated_at",
        "product_id",
        "product_type",
        "sku",
        "name",
        "qty_ordered",
        "qty_invoiced",
        "qty_refunded",
        "qty_canceled",
        "qty_shipped",
        "price",
        "base_price",
        "row_total",
        "base_row_total",
        "tax_amount",
        "discount_amount",
    }
)
ORDER_ITEM_COLLECTION = Collection(
    ORDER_ITEM_COLUMNS,
    frozenset(ORDER_ITEM_COLUMNS - {"created_at", "updated_at", "product_type", "sku", "name"}),
    ("item_id",),
)


@route("GET", "/V1/orders/items", ORDERS)
def list_order_items(call: Call) -> Any:
    """``OrderItemRepository::getList`` over every order's items (``sales_order_item``)."""
    pairs = [(order, item) for order in call.store.orders.values() for item in order.items]
    criteria = parse_search_criteria(call.query, call.limits)
    page, total = search(
        pairs,
        lambda pair: _flat(render_order_item(pair[0], pair[1], with_parent=False)),
        criteria,
        ORDER_ITEM_COLLECTION,
        on_unknown=_unknown_column,
    )
    return {
        "items": [render_order_item(order, item) for order, item in page],
        "search_criteria": criteria.echo(),
        "total_count": total,
    }


@route("GET", "/V1/orders/items/{id}", ORDERS)
def get_order_item(call: Call) -> Any:
    wanted = to_int(call.param("id"))
    for order in call.store.orders.values():
        for item in order.items:
            if item.item_id == wanted:
                return render_order_item(order, item)
    raise not_found(ENTITY_NOT_FOUND)


@route("GET", "/V1/orders/{id}/comments", ORDERS)
def list_order_comments(call: Call) -> Any:
    """``OrderService::getCommentsList``: history rows whose ``parent_id`` is the id (unknown id: none)."""
    raw_id = call.param("id")
    order = call.store.orders.get(to_int(raw_id) or -1)
    histories = sorted(order.status_histories, key=lambda h: h.entity_id) if order is not None else []
    return {
        "items": [render_history(order, h) for h in histories] if order is not None else [],
        "search_criteria": {
            "filter_groups": [{"filters": [{"field": "parent_id", "value": raw_id, "condition_type": "eq"}]}]
        },
        "total_count": len(histories),
    }


def render_history(order: Order, history: StatusHistory) -> dict[str, Any]:
    return {
        "comment": history.comment,
        "created_at": history.created_at,
        "entity_id": history.entity_id,
        "entity_name": history.entity_name,
        "is_customer_notified": history.is_customer_notified,
        "is_visible_on_front": history.is_visible_on_front,
        "parent_id": order.entity_id,
        "status": history.status,
    }


def _no_comments(raw_id: str) -> Any:
    """Invoices and credit memos carry no comments in the sandbox; the list answers as an empty one."""
    return {
        "items": [],
        "search_criteria": {
            "filter_groups": [{"filters": [{"field": "parent_id", "value": raw_id, "condition_type": "eq"}]}]
        },
        "total_count": 0,
    }


@route("GET", "/V1/invoices/{id}/comments", INVOICES)
def list_invoice_comments(call: Call) -> Any:
    return _no_comments(call.param("id"))


@route("GET", "/V1/creditmemo/{id}/comments", CREDITMEMOS)
def list_creditmemo_comments(call: Call) -> Any:
    return _no_comments(call.param("id"))


@route("GET", "/V1/invoices", INVOICES)
def list_invoices(call: Call) -> Any:
    store = call.store
    return _search_results(
        call, list(store.invoices.values()), lambda i: render_invoice(store, i), DOCUMENT_COLLECTION
    )


@route("GET", "/V1/invoices/{id}", INVOICES)
def get_invoice(call: Call) -> Any:
    invoice = call.store.invoices.get(to_int(call.param("id")) or -1)
    if invoice is None:
        raise not_found(ENTITY_NOT_FOUND)
    return render_invoice(call.store, invoice)


@route("GET", "/V1/creditmemos", CREDITMEMOS)
def list_creditmemos(call: Call) -> Any:
    store = call.store
    return _search_results(
        call, list(store.creditmemos.values()), lambda m: render_creditmemo(store, m), DOCUMENT_COLLECTION
    )


@route("GET", "/V1/creditmemo/{id}", CREDITMEMOS)
def get_creditmemo(call: Call) -> Any:
    memo = call.store.creditmemos.get(to_int(call.param("id")) or -1)
    if memo is None:
        raise not_found(ENTITY_NOT_FOUND)
    return render_creditmemo(call.store, memo)


def _items_arg(raw: list[dict[str, Any]] | None) -> dict[int, Decimal] | None:
    if not raw:
        return None
    out: dict[int, Decimal] = {}
    for entry in raw:
        item_id = to_int(entry.get("order_item_id"))
        qty = to_decimal(entry.get("qty"))
        if item_id is None or qty is None:
            continue
        out[item_id] = out.get(item_id, ZERO) + qty
    return out


@route("POST", "/V1/order/{orderId}/invoice", INVOICES)
def invoice_order(call: Call) -> Any:
    helper = SalesHelper(call.store)
    invoice = helper.invoice(to_int(call.param("orderId")) or -1, _items_arg(call.body.get("items")))
    return invoice.entity_id


@route("POST", "/V1/order/{orderId}/refund", CREDITMEMOS)
def refund_order(call: Call) -> Any:
    helper = SalesHelper(call.store)
    args = call.body.get("arguments") or {}
    memo = helper.refund(
        to_int(call.param("orderId")) or -1,
        _items_arg(call.body.get("items")),
        adjustment_positive=to_decimal(args.get("adjustment_positive")) or ZERO,
        adjustment_negative=to_decimal(args.get("adjustment_negative")) or ZERO,
        shipping_amount=to_decimal(args.get("shipping_amount")) or ZERO,
    )
    return memo.entity_id


@route("GET", "/V1/customers/search", CUSTOMERS)
def search_customers(call: Call) -> Any:
    return _search_results(
        call,
        list(call.store.customers.values()),
        render_customer,
        CUSTOMER_COLLECTION,
        entity_id=lambda c: int(c.id),
    )


@route("GET", "/V1/customers/{customerId}", CUSTOMERS)
def get_customer(call: Call) -> Any:
    customer_id = to_int(call.param("customerId"))
    customer = call.store.customers.get(customer_id if customer_id is not None else -1)
    if customer is None:
        raise no_such_entity(
            "customerId", customer_id if customer_id is not None else call.param("customerId")
        )
    return render_customer(customer)


@route("POST", "/V1/customers", CUSTOMERS)
def create_customer(call: Call) -> Any:
    data = call.body["customer"]
    for field in ("email", "firstname", "lastname"):
        if not data.get(field):
            raise bad_request('"%fieldName" is required. Enter and try again.', {"fieldName": field})
    address = None
    addresses = data.get("addresses") or []
    if addresses:
        a = addresses[0]
        region = a.get("region") or {}
        address = Address(
            firstname=str(a.get("firstname") or data["firstname"]),
            lastname=str(a.get("lastname") or data["lastname"]),
            street=[str(s) for s in a.get("street") or ["-"]],
            city=str(a.get("city") or ""),
            postcode=str(a.get("postcode") or ""),
            country_id=str(a.get("country_id") or "NZ"),
            region=region.get("region"),
            region_code=region.get("region_code"),
            region_id=to_int(a.get("region_id")),
            telephone=str(a.get("telephone") or ""),
            company=a.get("company"),
        )
    customer = SalesHelper(call.store).create_customer(
        str(data["email"]),
        str(data["firstname"]),
        str(data["lastname"]),
        address=address,
        dob=data.get("dob"),
    )
    return render_customer(customer)
