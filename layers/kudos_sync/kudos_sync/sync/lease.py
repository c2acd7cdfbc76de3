"""The tenant's lease: every writer of a tenant's state holds it for the direction it touches.

One lease per tenant and direction (a conditional write with expiry, see `StateStore`). Scheduled and
operator runs take it in `run_once`; operator writers that are not runs (`resync`, `parked drop`) take
it with `holding_lease`, and refuse with one line while a run holds it. A holder renews the lease as it
goes (`Lease.keep`, called at every deadline check and before every state write through `LeasedState`),
so a run longer than the lease keeps it; when a renewal fails (the lease expired and another writer may
have it), the holder stops writing: its deadline reads zero and its state writes raise LeaseLostError.
Binding writes are also conditional on the version read (see `StateStore`), which catches a holder
that lost its lease between two renewals.
"""

import logging
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime, timedelta

from kudos_sync.domain.errors import LeaseHeldError, LeaseLostError
from kudos_sync.domain.state import Binding, BindingKind, Cursor, Direction, ParkedRecord, RunRecord
from kudos_sync.sync.ports import Clock, Deadline, LeaseHolder, StateStore

log = logging.getLogger(__name__)

# A holder renews once this share of the lease has passed: two more renewals fit before it expires.
RENEW_AFTER = 1 / 3


class Lease:
    """One holder's lease on a tenant and direction. Thread-safe: a run's threads may all keep it.
    `holder` may be left empty until the lease is taken (a run names itself when it starts)."""

    def __init__(
        self,
        state: StateStore,
        tenant: str,
        direction: Direction,
        holder: str,
        clock: Clock,
        seconds: float,
    ) -> None:
        if seconds <= 0:
            raise ValueError("a lease lasts a positive number of seconds")
        self.state = state
        self.tenant = tenant
        self.direction = direction
        self.holder = holder
        self.clock = clock
        self.length = timedelta(seconds=seconds)
        self._lock = threading.Lock()
        self._renewed_at: datetime | None = None
        self.lost = False
        self.renewals = 0

    def acquire(self, now: datetime | None = None) -> bool:
        """Take the lease if it is free or expired (`now`: the caller's reading of the clock, if it
        has one); False when another holder has it."""
        if not self.holder:
            raise ValueError("a lease needs its holder before it is taken")
        now = now or self.clock.now()
        with self._lock:
            if not self.state.acquire_lease(self.direction.value, self.holder, now, now + self.length):
                return False
            self._renewed_at = now
            self.lost = False
            return True

    def keep(self) -> bool:
        """Renew the lease once a third of it has passed; False (for good) once a renewal failed."""
        with self._lock:
            if self.lost or self._renewed_at is None:  # lost, or not held at all
                return False
            now = self.clock.now()
            if now - self._renewed_at < self.length * RENEW_AFTER:
                return True
            if self.state.renew_lease(self.direction.value, self.holder, now + self.length):
                self._renewed_at = now
                self.renewals += 1
                return True
            self.lost = True
        log.error(
            "%s lease of tenant %s lost by %s: it stops writing",
            self.direction.value,
            self.tenant,
            self.holder,
        )
        return False

    def ensure_held(self) -> None:
        """Keep the lease, or raise LeaseLostError: what follows must not be written."""
        if not self.keep():
            raise LeaseLostError(
                f"tenant {self.tenant}: the {self.direction.value} lease of {self.holder} expired and could "
                "not be renewed; stopped before writing more state"
            )

    def release(self) -> None:
        with self._lock:
            if self._renewed_at is not None:
                self.state.release_lease(self.direction.value, self.holder)
                self._renewed_at = None

    def held_by_other(self) -> LeaseHeldError:
        """The one-line refusal to give while another holder has the lease."""
        current: LeaseHolder | None = self.state.current_lease(self.direction.value)
        if current is None:  # released a moment ago: the caller may simply try again
            return LeaseHeldError(
                f"tenant {self.tenant}: a {self.direction.value} run held the lease a moment ago; try again"
            )
        return LeaseHeldError(
            f"tenant {self.tenant}: a {self.direction.value} run (holder {current.holder}) holds the lease "
            f"until {current.until:%Y-%m-%d %H:%M:%S} UTC; try again after it ends"
        )


@contextmanager
def holding_lease(
    state: StateStore,
    tenant: str,
    direction: Direction,
    holder: str,
    clock: Clock,
    seconds: float,
) -> Iterator["LeasedState"]:
    """Hold the lease for an operator's write, yielding the state to write through; raise
    LeaseHeldError (one line: who holds it and until when) while a run holds it."""
    lease = Lease(state, tenant, direction, holder, clock, seconds)
    if not lease.acquire():
        raise lease.held_by_other()
    try:
        yield LeasedState(state, lease)
    finally:
        lease.release()


class LeasedDeadline:
    """A run's deadline that keeps its lease: zero seconds left once the lease is lost, so the run
    winds down at its next check."""

    def __init__(self, deadline: Deadline, lease: Lease) -> None:
        self.deadline = deadline
        self.lease = lease

    def remaining_seconds(self) -> float:
        if not self.lease.keep():
            return 0.0
        return self.deadline.remaining_seconds()


class LeasedState:
    """The StateStore as a lease holder sees it: every write keeps the lease first and raises
    LeaseLostError (transient: the run ends failed) instead of writing once it is lost. Reads and the
    lease and run-record calls pass straight through."""

    def __init__(self, state: StateStore, lease: Lease) -> None:
        self.state = state
        self.lease = lease

    def acquire_lease(self, direction: str, holder: str, now: datetime, until: datetime) -> bool:
        return self.state.acquire_lease(direction, holder, now, until)

    def current_lease(self, direction: str) -> LeaseHolder | None:
        return self.state.current_lease(direction)

    def renew_lease(self, direction: str, holder: str, until: datetime) -> bool:
        return self.state.renew_lease(direction, holder, until)

    def release_lease(self, direction: str, holder: str) -> None:
        self.state.release_lease(direction, holder)

    def load_bindings(self, kind: BindingKind) -> dict[str, Binding]:
        return self.state.load_bindings(kind)

    def save_bindings(self, bindings: Sequence[Binding]) -> None:
        self.lease.ensure_held()
        self.state.save_bindings(bindings)

    def delete_bindings(self, kind: BindingKind, keys: Sequence[str] | None = None) -> int:
        self.lease.ensure_held()
        return self.state.delete_bindings(kind, keys)

    def get_cursor(self, stream: str) -> Cursor | None:
        return self.state.get_cursor(stream)

    def save_cursor(self, cursor: Cursor) -> None:
        self.lease.ensure_held()
        self.state.save_cursor(cursor)

    def park(self, record: ParkedRecord) -> None:
        self.lease.ensure_held()
        self.state.park(record)

    def unpark(self, stream: str, key: str) -> None:
        self.lease.ensure_held()
        self.state.unpark(stream, key)

    def list_parked(self, stream: str | None = None) -> list[ParkedRecord]:
        return self.state.list_parked(stream)

    def save_run(self, run: RunRecord) -> None:
        self.state.save_run(run)  # the run's own record, written however the run ended

    def list_runs(self, direction: str | None = None, limit: int = 20) -> list[RunRecord]:
        return self.state.list_runs(direction, limit)
