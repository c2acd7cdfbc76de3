"""Fault injectors for the chaos harness: everything below the sync code that can fail, made to fail.

Each injector draws from its own `random.Random(seed)`, so a scenario's faults repeat for its seed
as long as the calls arrive in the same order (with one Magento request in flight; at the shipped
concurrency of 4 they do not, and a scenario does not repeat fault for fault). Each counts what it
injected per kind; `FaultCounter` adds them up, and puts each fault on the stream it met (streams.py).
The catalogue's aimed faults (a (kind, stream) pair injected at its first chance) come first.

- `SqlFaults`: CI Office's connection cut at a random statement inside a transaction (the DBAPI
  raises as it would when the server goes away; SQLAlchemy invalidates the connection, so the
  transaction is lost), or the connection dropped around COMMIT: before it (nothing written) or right
  after it (written, but the caller is told it failed: the exactly-once case).
- `DynamoThrottle`: a botocore `before-call` hook that answers a DynamoDB call with a throttling
  ClientError, as DynamoDB does once botocore's own retries are spent.
- `CountdownDeadline`: a Lambda deadline that runs out after K checks; `StreamDeadline` once the run
  has begun work on a given stream.
- `GateClock` / `GateDeadline`: hold the first of two runs inside its work while a rival runs.
- `SimClock`: simulated time, moved on by the harness between runs (schedules, leases, parked backoff).
"""

from __future__ import annotations

import random
import sqlite3
import threading
from collections import Counter
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from botocore.exceptions import ClientError
from sqlalchemy import Engine, event

from tests.chaos.streams import StreamTracker

# Fault kinds the harness reports besides the sandbox's own (sandbox.magento.FAULT_KINDS).
SQL_KINDS: tuple[str, ...] = ("sql_cut", "sql_commit_lost", "sql_commit_ambiguous")
DYNAMO_KINDS: tuple[str, ...] = ("dynamodb_throttle",)
RUN_KINDS: tuple[str, ...] = ("deadline", "concurrent_run", "lease_expiry_race")
# What stores and databases do besides failing calls, planted by the scenario (scenario.py).
DATA_KINDS: tuple[str, ...] = (
    "late_document",  # committed late, stamped inside the overlap window (or exactly at its start)
    "total_off_cent",  # Magento's grand total one cent off its rows: imported
    "total_off",  # 0.02 to 1.00 off: parked
    "negative_stock",
    "fractional_stock",
    "web_edit",  # the web team edits a field it owns (on_create / never)
    "store_view_value",  # the web team sets a store-view value (a translated name)
    "stock_movement",  # Magento deducts stock when an order ships
)


class FaultCounter:
    """Injected faults per kind, thread-safe (runs and the sandbox's threads report here)."""

    def __init__(self, tracker: StreamTracker | None = None) -> None:
        self._lock = threading.Lock()
        self._counts: Counter[str] = Counter()
        self.tracker = tracker or StreamTracker()

    def add(self, kind: str, count: int = 1, stream: str | None = None) -> None:
        """Count `count` faults of `kind`, on `stream` (default: where the run was last working)."""
        if count:
            with self._lock:
                self._counts[kind] += count
            for _ in range(count):
                self.tracker.fault(kind, stream)

    def merge(self, counts: dict[str, int]) -> None:
        """Counts the sandbox kept itself (its faults are put on streams as they happen)."""
        with self._lock:
            self._counts.update({kind: count for kind, count in counts.items() if count})

    def snapshot(self) -> dict[str, int]:
        with self._lock:
            return dict(self._counts)

    @property
    def total(self) -> int:
        with self._lock:
            return sum(self._counts.values())


# ---------------------------------------------------------------- time


class SimClock:
    """Timezone-aware simulated UTC time; `advance` moves it on (the harness does, between runs)."""

    def __init__(self, start: datetime) -> None:
        if start.tzinfo is None:
            raise ValueError("SimClock needs an aware start")
        self._now = start
        self._lock = threading.Lock()

    def now(self) -> datetime:
        with self._lock:
            return self._now

    def advance(self, delta: timedelta) -> None:
        with self._lock:
            self._now += delta


class PlentyDeadline:
    """A run with all the time it needs."""

    def remaining_seconds(self) -> float:
        return 10_000.0


class CountdownDeadline:
    """A Lambda deadline that runs out after `checks` calls: the run must checkpoint and end partial."""

    def __init__(self, checks: int, counter: FaultCounter | None = None) -> None:
        self._left = checks
        self._counter = counter
        self._lock = threading.Lock()
        self.reached = False

    def remaining_seconds(self) -> float:
        with self._lock:
            self._left -= 1
            if self._left >= 0:
                return 10_000.0
            if not self.reached:
                self.reached = True
                if self._counter is not None:
                    self._counter.add("deadline")
            return 0.0


class StreamDeadline:
    """A Lambda deadline that runs out at the first check once the run has begun work on `stream`
    (the catalogue's aimed deadline: every stream meets a deadline, not only the first ones)."""

    def __init__(self, stream: str, counter: FaultCounter) -> None:
        self._stream = stream
        self._counter = counter
        self.reached = False

    def remaining_seconds(self) -> float:
        if not self.reached and self._stream not in self._counter.tracker.touched:
            return 10_000.0
        if not self.reached:
            self.reached = True
            self._counter.add("deadline", stream=self._stream)
        return 0.0


