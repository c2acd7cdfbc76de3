"""The pull's cursor: monotone, never past the run's start, and its de-duplication set bounded by the
overlap window."""

from datetime import UTC, datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st
from kudos_sync.domain.state import Cursor
from kudos_sync.sync.pull import PullSync

from tests.fakes.ledger import FakeLedger
from tests.fakes.sales import FakeMagentoSales, InvoiceBuilder, parse_magento_time, pull_config
from tests.fakes.state import FakeClock, FakeDeadline, InMemoryStateStore

BASE = datetime(2026, 11, 1, 8, 0, tzinfo=UTC)


@settings(max_examples=100, deadline=None)
@given(
    created=st.lists(st.integers(min_value=0, max_value=240), min_size=1, max_size=40),
    run_minutes=st.lists(st.integers(min_value=0, max_value=300), min_size=1, max_size=6),
    deadline_calls=st.one_of(st.none(), st.integers(min_value=1, max_value=15)),
    overlap=st.integers(min_value=0, max_value=30),
    page_size=st.integers(min_value=1, max_value=7),
)
def test_given_any_runs_then_the_cursor_only_moves_forward_and_remembers_only_the_overlap_window(
    created: list[int], run_minutes: list[int], deadline_calls: int | None, overlap: int, page_size: int
) -> None:
    clock = FakeClock(BASE)
    sales, state = FakeMagentoSales(clock), InMemoryStateStore()
    config = pull_config(sync={"page_size": page_size, "overlap_minutes": overlap})
    created_at: dict[int, datetime] = {}
    for entity_id, minute in enumerate(created, start=1):
        built = (
            InvoiceBuilder(entity_id, created_at=BASE + timedelta(minutes=minute))
            .with_item("A", 1, 1)
            .build()
        )
        sales.add(built)
        created_at[entity_id] = parse_magento_time(built.document["created_at"])

    previous: Cursor | None = None
    for minute in sorted(run_minutes):
        clock.current = BASE + timedelta(minutes=minute)
        PullSync(config, sales, FakeLedger(), state, clock, FakeDeadline(calls=deadline_calls)).run()
        cursor = state.get_cursor("invoices")
        if cursor is None:
            continue
        assert cursor.created_at <= clock.now()
        assert created_at[cursor.entity_id] == cursor.created_at
        if previous is not None:
            assert (cursor.created_at, cursor.entity_id) >= (previous.created_at, previous.entity_id)
        window_start = cursor.created_at - timedelta(minutes=overlap)
        assert all(created_at[i] >= window_start for i in cursor.seen_ids)
        assert cursor.entity_id in cursor.seen_ids
        previous = cursor


def test_given_no_documents_then_no_cursor_is_written() -> None:
    state = InMemoryStateStore()
    clock = FakeClock()
    PullSync(pull_config(), FakeMagentoSales(clock), FakeLedger(), state, clock, FakeDeadline()).run()
    assert state.cursors == {}


def test_given_nothing_new_then_the_cursor_is_not_rewritten() -> None:
    clock = FakeClock()
    sales, state = FakeMagentoSales(clock), InMemoryStateStore()
    sales.add(InvoiceBuilder(1, created_at=BASE).with_item("A", 1, 1).build())
    PullSync(pull_config(), sales, FakeLedger(), state, clock, FakeDeadline()).run()
    saved = state.cursors["invoices"]
    recording = RecordingStateStore()
    recording.cursors = dict(state.cursors)
    clock.advance(minutes=15)
    PullSync(pull_config(), sales, FakeLedger(), recording, clock, FakeDeadline()).run()
    assert recording.writes == [] and recording.cursors["invoices"] == saved


class RecordingStateStore(InMemoryStateStore):
    def __init__(self) -> None:
        super().__init__()
        self.writes: list[Cursor] = []

    def save_cursor(self, cursor: Cursor) -> None:
        self.writes.append(cursor)
        super().save_cursor(cursor)
