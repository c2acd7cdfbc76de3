"""One behaviour, three implementations of the Ledger port: the in-memory fake the pull tests use,
and `SqlLedger` on SQLite and on PostgreSQL (the reference CI Office schema).

Each case arranges the same CI Office (the `seed_minimal` data: branch WEB, tenders VISA and PAYPAL,
SKUs TEE1-BLK-S, TEE1-BLK-M and BAG1, cash-sale customer CASH) and asserts what the core can see:
outcomes, customer matching, the errors' fields, and the web branch's stock left behind.
"""

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from pathlib import Path

import pytest
from kudos_sync.ci_office import schema as s
from kudos_sync.ci_office.ledger import SqlLedger
from kudos_sync.domain.errors import RecordError
from kudos_sync.domain.ledger import CustomerDetails, DocumentKind, ImportStatus
from kudos_sync.sync.ports import Ledger
from sqlalchemy import Engine, insert, select

from sandbox.ci_office.testing import build_document, isolated_engine, seed_minimal
from tests.fakes.ledger import FakeLedger

SEEDED_SKUS = {"TEE1-BLK-S", "TEE1-BLK-M", "BAG1"}
SEEDED_STOCK = {"TEE1-BLK-S": Decimal(5), "TEE1-BLK-M": Decimal(3), "BAG1": Decimal(0)}


@dataclass
class LedgerHarness:
    name: str
    ledger: Ledger
    web_stock: Callable[[str], Decimal]  # on hand of a SKU at branch WEB (0 without a row)
    add_customer: Callable[[str, str | None, str | None], None]  # code, e-mail, link


def fake_harness() -> LedgerHarness:
    ledger = FakeLedger(known_skus=SEEDED_SKUS, tenders={"VISA", "PAYPAL"})
    ledger.add_customer("CASH")
    for (branch, sku), quantity in {("WEB", sku): q for sku, q in SEEDED_STOCK.items()}.items():
        ledger.stock[(branch, sku)] = quantity
    return LedgerHarness(
        "fake",
        ledger,
        lambda sku: ledger.stock[("WEB", sku)],
        lambda code, email, link: ledger.add_customer(code, email, link),
    )


def sql_harness(name: str, engine: Engine) -> LedgerHarness:
    seed_minimal(engine)

    def web_stock(sku: str) -> Decimal:
        soh = s.stock_on_hand
        query = select(soh.c.quantity).where(soh.c.sku == sku, soh.c.branch_code == "WEB")
        with engine.connect() as conn:
            return Decimal(conn.execute(query).scalar() or 0)

    def add_customer(code: str, email: str | None, link: str | None) -> None:
        row = {"code": code, "email": email, "external_link": link, "created_at": datetime(2026, 1, 1)}
        with engine.begin() as conn:
            conn.execute(insert(s.customers), [row])

    return LedgerHarness(name, SqlLedger(engine), web_stock, add_customer)


