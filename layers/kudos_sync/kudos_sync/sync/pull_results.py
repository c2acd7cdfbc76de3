"""What a pull reports: per stream counts and the run's outcome (the RunRecord's counts)."""

from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Literal

from kudos_sync.domain.state import RunStatus

Stream = Literal["invoices", "creditmemos"]
STREAMS: tuple[Stream, ...] = ("invoices", "creditmemos")


@dataclass
class StreamCounts:
    """What a run did to one stream."""

    imported: int = 0
    already_imported: int = 0  # the ledger's unique constraint met a replay
    parked: int = 0  # newly parked by this run
    still_parked: int = 0  # parked earlier, retried, parked again (its `attempts` grows)
    unparked: int = 0  # parked earlier, imported now
    customers_created: int = 0
    payments: int = 0  # invoices imported: one payment each
    refunds: int = 0  # credit notes imported: one refund each
    skipped_seen: int = 0  # re-read inside the overlap window, already handled
    skipped_parked: int = 0  # met again while parked: left to the parked retry
    deferred: int = 0  # created after the run started: left for the next run
    comments_added: int = 0
    comment_failures: int = 0


@dataclass
class PullResult:
    """The outcome of one pull run. Magento requests are counted by the adapter, not here."""

    status: RunStatus
    started_at: datetime
    finished_at: datetime | None = None
    streams: dict[str, StreamCounts] = field(default_factory=lambda: {s: StreamCounts() for s in STREAMS})
    error: str | None = None

    def summary_counts(self) -> dict[str, int]:
        """Flat counts for the RunRecord: per stream ("invoices_imported") and over both streams
        ("imported_total", "parked_total", ...)."""
        flat: dict[str, int] = {}
        for stream, counts in self.streams.items():
            for name, value in asdict(counts).items():
                flat[f"{stream}_{name}"] = value
                flat[f"{name}_total"] = flat.get(f"{name}_total", 0) + value
        return flat

    def summary_seconds(self) -> dict[str, float]:
        """Seconds per step: the pull's time is its streams' (the run record's start and end)."""
        return {}
