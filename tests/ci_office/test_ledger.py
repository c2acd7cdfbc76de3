"""SqlLedger: every Magento invoice or credit memo lands in CI Office exactly once, in one transaction."""

import threading
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from kudos_sync.ci_office import schema as s
from kudos_sync.ci_office.ledger import SqlLedger, _whole_cents
from kudos_sync.domain.errors import ConfigurationError, RecordError
from kudos_sync.domain.ledger import CustomerDetails, DocumentKind, ImportStatus
from sqlalchemy import Engine, func, insert, select

from sandbox.ci_office import demo_data
from sandbox.ci_office.testing import build_document, compares_case_insensitively, seed_minimal


@pytest.fixture
def ledger_engine(ci_office_engine: Engine) -> Engine:
    seed_minimal(ci_office_engine)
    return ci_office_engine


def _count(engine: Engine, table: Any) -> int:
    with engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(table)).scalar_one())


def _rows(engine: Engine, table: Any) -> list[dict[str, Any]]:
    with engine.connect() as conn:
        return [dict(row._mapping) for row in conn.execute(select(table))]


def _snapshot(engine: Engine) -> dict[str, list[dict[str, Any]]]:
    tables = (
        s.customers, s.invoices, s.invoice_lines, s.payments, s.credit_notes, s.credit_note_lines,
        s.refunds, s.stock_on_hand, s.document_counters,
    )  # fmt: skip
    return {
        table.name: sorted(_rows(engine, table), key=lambda row: sorted((k, str(v)) for k, v in row.items()))
        for table in tables
    }


def test_given_new_customer_when_invoice_imported_then_customer_invoice_payment_and_stock_written(
    ledger_engine: Engine,
) -> None:
    document = build_document(lines=[("TEE1-BLK-S", 2, "49.90"), ("TEE1-BLK-M", 1, "49.90")], shipping="8.00")

    outcome = SqlLedger(ledger_engine).import_document(document)

    assert outcome.status is ImportStatus.IMPORTED
    assert outcome.customer_created
    assert outcome.ci_document_number == "WI0000001"
    customer = next(row for row in _rows(ledger_engine, s.customers) if row["code"] == outcome.customer_code)
    assert customer["external_link"] == "magento:77"
    assert (customer["first_name"], customer["email"], customer["address2"]) == (
        "Kiri",
        "Kiri.Tane@example.co.nz",
        "Level 2",
    )
    (invoice,) = _rows(ledger_engine, s.invoices)
    assert invoice["magento_entity_id"] == 1001
    assert invoice["total"] == Decimal("157.70")
    assert invoice["customer_code"] == outcome.customer_code
    assert invoice["invoice_date"].tzinfo is None and invoice["invoice_date"].hour == 3
    lines = sorted(_rows(ledger_engine, s.invoice_lines), key=lambda row: row["line_no"])
    assert [(line["line_no"], line["sku"], line["charge_code"]) for line in lines] == [
        (1, "TEE1-BLK-S", None),
        (2, "TEE1-BLK-M", None),
        (3, None, "FREIGHT"),
    ]
    (payment,) = _rows(ledger_engine, s.payments)
    assert (payment["tender_code"], payment["amount"], payment["invoice_number"]) == (
        "VISA",
        Decimal("157.70"),
        "WI0000001",
    )
    assert demo_data.get_stock(ledger_engine, "TEE1-BLK-S", "WEB") == Decimal(3)
    assert demo_data.get_stock(ledger_engine, "TEE1-BLK-M", "WEB") == Decimal(2)


def test_given_no_stock_row_when_invoice_imported_then_row_created_negative(ledger_engine: Engine) -> None:
    SqlLedger(ledger_engine).import_document(build_document(lines=[("BAG1", 1, "59.00")]))

    assert demo_data.get_stock(ledger_engine, "BAG1", "WEB") == Decimal(-1)


