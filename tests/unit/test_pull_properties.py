"""Exactly once, whatever the timing: random arrivals (late commits inside the overlap window
included), run boundaries, deadlines and transient failures never lose or duplicate a document."""

from datetime import UTC, datetime, timedelta

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from kudos_sync.domain.ledger import DocumentKind
from kudos_sync.domain.state import RunStatus
from kudos_sync.sync.pull import STREAMS, PullSync

from tests.fakes.ledger import FakeLedger
from tests.fakes.sales import CreditMemoBuilder, FakeMagentoSales, InvoiceBuilder, pull_config
from tests.fakes.state import FakeClock, FakeDeadline, InMemoryStateStore

BASE = datetime(2026, 11, 1, 8, 0, tzinfo=UTC)
OVERLAP_MINUTES = 10

arrivals = st.lists(
    st.tuples(
        st.sampled_from(STREAMS),
        st.integers(min_value=0, max_value=120 * 60),  # created, seconds after 08:00
        st.integers(min_value=0, max_value=OVERLAP_MINUTES * 60 - 1),  # commit delay, inside the overlap
    ),
    min_size=1,
    max_size=30,
)
runs = st.lists(
    st.tuples(
        st.integers(min_value=0, max_value=150 * 60),  # run start, seconds after 08:00
        st.one_of(st.none(), st.integers(min_value=1, max_value=12)),  # deadline after n checks
        st.sampled_from([None, "search", "orders", "ledger", "crash"]),  # what fails in this run
    ),
    min_size=1,
    max_size=8,
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(arrivals=arrivals, runs=runs, page_size=st.integers(min_value=1, max_value=6), data=st.data())
def test_given_random_arrivals_and_run_boundaries_then_every_document_is_imported_exactly_once(
    arrivals: list[tuple[str, int, int]],
    runs: list[tuple[int, int | None, str | None]],
    page_size: int,
    data: st.DataObject,
) -> None:
    clock = FakeClock(BASE)
    sales, ledger, state = FakeMagentoSales(clock), FakeLedger(), InMemoryStateStore()
    config = pull_config(sync={"page_size": page_size, "overlap_minutes": OVERLAP_MINUTES})
    expected: dict[str, set[int]] = {stream: set() for stream in STREAMS}
    for index, (stream, created, delay) in enumerate(arrivals, start=1):
        builder = InvoiceBuilder if stream == "invoices" else CreditMemoBuilder
        created_at = BASE + timedelta(seconds=created)
        # Entity ids follow the list, not the time: Magento numbers rows at insert, not at created_at.
        built = builder(index, created_at=created_at).with_item("TEE-RED-M", 1, 25).build()
        sales.add(built, visible_at=created_at + timedelta(seconds=delay))
        expected[stream].add(index)

    def pull(deadline: FakeDeadline) -> RunStatus:
        run_start = clock.now()
        result = PullSync(config, sales, ledger, state, clock, deadline).run()
        for stream in STREAMS:
            cursor = state.get_cursor(stream)
            assert cursor is None or cursor.created_at <= run_start  # never past the run's own start
        return result.status

    for start, calls, failure in sorted(runs, key=lambda run: run[0]):
        clock.current = BASE + timedelta(seconds=start)
        if failure in ("search", "orders"):
            sales.fail_next(failure)  # type: ignore[arg-type]
        elif failure == "ledger":
            ledger.fail_after_imports(len(ledger.commits) + data.draw(st.integers(0, 3)))
        elif failure == "crash":
            ledger.crash_after_commit(data.draw(st.integers(1, len(arrivals))))
        pull(FakeDeadline(calls=calls))
        sales._failures.clear()
        ledger.fail_after_imports(0, times=0)

    clock.current = BASE + timedelta(minutes=200)  # everything committed long ago
    for _ in range(3):
        if pull(FakeDeadline()) is RunStatus.SUCCEEDED:
            break
    assert pull(FakeDeadline()) is RunStatus.SUCCEEDED

    assert len(ledger.commits) == len(set(ledger.commits)), "a document was written twice"
    assert set(ledger.entity_ids(DocumentKind.INVOICE)) == expected["invoices"]
    assert set(ledger.entity_ids(DocumentKind.CREDIT_NOTE)) == expected["creditmemos"]
    assert state.list_parked() == []
