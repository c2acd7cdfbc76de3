"""How a run tells people where it is: the port the push and pull report progress to.

The core calls it at the start of each step, as units of work complete, and at the end; the composition
root chooses what a person sees (a progress bar in the CLI, a log line now and then in Lambda). A
reporter must never raise into the sync: progress is advice, not state.
"""

from typing import Protocol


class Progress(Protocol):
    def start(self, step: str, total: int | None) -> None:
        """A step begins; `total` is its units of work (products, documents...) when known."""
        ...

    def advance(self, step: str, done: int) -> None:
        """`done` more units of `step` are complete (an increment, not a running total)."""
        ...

    def finish(self, step: str) -> None:
        """The step has ended, whether or not every unit was done."""
        ...


class NoProgress:
    """Reports nothing: the default where nobody is watching."""

    def start(self, step: str, total: int | None) -> None:
        pass

    def advance(self, step: str, done: int) -> None:
        pass

    def finish(self, step: str) -> None:
        pass
