"""The pull: Magento invoices and credit memos into CI Office, each exactly once, whatever fails."""

import itertools
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from kudos_sync.config import TenantConfig
from kudos_sync.domain.ledger import DocumentKind
from kudos_sync.domain.state import RunStatus
from kudos_sync.sync.pull import PullResult, PullSync

from tests.fakes.ledger import FakeLedger
from tests.fakes.sales import Built, CreditMemoBuilder, FakeMagentoSales, InvoiceBuilder, at, pull_config
from tests.fakes.state import FakeClock, FakeDeadline, InMemoryStateStore

INVOICE, CREDIT = DocumentKind.INVOICE, DocumentKind.CREDIT_NOTE


@dataclass
class World:
    """One tenant: Magento, CI Office and the state table, on a fake clock starting 2026-11-01 09:00."""

    config: TenantConfig = field(default_factory=pull_config)
    clock: FakeClock = field(default_factory=FakeClock)
    ledger: FakeLedger = field(default_factory=FakeLedger)
    state: InMemoryStateStore = field(default_factory=InMemoryStateStore)
    sales: FakeMagentoSales = field(init=False)

    def __post_init__(self) -> None:
        self.sales = FakeMagentoSales(self.clock)

    def add(self, built: Built, **kwargs: Any) -> Built:
        return self.sales.add(built, **kwargs)

    def pull(self, deadline: FakeDeadline | None = None, pull_start: datetime | None = None) -> PullResult:
        sync = PullSync(
            self.config,
            self.sales,
            self.ledger,
            self.state,
            self.clock,
            deadline or FakeDeadline(),
            pull_start,
        )
        return sync.run()

    def later(self, minutes: float = 15) -> "World":
        self.clock.advance(minutes=minutes)
        return self


def world(**config: Any) -> World:
    return World(config=pull_config(**config))


def invoice(entity_id: int, minutes: float = 0, sku: str = "TEE-RED-M", **kw: Any) -> InvoiceBuilder:
    return InvoiceBuilder(entity_id, created_at=at(minutes), **kw).with_item(sku, 1, 25)


# ------------------------------------------------------------------------------- the happy path


def test_given_new_invoices_when_pulled_then_imported_with_customers_created_and_payments() -> None:
    w = world()
    w.add(invoice(1, 1).guest("ann@example.com").with_shipping(5).build())
    w.add(invoice(2, 2).guest("bob@example.com").build())
    w.add(invoice(3, 3).guest("ANN@example.com").build())
    result = w.pull()
    assert result.status is RunStatus.SUCCEEDED
    counts = result.streams["invoices"]
    assert (counts.imported, counts.customers_created, counts.payments, counts.parked) == (3, 2, 3, 0)
    assert w.ledger.entity_ids(INVOICE) == [1, 2, 3]
    first = w.ledger.committed[(INVOICE, 1)]
    assert first.number == "W000001" and first.document.total == Decimal("30.00")
    assert w.ledger.committed[(INVOICE, 3)].customer_code == first.customer_code  # same guest e-mail
    assert w.ledger.stock[("WEB", "TEE-RED-M")] == Decimal(-3)
    cursor = w.state.get_cursor("invoices")
    assert cursor is not None and (cursor.created_at, cursor.entity_id) == (at(3), 3)
    assert set(cursor.seen_ids) == {1, 2, 3}
    assert result.summary_counts()["imported_total"] == 3


def test_given_a_registered_customer_already_linked_in_ci_then_matched_by_link_not_created() -> None:
    w = world()
    w.ledger.add_customer("C000777", email="other@example.com", link_key="magento:42")
    w.add(invoice(1).customer(42, "jane@example.com").build())
    result = w.pull()
    assert w.ledger.committed[(INVOICE, 1)].customer_code == "C000777"
    assert result.streams["invoices"].customers_created == 0


