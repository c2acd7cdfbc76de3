"""The fault harness: `python -m tests.chaos.run --scenarios N --seed S` (`make chaos`).

Runs N scenarios, each with its own Magento sandbox, CI Office and state table on one local AWS.
The first ones are the fixed catalogue (`CATALOGUE`: the same seeds and settings in every run, the
shipped defaults first, chosen so that every fault kind meets every stream it can meet); the rest
are random: scenario i has seed S*1_000_003 + i and, every third one, the shipped defaults, else
settings drawn from what the settings allow (configs.py). A run repeats for its seed.

It prints the configurations that ran, then one line:

    scenarios: N, faults: F, duplicates: D, lost: L, mismatches: M

followed by the faults injected per kind, the fault-by-stream table and, for any scenario that
failed a check, what failed. Exit status 0 when every scenario converged cleanly.
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import random
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

from sandbox.aws import LocalAws
from sandbox.magento import FAULT_KINDS
from tests.chaos.configs import Configuration, randomised, shipped_defaults
from tests.chaos.faults import DATA_KINDS, DYNAMO_KINDS, RUN_KINDS, SQL_KINDS
from tests.chaos.scenario import FaultRates, ScenarioResult, run_scenario
from tests.chaos.streams import PULL_STREAMS, PUSH_STREAMS, STREAMS, StreamTracker
from tests.chaos.world import patched_service

ALL_KINDS: tuple[str, ...] = (*FAULT_KINDS, *SQL_KINDS, *DYNAMO_KINDS, *RUN_KINDS, *DATA_KINDS)
# The streams each kind of fault can meet at all (the rest: that stream never does what fails).
# CI Office is read once per push (styles carry prices and sales) and written only by the pull; only
# the pull commits.
STREAMS_OF: dict[str, tuple[str, ...]] = {
    **{kind: STREAMS for kind in (*FAULT_KINDS, *DYNAMO_KINDS, *RUN_KINDS)},
    "deadlock": PUSH_STREAMS,  # a write fault: the pull only reads Magento (write-back is off by default)
    "sql_cut": ("products", "stock", "images", *PULL_STREAMS),
    "sql_commit_lost": PULL_STREAMS,
    "sql_commit_ambiguous": PULL_STREAMS,
    "late_document": PULL_STREAMS,
    "total_off_cent": PULL_STREAMS,
    "total_off": PULL_STREAMS,
    "negative_stock": ("stock",),
    "fractional_stock": ("stock",),
    "stock_movement": ("stock",),
    "web_edit": ("products", "prices"),
    "store_view_value": ("products",),
}
CATALOGUE_SEED = 20_261_204  # the catalogue's scenarios do not change with --seed


@dataclass(frozen=True)
class Plan:
    """What one scenario runs: its seed, the tenant's settings, and (catalogue) rounds and rates."""

    seed: int
    configuration: Configuration
    rounds: int | None = None
    rates: tuple[FaultRates, ...] = ()
    aims: tuple[tuple[str, str], ...] = ()


def _drawn(name: str, seed: int) -> Configuration:
    return randomised(random.Random(seed), name=name)


def _small(configuration: Configuration, batch_size: int, page_size: int) -> Configuration:
    """Small batches and pages: more requests per stream, so each stream meets more faults."""
    return replace(configuration, batch_size=batch_size, page_size=page_size)


