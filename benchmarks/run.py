"""``make bench`` / ``make bench-quick``: push and pull against Magento's cost model, with a naive
connector in the same run. Writes ``benchmarks/results/<timestamp>.json`` and the push-scaling chart,
and prints a table. See benchmarks/README.md for what each scenario measures.
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
import traceback
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from benchmarks.adopt import adopt_scenario
from benchmarks.cost import CostModel
from benchmarks.env import SyncSettings
from benchmarks.report import evaluate_targets, table, write_results
from benchmarks.scenarios import (
    FULL,
    QUICK,
    SMOKE,
    Bench,
    Sizes,
    cpu_scenario,
    memory_scenario,
    pull_scenario,
    push_scenarios,
)
from sandbox.aws import LocalAws

RESULTS_DIR = Path(__file__).resolve().parent / "results"
ALL_SCENARIOS = "abcdefgh"


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.run", description=__doc__)
    size = parser.add_mutually_exclusive_group()
    size.add_argument("--quick", action="store_true", help="small sizes: finishes in about 3 minutes")
    size.add_argument("--smoke", action="store_true", help="tiny sizes: proves the harness works (tests)")
    parser.add_argument(
        "--skus",
        type=int,
        default=None,
        help="push size for (a)-(d) instead of the mode's (the scaling series is then this size alone)",
    )
    parser.add_argument("--results", type=Path, default=RESULTS_DIR, help="where the JSON and charts go")
    parser.add_argument("--latency-ms", type=float, default=40.0, help="store cost per request")
    parser.add_argument("--item-ms", type=float, default=8.0, help="store cost per array item")
    parser.add_argument("--workers", type=int, default=4, help="requests the store serves at once")
    parser.add_argument(
        "--concurrency", type=int, default=None, help="tenant concurrency (default: workers + 1)"
    )
    parser.add_argument("--batch-size", type=int, default=100)
    parser.add_argument("--page-size", type=int, default=100)
    parser.add_argument(
        "--scenarios", default=ALL_SCENARIOS, help="which of a-h to run (a-d run together; default all)"
    )
    parser.add_argument(
        "--in-process",
        action="store_true",
        help="run the store and the syncs in this process (faster to start, less faithful)",
    )
    parser.add_argument("--no-chart", action="store_true")
    parser.add_argument(
        "--no-naive",
        action="store_true",
        help="leave the naive connector out (quicker runs while working on our side; its targets are n/a)",
    )
    parser.add_argument("--keep-workdir", action="store_true", help="keep the CI Office databases")
    return parser.parse_args(argv)


def _code_version() -> dict[str, Any]:
    """The commit measured and whether the tree had local changes (read-only git queries)."""
    root = Path(__file__).resolve().parent.parent
    try:
        head = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], cwd=root, capture_output=True, text=True, timeout=10
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"],
            cwd=root,
            capture_output=True,
            text=True,
            timeout=30,
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return {"commit": None, "local_changes": None}
    return {"commit": head or None, "local_changes": bool(dirty)}


def _sizes(args: argparse.Namespace) -> tuple[str, Sizes]:
    mode, sizes = ("smoke", SMOKE) if args.smoke else ("quick", QUICK) if args.quick else ("full", FULL)
    if args.skus is None:
        return mode, sizes
    if args.skus < 10:
        raise SystemExit("--skus must be at least 10")
    return f"{mode}, {args.skus} SKUs", replace(sizes, push_skus=args.skus, scaling=(args.skus,))


def run(args: argparse.Namespace, log: Callable[[str], None] = print) -> tuple[dict[str, Any], Path]:
    mode, sizes = _sizes(args)
    cost = CostModel(latency_ms=args.latency_ms, item_ms=args.item_ms, workers=args.workers)
    sync = SyncSettings(
        batch_size=args.batch_size,
        page_size=args.page_size,
        # One request more than the store's workers: a worker that finishes finds the next request
        # already waiting instead of idling for the client's round trip (README: "The lower bound").
        concurrency=args.concurrency or max(1, args.workers) + 1,
    )
    wanted = set(args.scenarios.lower())
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    workdir = Path(tempfile.mkdtemp(prefix="kudos-bench-"))
    started = time.perf_counter()
    report: dict[str, Any] = {
        "started_at": datetime.now(UTC).isoformat(),
        "mode": mode,
        "environment": {
            "python": platform.python_version(),
            "platform": platform.platform(),
            "cpus": os.cpu_count(),
            "cost_model": cost.as_dict(),
            "tenant_sync": sync.as_dict(),
            "store": "in-process thread" if args.in_process else "subprocess: python -m sandbox.magento",
            "syncs": "inline"
            if args.in_process
            else "one worker process per measured run (python -m benchmarks.worker)",
            "local_aws": "moto server (sandbox.aws.LocalAws) in the benchmark process",
            "ci_office": "SQLite generated by sandbox.ci_office.demo_data.generate",
            "sizes": sizes.__dict__,
            "code": _code_version(),
        },
        "scenarios": {},
        "scaling": [],
        "errors": {},
    }
    try:
        with LocalAws() as aws:
            bench = Bench(
                aws=aws,
                workdir=workdir,
                cost=cost,
                sync=sync,
                sizes=sizes,
                subprocess_store=not args.in_process,
                subprocess_worker=not args.in_process,
                naive=not args.no_naive,
                log=log,
            )
            steps: list[tuple[str, Callable[[], None]]] = []
            if wanted & set("abcd"):

                def pushes() -> None:
                    results, scaling = push_scenarios(bench)
                    report["scenarios"].update(results)
                    report["scaling"] = scaling

                steps.append(("abcd", pushes))
            if "e" in wanted:
                steps.append(("e", lambda: report["scenarios"].__setitem__("e", pull_scenario(bench))))
            if "f" in wanted:
                steps.append(("f", lambda: report["scenarios"].__setitem__("f", cpu_scenario(bench))))
            if "g" in wanted:
                steps.append(("g", lambda: report["scenarios"].__setitem__("g", memory_scenario(bench))))
            if "h" in wanted:
                steps.append(("h", lambda: report["scenarios"].__setitem__("h", adopt_scenario(bench))))
            for name, step in steps:
                try:
                    step()
                except Exception as exc:  # one broken scenario must not lose the others' numbers
                    log(f"scenario {name} failed: {type(exc).__name__}: {exc}")
                    report["errors"][name] = "".join(traceback.format_exception(exc))[-4000:]
    finally:
        if not args.keep_workdir:
            shutil.rmtree(workdir, ignore_errors=True)
    report["scenarios"] = dict(sorted(report["scenarios"].items()))
    evaluate_targets(report["scenarios"], full_sizes=mode == "full")
    report["finished_at"] = datetime.now(UTC).isoformat()
    report["total_seconds"] = round(time.perf_counter() - started, 1)
    report["table"] = table(report).splitlines()
    path = write_results(report, args.results, stamp, chart=not args.no_chart)
    return report, path


def _timed_log() -> Callable[[str], None]:
    started = time.perf_counter()

    def log(message: str) -> None:
        print(f"[{time.perf_counter() - started:7.1f}s] {message}", flush=True)

    return log


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    report, path = run(args, _timed_log())
    print()
    print("\n".join(report["table"]))
    print()
    print(f"results: {path} ({report['total_seconds']}s)")
    if report["errors"]:
        print(f"scenarios that failed: {', '.join(sorted(report['errors']))} (details in the JSON)")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
