"""Child process for the secrets tests: invoke a Lambda handler (functions/<direction>/app.py) the way
Lambda does, with a fake context, under faults, and print everything: the handler's own log lines and
EMF metrics go to stdout as in Lambda, and each invocation's result or exception (str, repr, the
chained causes and the traceback) is printed too, so the parent can search all of it for secrets.

    python -m tests.security.invoke <push|pull> <tenant> <invocations> <seed> <dynamo_rate> <sql_rate>

A child process so the capture is complete: Powertools binds its handler to the process's stdout.
"""

from __future__ import annotations

import importlib.util
import sys
import traceback
import uuid
from pathlib import Path
from typing import Any

import kudos_sync.service as service

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
    seen: list[BaseException] = []
    current: BaseException | None = exc
    while current is not None and current not in seen:
        seen.append(current)
        current = current.__cause__ or current.__context__
    return seen


def main(argv: list[str]) -> int:
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
        return sql.attach(create_engine(settings, **options))

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
