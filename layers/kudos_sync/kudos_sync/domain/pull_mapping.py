"""Magento invoice or credit memo + its order + tenant settings -> the CI Office `LedgerDocument`.

Pure rules, no I/O. Every refusal is a `RecordError` naming the document and the field, so the pull
parks the document and goes on.

Amounts: each line's `line_total` is what the row adds to Magento's grand total,
`row_total + tax_amount + discount_tax_compensation_amount - discount_amount`, which holds whether the
store's catalogue prices include tax or not. `unit_price` is shown incl. or excl. tax as the tenant's
`prices_include_tax` says. Everything is rounded to cents once, here, when the ledger document is
built; the totals check then compares lines + shipping + adjustments with the grand total within a cent.
"""

from collections.abc import Iterator
from decimal import Decimal

from kudos_sync.config import GuestPolicy, TenantConfig
from kudos_sync.domain.errors import RecordError
from kudos_sync.domain.ids import BranchCode, MagentoEntityId, Sku
from kudos_sync.domain.ledger import CustomerDetails, DocumentKind, LedgerDocument, LedgerLine
from kudos_sync.domain.money import ZERO, format_money, to_cents, within_one_cent
from kudos_sync.domain.sales import (
    MagentoCreditMemo,
    MagentoDocument,
    MagentoDocumentItem,
    MagentoOrder,
    MagentoOrderItem,
)

CONFIGURABLE = "configurable"
ONE = Decimal("1")


def _fail(document: MagentoDocument, field: str, reason: str) -> RecordError:
    return RecordError(f"{document.label}: {field}: {reason}", record=document.label, field=field)


def sellable_items(
    document: MagentoDocument, order: MagentoOrder
) -> Iterator[tuple[int, MagentoDocumentItem, str]]:
    """(row index, row, simple SKU) for every row that sells (or refunds) units, once per unit.

    Magento writes a configurable product as two rows: the parent row (order item of type
    "configurable") with the price, and the child row (order item whose `parent_item_id` is the
    parent) with the same quantity at price 0. The parent row is kept under the child's simple SKU;
    the child row is dropped. Rows with quantity 0 (credit memos list every order item) are ignored.
    Other composite types (bundles) are refused rather than guessed at.
    """
    order_items = {item.item_id: item for item in order.items}
    rows_with_qty = {row.order_item_id for row in document.items if row.qty > 0}
    children: dict[int, list[MagentoOrderItem]] = {}
    for item in order.items:
        if item.parent_item_id is not None:
            children.setdefault(item.parent_item_id, []).append(item)

    for index, row in enumerate(document.items):
        if row.qty == 0:
            continue
        order_item = order_items.get(row.order_item_id)
        if order_item is None:
            raise _fail(
                document,
                f"items[{index}].order_item_id",
                f"order item {row.order_item_id} is not on {order.label}",
            )
        if order_item.parent_item_id is not None:
            parent = order_items.get(order_item.parent_item_id)
            if parent is None or parent.product_type != CONFIGURABLE:
                kind = parent.product_type if parent is not None else "unknown"
                raise _fail(document, f"items[{index}].sku", f"child of a {kind} product is not supported")
            if parent.item_id not in rows_with_qty:
                raise _fail(document, f"items[{index}].sku", "configurable child row without its parent row")
            continue  # the parent row carries the price
        if order_item.product_type not in (None, CONFIGURABLE) and order_item.item_id in children:
            raise _fail(
                document, f"items[{index}].sku", f"{order_item.product_type} products are not supported"
            )
        if row.qty != row.qty.to_integral_value() and not order_item.is_qty_decimal:
            raise _fail(document, f"items[{index}].qty", "fractional quantity of a product sold whole")
        sku = row.sku
        if order_item.product_type == CONFIGURABLE:
            simple = children.get(order_item.item_id, [])
            if len(simple) == 1:
                sku = simple[0].sku
        yield index, row, sku


def _item_line(row: MagentoDocumentItem, sku: str, prices_include_tax: bool) -> LedgerLine:
    qty = row.qty
    if prices_include_tax:
        if row.price_incl_tax is not None:
            unit = row.price_incl_tax
        elif row.row_total_incl_tax is not None:
            unit = row.row_total_incl_tax / qty
        else:
            unit = row.price + row.tax_amount / qty
    else:
        unit = row.price
    line_total = row.row_total + row.tax_amount + row.discount_tax_compensation_amount - row.discount_amount
    return LedgerLine(
        sku=Sku(sku),
        description=row.name or sku,
        quantity=qty,
        unit_price=to_cents(unit),
        discount=to_cents(row.discount_amount),
        tax=to_cents(row.tax_amount),
        line_total=to_cents(line_total),
    )


def _shipping_line(document: MagentoDocument, config: TenantConfig) -> LedgerLine | None:
    if document.shipping_amount <= 0:
        return None
    # The header discount (negative in Magento) covers the items and the shipping; what the items
    # do not account for was taken off the shipping.
    item_discounts = sum((row.discount_amount for row in document.items if row.qty > 0), ZERO)
    shipping_discount = max(ZERO, abs(document.discount_amount) - item_discounts)
    gross = document.shipping_amount + document.shipping_tax_amount
    gross += document.shipping_discount_tax_compensation_amount
    if config.prices_include_tax:
        unit = document.shipping_incl_tax if document.shipping_incl_tax is not None else gross
    else:
        unit = document.shipping_amount
    return LedgerLine(
        sku=None,
        charge_code=config.shipping_charge_code,
        description="Shipping",
        quantity=ONE,
        unit_price=to_cents(unit),
        discount=to_cents(shipping_discount),
        tax=to_cents(document.shipping_tax_amount),
        line_total=to_cents(gross - shipping_discount),
    )