@pytest.fixture(params=["fake", "sqlite", "postgres"])
def harness(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[LedgerHarness]:
    if request.param == "fake":
        yield fake_harness()
        return
    with isolated_engine(request.param, tmp_path) as engine:
        yield sql_harness(request.param, engine)


def guest(email: str, link: str | None = None) -> CustomerDetails:
    return CustomerDetails(link_key=link or f"guest:{email.lower()}", email=email, first_name="Ana")


def test_given_skus_then_known_skus_are_the_ones_in_ci_office(harness: LedgerHarness) -> None:
    assert harness.ledger.known_skus(["BAG1", "NOPE", "TEE1-BLK-M"]) == {"BAG1", "TEE1-BLK-M"}
    assert harness.ledger.known_skus([]) == set()


def test_given_new_invoice_then_imported_once_and_a_replay_returns_the_first_number(
    harness: LedgerHarness,
) -> None:
    document = build_document(entity_id=1001, lines=[("TEE1-BLK-S", 2, "49.90")])
    first = harness.ledger.import_document(document)
    assert first.status is ImportStatus.IMPORTED and first.customer_created
    assert first.ci_document_number
    replay = harness.ledger.import_document(document)
    assert replay.status is ImportStatus.ALREADY_IMPORTED
    assert (replay.ci_document_number, replay.customer_code) == (
        first.ci_document_number,
        first.customer_code,
    )
    assert harness.web_stock("TEE1-BLK-S") == Decimal(3), "stock moved once"


def test_given_invoice_then_credit_note_with_return_then_stock_goes_out_and_back(
    harness: LedgerHarness,
) -> None:
    harness.ledger.import_document(build_document(entity_id=7, lines=[("TEE1-BLK-M", 2, "49.90")]))
    assert harness.web_stock("TEE1-BLK-M") == Decimal(1)
    credit = build_document(kind=DocumentKind.CREDIT_NOTE, entity_id=7, lines=[("TEE1-BLK-M", 1, "49.90")])
    outcome = harness.ledger.import_document(credit)
    assert outcome.status is ImportStatus.IMPORTED, "an invoice and a credit memo may share an entity id"
    assert harness.web_stock("TEE1-BLK-M") == Decimal(2)
    kept = build_document(
        kind=DocumentKind.CREDIT_NOTE, entity_id=8, lines=[("TEE1-BLK-M", 1, "49.90")], adjust_stock=False
    )
    harness.ledger.import_document(kept)
    assert harness.web_stock("TEE1-BLK-M") == Decimal(2), "a refund without return leaves stock alone"


def test_given_invoice_for_sku_without_a_stock_row_then_stock_goes_negative(harness: LedgerHarness) -> None:
    harness.ledger.import_document(build_document(entity_id=9, lines=[("BAG1", 1, "59.00")]))
    assert harness.web_stock("BAG1") == Decimal(-1)


def test_given_unknown_sku_then_record_error_names_the_line_and_nothing_is_written(
    harness: LedgerHarness,
) -> None:
    document = build_document(entity_id=11, lines=[("TEE1-BLK-S", 1, "49.90"), ("GHOST", 1, "10.00")])
    with pytest.raises(RecordError) as refused:
        harness.ledger.import_document(document)
    assert refused.value.field == "lines[1].sku"
    assert "GHOST" in str(refused.value)
    assert harness.web_stock("TEE1-BLK-S") == Decimal(5)
    fixed = build_document(entity_id=11, lines=[("TEE1-BLK-S", 1, "49.90")])
    assert harness.ledger.import_document(fixed).status is ImportStatus.IMPORTED, "not half-imported"


def test_given_unknown_tender_then_record_error_names_it_and_nothing_is_written(
    harness: LedgerHarness,
) -> None:
    with pytest.raises(RecordError) as refused:
        harness.ledger.import_document(build_document(entity_id=51, tender_code="BITCOIN"))
    assert refused.value.field == "tender_code" and "BITCOIN" in str(refused.value)
    assert harness.web_stock("TEE1-BLK-S") == Decimal(5)


def test_given_customer_with_the_email_in_another_case_then_matched_not_created(
    harness: LedgerHarness,
) -> None:
    harness.add_customer("C-ANA", "ana@example.com", None)
    first = harness.ledger.import_document(build_document(entity_id=21, customer=guest("ANA@Example.com")))
    assert (first.customer_code, first.customer_created) == ("C-ANA", False)
    again = harness.ledger.import_document(
        build_document(entity_id=22, customer=guest("someone@else.com", link="guest:ana@example.com"))
    )
    assert (again.customer_code, again.customer_created) == ("C-ANA", False), "linked by the first match"


def test_given_two_new_guests_with_one_email_then_one_customer(harness: LedgerHarness) -> None:
    first = harness.ledger.import_document(build_document(entity_id=31, customer=guest("bo@example.com")))
    second = harness.ledger.import_document(build_document(entity_id=32, customer=guest("bo@example.com")))
    assert first.customer_created and not second.customer_created
    assert first.customer_code == second.customer_code


def test_given_cash_sale_customer_then_posted_to_it_and_an_unknown_one_is_a_record_error(
    harness: LedgerHarness,
) -> None:
    cash = CustomerDetails(link_key="CASH", fixed_customer_code="CASH")
    outcome = harness.ledger.import_document(build_document(entity_id=41, customer=cash))
    assert (outcome.customer_code, outcome.customer_created) == ("CASH", False)
    missing = CustomerDetails(link_key="NOPE", fixed_customer_code="NOPE")
    with pytest.raises(RecordError) as refused:
        harness.ledger.import_document(build_document(entity_id=42, customer=missing))
    assert refused.value.field == "customer.fixed_customer_code"
