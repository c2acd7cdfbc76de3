"""Child process for the secrets tests: invoke a Lambda handler (functions/<direction>/app.py) the way
Lambda does, with a fake context, under faults, and print everything: the handler's own log lines and
EMF metrics go to stdout as in Lambda, and each invocation's result or exception (str, repr, the
chained causes and the traceback) is printed too, so the parent can search all of it for secrets.

    python -m tests.security.invoke <push|pull> <tenant> <invocations> <seed> <dynamo_rate> <sql_rate>
    python -m tests.security.invoke cli <kudos-sync arguments...>

A child process so the capture is complete: Powertools binds its handler to the process's stdout.

With KUDOS_TEST_PII_MARKER set, CI Office fails every statement whose parameters contain the marker,
and the driver's message quotes the value, as SQL Server's duplicate-key (2627) and truncation (2628)
messages do: KUDOS_TEST_PII_FAULT=record raises an IntegrityError (the document is parked),
=schema an OperationalError "no such column" (a configuration error: the run fails and the handler
logs the exception with its traceback).
"""

from __future__ import annotations

import importlib.util
import logging
import os
import sqlite3
import sys
import traceback
import uuid
from pathlib import Path
from typing import Any

import kudos_sync.service as service
from sqlalchemy import Engine, event

from tests.chaos.faults import DynamoThrottle, FaultCounter, SqlFaults
from tests.chaos.world import CLIENT_CLASS, ENGINE_FACTORY, ChaosMagentoClient, swap

ROOT = Path(__file__).resolve().parents[2]


class FakeLambdaContext:
    function_name = "kudos-sync-test"
    function_version = "$LATEST"
    memory_limit_in_mb = 512
    invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:kudos-sync-test"

    def __init__(self) -> None:
        self.aws_request_id = str(uuid.uuid4())

    def get_remaining_time_in_millis(self) -> int:
        return 600_000


def _load_handler(direction: str) -> Any:
    path = ROOT / "functions" / direction / "app.py"
    spec = importlib.util.spec_from_file_location(f"kudos_{direction}_app", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _chain(exc: BaseException) -> list[BaseException]:
    """The exception and its causes as a traceback shows them: `__cause__`, else `__context__` unless
    suppressed (`raise ... from None`), as `traceback` and therefore every log formatter does."""
    seen: list[BaseException] = []
    current: BaseException | None = exc
    while current is not None and current not in seen:
        seen.append(current)
        if current.__cause__ is not None:
            current = current.__cause__
        elif current.__suppress_context__:
            current = None
        else:
            current = current.__context__
    return seen


def plant_pii_faults(engine: Engine) -> Engine:
    """See the module docstring: statements carrying the planted marker fail, quoting it."""
    marker = os.environ.get("KUDOS_TEST_PII_MARKER")
    if not marker:
        return engine
    fault = os.environ.get("KUDOS_TEST_PII_FAULT", "record")

    @event.listens_for(engine, "before_cursor_execute")
    def _refuse(conn: Any, cursor: Any, statement: str, parameters: Any, context: Any, many: bool) -> None:
        rows = parameters if many else [parameters]
        for row in rows:
            values = row.values() if isinstance(row, dict) else row or ()
            quoted = next((v for v in values if isinstance(v, str) and marker in v), None)
            if quoted is None:
                continue
            if fault == "schema":
                raise sqlite3.OperationalError(f"no such column: {quoted}")
            raise sqlite3.IntegrityError(f"UNIQUE constraint failed: duplicate key value is ({quoted})")

    return engine


def _run_cli(argv: list[str]) -> int:
    """kudos-sync in this process, with the PII faults planted and kudos_sync's loggers at DEBUG."""
    from kudos_sync.cli import app

    create_engine: Any = getattr(service, ENGINE_FACTORY)
    swap(
        service,
        ENGINE_FACTORY,
        lambda settings, **options: plant_pii_faults(create_engine(settings, **options)),
    )
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(levelname)s %(name)s %(message)s"))
    library = logging.getLogger("kudos_sync")
    library.addHandler(handler)
    library.setLevel(logging.DEBUG)
    try:
        app(argv, standalone_mode=False)
    except SystemExit as exit_:
        return int(exit_.code or 0)
    except Exception as exc:  # every exception is evidence
        for link in _chain(exc):
            print(f"EXCEPTION str={link!s} repr={link!r} args={link.args!r}", flush=True)
        print(traceback.format_exc(), flush=True)
        return 1
    return 0


def main(argv: list[str]) -> int:
    if argv[0] == "cli":
        return _run_cli(argv[1:])
    direction, tenant, invocations, seed, dynamo_rate, sql_rate = argv
    counter = FaultCounter()
    throttle = DynamoThrottle(int(seed), counter, float(dynamo_rate))
    sql = SqlFaults(int(seed) + 1, counter, float(sql_rate), commit_rate=min(1.0, float(sql_rate) * 4))
    from_environment = service.Stack.from_environment

    def stack() -> service.Stack:
        built = from_environment()
        throttle.attach(built.clients.dynamodb)
        return built

    create_engine: Any = getattr(service, ENGINE_FACTORY)

    def engine(settings: Any, **options: Any) -> Any:
        return plant_pii_faults(sql.attach(create_engine(settings, **options)))

    swap(service.Stack, "from_environment", staticmethod(stack))
    swap(service, ENGINE_FACTORY, engine)
    swap(service, CLIENT_CLASS, ChaosMagentoClient)
    handler = _load_handler(direction)
    for _ in range(int(invocations)):
        try:
            result = handler.lambda_handler({"tenant": tenant}, FakeLambdaContext())
            print(f"RESULT {result!r}", flush=True)
        except Exception as exc:  # every exception is evidence: print all of it
            for link in _chain(exc):
                print(f"EXCEPTION str={link!s} repr={link!r} args={link.args!r}", flush=True)
            print(traceback.format_exc(), flush=True)
    print(f"FAULTS {counter.snapshot()}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
