"""The fault harness: `python -m tests.chaos.run --scenarios N --seed S` (`make chaos`).

Runs N scenarios (scenario i has seed S*1_000_003 + i, so a run repeats for its seed), each with its
own Magento sandbox, CI Office and state table on one local AWS, and ends with one line:

    scenarios: N, faults: F, duplicates: D, lost: L, mismatches: M

followed by the faults injected per kind and, for any scenario that failed a check, what failed.
Exit status 0 when every scenario converged cleanly.
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from sandbox.aws import LocalAws
from sandbox.magento import FAULT_KINDS
from tests.chaos.faults import DYNAMO_KINDS, RUN_KINDS, SQL_KINDS
from tests.chaos.scenario import ScenarioResult, run_scenario
from tests.chaos.world import patched_service

ALL_KINDS: tuple[str, ...] = (*FAULT_KINDS, *SQL_KINDS, *DYNAMO_KINDS, *RUN_KINDS)


def scenario_seed(seed: int, index: int) -> int:
    return seed * 1_000_003 + index


@dataclass
class Summary:
    results: list[ScenarioResult] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def faults(self) -> Counter[str]:
        total: Counter[str] = Counter()
        for result in self.results:
            total.update(result.faults)
        return total

    def line(self) -> str:
        duplicates = sum(r.findings.duplicates for r in self.results)
        lost = sum(r.findings.lost for r in self.results)
        mismatches = sum(r.findings.mismatches + r.lease_violations for r in self.results)
        return (
            f"scenarios: {len(self.results)}, faults: {sum(self.faults.values())}, "
            f"duplicates: {duplicates}, lost: {lost}, mismatches: {mismatches}"
        )

    def per_kind(self) -> str:
        faults = self.faults
        return "faults by kind: " + ", ".join(f"{kind}={faults.get(kind, 0)}" for kind in ALL_KINDS)

    @property
    def clean(self) -> bool:
        return all(r.clean for r in self.results)

    def report(self) -> list[str]:
        lines = [self.line(), self.per_kind()]
        runs: Counter[str] = Counter()
        for result in self.results:
            runs.update(result.runs)
        lines.append("runs: " + ", ".join(f"{k}={v}" for k, v in sorted(runs.items())))
        errors = sum(len(r.errors) for r in self.results)
        unquiet = sum(1 for r in self.results if not r.quiet)
        lines.append(
            f"unexpected exceptions: {errors}, scenarios not quiet: {unquiet}, seconds: {self.seconds:.1f}"
        )
        for result in self.results:
            if result.clean:
                continue
            lines.append(f"-- scenario {result.index} (seed {result.seed}) failed:")
            lines.extend(f"   {text}" for text in result.errors[:10])
            lines.extend(f"   {text}" for text in result.findings.details[:25])
        return lines


def run_chaos(
    scenarios: int,
    seed: int,
    *,
    start: int = 0,
    progress: Callable[[ScenarioResult], None] | None = None,
    aws: LocalAws | None = None,
) -> Summary:
    """Run the scenarios and return their results (used by the CLI and by tests/chaos/test_chaos.py).
    `aws`: a local AWS to use (a pytest worker's); otherwise one is started for the run."""
    summary = Summary()
    started = time.monotonic()
    with contextlib.ExitStack() as stack:
        directory = stack.enter_context(tempfile.TemporaryDirectory(prefix="kudos-chaos-"))
        if aws is None:
            aws = stack.enter_context(LocalAws())
        stack.enter_context(patched_service())
        for index in range(start, start + scenarios):
            result = run_scenario(aws, Path(directory), index, scenario_seed(seed, index))
            summary.results.append(result)
            if progress is not None:
                progress(result)
    summary.seconds = time.monotonic() - started
    return summary


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.chaos.run", description=__doc__.splitlines()[0])
    parser.add_argument("--scenarios", type=int, default=20)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--start", type=int, default=0, help="index of the first scenario (to replay one)")
    parser.add_argument("--verbose", action="store_true", help="show the sync's warnings while it runs")
    args = parser.parse_args(argv)
    # The sync logs every retry and parked record; under chaos that is thousands of lines.
    logging.basicConfig(level=logging.WARNING if args.verbose else logging.CRITICAL)

    def progress(result: ScenarioResult) -> None:
        mark = "ok" if result.clean else "FAILED"
        faults = sum(result.faults.values())
        print(
            f"scenario {result.index} seed {result.seed}: {mark} ({faults} faults)",
            file=sys.stderr,
            flush=True,
        )

    summary = run_chaos(args.scenarios, args.seed, start=args.start, progress=progress)
    print("\n".join(summary.report()))
    return 0 if summary.clean else 1


if __name__ == "__main__":
    sys.exit(main())
