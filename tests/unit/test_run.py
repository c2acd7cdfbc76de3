"""The run envelope: lease, run record, failure classes."""

import threading
from dataclasses import dataclass, field

import pytest
from kudos_sync.domain.errors import ConfigurationError, TransientError
from kudos_sync.domain.state import Direction, RunStatus
from kudos_sync.sync.run import run_once

from tests.fakes.state import FakeClock, InMemoryStateStore


@dataclass
class Result:
    status: str = "succeeded"
    counts: dict[str, int] = field(default_factory=lambda: {"stock_sent": 3})

    def summary_counts(self) -> dict[str, int]:
        return self.counts

    def summary_seconds(self) -> dict[str, float]:
        return {"stock": 1.5}


def test_given_free_lease_when_run_then_work_done_recorded_and_lease_released() -> None:
    state, clock = InMemoryStateStore(), FakeClock()
    record = run_once(
        tenant="acme", direction=Direction.PUSH, state=state, clock=clock, work=Result, lease_seconds=60
    )
    assert record.status is RunStatus.SUCCEEDED
    assert record.counts == {"stock_sent": 3, "parked_now": 0}
    assert record.seconds == {"stock": 1.5}
    assert state.list_runs("push") == [record]
    assert state.leases == {}


def test_given_two_concurrent_runs_then_one_proceeds_and_one_backs_off() -> None:
    state, clock = InMemoryStateStore(), FakeClock()
    inside = threading.Event()
    release = threading.Event()
    worked: list[str] = []

    def slow_work() -> Result:
        worked.append("first")
        inside.set()
        release.wait(5)
        return Result()

    results = {}
    first = threading.Thread(
        target=lambda: results.__setitem__(
            "first",
            run_once(
                tenant="acme",
                direction=Direction.PUSH,
                state=state,
                clock=clock,
                work=slow_work,
                lease_seconds=60,
            ),
        )
    )
    first.start()
    assert inside.wait(5)

    def second_work() -> Result:
        worked.append("second")
        return Result()

    second = run_once(
        tenant="acme", direction=Direction.PUSH, state=state, clock=clock, work=second_work, lease_seconds=60
    )
    release.set()
    first.join(5)
    assert second.status is RunStatus.SKIPPED
    assert results["first"].status is RunStatus.SUCCEEDED
    assert worked == ["first"]


def test_given_other_direction_running_when_run_then_not_blocked() -> None:
    state, clock = InMemoryStateStore(), FakeClock()
    assert state.acquire_lease("pull", "someone", clock.now(), clock.now().replace(year=2030))
    record = run_once(
        tenant="acme", direction=Direction.PUSH, state=state, clock=clock, work=Result, lease_seconds=60
    )
    assert record.status is RunStatus.SUCCEEDED


def test_given_expired_lease_of_a_killed_run_when_run_then_proceeds() -> None:
    state, clock = InMemoryStateStore(), FakeClock()
    assert state.acquire_lease("push", "zombie", clock.now(), clock.now())
    clock.advance(seconds=1)
    record = run_once(
        tenant="acme", direction=Direction.PUSH, state=state, clock=clock, work=Result, lease_seconds=60
    )
    assert record.status is RunStatus.SUCCEEDED


def test_given_partial_work_then_run_recorded_partial() -> None:
    state = InMemoryStateStore()
    record = run_once(
        tenant="acme",
        direction=Direction.PUSH,
        state=state,
        clock=FakeClock(),
        work=lambda: Result(status="partial"),
        lease_seconds=60,
    )
    assert record.status is RunStatus.PARTIAL


def test_given_transient_failure_then_run_failed_recorded_and_lease_released() -> None:
    state = InMemoryStateStore()

    def work() -> Result:
        raise TransientError("Magento answered 503 for POST /V1/inventory/source-items")

    record = run_once(
        tenant="acme", direction=Direction.PULL, state=state, clock=FakeClock(), work=work, lease_seconds=60
    )
    assert record.status is RunStatus.FAILED
    assert record.error is not None and "503" in record.error
    assert state.leases == {}


def test_given_configuration_error_then_recorded_and_raised() -> None:
    state = InMemoryStateStore()

    def work() -> Result:
        raise ConfigurationError("tenant acme: Magento refused the integration credentials (401)")

    with pytest.raises(ConfigurationError):
        run_once(
            tenant="acme",
            direction=Direction.PULL,
            state=state,
            clock=FakeClock(),
            work=work,
            lease_seconds=60,
        )
    [record] = state.list_runs()
    assert record.status is RunStatus.FAILED and record.error and record.error.startswith("configuration")
    assert state.leases == {}


def test_given_unexpected_bug_then_run_recorded_failed_and_raised() -> None:
    state = InMemoryStateStore()

    def work() -> Result:
        raise KeyError("boom")

    with pytest.raises(KeyError):
        run_once(
            tenant="acme",
            direction=Direction.PUSH,
            state=state,
            clock=FakeClock(),
            work=work,
            lease_seconds=60,
        )
    [record] = state.list_runs()
    assert record.status is RunStatus.FAILED and record.error == "unexpected: KeyError"


def test_given_previous_success_then_lag_since_it_is_recorded() -> None:
    state, clock = InMemoryStateStore(), FakeClock()
    first = run_once(
        tenant="acme", direction=Direction.PUSH, state=state, clock=clock, work=Result, lease_seconds=60
    )
    assert "lag_seconds" not in first.counts
    clock.advance(minutes=15)
    second = run_once(
        tenant="acme", direction=Direction.PUSH, state=state, clock=clock, work=Result, lease_seconds=60
    )
    assert second.counts["lag_seconds"] == 900