class GateDeadline:
    """The first run of an aimed pair: it pauses at a deadline check (taken before every chunk, page
    and document) once `when()` holds, signals that it holds the lease, and waits for the rival."""

    def __init__(
        self, holding: threading.Event, rival_done: threading.Event, when: Callable[[], bool]
    ) -> None:
        self._holding = holding
        self._rival_done = rival_done
        self._when = when
        self._paused = False

    def remaining_seconds(self) -> float:
        if not self._paused and self._when():
            self._paused = True
            self._holding.set()
            self._rival_done.wait(timeout=60)
        return 10_000.0


class GateClock:
    """The first run of a concurrent pair: its `pause_at`-th `now()` (the second is taken inside the
    work, after the lease was acquired) signals that the lease is held and waits until the rival run
    has finished. A later pause catches the run deeper in its work (another stream, mid-page)."""

    def __init__(
        self,
        inner: SimClock,
        holding: threading.Event,
        rival_done: threading.Event,
        pause_at: int = 2,
        when: Callable[[], bool] | None = None,
    ) -> None:
        self._inner = inner
        self._holding = holding
        self._rival_done = rival_done
        self._pause_at = pause_at
        self._when = when  # pause at the first call from `pause_at` on where this holds (aimed races)
        self._paused = False
        self._calls = 0
        self._lock = threading.Lock()

    def now(self) -> datetime:
        with self._lock:
            self._calls += 1
            second = not self._paused and self._calls >= self._pause_at
            second = second and (self._when() if self._when is not None else self._calls == self._pause_at)
            self._paused = self._paused or second
        if second:
            self._holding.set()
            self._rival_done.wait(timeout=60)
        return self._inner.now()


# ---------------------------------------------------------------- CI Office (SQLAlchemy)


class SqlFaults:
    """Attach to a CI Office engine: cut the connection at random statements inside a transaction,
    and around COMMIT. `rate` is per statement, `commit_rate` per commit; 0 switches them off."""

    def __init__(self, seed: int, counter: FaultCounter, rate: float = 0.0, commit_rate: float = 0.0) -> None:
        self._rng = random.Random(seed)
        self._lock = threading.Lock()
        self._counter = counter
        self.rate = rate
        self.commit_rate = commit_rate  # commits are few (one per imported document): drawn apart
        self._commits_hit = seed % 2  # which of the two the first hit is: varies with the seed

    def _draw(self) -> float:
        with self._lock:
            return self._rng.random()

    def _next_commit_kind(self) -> str:
        """Alternate lost and ambiguous commits: both cases show up once two commits were hit."""
        with self._lock:
            self._commits_hit += 1
            return "sql_commit_lost" if self._commits_hit % 2 else "sql_commit_ambiguous"

    def attach(self, engine: Engine) -> Engine:
        faults = self

        @event.listens_for(engine, "before_cursor_execute")
        def _cut(conn: Any, cursor: Any, statement: str, parameters: Any, context: Any, many: bool) -> None:
            tracker = faults._counter.tracker
            stream = tracker.statement(statement)
            if not conn.in_transaction() or statement.lstrip().upper().startswith(("BEGIN", "PRAGMA")):
                return
            if tracker.aimed("sql_cut", stream) or (faults.rate > 0 and faults._draw() < faults.rate):
                faults._counter.add("sql_cut", stream=stream)
                # What sqlite3 says on a connection closed under it; SQLAlchemy treats it as a
                # disconnect and invalidates the connection, losing the transaction.
                raise sqlite3.ProgrammingError("Cannot operate on a closed database.")

        dialect = engine.dialect
        original_commit: Callable[[Any], None] = dialect.do_commit

        def do_commit(dbapi_connection: Any) -> None:
            tracker = faults._counter.tracker
            aimed = [k for k in SQL_KINDS[1:] if tracker.aimed(k, tracker.current)]
            if aimed or (faults.commit_rate > 0 and faults._draw() < faults.commit_rate):
                kind = aimed[0] if aimed else faults._next_commit_kind()
                faults._counter.add(kind)
                if kind == "sql_commit_lost":
                    dbapi_connection.rollback()
                else:
                    original_commit(dbapi_connection)  # written: only the answer is lost
                raise sqlite3.OperationalError("disk I/O error")
            original_commit(dbapi_connection)

        dialect.do_commit = do_commit  # type: ignore[method-assign]
        return engine


# ---------------------------------------------------------------- DynamoDB (botocore)


class DynamoThrottle:
    """A `before-call.dynamodb` hook answering calls with ThrottlingException at `rate`."""

    def __init__(self, seed: int, counter: FaultCounter, rate: float = 0.0) -> None:
        self._rng = random.Random(seed)
        self._lock = threading.Lock()
        self._counter = counter
        self.rate = rate

    def attach(self, client: Any) -> Any:
        client.meta.events.register("before-call.dynamodb", self._hook)
        return client

    def _hook(self, model: Any = None, params: Any = None, **_: Any) -> None:
        tracker = self._counter.tracker
        stream = tracker.dynamo(params) or tracker.current
        if tracker.aimed("dynamodb_throttle", stream):
            hit = True
        elif self.rate <= 0:
            return
        else:
            with self._lock:
                hit = self._rng.random() < self.rate
        if not hit:
            return
        self._counter.add("dynamodb_throttle", stream=stream)
        operation = getattr(model, "name", "DynamoDB")
        response: Any = {
            "Error": {
                "Code": "ThrottlingException",
                "Message": "Rate of requests exceeds the allowed throughput.",
            },
            "ResponseMetadata": {"HTTPStatusCode": 400},
        }
        raise ClientError(response, operation)
