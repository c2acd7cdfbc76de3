"""Magento document + order + tenant settings -> the CI Office ledger document."""

from decimal import Decimal
from typing import Any

import pytest
from kudos_sync.domain.errors import RecordError
from kudos_sync.domain.ledger import DocumentKind, LedgerDocument
from kudos_sync.domain.pull_mapping import build_ledger_document
from kudos_sync.magento.documents import parse_document, parse_order

from tests.fakes.sales import Built, CreditMemoBuilder, InvoiceBuilder, pull_config

D = Decimal


def mapped(built: Built, **config: Any) -> LedgerDocument:
    return build_ledger_document(
        parse_document(built.stream, built.document), parse_order(built.order), pull_config(**config)
    )


def refused(built: Built, **config: Any) -> RecordError:
    with pytest.raises(RecordError) as caught:
        mapped(built, **config)
    return caught.value


def test_given_tax_when_prices_include_tax_then_lines_carry_tax_inclusive_unit_prices() -> None:
    built = (
        InvoiceBuilder(17)
        .with_item("TEE-RED-M", 2, "43.48", tax="13.04", name="Tee red M")
        .with_shipping("8.70", tax="1.30")
        .build()
    )
    doc = mapped(built)
    tee, freight = doc.lines
    assert (tee.sku, tee.description, tee.quantity) == ("TEE-RED-M", "Tee red M", D(2))
    assert (tee.unit_price, tee.tax, tee.line_total) == (D("50.00"), D("13.04"), D("100.00"))
    assert (freight.sku, freight.charge_code, freight.unit_price, freight.line_total) == (
        None,
        "FREIGHT",
        D("10.00"),
        D("10.00"),
    )
    assert doc.total == D("110.00") and doc.tax_total == D("14.34")
    assert (doc.kind, doc.magento_entity_id, doc.magento_increment_id) == (
        DocumentKind.INVOICE,
        17,
        "000000017",
    )
    assert (doc.tender_code, doc.web_branch, doc.currency, doc.adjust_stock) == ("BANK", "WEB", "NZD", True)


def test_given_prices_exclude_tax_then_unit_prices_are_tax_exclusive_and_totals_still_include_tax() -> None:
    built = InvoiceBuilder(17).with_item("TEE-RED-M", 2, "43.48", tax="13.04").build()
    (tee,) = mapped(built, prices_include_tax=False).lines
    assert (tee.unit_price, tee.tax, tee.line_total) == (D("43.48"), D("13.04"), D("100.00"))


def test_given_a_configurable_product_then_one_line_with_the_simple_sku_and_the_parent_price() -> None:
    built = InvoiceBuilder(17).with_configurable_item("TEE-RED-M", 3, 30).with_item("CAP", 1, 10).build()
    assert len(built.document["items"]) == 3  # parent row, child row at price 0, simple row
    doc = mapped(built)
    assert [(line.sku, line.quantity, line.unit_price, line.line_total) for line in doc.lines] == [
        ("TEE-RED-M", D(3), D("30.00"), D("90.00")),
        ("CAP", D(1), D("10.00"), D("10.00")),
    ]


def test_given_a_configurable_parent_row_with_the_parent_sku_then_the_child_sku_is_used() -> None:
    built = InvoiceBuilder(17).with_configurable_item("TEE-RED-M", 1, 30).build()
    built.document["items"][0]["sku"] = "TEE"  # some extensions write the parent's own SKU
    assert [line.sku for line in mapped(built).lines] == ["TEE-RED-M"]


def test_given_a_credit_memo_listing_every_order_item_then_zero_quantity_rows_are_ignored() -> None:
    built = CreditMemoBuilder(31).with_item("TEE-RED-M", 1, 25).with_item("CAP", 0, 10).build()
    assert [line.sku for line in mapped(built).lines] == ["TEE-RED-M"]


def test_given_a_credit_memo_with_shipping_and_adjustments_then_charge_lines_and_refund_total() -> None:
    built = (
        CreditMemoBuilder(31)
        .with_item("TEE-RED-M", 1, 25)
        .with_shipping(5)
        .with_adjustments(refund=3, fee="1.50")
        .build()
    )
    doc = mapped(built)
    assert doc.kind is DocumentKind.CREDIT_NOTE
    assert [(line.charge_code, line.description, line.line_total) for line in doc.lines] == [
        (None, "TEE-RED-M", D("25.00")),
        ("FREIGHT", "Shipping", D("5.00")),
        ("ADJUST", "Adjustment refund", D("3.00")),
        ("ADJUST", "Adjustment fee", D("-1.50")),
    ]
    assert doc.total == D("31.50")


@pytest.mark.parametrize("returns_stock", [True, False])
def test_given_a_credit_memo_then_stock_returned_as_the_tenant_policy_says(returns_stock: bool) -> None:
    built = CreditMemoBuilder(31).with_item("TEE-RED-M", 1, 25).build()
    assert mapped(built, credit_note_returns_stock=returns_stock).adjust_stock is returns_stock


def test_given_no_shipping_then_no_shipping_line() -> None:
    built = InvoiceBuilder(17).with_item("TEE-RED-M", 1, 25).build()
    assert [line.charge_code for line in mapped(built).lines] == [None]