def test_given_imported_invoice_when_replayed_then_already_imported_and_nothing_written_twice(
    ledger_engine: Engine,
) -> None:
    ledger = SqlLedger(ledger_engine)
    first = ledger.import_document(build_document())
    before = _snapshot(ledger_engine)

    again = ledger.import_document(build_document())

    assert again.status is ImportStatus.ALREADY_IMPORTED
    assert (again.ci_document_number, again.customer_code) == (first.ci_document_number, first.customer_code)
    assert _snapshot(ledger_engine) == before


def test_given_unique_constraint_only_when_replayed_then_constraint_is_the_idempotency_key(
    ledger_engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    ledger = SqlLedger(ledger_engine)
    first = ledger.import_document(build_document())
    before = _snapshot(ledger_engine)
    # Pretend the pre-check missed it (as when a concurrent run commits in between).
    monkeypatch.setattr(SqlLedger, "_existing", staticmethod(lambda *args: None))
    monkeypatch.setattr(SqlLedger, "find_document", _find_directly)

    again = ledger.import_document(build_document())

    assert again.status is ImportStatus.ALREADY_IMPORTED
    assert again.ci_document_number == first.ci_document_number
    assert _snapshot(ledger_engine) == before


def _find_directly(self: SqlLedger, kind: DocumentKind, entity_id: int) -> Any:
    from kudos_sync.domain.ledger import ImportOutcome

    table = s.invoices if kind is DocumentKind.INVOICE else s.credit_notes
    with self._engine.connect() as conn:
        row = conn.execute(
            select(table.c.number, table.c.customer_code).where(table.c.magento_entity_id == entity_id)
        ).first()
    return (
        None
        if row is None
        else ImportOutcome(
            status=ImportStatus.ALREADY_IMPORTED, ci_document_number=row[0], customer_code=row[1]
        )
    )


def test_given_customer_with_link_when_imported_then_matched_by_link(ledger_engine: Engine) -> None:
    with ledger_engine.begin() as conn:
        conn.execute(
            insert(s.customers).values(
                code="C00042", first_name="Kiri", email="other@example.com", external_link="magento:77",
                created_at=s_now(),
            )
        )  # fmt: skip

    outcome = SqlLedger(ledger_engine).import_document(build_document())

    assert (outcome.customer_code, outcome.customer_created) == ("C00042", False)
    assert _count(ledger_engine, s.customers) == 2  # CASH + C00042


def test_given_unlinked_customer_with_email_in_other_case_when_imported_then_matched_and_linked(
    ledger_engine: Engine,
) -> None:
    with ledger_engine.begin() as conn:
        conn.execute(
            insert(s.customers).values(
                code="C00043", first_name="Kiri", email="KIRI.TANE@EXAMPLE.CO.NZ", created_at=s_now()
            )
        )
    ledger = SqlLedger(ledger_engine)

    outcome = ledger.import_document(build_document())
    second = ledger.import_document(build_document(entity_id=1002))

    assert (outcome.customer_code, outcome.customer_created) == ("C00043", False)
    assert second.customer_code == "C00043"
    linked = next(row for row in _rows(ledger_engine, s.customers) if row["code"] == "C00043")
    assert linked["external_link"] == "magento:77"


def test_given_two_till_customers_without_magento_link_when_invoice_imported_then_both_kept_and_one_linked(
    ledger_engine: Engine,
) -> None:
    # Most CI Office customers were made at a till and have no Magento link: NULL, many times over
    # (SQL Server's UNIQUE constraint admits one NULL; a filtered unique index admits any number).
    with ledger_engine.begin() as conn:
        conn.execute(
            insert(s.customers),
            [
                {"code": "C00044", "first_name": "Ana", "email": "ana@example.com", "created_at": s_now()},
                {
                    "code": "C00045", "first_name": "Kiri", "email": "kiri.tane@example.co.nz",
                    "created_at": s_now(),
                },
            ],
        )  # fmt: skip

    outcome = SqlLedger(ledger_engine).import_document(build_document())

    assert (outcome.customer_code, outcome.customer_created) == ("C00045", False)
    links = {row["code"]: row["external_link"] for row in _rows(ledger_engine, s.customers)}
    assert links == {"CASH": None, "C00044": None, "C00045": "magento:77"}


def test_given_two_till_invoices_without_magento_id_when_web_invoice_imported_then_all_three_kept(
    ledger_engine: Engine,
) -> None:
    till = {"customer_code": "CASH", "invoice_date": s_now(), "currency": "NZD", "branch_code": "AKL"}
    with ledger_engine.begin() as conn:
        conn.execute(
            insert(s.invoices),
            [
                {**till, "number": "T0001", "total": Decimal("10.00"), "tax_total": Decimal("1.30")},
                {**till, "number": "T0002", "total": Decimal("20.00"), "tax_total": Decimal("2.61")},
            ],
        )

    outcome = SqlLedger(ledger_engine).import_document(build_document())

    assert outcome.status is ImportStatus.IMPORTED
    assert _count(ledger_engine, s.invoices) == 3


def test_given_line_skus_in_another_case_when_imported_then_written_as_ci_office_spells_them(
    ledger_engine: Engine,
) -> None:
    document = build_document(lines=[("tee1-blk-s", 1, "49.90"), ("TEE1-BLK-S", 1, "49.90")])
    ledger = SqlLedger(ledger_engine)

    outcome = ledger.import_document(document)

    assert outcome.status is ImportStatus.IMPORTED
    assert {row["sku"] for row in _rows(ledger_engine, s.invoice_lines)} == {"TEE1-BLK-S"}
    stock = {row["sku"]: row["quantity"] for row in _rows(ledger_engine, s.stock_on_hand)}
    assert stock == {"TEE1-BLK-S": Decimal(3), "TEE1-BLK-M": Decimal(3)}  # 5 - 2 on the one row
    assert ledger.known_skus(["tee1-blk-s ", "TEE1-BLK-XL"]) == {"tee1-blk-s "}


def test_given_case_sensitive_ci_office_with_two_spellings_when_imported_then_never_merged(
    ledger_engine: Engine,
) -> None:
    if compares_case_insensitively(ledger_engine):
        pytest.skip("a case-insensitive database cannot hold both spellings")
    with ledger_engine.begin() as conn:
        conn.execute(
            insert(s.skus), [{"sku": "Cap1", "style_code": "BAG1"}, {"sku": "cap1", "style_code": "BAG1"}]
        )
    ledger = SqlLedger(ledger_engine)

    exact = ledger.import_document(
        build_document(entity_id=1, lines=[("Cap1", 1, "59.00"), ("cap1", 2, "59.00")])
    )
    with pytest.raises(RecordError) as error:
        ledger.import_document(
            build_document(entity_id=2, lines=[("Cap1", 1, "59.00"), ("CAP1", 1, "59.00")])
        )

    assert exact.status is ImportStatus.IMPORTED
    lines = {(row["sku"], row["quantity"]) for row in _rows(ledger_engine, s.invoice_lines)}
    assert lines == {("Cap1", Decimal(1)), ("cap1", Decimal(2))}
    assert "'CAP1' on line 2 is CI Office's 'Cap1' and 'cap1'" in str(error.value)
    assert error.value.field == "lines[1].sku" and _count(ledger_engine, s.invoices) == 1


def test_given_guest_with_cash_sale_policy_when_imported_then_posted_to_fixed_customer(
    ledger_engine: Engine,
) -> None:
    guest = CustomerDetails(link_key="CASH", email="someone@example.com", fixed_customer_code="CASH")

    outcome = SqlLedger(ledger_engine).import_document(build_document(customer=guest))

    assert (outcome.customer_code, outcome.customer_created) == ("CASH", False)
    assert _count(ledger_engine, s.customers) == 1


def test_given_guests_per_email_when_two_orders_then_one_customer(ledger_engine: Engine) -> None:
    guest = CustomerDetails(link_key="guest:ana@example.com", email="Ana@Example.com", first_name="Ana")
    ledger = SqlLedger(ledger_engine)

    first = ledger.import_document(build_document(customer=guest, entity_id=2001))
    second = ledger.import_document(build_document(customer=guest, entity_id=2002))

    assert first.customer_created and not second.customer_created
    assert first.customer_code == second.customer_code
    assert {first.ci_document_number, second.ci_document_number} == {"WI0000001", "WI0000002"}


def test_given_unknown_fixed_customer_when_imported_then_record_error(ledger_engine: Engine) -> None:
    guest = CustomerDetails(link_key="NOPE", fixed_customer_code="NOPE")

    with pytest.raises(RecordError) as error:
        SqlLedger(ledger_engine).import_document(build_document(customer=guest))

    assert "NOPE" in str(error.value)
    assert error.value.field == "customer.fixed_customer_code"


def test_given_unknown_sku_when_imported_then_record_error_names_it_and_nothing_written(
    ledger_engine: Engine,
) -> None:
    before = _snapshot(ledger_engine)
    document = build_document(lines=[("TEE1-BLK-S", 1, "49.90"), ("GONE-123", 1, "10.00")])

    with pytest.raises(RecordError) as error:
        SqlLedger(ledger_engine).import_document(document)

    assert "GONE-123" in str(error.value)
    assert error.value.field == "lines[1].sku"
    assert error.value.record == "invoice 100001001"
    assert _snapshot(ledger_engine) == before


def test_given_unknown_tender_when_imported_then_record_error_names_it_and_nothing_written(
    ledger_engine: Engine,
) -> None:
    before = _snapshot(ledger_engine)

    with pytest.raises(RecordError) as error:
        SqlLedger(ledger_engine).import_document(build_document(tender_code="BITCOIN"))

    assert "BITCOIN" in str(error.value) and error.value.field == "tender_code"
    assert _snapshot(ledger_engine) == before


def test_given_failure_after_customer_created_when_imported_then_rolled_back(
    ledger_engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    before = _snapshot(ledger_engine)

    def explode(*args: Any) -> None:
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(SqlLedger, "_adjust_stock", staticmethod(explode))

    with pytest.raises(RuntimeError):
        SqlLedger(ledger_engine).import_document(build_document())

    assert _snapshot(ledger_engine) == before  # no customer, no header, counters untouched


def test_given_unknown_web_branch_when_imported_then_configuration_error(ledger_engine: Engine) -> None:
    with pytest.raises(ConfigurationError):
        SqlLedger(ledger_engine).import_document(build_document(web_branch="NOPE"))


def test_given_credit_note_when_imported_then_refund_and_stock_returned(ledger_engine: Engine) -> None:
    ledger = SqlLedger(ledger_engine)
    invoice = ledger.import_document(build_document(lines=[("TEE1-BLK-S", 2, "49.90")]))
    credit = build_document(kind=DocumentKind.CREDIT_NOTE, entity_id=501, lines=[("TEE1-BLK-S", 1, "49.90")])

    outcome = ledger.import_document(credit)
    replay = ledger.import_document(credit)

    assert outcome.status is ImportStatus.IMPORTED
    assert outcome.ci_document_number == "WC0000001"
    assert outcome.customer_code == invoice.customer_code
    assert replay.status is ImportStatus.ALREADY_IMPORTED
    (note,) = _rows(ledger_engine, s.credit_notes)
    assert note["magento_entity_id"] == 501
    (refund,) = _rows(ledger_engine, s.refunds)
    assert (refund["amount"], refund["tender_code"], refund["credit_note_number"]) == (
        Decimal("49.90"),
        "VISA",
        "WC0000001",
    )
    assert [line["sku"] for line in _rows(ledger_engine, s.credit_note_lines)] == ["TEE1-BLK-S"]
    assert demo_data.get_stock(ledger_engine, "TEE1-BLK-S", "WEB") == Decimal(4)  # 5 - 2 + 1


def test_given_credit_note_without_stock_return_when_imported_then_stock_untouched(
    ledger_engine: Engine,
) -> None:
    credit = build_document(kind=DocumentKind.CREDIT_NOTE, entity_id=502, adjust_stock=False)

    SqlLedger(ledger_engine).import_document(credit)

    assert demo_data.get_stock(ledger_engine, "TEE1-BLK-S", "WEB") == Decimal(5)


def test_given_invoice_and_credit_note_with_same_entity_id_then_both_imported(ledger_engine: Engine) -> None:
    ledger = SqlLedger(ledger_engine)

    a = ledger.import_document(build_document(entity_id=7))
    b = ledger.import_document(build_document(kind=DocumentKind.CREDIT_NOTE, entity_id=7))

    assert a.status is b.status is ImportStatus.IMPORTED


def test_given_skus_when_known_skus_asked_then_existing_ones_in_chunks(ledger_engine: Engine) -> None:
    asked = ["TEE1-BLK-S", "BAG1", *[f"NOPE-{n}" for n in range(2500)]]

    assert SqlLedger(ledger_engine).known_skus(asked) == {"TEE1-BLK-S", "BAG1"}
    assert SqlLedger(ledger_engine).known_skus([]) == set()


def test_given_same_document_from_two_threads_when_imported_then_exactly_one_row(
    ledger_engine: Engine,
) -> None:
    ledger = SqlLedger(ledger_engine)
    document = build_document(
        entity_id=3001, customer=CustomerDetails(link_key="magento:900", email="race@example.com")
    )
    barrier = threading.Barrier(2)
    outcomes: list[Any] = []
    errors: list[BaseException] = []

    def run() -> None:
        barrier.wait()
        try:
            outcomes.append(ledger.import_document(document))
        except BaseException as error:
            errors.append(error)

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)

    assert not errors, errors
    assert sorted(o.status for o in outcomes) == [ImportStatus.ALREADY_IMPORTED, ImportStatus.IMPORTED]
    assert len({o.ci_document_number for o in outcomes}) == 1
    assert _count(ledger_engine, s.invoices) == 1
    assert _count(ledger_engine, s.payments) == 1
    assert _count(ledger_engine, s.customers) == 2  # CASH + the one created
    assert demo_data.get_stock(ledger_engine, "TEE1-BLK-S", "WEB") == Decimal(4)


def test_given_different_documents_from_threads_when_imported_then_all_numbered_uniquely(
    ledger_engine: Engine,
) -> None:
    ledger = SqlLedger(ledger_engine)
    documents = [build_document(entity_id=4000 + n, lines=[("TEE1-BLK-M", 1, "49.90")]) for n in range(8)]
    outcomes: list[Any] = []
    lock = threading.Lock()

    def run(chunk: list[Any]) -> None:
        for document in chunk:
            outcome = ledger.import_document(document)
            with lock:
                outcomes.append(outcome)

    threads = [threading.Thread(target=run, args=(documents[n::4],)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)

    assert len(outcomes) == 8
    assert len({o.ci_document_number for o in outcomes}) == 8
    assert len({o.customer_code for o in outcomes}) == 1  # one customer, created once
    assert demo_data.get_stock(ledger_engine, "TEE1-BLK-M", "WEB") == Decimal(3 - 8)


def s_now() -> Any:
    from datetime import datetime

    return datetime(2026, 1, 1)


def test_given_total_with_fraction_of_a_cent_then_record_error_and_nothing_written(
    ledger_engine: Engine,
) -> None:
    before = _snapshot(ledger_engine)
    document = build_document().model_copy(update={"total": Decimal("49.9049")})

    with pytest.raises(RecordError) as error:
        SqlLedger(ledger_engine).import_document(document)

    assert error.value.field == "total"
    assert _snapshot(ledger_engine) == before


@given(st.decimals(min_value=-10_000, max_value=10_000, places=4, allow_nan=False, allow_infinity=False))
def test_header_amounts_are_accepted_exactly_when_whole_cents(amount: Decimal) -> None:
    whole = amount == amount.quantize(Decimal("0.01"))
    try:
        stored = _whole_cents(amount, "total", "invoice 1")
    except RecordError as error:
        assert not whole and error.field == "total"
    else:
        assert whole and stored == amount and stored.as_tuple().exponent == -2
