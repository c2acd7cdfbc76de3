"""`kudos-sync demo` works for any catalogue size, and its narration explains its numbers."""

import io
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
    assert "simple products (one per SKU" in text and "configurable parents" in text
    assert "items already in step" in text  # unchanged, with its unit
    assert "Next steps" in text and "make local" in text