def test_given_a_registered_customer_known_in_ci_only_by_email_then_matched_and_linked() -> None:
    w = world()
    w.ledger.add_customer("C000500", email="jane@example.com")
    w.add(invoice(1).customer(42, "Jane@Example.com").build())
    w.pull()
    assert w.ledger.committed[(INVOICE, 1)].customer_code == "C000500"
    assert w.ledger.customers["C000500"].link_key == "magento:42"


def test_given_guests_and_per_email_policy_then_one_ci_customer_per_email() -> None:
    w = world()
    for entity_id, email in [(1, "a@example.com"), (2, "b@example.com"), (3, "A@EXAMPLE.COM")]:
        w.add(invoice(entity_id, entity_id).guest(email).build())
    assert w.pull().streams["invoices"].customers_created == 2
    assert {c.link_key for c in w.ledger.customers.values()} == {"guest:a@example.com", "guest:b@example.com"}


def test_given_guests_and_cash_sale_policy_then_every_guest_sale_goes_to_the_cash_sale_customer() -> None:
    w = world(guest_policy="cash_sale", cash_sale_customer_code="CASH")
    w.ledger.add_customer("CASH")
    for entity_id, email in [(1, "a@example.com"), (2, "b@example.com")]:
        w.add(invoice(entity_id, entity_id).guest(email).build())
    result = w.pull()
    assert result.streams["invoices"].customers_created == 0
    assert {w.ledger.committed[(INVOICE, i)].customer_code for i in (1, 2)} == {"CASH"}
    assert list(w.ledger.customers) == ["CASH"]


def test_given_a_credit_memo_with_shipping_and_adjustments_then_credit_note_refund_and_stock_back() -> None:
    w = world()
    w.add(invoice(1, 1).build())
    w.add(
        CreditMemoBuilder(51, created_at=at(5), order_id=w.sales.documents["invoices"][1]["order_id"])
        .with_item("TEE-RED-M", 1, 25)
        .with_shipping(5)
        .with_adjustments(refund=2, fee=1)
        .build(),
        with_order=False,
    )
    result = w.pull()
    counts = result.streams["creditmemos"]
    assert (counts.imported, counts.refunds, counts.customers_created) == (1, 1, 0)
    note = w.ledger.document(CREDIT, 51)
    assert note.total == Decimal("31.00") and note.tender_code == "BANK"
    assert [(line.charge_code, line.line_total) for line in note.lines] == [
        (None, Decimal("25.00")),
        ("FREIGHT", Decimal("5.00")),
        ("ADJUST", Decimal("2.00")),
        ("ADJUST", Decimal("-1.00")),
    ]
    assert w.ledger.stock[("WEB", "TEE-RED-M")] == 0  # sold one, got it back
    assert w.ledger.committed[(CREDIT, 51)].customer_code == w.ledger.committed[(INVOICE, 1)].customer_code


def test_given_credit_notes_do_not_return_stock_then_stock_stays_out() -> None:
    w = world(credit_note_returns_stock=False)
    w.add(CreditMemoBuilder(51, created_at=at(5)).with_item("TEE-RED-M", 1, 25).build())
    w.pull()
    assert w.ledger.document(CREDIT, 51).adjust_stock is False
    assert w.ledger.stock[("WEB", "TEE-RED-M")] == 0


# ------------------------------------------------------------------------------- exactly once


def test_given_documents_already_in_ci_when_replayed_then_counted_as_already_imported_not_errors() -> None:
    w = world()
    for entity_id in (1, 2, 3):
        w.add(invoice(entity_id, entity_id).build())
    w.pull()
    w.state.cursors.clear()  # e.g. an operator's full resync
    result = w.later().pull()
    counts = result.streams["invoices"]
    assert result.status is RunStatus.SUCCEEDED
    assert (counts.imported, counts.already_imported, counts.parked) == (0, 3, 0)
    assert len(w.ledger.commits) == 3


