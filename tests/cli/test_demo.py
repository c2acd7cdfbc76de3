"""`kudos-sync demo` works for any catalogue size, and its narration explains its numbers."""

import io
import re
from pathlib import Path

import pytest
from rich.console import Console

from sandbox.demo import run_demo


@pytest.mark.parametrize("skus", [1, 20])
def test_the_demo_runs_at_small_sizes_and_ends_with_next_steps(
    skus: int, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)  # the demo keeps its state in ./.demo
    out = io.StringIO()
    assert run_demo(Console(file=out, width=200), skus=skus, seed=7) == 0, out.getvalue()
    text = out.getvalue()
    assert "Traceback" not in text
    # The narration's arithmetic holds and matches what the first push created.
    reading = re.search(
        r"(\d+) Magento products = (\d+) simple products .*?\+ (\d+) configurable", text, re.S
    )
    assert reading, text
    total, simple, parents = map(int, reading.groups())
    assert total == simple + parents > 0
    first_push = re.search(
        r"products sent: (\d+) Magento products? \((\d+) created, \d+ updated \((\d+) of them adopted", text
    )
    # Every product of the catalogue is created, or adopted where the demo's store already sold it.
    assert first_push and int(first_push.group(2)) + int(first_push.group(3)) == total
    assert "items already in step" in text  # unchanged, with its unit
    assert "Next steps" in text and "make local" in text
