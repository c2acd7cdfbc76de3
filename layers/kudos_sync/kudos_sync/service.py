"""The composition root: builds one tenant's adapters and runs one direction.

Both Lambda handlers and the `kudos-sync` command line come through here, so a run started by
EventBridge and one started by an operator do exactly the same thing.
"""

import logging
from collections.abc import Iterator, Sequence
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from kudos_sync.aws.clients import AwsClients, aws_clients
from kudos_sync.aws.images import S3ImageStage
from kudos_sync.aws.secrets import load_tenant_config
from kudos_sync.aws.state import DynamoStateStore
from kudos_sync.ci_office.catalogue import SqlCatalogueSource
from kudos_sync.ci_office.engine import create_ci_office_engine
from kudos_sync.ci_office.ledger import SqlLedger
from kudos_sync.clock import SystemClock, WallClockDeadline
from kudos_sync.config import TenantConfig
from kudos_sync.domain.errors import ConfigurationError, SyncError
from kudos_sync.domain.ids import RunId, validate_tenant_id
from kudos_sync.domain.state import Direction, ParkedRecord, RunRecord, RunStatus, direction_of_stream
from kudos_sync.magento.catalog import RestMagentoCatalog
from kudos_sync.magento.client import MagentoClient
from kudos_sync.magento.sales import RestMagentoSales
from kudos_sync.sync.lease import Lease, LeasedDeadline, LeasedState, holding_lease
from kudos_sync.sync.ports import Clock, Deadline, StateStore
from kudos_sync.sync.progress import NoProgress, Progress
from kudos_sync.sync.pull import PullSync
from kudos_sync.sync.push import PushScope, PushSync
from kudos_sync.sync.push.drift import DriftKind
from kudos_sync.sync.push.drift_repair import DriftReport
from kudos_sync.sync.push.results import AdoptReport
from kudos_sync.sync.run import new_run_id, run_once

log = logging.getLogger(__name__)

# Longer than the longest Lambda timeout (900 s): a run killed mid-way holds the lease until it
# expires, so the next scheduled run cannot overlap a zombie.
LEASE_SECONDS = 960.0


@dataclass(frozen=True)
class Stack:
    """Where the shared AWS resources are (from the environment the template sets)."""

    clients: AwsClients

    @classmethod
    def from_environment(cls) -> "Stack":
        return cls(clients=aws_clients())


class RetryNowStateStore(DynamoStateStore):
    """The tenant's store with every parked record due now: `kudos-sync parked retry` means now, not
    after the pull's backoff (5 minutes doubling to 6 hours since the record was last parked)."""

    def list_parked(self, stream: str | None = None) -> list[ParkedRecord]:
        long_ago = datetime(1970, 1, 1, tzinfo=UTC)
        return [r.model_copy(update={"last_seen": long_ago}) for r in super().list_parked(stream)]


@dataclass
class TenantAdapters:
    config: TenantConfig
    state: DynamoStateStore
    magento: MagentoClient
    stack: Stack
    progress: Progress = field(default_factory=NoProgress)
    _engine: Any = None

    def ci_office_engine(self) -> Any:
        if self._engine is None:
            self._engine = create_ci_office_engine(self.config.ci_office)
        return self._engine

    def push(self, clock: Clock, deadline: Deadline, state: StateStore | None = None) -> PushSync:
        """The push; `state`: what it writes through (a lease holder's `LeasedState`)."""
        return PushSync(
            self.config,
            SqlCatalogueSource(self.ci_office_engine()),
            RestMagentoCatalog(self.magento, self.config),
            state or self.state,
            S3ImageStage(self.stack.clients.s3, self.stack.clients.bucket, self.config.tenant),
            clock,
            deadline,
            progress=self.progress,
        )

    def pull(
        self,
        clock: Clock,
        deadline: Deadline,
        pull_start: datetime | None = None,
        state: StateStore | None = None,
    ) -> PullSync:
        """The pull; `state`: what it writes through (a lease holder's `LeasedState`)."""
        return PullSync(
            self.config,
            RestMagentoSales(self.magento),
            SqlLedger(self.ci_office_engine()),
            state or self.state,
            clock,
            deadline,
            pull_start=pull_start or self.config.pull_from,
            progress=self.progress,
        )

    def close(self) -> None:
        if self._engine is not None:
            self._engine.dispose()
        self.magento.close()


@contextmanager
def tenant_adapters(tenant: str, stack: Stack | None = None) -> Iterator[TenantAdapters]:
    """Load the tenant's settings from its secret and build its adapters (closed on exit)."""
    tenant = validate_tenant_id(tenant)
    stack = stack or Stack.from_environment()
    config = load_tenant_config(tenant)
    adapters = TenantAdapters(
        config=config,
        state=DynamoStateStore(stack.clients.dynamodb, stack.clients.table_name, tenant),
        magento=MagentoClient(config.magento, config.sync),
        stack=stack,
    )
    try:
        yield adapters
    finally:
        adapters.close()


def record_unstarted_run(
    tenant: str,
    direction: Direction,
    error: ConfigurationError,
    stack: Stack,
    clock: Clock,
    run_id: RunId | None,
) -> None:
    """A run stopped by the tenant's settings (a missing or invalid secret) before it could start still
    leaves a failed run record, so `kudos-sync status` shows the tenant as misconfigured and why."""
    now = clock.now()
    record = RunRecord(
        tenant=tenant,
        direction=direction,
        run_id=run_id or new_run_id(now),
        started_at=now,
        finished_at=now,
        status=RunStatus.FAILED,
        error=f"configuration: {error}",
    )
    try:
        stack.clients.state_store(tenant).save_run(record)
    except SyncError as exc:  # the table itself may be what is misconfigured; the error still stands
        log.warning("could not record the failed %s run of tenant %s: %s", direction.value, tenant, exc)