def test_given_a_crash_after_commit_before_cursor_save_then_next_run_imports_nothing_twice() -> None:
    w = world()
    for entity_id in (1, 2, 3):
        w.add(invoice(entity_id, entity_id).build())
    w.ledger.crash_after_commit(2)
    first = w.pull()
    assert first.status is RunStatus.FAILED and "connection lost" in (first.error or "")
    cursor = w.state.get_cursor("invoices")
    assert cursor is not None and cursor.entity_id == 1  # not past the document whose answer was lost
    second = w.later().pull()
    assert second.status is RunStatus.SUCCEEDED
    assert (second.streams["invoices"].already_imported, second.streams["invoices"].imported) == (1, 1)
    assert w.ledger.commits == [(INVOICE, 1), (INVOICE, 2), (INVOICE, 3)]


def test_given_a_document_committed_late_inside_the_overlap_window_then_it_is_not_missed() -> None:
    w = world()  # overlap 10 minutes
    w.add(invoice(1, 50).build())  # 08:50
    w.add(invoice(3, 58).build())  # 08:58
    late = w.add(invoice(2, 55).build(), visible_at=at(68))  # created 08:55, committed 09:08
    w.clock.current = at(65)
    assert w.pull().streams["invoices"].imported == 2
    assert w.state.get_cursor("invoices").entity_id == 3  # type: ignore[union-attr]
    result = w.later().pull()
    counts = result.streams["invoices"]
    assert (counts.imported, counts.skipped_seen, counts.already_imported) == (1, 2, 0)
    assert w.ledger.entity_ids(INVOICE) == [1, 2, 3]
    assert late.entity_id in w.state.get_cursor("invoices").seen_ids  # type: ignore[union-attr]


def test_given_the_cursor_then_the_next_read_starts_overlap_minutes_before_it() -> None:
    w = world()
    w.add(invoice(1, 30).build())
    w.pull()
    w.later().pull()
    stream, created_from, page, _ = w.sales.searches[-2]
    assert (stream, created_from, page) == ("invoices", at(20), 1)


def test_given_documents_created_after_the_run_started_then_left_for_the_next_run() -> None:
    w = world()
    w.add(invoice(1, 30).build())
    w.add(invoice(2, 61).build())  # 09:01, one minute after the run's start (clock skew, or a slow run)
    result = w.pull()
    counts = result.streams["invoices"]
    assert (counts.imported, counts.deferred) == (1, 1)
    cursor = w.state.get_cursor("invoices")
    assert cursor is not None and cursor.created_at <= w.clock.now() and cursor.entity_id == 1
    assert w.later().pull().streams["invoices"].imported == 1
    assert w.ledger.entity_ids(INVOICE) == [1, 2]


def test_given_a_first_run_with_a_pull_start_then_history_before_it_is_not_imported() -> None:
    w = world()
    w.add(invoice(1, 0).build())  # 08:00
    w.add(invoice(2, 40).build())  # 08:40
    w.pull(pull_start=at(30))
    assert w.sales.searches[0][1] == at(30)
    assert w.ledger.entity_ids(INVOICE) == [2]


# ------------------------------------------------------------------------------- bad records are parked


def test_given_a_bad_document_then_parked_naming_record_and_field_and_later_ones_imported() -> None:
    w = world()
    w.add(invoice(1, 1).build())
    bad = invoice(2, 2).build()
    bad.document["items"][0]["qty"] = -1
    w.add(bad)
    w.add(invoice(3, 3).build())
    result = w.pull()
    assert result.status is RunStatus.SUCCEEDED
    assert (result.streams["invoices"].imported, result.streams["invoices"].parked) == (2, 1)
    (parked,) = w.state.list_parked("invoices")
    assert parked.key == "2" and parked.field == "items[0].qty"
    assert parked.reason.startswith("invoice 000000002 (entity 2): items[0].qty:")
    assert parked.payload["items"][0]["qty"] == -1 and "extension_attributes" not in parked.payload
    assert w.state.get_cursor("invoices").entity_id == 3  # type: ignore[union-attr]
    assert w.ledger.entity_ids(INVOICE) == [1, 3]


