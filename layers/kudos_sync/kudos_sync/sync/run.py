"""One run of one tenant and direction: lease, work, run record. Pure: the ports do the I/O.

A lease (conditional write with expiry, `sync.lease`) keeps two runs of a tenant and direction from
overlapping; a second invocation backs off with status `skipped` (or, for an operator who asked for it,
raises LeaseHeldError naming the holder). The lease outlives the Lambda timeout, so a run killed without
releasing it blocks the next one only until the lease expires; a longer run (`kudos-sync run --budget`)
renews it as it goes and stops writing if a renewal fails.
"""

import logging
import uuid
from collections.abc import Callable
from datetime import datetime
from typing import Protocol

from kudos_sync.domain.errors import ConfigurationError, TransientError
from kudos_sync.domain.ids import RunId
from kudos_sync.domain.state import Direction, RunRecord, RunStatus
from kudos_sync.sync.lease import Lease
from kudos_sync.sync.ports import Clock, StateStore

log = logging.getLogger(__name__)


class SyncResult(Protocol):
    """What push and pull results have in common for the run record."""

    @property
    def status(self) -> str: ...

    def summary_counts(self) -> dict[str, int]: ...

    def summary_seconds(self) -> dict[str, float]: ...


def new_run_id(started_at: datetime) -> RunId:
    return RunId(f"{started_at:%Y%m%dT%H%M%SZ}-{uuid.uuid4().hex[:8]}")


def run_once(
    *,
    tenant: str,
    direction: Direction,
    state: StateStore,
    clock: Clock,
    work: Callable[[], SyncResult],
    lease_seconds: float,
    request_counts: Callable[[], tuple[dict[str, int], dict[str, int]]] = lambda: ({}, {}),
    run_id: RunId | None = None,
    lease: Lease | None = None,
    refuse_when_busy: bool = False,
) -> RunRecord:
    """Hold the lease, do the work, record the run. Configuration errors are re-raised after the
    run is recorded (they need a human); transient ones end the run as failed for the next to retry.

    `lease`: the lease the work's state and deadline keep (`LeasedState`, `LeasedDeadline`); its
    holder is the run id (named here when the lease has none yet). Without one, the run takes a lease
    of `lease_seconds` itself.
    `refuse_when_busy`: raise LeaseHeldError instead of recording a skipped run."""
    started = clock.now()
    if lease is None:
        lease = Lease(state, tenant, direction, "", clock, lease_seconds)
    if not lease.holder:
        lease.holder = run_id or new_run_id(started)
    run_id = RunId(lease.holder)
    record = RunRecord(
        tenant=tenant, direction=direction, run_id=run_id, started_at=started, status=RunStatus.FAILED
    )
    if not lease.acquire(started):
        if refuse_when_busy:
            raise lease.held_by_other()
        log.info("another %s run of tenant %s holds the lease; backing off", direction.value, tenant)
        record = record.model_copy(update={"status": RunStatus.SKIPPED, "finished_at": clock.now()})
        state.save_run(record)
        return record
    failure: ConfigurationError | None = None
    previous_success = next(
        (
            r
            for r in state.list_runs(direction.value, 50)
            if r.status in (RunStatus.SUCCEEDED, RunStatus.PARTIAL)
        ),
        None,
    )
    try:
        result = work()
        # A core may end a run itself (e.g. a stream stopped on a transient failure) and say so.
        status = RunStatus(result.status)
        counts = {**result.summary_counts(), "parked_now": len(state.list_parked())}
        if previous_success is not None:
            # How long the tenant went without a successful run before this one (~ the schedule when healthy).
            counts["lag_seconds"] = int((started - previous_success.started_at).total_seconds())
        record = record.model_copy(
            update={"status": status, "counts": counts, "seconds": result.summary_seconds()}
        )
        if status is RunStatus.FAILED:
            # A core that ends its own run as failed (the pull, on a transient error per stream) says
            # why in `error`; without it the record would read as a run that was cut short.
            reason = getattr(result, "error", None) or "the run reported a failure"
            record = record.model_copy(update={"error": f"transient: {reason}"})
    except TransientError as exc:
        log.warning(
            "%s run of tenant %s ended early on a transient failure: %s", direction.value, tenant, exc
        )
        record = record.model_copy(update={"status": RunStatus.FAILED, "error": f"transient: {exc}"})
    except ConfigurationError as exc:
        log.error("%s run of tenant %s stopped on a configuration problem: %s", direction.value, tenant, exc)
        record = record.model_copy(update={"status": RunStatus.FAILED, "error": f"configuration: {exc}"})
        failure = exc
    except Exception as exc:
        record = record.model_copy(
            update={"status": RunStatus.FAILED, "error": f"unexpected: {type(exc).__name__}"}
        )
        raise
    finally:
        requests, items = request_counts()
        record = record.model_copy(update={"finished_at": clock.now(), "requests": requests, "items": items})
        state.save_run(record)
        lease.release()
    if failure is not None:
        raise failure
    return record
