"""The Progress reporters: the Lambda's log lines are throttled; neither ever raises into the sync."""

import logging
from typing import Any

import pytest
from kudos_sync.cli.progress import BarProgress
from kudos_sync.handler import LogProgress
from rich.console import Console
from rich.progress import Progress as RichBars


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


class Lines:
    def __init__(self) -> None:
        self.lines: list[str] = []

    def info(self, message: str, *args: Any) -> None:
        self.lines.append(message % args)


def test_log_progress_logs_start_finish_and_at_most_one_line_per_interval() -> None:
    clock, logger = Clock(), Lines()
    progress = LogProgress(logger, every_seconds=30.0, monotonic=clock)  # type: ignore[arg-type]
    progress.start("products", 5000)
    for _ in range(100):  # 100 batches of 50 over 59 s
        clock.now += 0.59
        progress.advance("products", 50)
    progress.finish("products")
    assert logger.lines == [
        "products started: 5000 to do",
        "products: 2550 of 5000 done",  # the first batch at or past 30 s
        "products finished: 5000 of 5000 done",
    ]


def test_log_progress_with_an_unknown_total_says_so() -> None:
    clock, logger = Clock(), Lines()
    progress = LogProgress(logger, every_seconds=0.0, monotonic=clock)  # type: ignore[arg-type]
    progress.advance("invoices", 3)
    progress.finish("invoices")
    assert logger.lines == ["invoices: 3 of ? done", "invoices finished: 3 of 3 done"]


def test_log_progress_never_raises_into_the_sync() -> None:
    class Broken:
        def info(self, *_: Any) -> None:
            raise OSError("log pipe closed")

    progress = LogProgress(Broken(), every_seconds=0.0)  # type: ignore[arg-type]
    progress.start("stock", 1)
    progress.advance("stock", 1)
    progress.finish("stock")


def test_bars_count_each_step_and_survive_a_broken_display(caplog: pytest.LogCaptureFixture) -> None:
    bars = RichBars(console=Console(file=open("/dev/null", "w")))  # noqa: SIM115
    progress = BarProgress(bars)
    progress.start("products", 10)
    progress.advance("products", 4)
    progress.advance("prices", 2)  # never started: shown without a total
    progress.finish("products")
    tasks = {t.description: t for t in bars.tasks}
    assert (tasks["products"].completed, tasks["products"].total) == (4, 10)
    assert (tasks["prices"].completed, tasks["prices"].total) == (2, None)
    bars.advance = None  # type: ignore[method-assign]
    with caplog.at_level(logging.DEBUG):
        progress.advance("products", 1)  # must not raise
