"""In-memory StateStore, ImageStage and Clock for core tests. The contract suite in
tests/contract runs the same assertions against these and the DynamoDB/S3 adapters."""

import threading
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

from kudos_sync.domain.binding_codec import Json, decode_binding, encode_binding
from kudos_sync.domain.state import Binding, BindingKind, Cursor, ParkedRecord, RunRecord
from kudos_sync.sync.ports import LeaseHolder


class FakeClock:
    def __init__(self, start: datetime | None = None) -> None:
        self.current = start or datetime(2026, 11, 1, 9, 0, tzinfo=UTC)

    def now(self) -> datetime:
        return self.current

    def advance(self, **delta: float) -> None:
        self.current += timedelta(**delta)


class FakeDeadline:
    """Counts down one unit per call: `FakeDeadline(calls=3)` runs out on the fourth check."""

    def __init__(self, seconds: float = 10_000.0, calls: int | None = None) -> None:
        self.seconds = seconds
        self.calls = calls

    def remaining_seconds(self) -> float:
        if self.calls is None:
            return self.seconds
        self.calls -= 1
        return self.seconds if self.calls >= 0 else 0.0


class InMemoryStateStore:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.leases: dict[str, tuple[str, datetime]] = {}
        self.bindings: dict[BindingKind, dict[str, list[Json]]] = {}  # packed by domain.binding_codec
        self.cursors: dict[str, Cursor] = {}
        self.parked: dict[tuple[str, str], ParkedRecord] = {}
        self.runs: list[RunRecord] = []

    def acquire_lease(self, direction: str, holder: str, now: datetime, until: datetime) -> bool:
        with self._lock:
            current = self.leases.get(direction)
            if current and current[0] != holder and current[1] > now:
                return False
            self.leases[direction] = (holder, until)
            return True

    def current_lease(self, direction: str) -> LeaseHolder | None:
        with self._lock:
            current = self.leases.get(direction)
            return None if current is None else LeaseHolder(holder=current[0], until=current[1])

    def renew_lease(self, direction: str, holder: str, until: datetime) -> bool:
        with self._lock:
            current = self.leases.get(direction)
            if not current or current[0] != holder:
                return False
            self.leases[direction] = (holder, until)
            return True

    def release_lease(self, direction: str, holder: str) -> None:
        with self._lock:
            if self.leases.get(direction, ("",))[0] == holder:
                del self.leases[direction]

    def load_bindings(self, kind: BindingKind) -> dict[str, Binding]:
        with self._lock:
            held = dict(self.bindings.get(kind, {}))
        return {key: decode_binding(kind, key, packed) for key, packed in held.items()}

    def save_bindings(self, bindings: Sequence[Binding]) -> None:
        # Kept packed, as the DynamoDB store keeps them: every load builds new bindings through the
        # same codec, so a test sees exactly what survives a save.
        with self._lock:
            for binding in bindings:
                self.bindings.setdefault(binding.kind, {})[binding.key] = encode_binding(binding)

    def delete_bindings(self, kind: BindingKind, keys: Sequence[str] | None = None) -> int:
        with self._lock:
            held = self.bindings.setdefault(kind, {})
            doomed = list(held) if keys is None else [k for k in keys if k in held]
            for key in doomed:
                del held[key]
            return len(doomed)

    def get_cursor(self, stream: str) -> Cursor | None:
        return self.cursors.get(stream)

    def save_cursor(self, cursor: Cursor) -> None:
        self.cursors[cursor.stream] = cursor

    def park(self, record: ParkedRecord) -> None:
        with self._lock:
            old = self.parked.get((record.stream, record.key))
            if old:
                record = record.model_copy(
                    update={"first_seen": old.first_seen, "attempts": old.attempts + 1}
                )
            self.parked[(record.stream, record.key)] = record

    def unpark(self, stream: str, key: str) -> None:
        with self._lock:
            self.parked.pop((stream, key), None)

    def list_parked(self, stream: str | None = None) -> list[ParkedRecord]:
        with self._lock:
            return [r for (s, _), r in sorted(self.parked.items()) if stream is None or s == stream]

    def save_run(self, run: RunRecord) -> None:
        self.runs = [r for r in self.runs if r.run_id != run.run_id] + [run]

    def list_runs(self, direction: str | None = None, limit: int = 20) -> list[RunRecord]:
        runs = [r for r in self.runs if direction is None or r.direction == direction]
        return sorted(runs, key=lambda r: r.started_at, reverse=True)[:limit]


class InMemoryImageStage:
    def __init__(self) -> None:
        self.objects: dict[str, bytes] = {}
        self.puts = 0

    def stage(self, sha256: str, extension: str, data: bytes) -> bool:
        key = f"{sha256}.{extension}"
        if key in self.objects:
            return False
        self.objects[key] = data
        self.puts += 1
        return True

    def fetch(self, sha256: str, extension: str) -> bytes:
        return self.objects[f"{sha256}.{extension}"]
