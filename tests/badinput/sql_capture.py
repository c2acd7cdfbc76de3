"""Every statement sent to a CI Office engine, with its parameters, to prove values never become SQL."""

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Engine, event


def _flatten(value: Any) -> Iterable[str]:
    if isinstance(value, dict):
        for item in value.values():
            yield from _flatten(item)
    elif isinstance(value, list | tuple):
        for item in value:
            yield from _flatten(item)
    elif value is not None:
        yield value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)


@dataclass
class StatementLog:
    statements: list[tuple[str, list[str]]] = field(default_factory=list)

    def attach(self, engine: Engine) -> Engine:
        @event.listens_for(engine, "before_cursor_execute")
        def _record(
            conn: Any, cursor: Any, statement: str, parameters: Any, context: Any, many: bool
        ) -> None:
            self.statements.append((statement, list(_flatten(parameters))))

        return engine

    def in_text(self, value: str) -> list[str]:
        """Statements whose SQL text contains `value` (must be none)."""
        return [statement for statement, _ in self.statements if value in statement]

    def in_parameters(self, value: str) -> bool:
        return any(value in parameter for _, parameters in self.statements for parameter in parameters)
