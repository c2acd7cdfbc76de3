"""`kudos-sync status`: how each tenant stands, per direction, read from the state table only.

No tenant secret is read, so a tenant with a missing or broken secret still shows (as misconfigured,
from its last run). A partial run is not a success (the stale alarm agrees: it counts `RunSucceeded`
only); a tenant that never succeeded says "never".
"""

from collections.abc import Callable, Mapping, Sequence
from datetime import datetime, timedelta
from enum import IntEnum

from pydantic import BaseModel

from kudos_sync.domain.state import Direction, ParkedRecord, RunRecord, RunStatus, direction_of_stream
from kudos_sync.sync.ports import StateStore

# Who holds a direction's lease and until when (`DynamoStateStore.lease_holder`).
LeaseReader = Callable[[str, datetime], tuple[str, datetime] | None]

RUNS_READ = 50  # per direction: enough to find the last success behind a run of failures


class Health(IntEnum):
    """Worst first: `status --all` sorts on it."""

    MISCONFIGURED = 0
    FAILING = 1
    STALE = 2
    NEVER_SUCCEEDED = 3
    PARKED = 4
    OK = 5

    @property
    def label(self) -> str:
        return self.name.lower().replace("_", " ")


class DirectionStatus(BaseModel):
    direction: Direction
    health: str
    last_success_at: datetime | None
    last_success_age_seconds: int | None
    last_run_at: datetime | None
    last_outcome: str | None  # succeeded | partial | failed | skipped
    reason: str  # why the last run ended as it did ("" for a success)
    parked: int
    lease_holder: str | None
    lease_until: datetime | None


class TenantStatus(BaseModel):
    tenant: str
    health: str
    directions: list[DirectionStatus]


def run_reason(run: RunRecord) -> str:
    """Why a run ended as it did, for a person: failures carry their error; the others say why."""
    if run.status is RunStatus.SUCCEEDED:
        return ""
    if run.status is RunStatus.PARTIAL:
        return "out of time: checkpointed, the next run continues"
    if run.status is RunStatus.SKIPPED:
        return "another run held the lease"
    return run.error or "interrupted before it finished (no error recorded)"


def _is_misconfigured(run: RunRecord) -> bool:
    # run_once writes the class of a failure first: "configuration: ...", "transient: ...".
    return run.status is RunStatus.FAILED and (run.error or "").startswith("configuration:")


def direction_status(
    direction: Direction,
    runs: Sequence[RunRecord],
    parked: int,
    lease: tuple[str, datetime] | None,
    now: datetime,
    stale_after: timedelta,
) -> DirectionStatus:
    """One direction's standing from its recent runs (newest first), parked count and lease."""
    last = runs[0] if runs else None
    success = next((r for r in runs if r.status is RunStatus.SUCCEEDED), None)
    age = int((now - success.started_at).total_seconds()) if success else None
    if last is not None and _is_misconfigured(last):
        health = Health.MISCONFIGURED
    elif last is not None and last.status is RunStatus.FAILED:
        health = Health.FAILING
    elif success is None:
        health = Health.NEVER_SUCCEEDED
    elif age is not None and age > stale_after.total_seconds():
        health = Health.STALE
    elif parked:
        health = Health.PARKED
    else:
        health = Health.OK
    return DirectionStatus(
        direction=direction,
        health=health.label,
        last_success_at=success.started_at if success else None,
        last_success_age_seconds=age,
        last_run_at=last.started_at if last else None,
        last_outcome=last.status.value if last else None,
        reason=run_reason(last) if last else "no run recorded",
        parked=parked,
        lease_holder=lease[0] if lease else None,
        lease_until=lease[1] if lease else None,
    )


def _rank(label: str) -> int:
    return next(h.value for h in Health if h.label == label)


def tenant_status(
    tenant: str,
    runs: Mapping[Direction, Sequence[RunRecord]],
    parked: Sequence[ParkedRecord],
    leases: Mapping[Direction, tuple[str, datetime] | None],
    now: datetime,
    stale_after: timedelta,
) -> TenantStatus:
    directions = [
        direction_status(
            direction,
            runs.get(direction, ()),
            sum(1 for r in parked if direction_of_stream(r.stream) is direction),
            leases.get(direction),
            now,
            stale_after,
        )
        for direction in Direction
    ]
    worst = min(directions, key=lambda d: _rank(d.health))
    return TenantStatus(tenant=tenant, health=worst.health, directions=directions)


def read_tenant_status(
    tenant: str, state: StateStore, lease_of: LeaseReader, now: datetime, stale_after: timedelta
) -> TenantStatus:
    runs = {d: state.list_runs(d.value, RUNS_READ) for d in Direction}
    leases = {d: lease_of(d.value, now) for d in Direction}
    return tenant_status(tenant, runs, state.list_parked(), leases, now, stale_after)


def sort_unhealthy_first(statuses: Sequence[TenantStatus]) -> list[TenantStatus]:
    return sorted(statuses, key=lambda s: (_rank(s.health), s.tenant))


def age_text(seconds: int | None) -> str:
    """'never', '40 s ago', '12 min ago', '3 h 5 min ago', '2 d 4 h ago'."""
    if seconds is None:
        return "never"
    if seconds < 60:
        return f"{seconds} s ago"
    minutes = seconds // 60
    if minutes < 60:
        return f"{minutes} min ago"
    hours, minutes = divmod(minutes, 60)
    if hours < 48:
        return f"{hours} h {minutes} min ago"
    days, hours = divmod(hours, 24)
    return f"{days} d {hours} h ago"
