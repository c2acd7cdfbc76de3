"""The product's promises at their exact edges, on the pure core: one cent of rounding noise imports
and two cents park, safety stock equal to the stock on hand sells nothing, a document exactly at the
start of the overlap window is remembered, money is rounded half away from zero once.

Each promise here also has an end-to-end test (tests/integration/test_promise_boundaries_end_to_end.py)
and meets faults in the chaos harness (tests/chaos/).
"""

from datetime import timedelta
from decimal import Decimal

import pytest
from kudos_sync.domain.catalogue import StockOnHand
from kudos_sync.domain.errors import RecordError
from kudos_sync.domain.ids import BranchCode, Sku
from kudos_sync.domain.ledger import LedgerDocument
from kudos_sync.domain.money import MoneyError, format_money, parse_decimal, to_cents, within_one_cent
from kudos_sync.domain.pull_mapping import build_ledger_document
from kudos_sync.domain.push_mapping import DesiredStock, map_catalogue
from kudos_sync.magento.documents import parse_document, parse_order

from tests.fakes.catalogue import style
from tests.fakes.sales import Built, CreditMemoBuilder, InvoiceBuilder, at, pull_config
from tests.unit.test_pull import invoice, world
from tests.unit.test_push import make_config
from tests.unit.test_push_mapping import TODAY

D = Decimal
LINES = D("25.00")  # one item at 25, no shipping: what the lines of every document below add up to


def mapped(built: Built) -> LedgerDocument:
    return build_ledger_document(
        parse_document(built.stream, built.document), parse_order(built.order), pull_config()
    )


# ------------------------------------------------------------------------------ the one-cent totals rule


@pytest.mark.parametrize(
    ("a", "b", "within"),
    [
        ("1.00", "1.01", True),
        ("1.00", "0.99", True),
        ("1.00", "1.02", False),
        ("1.00", "0.98", False),
        ("1.005", "1.015", True),
        ("1.00", "1.0100001", False),
    ],
)
def test_given_two_amounts_then_within_one_cent_holds_up_to_exactly_one_cent(
    a: str, b: str, within: bool
) -> None:
    assert within_one_cent(D(a), D(b)) is within
    assert within_one_cent(D(b), D(a)) is within


@pytest.mark.parametrize("off", ["0.01", "-0.01"])
def test_given_an_invoice_total_one_cent_off_its_lines_then_imported_with_magentos_total(off: str) -> None:
    total = LINES + D(off)
    built = InvoiceBuilder(7).with_item("TEE", 1, 25).with_grand_total(total).build()
    doc = mapped(built)
    assert doc.total == total  # the customer paid Magento's figure: that is what CI Office books


@pytest.mark.parametrize("off", ["0.02", "-0.02", "0.50", "1.00", "-1.00"])
def test_given_an_invoice_total_two_cents_or_more_off_then_refused_naming_the_grand_total(off: str) -> None:
    built = InvoiceBuilder(7).with_item("TEE", 1, 25).with_grand_total(LINES + D(off)).build()
    with pytest.raises(RecordError) as caught:
        mapped(built)
    assert caught.value.field == "grand_total"
    assert f"but grand_total is {format_money(LINES + D(off))}" in str(caught.value)


@pytest.mark.parametrize(("off", "imported"), [("0.01", True), ("-0.01", True), ("0.02", False)])
def test_given_a_credit_memo_total_off_then_one_cent_imports_and_two_cents_refuses(
    off: str, imported: bool
) -> None:
    built = CreditMemoBuilder(9).with_item("TEE", 1, 25).with_grand_total(LINES + D(off)).build()
    if imported:
        assert mapped(built).total == LINES + D(off)
    else:
        with pytest.raises(RecordError):
            mapped(built)


def test_given_half_cents_then_rounded_half_away_from_zero_once() -> None:
    assert [to_cents(D(v)) for v in ("0.005", "0.015", "-0.005", "2.675", "0.0049")] == [
        D("0.01"),
        D("0.02"),
        D("-0.01"),
        D("2.68"),
        D("0.00"),
    ]
    assert format_money(D("12.5")) == "12.50"


@pytest.mark.parametrize("value", [0.1, 19.99, 1e-7, 123456789.01])
def test_given_a_json_float_then_parsed_from_its_shortest_repr_not_its_binary_value(value: float) -> None:
    assert parse_decimal(value) == D(repr(value))


@pytest.mark.parametrize("value", [True, None, "", " ", "NaN", "Infinity", "1" * 41, [], float("nan")])
def test_given_something_that_is_not_a_finite_number_then_money_error(value: object) -> None:
    with pytest.raises(MoneyError):
        parse_decimal(value)


def test_given_a_numeric_string_with_spaces_then_parsed() -> None:
    assert parse_decimal(" 12.30 ") == D("12.30")
    assert parse_decimal("1" * 40) == D("1" * 40)


# ------------------------------------------------------------------------------ safety stock


@pytest.mark.parametrize(
    ("on_hand", "safety", "sent"),
    [
        ("3", "3", "0"),  # exactly the safety stock: nothing to sell
        ("4", "3", "1"),
        ("2", "3", "0"),  # below it: 0, never negative
        ("3.5", "2.5", "1"),  # fractional stock and safety stock
        ("3.499", "2.5", "0"),  # 0.999 of a unit is not a unit
        ("2.5", "2.5", "0"),
        ("0.999", "0", "0"),
        ("1", "0", "1"),
    ],
)
def test_given_safety_stock_then_whole_units_above_it_are_sent(on_hand: str, safety: str, sent: str) -> None:
    config = make_config(safety_stock=safety, branch_sources={"WEB": "web"})
    rows = [StockOnHand(sku=Sku("S1-1"), branch=BranchCode("WEB"), quantity=D(on_hand))]
    desired = map_catalogue([style("S1", "Tee")], rows, [], config, TODAY)
    assert desired.stock["S1-1@web"] == DesiredStock(Sku("S1-1"), "web", D(sent), D(sent) > 0)  # type: ignore[arg-type]
    assert desired.problems == []


# ------------------------------------------------------------------------------ the overlap window


def test_given_a_document_exactly_at_the_start_of_the_overlap_window_then_the_cursor_remembers_it() -> None:
    w = world()  # overlap 10 minutes
    w.add(invoice(1, 40).build())  # 08:40: exactly 10 minutes before the last one
    w.add(invoice(2, 50).build())  # 08:50
    w.clock.current = at(65)
    assert w.pull().streams["invoices"].imported == 2
    cursor = w.state.get_cursor("invoices")
    assert cursor is not None and cursor.created_at == at(50)
    assert cursor.seen_ids == (1, 2)
    result = w.later().pull()
    invoices_from = [s[1] for s in w.sales.searches if s[0] == "invoices"][-1]
    assert invoices_from == at(50) - timedelta(minutes=10) == at(40)
    counts = result.streams["invoices"]
    assert (counts.imported, counts.skipped_seen, counts.already_imported) == (0, 2, 0)


def test_given_a_document_a_second_before_the_overlap_window_then_the_cursor_forgets_it() -> None:
    w = world()
    w.add(invoice(1, 40 - 1 / 60).build())  # 08:39:59
    w.add(invoice(2, 50).build())
    w.clock.current = at(65)
    w.pull()
    cursor = w.state.get_cursor("invoices")
    assert cursor is not None and cursor.seen_ids == (2,)
