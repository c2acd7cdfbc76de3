"""One push or pull through the composition root, measured: ``python -m benchmarks.worker``.

The benchmark runs each measured sync in a process of its own (as a Lambda invocation would be):
the local AWS server and the Magento sandbox live in other processes, so the wall time is not shared
with them on one GIL, and the peak RSS (``ru_maxrss``) is the sync's alone. The environment
(AWS_ENDPOINT_URL, table, bucket) is inherited from the parent's LocalAws.

Prints one JSON object on its last line of stdout.
"""

from __future__ import annotations

import argparse
import json
import logging
import resource
import sys
import threading
import time
from typing import Any

import psutil
from kudos_sync.aws.clients import aws_clients
from kudos_sync.clock import WallClockDeadline
from kudos_sync.domain.state import Direction
from kudos_sync.service import Stack, run_tenant

RESULT_MARKER = "BENCH-RESULT "


class AwsTimer:
    """Counts local-AWS calls and the seconds spent in them (botocore before/after-call events), so a
    result can say how much of its wall time was moto rather than Magento or our own code."""

    def __init__(self) -> None:
        self.calls: dict[str, int] = {}
        self.seconds = 0.0
        self._local = threading.local()
        self._lock = threading.Lock()

    def attach(self, client: Any) -> None:
        events = client.meta.events
        events.register("before-call", self._before)
        events.register("after-call", self._after)
        events.register("after-call-error", self._after_error)

    def _before(self, **kwargs: Any) -> None:
        self._local.started = time.perf_counter()

    def _done(self, model: Any) -> None:
        started = getattr(self._local, "started", None)
        if started is None:
            return
        elapsed = time.perf_counter() - started
        self._local.started = None
        name = f"{model.service_model.service_name}.{model.name}" if model is not None else "aws"
        with self._lock:
            self.calls[name] = self.calls.get(name, 0) + 1
            self.seconds += elapsed

    def _after(self, model: Any = None, **kwargs: Any) -> None:
        self._done(model)

    def _after_error(self, model: Any = None, **kwargs: Any) -> None:
        self._done(model)


def rss_mb() -> float:
    return float(psutil.Process().memory_info().rss) / (1024 * 1024)


def peak_rss_mb() -> float:
    """Peak resident set size of this process: VmHWM from /proc/self/status on Linux.

    Not ``ru_maxrss``: Linux carries it across fork+exec, so a worker started by a large parent would
    report the parent's size (the benchmark process with moto in it), not its own."""
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return float(line.split()[1]) / 1024  # kB
    except OSError:
        pass
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return float(peak) / 1024 if sys.platform != "darwin" else float(peak) / (1024 * 1024)


def _cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return float(usage.ru_utime + usage.ru_stime)


def run_direction(tenant: str, direction: str, budget_seconds: float) -> dict[str, Any]:
    """Run one direction for one tenant through ``service.run_tenant`` and describe what happened."""
    stack = Stack(clients=aws_clients())
    timer = AwsTimer()
    timer.attach(stack.clients.dynamodb)
    timer.attach(stack.clients.s3)
    baseline = rss_mb()
    cpu_before = _cpu_seconds()
    started = time.perf_counter()
    record = run_tenant(tenant, Direction(direction), WallClockDeadline(budget_seconds), stack=stack)
    wall = time.perf_counter() - started
    cpu = _cpu_seconds() - cpu_before
    return {
        "tenant": tenant,
        "direction": direction,
        "wall_seconds": round(wall, 3),
        "cpu_seconds": round(cpu, 3),
        "status": record.status.value,
        "error": record.error,
        "counts": dict(record.counts),
        "client_requests": dict(record.requests),
        "client_items": dict(record.items),
        "seconds_by_step": dict(record.seconds),
        "aws_calls": sum(timer.calls.values()),
        "aws_calls_by_operation": dict(sorted(timer.calls.items())),
        "aws_seconds": round(timer.seconds, 3),
        "rss_baseline_mb": round(baseline, 1),
        "peak_rss_mb": round(peak_rss_mb(), 1),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.worker", description=__doc__)
    parser.add_argument("--tenant", required=True)
    parser.add_argument("--direction", choices=[d.value for d in Direction], required=True)
    parser.add_argument("--budget", type=float, default=3600.0, help="seconds before the run checkpoints")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr)
    result = run_direction(args.tenant, args.direction, args.budget)
    print(RESULT_MARKER + json.dumps(result), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
