"""Print the mutation score of the last `make mutate` (run inside .mutation/): killed / checked, per
file, and every mutant that was not killed (inspect one with `mutmut show <name>`)."""

from __future__ import annotations

import json
import sys
from collections import Counter
from pathlib import Path

from mutmut.stats import status_by_exit_code

KILLED = {"killed", "caught by type check", "timeout"}  # a hang is noticed too: the test fails


def main(root: Path = Path("mutants")) -> int:
    per_file: dict[str, Counter[str]] = {}
    survivors: list[str] = []
    for meta in sorted(root.rglob("*.py.meta")):
        codes = {  # mutants a run did not reach (stopped early) are not scored
            key: code
            for key, code in json.loads(meta.read_text())["exit_code_by_key"].items()
            if code is not None
        }
        counts: Counter[str] = Counter(status_by_exit_code[code] for code in codes.values())
        if not codes:
            continue
        per_file[str(meta.relative_to(root))[: -len(".meta")]] = counts
        survivors += sorted(k for k, code in codes.items() if status_by_exit_code[code] not in KILLED)
    total: Counter[str] = Counter()
    for name, counts in per_file.items():
        total.update(counts)
        checked = sum(counts.values())
        killed = sum(counts[s] for s in KILLED)
        print(f"{name}: {killed}/{checked} killed ({100 * killed / max(1, checked):.1f}%) {dict(counts)}")
    checked = sum(total.values())
    killed = sum(total[s] for s in KILLED)
    print(f"mutation score: {killed}/{checked} killed ({100 * killed / max(1, checked):.1f}%)")
    for name in survivors:
        print(f"  not killed: {name}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