def test_given_a_document_without_an_entity_id_then_parked_under_a_digest_and_the_stream_goes_on() -> None:
    w = world()
    broken = invoice(1, 1).build()
    del broken.document["entity_id"]
    w.sales.documents["invoices"][1] = broken.document
    w.add(invoice(2, 2).build())
    result = w.pull()
    assert result.summary_counts()["parked_total"] == 1
    (parked,) = w.state.list_parked("invoices")
    assert parked.key.startswith("unidentified-") and parked.field == "entity_id"
    assert w.ledger.entity_ids(INVOICE) == [2]
    w.later(60).pull()  # retried from its payload, parked again under the same key
    (again,) = w.state.list_parked("invoices")
    assert (again.key, again.attempts) == (parked.key, 2)


def test_given_an_unmapped_payment_method_then_parked_naming_the_method() -> None:
    w = world()
    w.add(invoice(1).paid_with("afterpay").build())
    assert w.pull().streams["invoices"].parked == 1
    (parked,) = w.state.list_parked("invoices")
    assert parked.field == "payment.method" and "'afterpay'" in parked.reason


def test_given_a_foreign_currency_then_parked_with_the_reason() -> None:
    w = world()
    w.add(invoice(1).in_currency("USD").build())
    w.pull()
    (parked,) = w.state.list_parked("invoices")
    assert (
        parked.field == "order_currency_code"
        and "currency USD is neither the base currency NZD" in parked.reason
    )


def test_given_totals_that_do_not_add_up_then_parked_with_the_figures() -> None:
    w = world()
    w.add(invoice(1).with_shipping(5).with_grand_total(40).build())
    w.pull()
    (parked,) = w.state.list_parked("invoices")
    assert parked.field == "grand_total"
    assert parked.reason.endswith(
        "lines 25.00 + shipping 5.00 + adjustments 0.00 = 30.00 but grand_total is 40.00"
    )


def test_given_a_sku_unknown_to_ci_then_parked_naming_the_sku() -> None:
    w = world()
    w.ledger = FakeLedger(known_skus={"TEE-RED-M"})
    w.add(invoice(1).build())
    w.add(invoice(2, 1, sku="GHOST-42").build())
    result = w.pull()
    assert (result.streams["invoices"].imported, result.streams["invoices"].parked) == (1, 1)
    (parked,) = w.state.list_parked("invoices")
    assert parked.key == "2" and "SKU 'GHOST-42'" in parked.reason and parked.field == "lines[0].sku"


def test_given_a_document_whose_order_is_missing_then_parked() -> None:
    w = world()
    w.add(invoice(1).build(), with_order=False)
    w.pull()
    (parked,) = w.state.list_parked("invoices")
    assert parked.field == "order_id" and "was not found in Magento" in parked.reason


def test_given_a_broken_order_then_parked_naming_the_document_and_the_order_field() -> None:
    w = world()
    built = invoice(1).build()
    del built.order["payment"]["method"]
    w.add(built)
    w.pull()
    (parked,) = w.state.list_parked("invoices")
    assert parked.field == "order.payment.method"
    assert parked.reason.startswith("invoice 000000001 (entity 1): order ")


def test_given_a_parked_document_when_its_cause_is_fixed_then_next_due_run_imports_and_unparks_it() -> None:
    w = world()
    w.add(invoice(1).paid_with("afterpay").build())
    w.pull()
    w.config = pull_config(payment_mapping={"checkmo": "BANK", "afterpay": "AFTERPAY"})
    result = w.later().pull()
    counts = result.streams["invoices"]
    assert (counts.imported, counts.unparked, counts.parked) == (1, 1, 0)
    assert w.state.list_parked() == []
    assert w.ledger.document(INVOICE, 1).tender_code == "AFTERPAY"