# The catalogue's rounds take turns: Magento faults alone (retried, so runs get through to the later
# streams and faults meet each of them), CI Office and DynamoDB faults (which end a run where they
# hit), and a light mix of everything.
_TURNS: tuple[FaultRates, ...] = (
    FaultRates(sandbox=0.12, sql=0.0, commit=0.0, dynamo=0.0),
    FaultRates(sandbox=0.03, sql=0.03, commit=0.5, dynamo=0.01),
    FaultRates(sandbox=0.06, sql=0.01, commit=0.3, dynamo=0.005),
)
_SETTINGS: tuple[Configuration, ...] = (
    shipped_defaults(),
    _small(_drawn("catalogue-1", 1), 3, 2),
    _small(_drawn("catalogue-2", 2), 2, 1),
    shipped_defaults(),
    _small(_drawn("catalogue-4", 4), 4, 3),
    _small(_drawn("catalogue-5", 5), 1, 2),
)
# Every (kind, stream) pair that can meet is aimed at. Magento faults (retried, so the run goes on),
# planted documents and run-level faults (a deadline, a rival run: each takes a run, given in turn
# to the pair tried least) in every catalogue scenario; CI Office and DynamoDB faults, which end the
# run they hit, in three of the six, so that most runs still get through to the later streams.
# Random faults come on top.
_EVERYWHERE = (*FAULT_KINDS, *RUN_KINDS, "late_document", "total_off_cent", "total_off")
_SPREAD = (*SQL_KINDS, *DYNAMO_KINDS)
_SHARE = 2  # a storage pair is aimed in every second catalogue scenario (three of the six)
_EVERYWHERE_PAIRS = tuple((kind, stream) for kind in _EVERYWHERE for stream in STREAMS_OF[kind])
_SPREAD_PAIRS = tuple((kind, stream) for kind in _SPREAD for stream in STREAMS_OF[kind])
CATALOGUE: tuple[Plan, ...] = tuple(
    Plan(
        CATALOGUE_SEED + index,
        settings,
        rounds=10,
        rates=_TURNS,
        aims=_EVERYWHERE_PAIRS
        + tuple(p for n, p in enumerate(_SPREAD_PAIRS) if n % _SHARE == index % _SHARE),
    )
    for index, settings in enumerate(_SETTINGS)
)


def scenario_seed(seed: int, index: int) -> int:
    return seed * 1_000_003 + index


def plan_for(seed: int, index: int) -> Plan:
    """Scenario `index` of a run with `seed`: a catalogue entry, or a random scenario."""
    if index < len(CATALOGUE):
        return CATALOGUE[index]
    own = scenario_seed(seed, index)
    if index % 3 == 0:
        return Plan(own, shipped_defaults())
    return Plan(own, _drawn(f"random-{index}", own))


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

    def configurations(self) -> str:
        names = Counter(r.configuration for r in self.results)
        return "configurations: " + ", ".join(
            name if count == 1 else f"{name} x{count}" for name, count in sorted(names.items())
        )

    @property
    def streams(self) -> StreamTracker:
        tracker = StreamTracker()
        for result in self.results:
            tracker.matrix.update(result.streams)
        return tracker

    def gaps(self) -> list[str]:
        """(kind/stream) pairs that can meet and never did in this run."""
        return self.streams.gaps(ALL_KINDS, STREAMS_OF)

    def report(self) -> list[str]:
        lines = [self.configurations(), self.line(), self.per_kind()]
        runs: Counter[str] = Counter()
        for result in self.results:
            runs.update(result.runs)
        lines.append("runs: " + ", ".join(f"{k}={v}" for k, v in sorted(runs.items())))
        errors = sum(len(r.errors) for r in self.results)
        unquiet = sum(1 for r in self.results if not r.quiet)
        lines.append(
            f"unexpected exceptions: {errors}, scenarios not quiet: {unquiet}, seconds: {self.seconds:.1f}"
        )
        lines.append("faults by stream:")
        lines.extend(f"  {row}" for row in self.streams.table(ALL_KINDS))
        gaps = self.gaps()
        lines.append(f"kind/stream pairs never met: {', '.join(gaps) if gaps else 'none'}")
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
            plan = plan_for(seed, index)
            result = run_scenario(
                aws,
                Path(directory),
                index,
                plan.seed,
                configuration=plan.configuration,
                rounds=plan.rounds,
                rates=plan.rates,
                aims=plan.aims,
            )
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
            f"scenario {result.index} seed {result.seed} {result.configuration}: {mark} ({faults} faults)",
            file=sys.stderr,
            flush=True,
        )

    summary = run_chaos(args.scenarios, args.seed, start=args.start, progress=progress)
    print("\n".join(summary.report()))
    return 0 if summary.clean else 1


if __name__ == "__main__":
    sys.exit(main())
