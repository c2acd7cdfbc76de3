"""The command line's Progress reporter (sync/progress.py): a Rich bar with counts per step, on stderr
so `--json` output on stdout stays clean."""

import logging
from collections.abc import Iterator
from contextlib import contextmanager

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, SpinnerColumn, TaskID, TextColumn, TimeElapsedColumn
from rich.progress import Progress as RichBars

from kudos_sync.sync.progress import NoProgress, Progress

log = logging.getLogger(__name__)


class BarProgress:
    """One bar per step: `<step>  [====    ]  120/300  0:00:04`. Never raises into the sync."""

    def __init__(self, bars: RichBars) -> None:
        self._bars = bars
        self._tasks: dict[str, TaskID] = {}

    def start(self, step: str, total: int | None) -> None:
        try:
            if step in self._tasks:
                self._bars.reset(self._tasks[step], total=total)
            else:
                self._tasks[step] = self._bars.add_task(step, total=total)
        except Exception:  # progress is advice: a display problem must not stop a sync
            log.debug("progress display failed", exc_info=True)

    def advance(self, step: str, done: int) -> None:
        try:
            if step not in self._tasks:
                self.start(step, None)
            self._bars.advance(self._tasks[step], done)
        except Exception:
            log.debug("progress display failed", exc_info=True)

    def finish(self, step: str) -> None:
        try:
            task = self._tasks.get(step)
            if task is not None:
                self._bars.stop_task(task)
        except Exception:
            log.debug("progress display failed", exc_info=True)


@contextmanager
def progress_bars(label: str, *, enabled: bool) -> Iterator[Progress]:
    """Bars on stderr while the block runs, led by a spinner saying what runs; NoProgress when not
    `enabled` (--json) or stderr is not a terminal."""
    console = Console(stderr=True)
    if not enabled or not console.is_terminal:
        yield NoProgress()
        return
    bars = RichBars(
        SpinnerColumn(),
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
        transient=True,
    )
    with bars:
        bars.add_task(label, total=None)
        yield BarProgress(bars)
