"""The tenant lease: operator writers refuse while a run holds it, runs renew it, a lost lease stops
writes."""

from datetime import timedelta

import pytest
from kudos_sync.domain.errors import LeaseHeldError, LeaseLostError, TransientError
from kudos_sync.domain.state import BindingKind, Direction, RunStatus
from kudos_sync.sync.lease import Lease, LeasedDeadline, LeasedState, holding_lease
from kudos_sync.sync.run import run_once

from tests.contract.builders import a_binding, a_cursor, a_parked
from tests.fakes.state import FakeClock, FakeDeadline, InMemoryStateStore

LEASE_SECONDS = 960.0


def a_lease(state: InMemoryStateStore, clock: FakeClock, holder: str = "run-a") -> Lease:
    return Lease(state, "acme", Direction.PUSH, holder, clock, LEASE_SECONDS)


def test_given_fresh_lease_when_kept_before_a_third_has_passed_then_not_renewed() -> None:
    state, clock = InMemoryStateStore(), FakeClock()
    lease = a_lease(state, clock)
    assert lease.acquire()
    clock.advance(seconds=LEASE_SECONDS / 3 - 1)
    assert lease.keep()
    assert lease.renewals == 0
    assert state.leases["push"][1] == clock.current - timedelta(seconds=LEASE_SECONDS / 3 - 1) + lease.length


def test_given_a_third_of_the_lease_passed_when_kept_then_renewed_to_a_full_lease_from_now() -> None:
    state, clock = InMemoryStateStore(), FakeClock()
    lease = a_lease(state, clock)
    assert lease.acquire()
    clock.advance(seconds=LEASE_SECONDS / 3)
    assert lease.keep()
    assert lease.renewals == 1
    assert state.leases["push"] == ("run-a", clock.current + lease.length)


def test_given_lease_taken_over_after_expiry_when_kept_then_lost_for_good_and_writes_refused() -> None:
    state, clock = InMemoryStateStore(), FakeClock()
    lease = a_lease(state, clock)
    assert lease.acquire()
    leased, deadline = LeasedState(state, lease), LeasedDeadline(FakeDeadline(), lease)
    clock.advance(seconds=LEASE_SECONDS + 1)  # stalled past its lease
    assert a_lease(state, clock, holder="run-b").acquire()
    assert deadline.remaining_seconds() == 0.0, "the run winds down at its next check"
    with pytest.raises(LeaseLostError, match="acme") as lost:
        leased.save_bindings([a_binding("STYLE-1")])
    assert isinstance(lost.value, TransientError), "the run ends failed, for the next one to repeat"
    for write in (
        lambda: leased.delete_bindings(BindingKind.PRODUCT),
        lambda: leased.save_cursor(a_cursor()),
        lambda: leased.park(a_parked("products", "STYLE-1")),
        lambda: leased.unpark("products", "STYLE-1"),
    ):
        with pytest.raises(LeaseLostError):
            write()
    assert state.bindings == {} and state.cursors == {} and state.parked == {}
    assert state.leases["push"][0] == "run-b", "the new holder keeps its lease"
    clock.advance(seconds=1)
    assert not lease.keep(), "a lost lease is not silently taken back"


def test_given_run_holds_the_lease_when_operator_writes_then_refused_with_holder_and_end_time() -> None:
    state, clock = InMemoryStateStore(), FakeClock()
    assert a_lease(state, clock, holder="20261101T090000Z-abcd1234").acquire()
    with (
        pytest.raises(LeaseHeldError) as refused,
        holding_lease(state, "acme", Direction.PUSH, "operator", clock, LEASE_SECONDS),
    ):
        pytest.fail("the operator's write must not run")
    assert str(refused.value) == (
        "tenant acme: a push run (holder 20261101T090000Z-abcd1234) holds the lease until "
        "2026-11-01 09:16:00 UTC; try again after it ends"
    )


def test_given_free_lease_when_operator_writes_then_held_during_the_write_and_released_after() -> None:
    state, clock = InMemoryStateStore(), FakeClock()
    with holding_lease(state, "acme", Direction.PULL, "operator", clock, LEASE_SECONDS) as leased:
        assert a_lease(state, clock, holder="run-b").acquire(), "the push lease is another lease"
        assert not Lease(state, "acme", Direction.PULL, "run-c", clock, LEASE_SECONDS).acquire()
        leased.park(a_parked("invoices", "17"))
    assert "pull" not in state.leases and state.leases["push"][0] == "run-b"
    assert [r.key for r in state.list_parked("invoices")] == ["17"]


def test_given_run_longer_than_its_lease_when_it_checks_the_deadline_then_it_keeps_the_lease() -> None:
    state, clock = InMemoryStateStore(), FakeClock()
    lease = a_lease(state, clock)
    deadline = LeasedDeadline(FakeDeadline(), lease)
    other_got_in: list[bool] = []

    class LongWork:
        status = "succeeded"

        def __init__(self) -> None:
            for _ in range(10):  # 10 x 200 s: twice the lease
                clock.advance(seconds=200)
                assert deadline.remaining_seconds() > 0
                other_got_in.append(a_lease(state, clock, holder="run-b").acquire())

        def summary_counts(self) -> dict[str, int]:
            return {}

        def summary_seconds(self) -> dict[str, float]:
            return {}

    record = run_once(
        tenant="acme",
        direction=Direction.PUSH,
        state=state,
        clock=clock,
        work=LongWork,
        lease_seconds=LEASE_SECONDS,
        lease=lease,
    )
    assert record.status is RunStatus.SUCCEEDED
    assert record.run_id == "run-a"
    assert other_got_in == [False] * 10
    assert lease.renewals >= 3
    assert state.leases == {}, "released at the end"


def test_given_busy_lease_when_an_operator_run_refuses_then_no_skipped_run_is_recorded() -> None:
    state, clock = InMemoryStateStore(), FakeClock()
    assert a_lease(state, clock, holder="scheduled").acquire()
    with pytest.raises(LeaseHeldError, match="holder scheduled"):
        run_once(
            tenant="acme",
            direction=Direction.PUSH,
            state=state,
            clock=clock,
            work=lambda: pytest.fail("no work while the lease is held"),
            lease_seconds=LEASE_SECONDS,
            refuse_when_busy=True,
        )
    assert state.runs == []