def test_given_a_discount_on_items_and_shipping_then_each_line_carries_its_share() -> None:
    built = (
        InvoiceBuilder(17).with_item("TEE-RED-M", 2, 50, discount=10).with_shipping(10, discount=2).build()
    )
    tee, freight = mapped(built).lines
    assert (tee.discount, tee.line_total) == (D("10.00"), D("90.00"))
    assert (freight.discount, freight.line_total) == (D("2.00"), D("8.00"))


def test_given_lines_that_do_not_add_up_then_record_error_with_the_figures() -> None:
    built = InvoiceBuilder(17).with_item("TEE-RED-M", 2, 50).with_shipping(5).with_grand_total(110).build()
    error = refused(built)
    assert error.field == "grand_total"
    assert str(error) == (
        "invoice 000000017 (entity 17): grand_total: "
        "lines 100.00 + shipping 5.00 + adjustments 0.00 = 105.00 but grand_total is 110.00"
    )


def test_given_a_rounding_difference_of_one_cent_then_accepted() -> None:
    built = InvoiceBuilder(17).with_item("TEE-RED-M", 3, "33.33").with_grand_total("100.00").build()
    assert mapped(built).total == D("100.00")


def test_given_an_unmapped_payment_method_then_record_error_naming_the_method() -> None:
    error = refused(InvoiceBuilder(17).with_item("A", 1, 10).paid_with("afterpay").build())
    assert error.field == "payment.method"
    assert "payment method 'afterpay'" in str(error) and "payment_mapping" in str(error)


def test_given_a_foreign_currency_then_record_error_with_the_reason() -> None:
    error = refused(InvoiceBuilder(17).with_item("A", 1, 10).in_currency("AUD").build())
    assert error.field == "order_currency_code"
    assert "currency AUD is neither the base currency NZD nor accepted" in str(error)


def test_given_an_accepted_foreign_currency_then_booked_as_is() -> None:
    doc = mapped(
        InvoiceBuilder(17).with_item("A", 1, 10).in_currency("AUD").build(), accepted_currencies=["AUD"]
    )
    assert doc.currency == "AUD"


def test_given_a_registered_customer_then_linked_by_magento_id_with_billing_details() -> None:
    customer = mapped(
        InvoiceBuilder(17).with_item("A", 1, 10).customer(42, "Jane.Doe@Example.com").build()
    ).customer
    assert customer.link_key == "magento:42"
    assert customer.email == "jane.doe@example.com"
    assert (customer.first_name, customer.last_name, customer.city, customer.country) == (
        "Jane",
        "Doe",
        "Auckland",
        "NZ",
    )
    assert customer.street == ("1 Queen Street", "Level 2")
    assert customer.fixed_customer_code is None


def test_given_a_guest_and_per_email_policy_then_linked_by_lower_case_email() -> None:
    customer = mapped(InvoiceBuilder(17).with_item("A", 1, 10).guest("Guest@Example.COM").build()).customer
    assert customer.link_key == "guest:guest@example.com"
    assert customer.fixed_customer_code is None


def test_given_a_guest_and_cash_sale_policy_then_posted_to_the_cash_sale_customer() -> None:
    built = InvoiceBuilder(17).with_item("A", 1, 10).guest("guest@example.com").build()
    customer = mapped(built, guest_policy="cash_sale", cash_sale_customer_code="CASH").customer
    assert (customer.link_key, customer.fixed_customer_code) == ("CASH", "CASH")


def test_given_a_registered_customer_and_cash_sale_policy_then_still_their_own_account() -> None:
    built = InvoiceBuilder(17).with_item("A", 1, 10).customer(42).build()
    customer = mapped(built, guest_policy="cash_sale", cash_sale_customer_code="CASH").customer
    assert (customer.link_key, customer.fixed_customer_code) == ("magento:42", None)


def test_given_a_fractional_quantity_of_a_whole_unit_product_then_record_error_on_the_row() -> None:
    error = refused(InvoiceBuilder(17).with_item("A", 1, 10).with_item("B", "1.5", 10).build())
    assert error.field == "items[1].qty"


def test_given_a_row_whose_order_item_is_not_on_the_order_then_record_error() -> None:
    built = InvoiceBuilder(17).with_item("A", 1, 10).build()
    built.document["items"][0]["order_item_id"] = 999
    assert refused(built).field == "items[0].order_item_id"


def test_given_a_bundle_then_refused_rather_than_guessed() -> None:
    built = InvoiceBuilder(17).with_configurable_item("BOX", 1, 10).build()
    built.order["items"][0]["product_type"] = "bundle"
    assert "bundle" in str(refused(built))


def test_given_an_invoice_with_nothing_on_it_then_record_error() -> None:
    assert refused(InvoiceBuilder(17).with_item("A", 0, 10).build()).field == "items"


def test_given_the_document_of_another_order_then_record_error() -> None:
    built = InvoiceBuilder(17).with_item("A", 1, 10).build()
    built.document["order_id"] = 4
    assert refused(built).field == "order_id"
