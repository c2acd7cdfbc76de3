"""Write-behind for bindings during a push, so the store's workers never wait on state writes.

A push confirms bindings after every batch Magento accepted. Saving them inline made each batch wait
for DynamoDB (a save reads and rewrites the shards it touches), and with the store idle meanwhile that
wait was a large share of a first push. Here one background thread saves them, in the order they were
given, merging whatever queued up into one save: later saves of the same key win, exactly as saving
them one after another would. Saves nobody waits for are gathered for up to `linger_seconds` first:
each save rewrites every shard it touches, so fewer, larger saves write far less (a first push's
batches of random SKUs touch most shards of a kind each time).

What stays true:
- A binding is still saved only after the Magento write it records succeeded (callers hand it over
  after the write); losing unsaved ones in a crash only means the write is sent again (idempotent) or,
  for products, reconciled from the write-ahead intent.
- A write-ahead intent is durable before its write is sent: callers wait on its ticket.
- One writer, in order: the lease makes this run the only writer of the tenant's push bindings, and
  the thread keeps even this run's saves from overlapping (a save is a read-modify-write of shards).
- A failed save is not swallowed: every later call raises it, and nothing queued after it is written.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass
from types import TracebackType

from kudos_sync.domain.state import Binding, BindingKind
from kudos_sync.sync.ports import StateStore

logger = logging.getLogger(__name__)


class Ticket:
    """Done once the bindings it was given for are saved (or the writer failed)."""

    __slots__ = ("_done", "_writer")

    def __init__(self, writer: BindingWriter) -> None:
        self._done = threading.Event()
        self._writer = writer

    def wait(self) -> None:
        """Block until saved (no lingering while anyone waits); raises the writer's failure."""
        if not self._done.is_set():
            self._writer.waiting(+1)
            try:
                self._done.wait()
            finally:
                self._writer.waiting(-1)
        self._writer.raise_failure()


@dataclass(slots=True)
class _Save:
    bindings: Sequence[Binding]
    ticket: Ticket


@dataclass(slots=True)
class _Delete:
    kind: BindingKind
    keys: Sequence[str] | None
    ticket: Ticket
    deleted: int = 0


class BindingWriter:
    """Saves and deletes bindings of one run on a background thread, in order. Use as a context
    manager (or call close()): leaving flushes what is queued."""

    def __init__(self, state: StateStore, linger_seconds: float = 2.0) -> None:
        self._state = state
        self._linger = linger_seconds
        self._queue: deque[_Save | _Delete] = deque()
        self._wake = threading.Condition()
        self._failure: BaseException | None = None
        self._closing = False
        self._waiters = 0  # callers blocked on a ticket: save what is queued now
        self._thread = threading.Thread(target=self._serve, name="binding-writer", daemon=True)
        self._thread.start()

    # ------------------------------------------------------------ callers

    def save(self, bindings: Sequence[Binding]) -> Ticket:
        """Queue bindings; returns at once. Wait on the ticket when the save must be durable first."""
        ticket = Ticket(self)
        if not bindings:
            ticket._done.set()
            self.raise_failure()
            return ticket
        self._put(_Save(list(bindings), ticket))
        return ticket

    def save_now(self, bindings: Sequence[Binding]) -> None:
        """Save and wait (write-ahead intents; caches the next step reads back)."""
        self.save(bindings).wait()

    def delete(self, kind: BindingKind, keys: Sequence[str] | None = None) -> int:
        """Delete after everything queued before it; waits, returns how many went."""
        op = _Delete(kind, None if keys is None else list(keys), Ticket(self))
        self._put(op)
        op.ticket.wait()
        return op.deleted

    def flush(self) -> None:
        """Wait until everything queued so far is saved; raises a failure if one happened."""
        marker = _Save([], Ticket(self))  # done once everything queued before it is
        self._put(marker)
        marker.ticket.wait()

    def waiting(self, change: int) -> None:
        """A caller starts (+1) or stops (-1) waiting on a ticket; while anyone waits, no lingering."""
        with self._wake:
            self._waiters += change
            self._wake.notify_all()

    def raise_failure(self) -> None:
        if self._failure is not None:
            raise self._failure

    def close(self) -> None:
        """Flush and stop the thread; raises a save failure."""
        try:
            self.flush()
        finally:
            with self._wake:
                self._closing = True
                self._wake.notify_all()
            self._thread.join()

    def __enter__(self) -> BindingWriter:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        if exc is None:
            self.close()
            return
        # Already failing: still save what Magento confirmed, but let the first error through.
        try:
            self.close()
        except Exception as failure:
            logger.warning("bindings queued before the failure were not all saved: %s", failure)

    # ------------------------------------------------------------ the thread

    def _put(self, op: _Save | _Delete) -> None:
        with self._wake:
            self.raise_failure()
            self._queue.append(op)
            self._wake.notify_all()

    def _serve(self) -> None:
        while True:
            with self._wake:
                while not self._queue and not self._closing:
                    self._wake.wait()
                if not self._queue:
                    return
                # Gather unwaited saves a little longer; a waiter, a delete or closing ends that.
                until = time.monotonic() + self._linger
                while not (self._waiters or self._closing) and (left := until - time.monotonic()) > 0:
                    self._wake.wait(timeout=left)
                batch = self._take()
            try:
                if isinstance(batch, _Delete):
                    batch.deleted = self._state.delete_bindings(batch.kind, batch.keys)
                    done = [batch.ticket]
                else:
                    merged: dict[tuple[str, str], Binding] = {}
                    for op in batch:
                        for binding in op.bindings:
                            merged.pop((binding.kind, binding.key), None)  # keep the latest's order
                            merged[(binding.kind, binding.key)] = binding
                    if merged:
                        self._state.save_bindings(list(merged.values()))
                    done = [op.ticket for op in batch]
            except BaseException as exc:  # handed to the caller, never lost
                with self._wake:
                    self._failure = exc
                    failed = list(self._queue)
                    self._queue.clear()
                    self._wake.notify_all()
                for ticket in [*self._tickets(batch), *(op.ticket for op in failed)]:
                    ticket._done.set()
                continue
            for ticket in done:
                ticket._done.set()

    def _take(self) -> _Delete | list[_Save]:
        """The next delete alone, or every save queued before the next delete (merged into one)."""
        head = self._queue[0]
        if isinstance(head, _Delete):
            self._queue.popleft()
            return head
        saves: list[_Save] = []
        while self._queue:
            op = self._queue[0]
            if not isinstance(op, _Save):
                break
            saves.append(op)
            self._queue.popleft()
        return saves

    @staticmethod
    def _tickets(batch: _Delete | list[_Save]) -> list[Ticket]:
        return [batch.ticket] if isinstance(batch, _Delete) else [op.ticket for op in batch]