def test_given_a_parked_document_still_failing_then_retried_with_growing_intervals() -> None:
    w = world()
    w.ledger = FakeLedger(known_skus=set())
    w.add(invoice(1).build())
    w.pull()
    retried_at = []
    for _ in range(12):  # three hours of 15-minute runs
        result = w.later().pull()
        if result.streams["invoices"].still_parked:
            retried_at.append(w.clock.now())
    (parked,) = w.state.list_parked("invoices")
    assert parked.attempts == 1 + len(retried_at)
    gaps = [int((b - a).total_seconds() // 60) for a, b in itertools.pairwise(retried_at)]
    assert gaps == sorted(gaps) and gaps[-1] > 15
    assert w.ledger.import_calls == parked.attempts
    w.ledger.skus = {"TEE-RED-M"}
    w.later(600).pull()
    assert w.state.list_parked() == [] and w.ledger.entity_ids(INVOICE) == [1]


def test_given_a_parked_document_when_the_overlap_rereads_it_then_it_is_not_parked_again() -> None:
    w = world()
    w.add(invoice(1).paid_with("afterpay").build())
    w.pull()
    w.later(1).pull()  # not yet due for a retry; its created_at is still inside the overlap window
    (parked,) = w.state.list_parked("invoices")
    assert parked.attempts == 1
    w.state.cursors.clear()  # even when the cursor is lost, the read leaves it to the parked retry
    assert w.later(1).pull().streams["invoices"].skipped_parked == 1
    assert w.state.list_parked("invoices")[0].attempts == 1


# ----------------------------------------------------------------------- transient failures and deadlines


def test_given_a_transient_ledger_failure_then_stream_stops_there_and_next_run_repeats_the_rest() -> None:
    w = world()
    for entity_id in (1, 2, 3):
        w.add(invoice(entity_id, entity_id).build())
    w.add(CreditMemoBuilder(51, created_at=at(5)).with_item("TEE-RED-M", 1, 25).build())
    w.ledger.fail_after_imports(1)
    first = w.pull()
    assert first.status is RunStatus.FAILED and "deadlock" in (first.error or "")
    assert first.streams["invoices"].imported == 1
    assert first.streams["creditmemos"].imported == 1  # the other stream still ran
    assert w.state.get_cursor("invoices").entity_id == 1  # type: ignore[union-attr]
    second = w.later().pull()
    assert second.status is RunStatus.SUCCEEDED and second.streams["invoices"].imported == 2
    assert w.ledger.entity_ids(INVOICE) == [1, 2, 3]


def test_given_magento_unavailable_then_run_failed_and_no_cursor_moved() -> None:
    w = world()
    w.add(invoice(1).build())
    w.sales.fail_next("search", times=2)
    result = w.pull()
    assert result.status is RunStatus.FAILED and "503" in (result.error or "")
    assert w.state.cursors == {}
    assert w.later().pull().streams["invoices"].imported == 1


def test_given_the_order_fetch_fails_then_nothing_of_that_page_is_imported_or_passed() -> None:
    w = world()
    w.add(invoice(1).build())
    w.sales.fail_next("orders")
    assert w.pull().status is RunStatus.FAILED
    assert w.ledger.commits == [] and w.state.get_cursor("invoices") is None


def test_given_the_deadline_arrives_then_partial_with_cursor_saved_and_the_next_run_completes() -> None:
    w = world(sync={"page_size": 2})
    for entity_id in range(1, 8):
        w.add(invoice(entity_id, entity_id).build())
    first = w.pull(FakeDeadline(calls=5))
    assert first.status is RunStatus.PARTIAL
    done = first.streams["invoices"].imported
    assert 0 < done < 7
    assert w.state.get_cursor("invoices").entity_id == done  # type: ignore[union-attr]
    second = w.later().pull()
    assert second.status is RunStatus.SUCCEEDED
    assert second.streams["invoices"].imported == 7 - done
    assert w.ledger.commits == [(INVOICE, i) for i in range(1, 8)]


# ------------------------------------------------------------------------------- cost


def test_given_1000_invoices_then_magento_requests_grow_with_pages_not_documents() -> None:
    w = world(sync={"page_size": 100})
    for entity_id in range(1, 1001):
        w.add(invoice(entity_id, entity_id * 0.5).build())  # one every 30 s from 08:00
    w.clock.current = at(600)
    result = w.pull()
    assert result.streams["invoices"].imported == 1000
    assert w.sales.requests == Counter(
        {"search:invoices": 10, "orders": 10, "orders_calls": 10, "search:creditmemos": 1}
    )
    w.sales.requests.clear()
    idle = w.later().pull()
    assert idle.streams["invoices"].imported == 0
    # Nothing new: one search per stream re-reads the overlap window, no order is fetched, no SQL runs.
    assert w.sales.requests == Counter({"search:invoices": 1, "search:creditmemos": 1})
    assert w.ledger.import_calls == 1000


def test_given_write_back_then_imported_orders_get_a_comment_and_a_failed_comment_undoes_nothing() -> None:
    w = world(write_back_comments=True)
    first = w.add(invoice(1, 1).build())
    second = w.add(invoice(2, 2).build())
    w.sales.fail_next("comment")
    result = w.pull()
    counts = result.streams["invoices"]
    assert result.status is RunStatus.SUCCEEDED
    assert (counts.imported, counts.comments_added, counts.comment_failures) == (2, 1, 1)
    assert w.sales.comments == [(second.order_id, "Imported into CI Office as invoice W000002")]
    assert first.entity_id in w.ledger.entity_ids(INVOICE)
    w.state.cursors.clear()
    w.later().pull()  # a replay is already imported: no second comment
    assert len(w.sales.comments) == 1


def test_given_write_back_disabled_then_magento_is_not_written() -> None:
    w = world()
    w.add(invoice(1).build())
    w.pull()
    assert w.sales.comments == [] and "comment" not in w.sales.requests


def test_given_the_run_then_its_result_has_start_and_finish_times() -> None:
    w = world()
    result = w.pull()
    assert result.started_at == result.finished_at == datetime(2026, 11, 1, 9, 0, tzinfo=UTC)
    assert w.clock.now() - result.started_at < timedelta(seconds=1)


# ------------------------------------------------------------------------------- progress


class RecordingProgress:
    def __init__(self) -> None:
        self.events: list[tuple[str, str, int | None]] = []

    def start(self, step: str, total: int | None) -> None:
        self.events.append(("start", step, total))

    def advance(self, step: str, done: int) -> None:
        self.events.append(("advance", step, done))

    def finish(self, step: str) -> None:
        self.events.append(("finish", step, None))


def test_given_pages_and_a_due_parked_document_when_pulled_then_progress_reports_each_step() -> None:
    w = world(sync={"page_size": 2})
    for entity_id in (1, 2, 3):
        w.add(invoice(entity_id, entity_id).build())
    w.add(invoice(4, 4, sku="NOT-IN-CI").build())
    w.ledger.skus = {"TEE-RED-M"}  # the fourth invoice's SKU is unknown to CI Office: parked
    assert w.pull().streams["invoices"].parked == 1
    w.later(60)
    progress = RecordingProgress()
    PullSync(w.config, w.sales, w.ledger, w.state, w.clock, FakeDeadline(), progress=progress).run()
    assert progress.events == [
        ("start", "invoices parked", 1),
        ("advance", "invoices parked", 1),
        ("finish", "invoices parked", None),
        ("start", "invoices", 4),  # the overlap window re-reads what the cursor already holds
        ("advance", "invoices", 2),
        ("advance", "invoices", 2),
        ("finish", "invoices", None),
        ("start", "creditmemos", 0),
        ("advance", "creditmemos", 0),
        ("finish", "creditmemos", None),
    ]
