"""`kudos-sync status`: how a direction's recent runs read to an operator."""

from datetime import UTC, datetime, timedelta

import pytest
from kudos_sync.cli.fleet import (
    Health,
    age_text,
    direction_status,
    sort_unhealthy_first,
    tenant_status,
)
from kudos_sync.domain.ids import RunId
from kudos_sync.domain.state import Direction, ParkedRecord, RunRecord, RunStatus

NOW = datetime(2026, 12, 4, 12, 0, tzinfo=UTC)
HOUR = timedelta(hours=1)


def run(minutes_ago: float, status: RunStatus, error: str | None = None) -> RunRecord:
    started = NOW - timedelta(minutes=minutes_ago)
    return RunRecord(
        tenant="acme-nz",
        direction=Direction.PUSH,
        run_id=RunId(f"r{minutes_ago}"),
        started_at=started,
        finished_at=started + timedelta(seconds=30),
        status=status,
        error=error,
    )


def test_given_only_partial_runs_then_the_direction_never_succeeded() -> None:
    status = direction_status(
        Direction.PUSH, [run(5, RunStatus.PARTIAL), run(20, RunStatus.PARTIAL)], 0, None, NOW, HOUR
    )
    assert status.last_success_at is None and status.last_success_age_seconds is None
    assert status.health == Health.NEVER_SUCCEEDED.label
    assert status.reason == "out of time: checkpointed, the next run continues"
    assert age_text(status.last_success_age_seconds) == "never"


def test_given_a_success_behind_a_partial_then_its_age_is_the_successes() -> None:
    status = direction_status(
        Direction.PUSH, [run(5, RunStatus.PARTIAL), run(30, RunStatus.SUCCEEDED)], 0, None, NOW, HOUR
    )
    assert status.last_success_age_seconds == 30 * 60
    assert status.last_outcome == "partial" and status.health == "ok"


@pytest.mark.parametrize(
    ("minutes", "health"), [(60, "ok"), (60.02, "stale")], ids=["at-threshold", "just-past"]
)
def test_stale_only_past_the_threshold(minutes: float, health: str) -> None:
    status = direction_status(Direction.PUSH, [run(minutes, RunStatus.SUCCEEDED)], 0, None, NOW, HOUR)
    assert status.health == health


def test_a_configuration_failure_is_misconfigured_and_a_transient_one_failing() -> None:
    bad = direction_status(
        Direction.PUSH, [run(1, RunStatus.FAILED, "configuration: secret missing")], 0, None, NOW, HOUR
    )
    flaky = direction_status(
        Direction.PUSH, [run(1, RunStatus.FAILED, "transient: timeout")], 0, None, NOW, HOUR
    )
    assert (bad.health, flaky.health) == ("misconfigured", "failing")
    assert bad.reason == "configuration: secret missing"


def test_skipped_and_interrupted_runs_say_why() -> None:
    skipped = direction_status(Direction.PUSH, [run(1, RunStatus.SKIPPED)], 0, None, NOW, HOUR)
    interrupted = direction_status(Direction.PUSH, [run(1, RunStatus.FAILED)], 0, None, NOW, HOUR)
    assert skipped.reason == "another run held the lease"
    assert interrupted.reason.startswith("interrupted")


def test_no_runs_reads_never_and_names_no_outcome() -> None:
    status = direction_status(Direction.PULL, [], 0, None, NOW, HOUR)
    assert (status.last_outcome, status.reason, status.health) == (None, "no run recorded", "never succeeded")


def test_parked_records_count_for_the_direction_that_owns_their_stream() -> None:
    parked = [
        ParkedRecord(stream=stream, key="k", reason="r", first_seen=NOW, last_seen=NOW)
        for stream in ("stock", "invoices", "creditmemos")
    ]
    lease = ("run-9", NOW + timedelta(minutes=5))
    ok = {d: [run(2, RunStatus.SUCCEEDED)] for d in Direction}
    status = tenant_status("acme-nz", ok, parked, {Direction.PULL: lease}, NOW, HOUR)
    push, pull = status.directions
    assert (push.parked, pull.parked) == (1, 2)
    assert (push.lease_holder, pull.lease_holder) == (None, "run-9")
    assert status.health == "parked"


def test_the_fleet_is_sorted_unhealthy_first_then_by_tenant() -> None:
    ok = {d: [run(2, RunStatus.SUCCEEDED)] for d in Direction}
    failing = {Direction.PUSH: [run(1, RunStatus.FAILED, "transient: x")], Direction.PULL: ok[Direction.PULL]}
    misconfigured = {Direction.PUSH: [run(1, RunStatus.FAILED, "configuration: x")]}
    statuses = [
        tenant_status("a-ok", ok, [], {}, NOW, HOUR),
        tenant_status("b-failing", failing, [], {}, NOW, HOUR),
        tenant_status("c-bad", misconfigured, [], {}, NOW, HOUR),
        tenant_status("d-ok", ok, [], {}, NOW, HOUR),
    ]
    assert [s.tenant for s in sort_unhealthy_first(statuses)] == ["c-bad", "b-failing", "a-ok", "d-ok"]


@pytest.mark.parametrize(
    ("seconds", "text"),
    [
        (None, "never"),
        (0, "0 s ago"),
        (59, "59 s ago"),
        (60, "1 min ago"),
        (3599, "59 min ago"),
        (3600, "1 h 0 min ago"),
        (47 * 3600 + 59 * 60, "47 h 59 min ago"),
        (48 * 3600, "2 d 0 h ago"),
    ],
)
def test_ages_read_as_people_say_them(seconds: int | None, text: str) -> None:
    assert age_text(seconds) == text
