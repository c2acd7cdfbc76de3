"""Where a pull stream stands in one run, and the cursor that follows from it (dlt's incremental state:
a position on (created_at, entity_id) plus the ids handled inside the overlap window)."""

from dataclasses import dataclass
from datetime import datetime, timedelta

from kudos_sync.domain.state import Cursor


@dataclass(frozen=True)
class _Position:
    created_at: datetime
    entity_id: int


class StreamPosition:
    """Where a stream stands in this run: the last document handled, and the ids handled with their
    created_at, from which the cursor (position + overlap de-duplication set) is derived."""

    def __init__(self, stream: str, cursor: Cursor | None, overlap: timedelta) -> None:
        self.stream = stream
        self.previous = cursor
        self.overlap = overlap
        self.position: _Position | None = (
            _Position(cursor.created_at, cursor.entity_id) if cursor is not None else None
        )
        self.seen_before = set(cursor.seen_ids) if cursor is not None else set()
        self.handled: dict[int, datetime] = {}
        self.saved = cursor

    def is_seen(self, entity_id: int) -> bool:
        return entity_id in self.seen_before or entity_id in self.handled

    def mark(self, entity_id: int | None, created_at: datetime | None) -> None:
        if entity_id is None or created_at is None:
            return  # unidentifiable (parked under a digest): cannot place it in the stream
        self.handled[entity_id] = created_at
        candidate = _Position(created_at, entity_id)
        if self.position is None or (candidate.created_at, candidate.entity_id) > (
            self.position.created_at,
            self.position.entity_id,
        ):
            self.position = candidate

    def cursor(self) -> Cursor | None:
        if self.position is None:
            return None
        window_start = self.position.created_at - self.overlap
        seen = {i for i, created in self.handled.items() if created >= window_start}
        # Ids from the previous cursor not met again this run: keep while they may still be in the window.
        if self.previous is not None and self.previous.created_at >= window_start:
            seen |= self.seen_before - self.handled.keys()
        return Cursor(
            stream=self.stream,
            created_at=self.position.created_at,
            entity_id=self.position.entity_id,
            seen_ids=tuple(sorted(seen)),
        )