def _adjustment_lines(document: MagentoDocument, config: TenantConfig) -> list[LedgerLine]:
    if not isinstance(document, MagentoCreditMemo):
        return []
    lines = []
    if document.adjustment_positive > 0:
        refund = to_cents(document.adjustment_positive)
        lines.append(
            LedgerLine(
                sku=None,
                charge_code=config.adjustment_charge_code,
                description="Adjustment refund",
                quantity=ONE,
                unit_price=refund,
                line_total=refund,
            )
        )
    if document.adjustment_negative > 0:
        fee = -to_cents(document.adjustment_negative)
        lines.append(
            LedgerLine(
                sku=None,
                charge_code=config.adjustment_charge_code,
                description="Adjustment fee",
                quantity=ONE,
                unit_price=fee,
                line_total=fee,
            )
        )
    return lines


def _currency(document: MagentoDocument, order: MagentoOrder, config: TenantConfig) -> str:
    currency = document.order_currency_code or order.order_currency_code
    if currency is None:
        raise _fail(document, "order_currency_code", "no currency on the document or its order")
    base = config.base_currency.upper()
    accepted = {base, *(c.upper() for c in config.accepted_currencies)}
    if currency not in accepted:
        raise _fail(
            document,
            "order_currency_code",
            f"currency {currency} is neither the base currency {base} nor accepted "
            f"({', '.join(sorted(accepted - {base})) or 'none accepted'})",
        )
    return currency


def _tender(document: MagentoDocument, order: MagentoOrder, config: TenantConfig) -> str:
    method = order.payment.method
    tender = config.payment_mapping.get(method)
    if not tender:
        raise _fail(
            document,
            "payment.method",
            f"payment method '{method}' of {order.label} has no CI tender in payment_mapping",
        )
    return tender


def _email(value: str | None) -> str | None:
    if not value:
        return None
    return value.strip().lower() if "@" in value else None


def customer_details(document: MagentoDocument, order: MagentoOrder, config: TenantConfig) -> CustomerDetails:
    """Who the CI document is posted to: registered customers by their Magento id, guests by the
    tenant's guest policy (one CI customer per e-mail, or the fixed cash-sale customer)."""
    billing = order.billing_address
    email = _email(order.customer_email) or _email(billing.email if billing else None)
    fixed_code: str | None = None
    if not order.is_guest:
        link_key = f"magento:{order.customer_id}"
    elif config.guest_policy is GuestPolicy.CASH_SALE:
        fixed_code = config.cash_sale_customer_code
        link_key = fixed_code or ""
    else:
        if email is None:
            raise _fail(document, "customer_email", f"guest {order.label} has no usable e-mail address")
        link_key = f"guest:{email}"
    return CustomerDetails(
        link_key=link_key,
        email=email,
        first_name=(billing.firstname if billing and billing.firstname else order.customer_firstname) or "",
        last_name=(billing.lastname if billing and billing.lastname else order.customer_lastname) or "",
        phone=billing.telephone if billing else None,
        company=billing.company if billing else None,
        street=tuple(s for s in billing.street if s) if billing else (),
        city=billing.city if billing else None,
        region=billing.region if billing else None,
        postcode=billing.postcode if billing else None,
        country=billing.country_id if billing else None,
        fixed_customer_code=fixed_code,
    )


def build_ledger_document(
    document: MagentoDocument, order: MagentoOrder, config: TenantConfig
) -> LedgerDocument:
    """The CI invoice (with payment) or credit note (with refund) for one Magento document.

    Raises RecordError, naming the document and field, when the order does not match, a row cannot be
    mapped, the currency is not accepted, the payment method is unmapped, or the lines, shipping and
    adjustments do not add up to the grand total within a cent.
    """
    if document.order_id != order.entity_id:
        raise _fail(document, "order_id", f"order id {document.order_id} does not match {order.label}")
    currency = _currency(document, order, config)
    tender = _tender(document, order, config)
    item_lines = [
        _item_line(row, sku, config.prices_include_tax) for _, row, sku in sellable_items(document, order)
    ]
    shipping = _shipping_line(document, config)
    adjustments = _adjustment_lines(document, config)
    lines = [*item_lines, *([shipping] if shipping else []), *adjustments]
    if not lines:
        raise _fail(document, "items", "no rows with a quantity, no shipping and no adjustment")

    items_total = sum((line.line_total for line in item_lines), ZERO)
    shipping_total = shipping.line_total if shipping else ZERO
    adjustments_total = sum((line.line_total for line in adjustments), ZERO)
    computed = items_total + shipping_total + adjustments_total
    grand_total = to_cents(document.grand_total)
    if not within_one_cent(computed, grand_total):
        raise _fail(
            document,
            "grand_total",
            f"lines {format_money(items_total)} + shipping {format_money(shipping_total)} + adjustments "
            f"{format_money(adjustments_total)} = {format_money(computed)} "
            f"but grand_total is {format_money(grand_total)}",
        )

    is_invoice = not isinstance(document, MagentoCreditMemo)
    return LedgerDocument(
        kind=DocumentKind.INVOICE if is_invoice else DocumentKind.CREDIT_NOTE,
        magento_entity_id=MagentoEntityId(document.entity_id),
        magento_increment_id=document.increment_id,
        order_increment_id=order.increment_id,
        document_date=document.created_at,
        currency=currency,
        customer=customer_details(document, order, config),
        lines=tuple(lines),
        total=grand_total,
        tax_total=to_cents(document.tax_amount),
        tender_code=tender,
        web_branch=BranchCode(config.ci_office.web_branch),
        adjust_stock=True if is_invoice else config.credit_note_returns_stock,
    )
