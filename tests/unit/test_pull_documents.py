"""Magento invoices, credit memos and orders parsed: typed, UTC, exact money, errors naming document
and field path."""

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest
from kudos_sync.domain.errors import RecordError
from kudos_sync.magento.documents import (
    field_path,
    parse_creditmemo,
    parse_invoice,
    parse_order,
    trim_document,
)

from tests.fakes.sales import CreditMemoBuilder, InvoiceBuilder


def invoice(**fields: Any) -> dict[str, Any]:
    return (
        InvoiceBuilder(17)
        .with_item("TEE-RED-M", 2, 25)
        .with_item("CAP-BLK", 1, 15)
        .with_fields(**fields)
        .build()
        .document
    )


def test_given_a_magento_invoice_then_parsed_with_utc_time_and_exact_amounts() -> None:
    raw = (
        InvoiceBuilder(17, created_at="2026-11-01 08:30:15")
        .with_item("TEE-RED-M", 2, 19.99)
        .with_shipping(5)
        .build()
        .document
    )
    parsed = parse_invoice(raw)
    assert parsed.entity_id == 17
    assert parsed.created_at == datetime(2026, 11, 1, 8, 30, 15, tzinfo=UTC)
    assert parsed.items[0].price == Decimal("19.99")
    assert parsed.items[0].row_total == Decimal("39.98")
    assert parsed.grand_total == Decimal("44.98")
    assert parsed.label == "invoice 000000017 (entity 17)"


def test_given_amounts_as_strings_then_parsed_exactly() -> None:
    raw = invoice()
    raw["items"][0]["price"] = "25.0000"
    raw["grand_total"] = "65.0000"
    parsed = parse_invoice(raw)
    assert parsed.items[0].price == Decimal("25.0000")
    assert parsed.grand_total == Decimal("65")


def test_given_created_at_with_an_explicit_zone_then_converted_to_utc() -> None:
    parsed = parse_invoice(invoice(created_at="2026-11-01T21:30:00+13:00"))
    assert parsed.created_at == datetime(2026, 11, 1, 8, 30, tzinfo=UTC)


@pytest.mark.parametrize(
    ("mutate", "field"),
    [
        (lambda d: d["items"][1].pop("qty"), "items[1].qty"),
        (lambda d: d["items"][1].__setitem__("qty", -1), "items[1].qty"),
        (lambda d: d["items"][1].__setitem__("qty", "two"), "items[1].qty"),
        (lambda d: d["items"][0].__setitem__("sku", "X" * 256), "items[0].sku"),
        (lambda d: d["items"][0].__setitem__("sku", ""), "items[0].sku"),
        (lambda d: d["items"][0].__setitem__("sku", "TEE\x00RED"), "items[0].sku"),
        (lambda d: d["items"][0].__setitem__("name", "N" * 300), "items[0].name"),
        (lambda d: d["items"][0].__setitem__("price", -5), "items[0].price"),
        (lambda d: d["items"][0].__setitem__("price", float("nan")), "items[0].price"),
        (lambda d: d.__setitem__("created_at", "yesterday"), "created_at"),
        (lambda d: d.pop("order_id"), "order_id"),
        (lambda d: d.__setitem__("grand_total", None), "grand_total"),
        (lambda d: d.__setitem__("items", "none"), "items"),
        (lambda d: d.__setitem__("order_currency_code", "NZDOLLAR"), "order_currency_code"),
    ],
)
def test_given_a_broken_invoice_field_then_record_error_names_invoice_and_field_path(
    mutate: Any, field: str
) -> None:
    raw = invoice()
    mutate(raw)
    with pytest.raises(RecordError) as caught:
        parse_invoice(raw)
    assert caught.value.field == field
    assert str(caught.value).startswith(f"invoice 000000017 (entity 17): {field}: ")
    assert caught.value.record == "invoice 000000017 (entity 17)"


def test_given_a_long_value_then_the_message_does_not_echo_it() -> None:
    raw = invoice()
    raw["items"][0]["name"] = "SECRET-" + "x" * 300
    with pytest.raises(RecordError) as caught:
        parse_invoice(raw)
    assert "SECRET" not in str(caught.value)


def test_given_unicode_names_and_skus_then_accepted() -> None:
    raw = invoice()
    raw["items"][0]["sku"] = "TÉE-ROUGE-Ø"
    raw["items"][0]["name"] = "Tee — rouge 👕"
    parsed = parse_invoice(raw)
    assert parsed.items[0].sku == "TÉE-ROUGE-Ø"


def test_given_a_document_without_entity_id_then_named_as_well_as_possible() -> None:
    raw = invoice()
    del raw["entity_id"]
    with pytest.raises(RecordError, match=r"^invoice 000000017: entity_id: is missing"):
        parse_invoice(raw)
    with pytest.raises(RecordError, match=r"^invoice \(not a JSON object\)"):
        parse_invoice(["not", "a", "dict"])


def test_given_a_credit_memo_then_adjustments_parsed() -> None:
    raw = (
        CreditMemoBuilder(31)
        .with_item("TEE-RED-M", 1, 25)
        .with_adjustments(refund=2.5, fee=1)
        .build()
        .document
    )
    parsed = parse_creditmemo(raw)
    assert (parsed.adjustment_positive, parsed.adjustment_negative) == (Decimal("2.5"), Decimal("1"))
    assert parsed.label == "credit memo 100000031 (entity 31)"


def test_given_an_order_without_payment_method_then_record_error_names_the_order_and_field() -> None:
    order = InvoiceBuilder(17, order_id=5).with_item("A", 1, 1).build().order
    order["payment"] = {"account_status": None}
    with pytest.raises(
        RecordError, match=r"^order 000000005 \(entity 5\): payment.method: is missing"
    ) as caught:
        parse_order(order)
    assert caught.value.field == "payment.method"


def test_given_a_guest_order_then_guest_and_registered_order_then_not() -> None:
    assert parse_order(InvoiceBuilder().with_item("A").guest("g@x.nz").build().order).is_guest
    assert not parse_order(InvoiceBuilder().with_item("A").customer(42).build().order).is_guest


def test_given_loc_tuples_then_field_paths_read_like_json_paths() -> None:
    assert field_path(("items", 2, "qty")) == "items[2].qty"
    assert field_path(("billing_address", "street", 0)) == "billing_address.street[0]"


def test_given_a_raw_document_then_trimmed_to_what_the_pull_reads_and_still_parses() -> None:
    raw = invoice()
    trimmed = trim_document(raw)
    assert "extension_attributes" not in trimmed and "comments" not in trimmed
    assert "base_cost" not in trimmed["items"][0]
    assert parse_invoice(trimmed) == parse_invoice(raw)
