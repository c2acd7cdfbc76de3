"""Clock and deadline adapters: real time, the Lambda context's remaining time, or a wall budget."""

import time
from datetime import UTC, datetime
from typing import Protocol


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)


class _LambdaContext(Protocol):
    def get_remaining_time_in_millis(self) -> int: ...


class LambdaDeadline:
    """Seconds left in this invocation, from the Lambda context."""

    def __init__(self, context: _LambdaContext) -> None:
        self._context = context

    def remaining_seconds(self) -> float:
        return self._context.get_remaining_time_in_millis() / 1000.0


class WallClockDeadline:
    """A budget in seconds from now (the CLI's stand-in for a Lambda timeout)."""

    def __init__(self, seconds: float) -> None:
        self._ends = time.monotonic() + seconds

    def remaining_seconds(self) -> float:
        return self._ends - time.monotonic()
