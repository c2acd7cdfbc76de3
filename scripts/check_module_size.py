"""Fail when a module of the library layer grows past the hard limit (run by `make lint`).

Modules are kept to about 400 lines so each reads in one sitting; 450 is the hard limit.
"""

import sys
from pathlib import Path

LAYER = Path(__file__).resolve().parent.parent / "layers" / "kudos_sync"
MAX_LINES = 450
# Nothing is allowed over the limit; a module being split could be named here while it is.
ALLOWED_OVERSIZE: frozenset[str] = frozenset()


def oversize_modules(
    root: Path = LAYER, limit: int = MAX_LINES, allowed: frozenset[str] = ALLOWED_OVERSIZE
) -> list[tuple[str, int]]:
    """(path relative to the layer, line count) of every module over `limit` lines, not allowed."""
    found = []
    for path in sorted(root.rglob("*.py")):
        name = path.relative_to(root).as_posix()
        lines = len(path.read_text(encoding="utf-8").splitlines())
        if lines > limit and name not in allowed:
            found.append((name, lines))
    return found


def main() -> int:
    oversize = oversize_modules()
    for name, lines in oversize:
        print(f"{name}: {lines} lines, over the {MAX_LINES}-line limit: split it by concern")
    return 1 if oversize else 0


if __name__ == "__main__":
    sys.exit(main())