def run_tenant(
    tenant: str,
    direction: Direction,
    deadline: Deadline,
    *,
    stack: Stack | None = None,
    clock: Clock | None = None,
    run_id: RunId | None = None,
    refuse_when_busy: bool = False,
    progress: Progress | None = None,
    retry_parked_now: bool = False,
) -> RunRecord:
    """Run one direction for one tenant under its lease and return the run record. The run writes
    through its lease (renewed as it goes; no write once it is lost). `refuse_when_busy`: raise
    LeaseHeldError while another run holds the lease, instead of recording a skipped run. `progress`
    hears where the run is; `retry_parked_now` retries parked pull records without waiting for their
    backoff."""
    clock = clock or SystemClock()
    stack = stack or Stack.from_environment()
    with ExitStack() as scope:
        try:
            adapters = scope.enter_context(tenant_adapters(tenant, stack))
        except ConfigurationError as exc:
            record_unstarted_run(tenant, direction, exc, stack, clock, run_id)
            raise
        if progress is not None:
            adapters.progress = progress
        if retry_parked_now:
            clients = adapters.stack.clients
            adapters.state = RetryNowStateStore(clients.dynamodb, clients.table_name, adapters.config.tenant)
        # The run names its lease when it starts (`run_once`), on the same reading of the clock.
        lease = Lease(adapters.state, adapters.config.tenant, direction, run_id or "", clock, LEASE_SECONDS)
        state, kept = LeasedState(adapters.state, lease), LeasedDeadline(deadline, lease)
        work = (
            adapters.push(clock, kept, state=state)
            if direction is Direction.PUSH
            else adapters.pull(clock, kept, state=state)
        )

        def request_counts() -> tuple[dict[str, int], dict[str, int]]:
            return adapters.magento.stats.snapshot()

        return run_once(
            tenant=adapters.config.tenant,
            direction=direction,
            state=adapters.state,
            clock=clock,
            work=work.run,
            lease_seconds=LEASE_SECONDS,
            request_counts=request_counts,
            lease=lease,
            refuse_when_busy=refuse_when_busy,
        )


# ---------------------------------------------------------------- operator writes, under the lease


def _operator_holder(what: str, clock: Clock) -> str:
    return f"operator-{what}-{new_run_id(clock.now())}"


def resync_scope(
    tenant: str, scope: PushScope, *, stack: Stack | None = None, clock: Clock | None = None
) -> int:
    """Forget the push fingerprints of one scope (see `PushSync.resync`) under the push lease; raises
    LeaseHeldError while a push run holds it. Returns how many bindings were reset."""
    clock = clock or SystemClock()
    with tenant_adapters(tenant, stack) as adapters:
        tenant_id = adapters.config.tenant
        holder = _operator_holder("resync", clock)
        with holding_lease(adapters.state, tenant_id, Direction.PUSH, holder, clock, LEASE_SECONDS) as state:
            deadline = LeasedDeadline(WallClockDeadline(LEASE_SECONDS), state.lease)
            return adapters.push(clock, deadline, state=state).resync(scope)


def drift_tenant(
    tenant: str,
    kinds: Sequence[DriftKind],
    *,
    repair: bool = False,
    stack: Stack | None = None,
    clock: Clock | None = None,
) -> DriftReport:
    """What Magento holds differently from CI Office for the owned fields of `kinds`. A scan only
    reads; `repair` marks the differences and pushes them under the push lease (raises LeaseHeldError
    while a push run holds it)."""
    clock = clock or SystemClock()
    with tenant_adapters(tenant, stack) as adapters:
        if not repair:
            push = adapters.push(clock, WallClockDeadline(LEASE_SECONDS))
            found, _ = push.drift(kinds, repair=False)
            return DriftReport.of(found, None)
        holder = _operator_holder("drift", clock)
        with holding_lease(
            adapters.state, adapters.config.tenant, Direction.PUSH, holder, clock, LEASE_SECONDS
        ) as state:
            deadline = LeasedDeadline(WallClockDeadline(LEASE_SECONDS), state.lease)
            found, result = adapters.push(clock, deadline, state=state).drift(kinds, repair=True)
            return DriftReport.of(found, result)


def adopt_store(
    tenant: str, *, apply: bool = False, stack: Stack | None = None, clock: Clock | None = None
) -> AdoptReport:
    """What the tenant's store already holds of the catalogue (see `PushSync.adopt`). A dry run reads
    only; `apply` binds the matched products under the push lease (LeaseHeldError while a push runs)."""
    clock = clock or SystemClock()
    with tenant_adapters(tenant, stack) as adapters:
        if not apply:
            return adapters.push(clock, WallClockDeadline(LEASE_SECONDS)).adopt()
        holder = _operator_holder("adopt", clock)
        with holding_lease(
            adapters.state, adapters.config.tenant, Direction.PUSH, holder, clock, LEASE_SECONDS
        ) as state:
            deadline = LeasedDeadline(WallClockDeadline(LEASE_SECONDS), state.lease)
            return adapters.push(clock, deadline, state=state).adopt(apply=True)


def drop_parked(
    tenant: str, stream: str, key: str, *, stack: Stack | None = None, clock: Clock | None = None
) -> None:
    """Stop retrying one parked record, under the lease of the direction that owns its stream; raises
    LeaseHeldError while a run of that direction holds it."""
    clock = clock or SystemClock()
    with tenant_adapters(tenant, stack) as adapters:
        direction = direction_of_stream(stream)
        holder = _operator_holder("drop", clock)
        with holding_lease(
            adapters.state, adapters.config.tenant, direction, holder, clock, LEASE_SECONDS
        ) as state:
            state.unpark(stream, key)
