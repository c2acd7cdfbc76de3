"""What every exporter of one push shares: the run's bookkeeping and the steps of the skeleton that are
the same for all of them (deadline, write ahead, send in flight, park a refused row, report progress)."""

import logging
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field

from kudos_sync.config import TenantConfig
from kudos_sync.domain.desired import Problem
from kudos_sync.domain.state import Binding
from kudos_sync.fanout import fan_out
from kudos_sync.sync.binding_writer import BindingWriter
from kudos_sync.sync.ports import Deadline, MagentoCatalog
from kudos_sync.sync.progress import Progress
from kudos_sync.sync.push.results import PushCounts

logger = logging.getLogger(__name__)


@dataclass(slots=True)
class Tally:
    """Mutable bookkeeping of one run (or of one image set, folded in when it is done)."""

    counts: PushCounts = field(default_factory=PushCounts)
    problems: dict[tuple[str, str], list[Problem]] = field(default_factory=dict)
    failed_products: set[str] = field(default_factory=set)
    created: set[str] = field(default_factory=set)
    adopted: set[str] = field(default_factory=set)  # found in the store this run and bound, not created
    saved_ids: dict[str, int] = field(default_factory=dict)  # Magento ids returned by this run's saves
    partial: bool = False

    def problem(self, problem: Problem) -> None:
        self.problems.setdefault((problem.stream, problem.key), []).append(problem)

    def add_images_of(self, other: "Tally") -> None:
        """Fold in what one style's image sync (run on a worker thread) counted and found."""
        self.counts.images_staged += other.counts.images_staged
        self.counts.images_uploaded += other.counts.images_uploaded
        self.counts.images_deleted += other.counts.images_deleted
        for problems in other.problems.values():
            for problem in problems:
                self.problem(problem)


@dataclass(slots=True)
class Phases:
    """Seconds each step of a run took, logged with its counts: where a slow run spent its time."""

    seconds: dict[str, float] = field(default_factory=dict)
    _mark: float = field(default_factory=time.monotonic)

    def done(self, phase: str) -> None:
        now = time.monotonic()
        self.seconds[phase] = round(now - self._mark, 3)
        self._mark = now


class PushContext:
    """One run's shared parts, handed to each exporter."""

    def __init__(
        self,
        config: TenantConfig,
        magento: MagentoCatalog,
        writer: BindingWriter | None,
        deadline: Deadline,
        progress: Progress,
        tally: Tally,
    ) -> None:
        self.config = config
        self.magento = magento
        self._writer = writer
        self.deadline = deadline
        self.progress = progress
        self.tally = tally
        self.stores = tuple(config.magento.store_ids)
        # Requests in flight, and rows per product request wave: enough for one request per slot.
        self.slots = max(1, config.sync.concurrency)
        self.wave = config.sync.batch_size * config.sync.concurrency
        self.batch = config.sync.batch_size
        # Price rows go one per SKU and store view: a request carries batch_size rows.
        self.skus_per_request = max(1, config.sync.batch_size // max(1, len(self.stores)))

    @property
    def writes(self) -> BindingWriter:
        """Where bindings are saved (write-behind, in order); a dry run has none."""
        if self._writer is None:
            raise RuntimeError("a dry run writes no bindings")
        return self._writer

    def out_of_time(self, next_step_seconds: float = 0.0) -> bool:
        """True (and the run becomes partial) once the deadline margin is reached, or would be by the
        end of a next step expected to take `next_step_seconds` (a wave of product saves on a slow
        store can take longer than the margin: started anyway, it would outlive the invocation)."""
        tally = self.tally
        if tally.partial:
            return True
        margin = self.config.sync.deadline_margin_seconds + next_step_seconds
        if self.deadline.remaining_seconds() < margin:
            tally.partial = True
            logger.warning("push deadline reached: stopping here, the next run continues")
        return tally.partial

    def write_ahead(self, intents: Iterable[Binding]) -> None:
        """Save pending bindings and wait, before the writes they stand for are sent. A write whose
        confirming save is lost then leaves a pending binding behind, never the old fingerprint: were
        that kept, CI changing back to the old value would look in step while Magento holds the new one."""
        pending = list(intents)
        if pending and not self.out_of_time():
            self.writes.save_now(pending)

    def in_flight[T, R](
        self, items: Sequence[T], send: Callable[[T], R], done: Callable[[T, R], None], workers: int
    ) -> None:
        """send(item) on up to `workers` threads, done(item, result) on this one; stops at the deadline."""
        fan_out(items, send, done, workers, stop=self.out_of_time, name="push")

    @contextmanager
    def step(self, name: str, total: int) -> Iterator[None]:
        """Report a step to the progress port: its size now, its end however it ends."""
        self.progress.start(name, total)
        try:
            yield
        finally:
            self.progress.finish(name)
