"""The Magento sandbox as the benchmark uses it: a subprocess (the default) or in-process.

A subprocess (``python -m sandbox.magento``) keeps the store's threads off the client's GIL, so the
client's CPU and the store's CPU do not slow each other down and skew the comparison with the cost
model. Statistics come from ``GET /__sandbox/stats``. The in-process store is for the smoke test,
where starting processes would cost more than the work.
"""

from __future__ import annotations

import os
import queue
import subprocess
import sys
import threading
import time
from pathlib import Path
from types import TracebackType
from typing import Protocol

import psutil
import requests

from benchmarks.cost import CostModel, MagentoStats
from sandbox.magento import DEMO_OAUTH, MagentoSandbox, OAuthCredentials, SandboxOptions, Store

ROOT = Path(__file__).resolve().parent.parent
EXTRA_SOURCES = ("akl_store",)
"""MSI sources beside ``default``: one per CI Office branch that sells online (see tenant_payload)."""


class BenchStore(Protocol):
    base_url: str
    oauth: OAuthCredentials
    cost: CostModel

    def stats(self) -> MagentoStats: ...

    def reset_stats(self) -> None: ...

    def cpu_seconds(self) -> float | None:
        """CPU the store's process has used so far (None when it shares this process)."""
        ...

    def close(self) -> None: ...


class SandboxProcess:
    """``python -m sandbox.magento --port 0 --latency-ms ... --item-ms ... --workers ...``."""

    def __init__(
        self, cost: CostModel, *, state_file: Path | None = None, startup_timeout: float = 60.0
    ) -> None:
        self.cost = cost
        self.oauth = DEMO_OAUTH
        args = [
            sys.executable,
            "-m",
            "sandbox.magento",
            "--port",
            "0",
            "--latency-ms",
            str(cost.latency_ms),
            "--item-ms",
            str(cost.item_ms),
            "--workers",
            str(cost.workers),
        ]
        for source in EXTRA_SOURCES:
            args += ["--source", source]
        if state_file is not None:
            args += ["--state", str(state_file)]
        env = {**os.environ, "PYTHONUNBUFFERED": "1"}
        self._proc = subprocess.Popen(
            args,
            cwd=ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
        )
        self.base_url = self._await_address(startup_timeout)
        self._http = requests.Session()
        self._http.trust_env = False

    def _await_address(self, timeout: float) -> str:
        lines: queue.Queue[str] = queue.Queue()
        stdout = self._proc.stdout
        assert stdout is not None

        def pump() -> None:
            for line in stdout:
                lines.put(line)

        threading.Thread(target=pump, name="sandbox-stdout", daemon=True).start()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self._proc.poll() is not None:
                raise RuntimeError(f"Magento sandbox exited with {self._proc.returncode} before listening")
            try:
                line = lines.get(timeout=0.2)
            except queue.Empty:
                continue
            marker = "listening on "
            if marker in line:
                return line.split(marker, 1)[1].strip()
        self.close()
        raise RuntimeError("Magento sandbox did not start listening in time")

    def stats(self) -> MagentoStats:
        response = self._http.get(f"{self.base_url}/__sandbox/stats", timeout=30)
        response.raise_for_status()
        data: MagentoStats = response.json()
        return data

    def reset_stats(self) -> None:
        self._http.post(f"{self.base_url}/__sandbox/reset", timeout=30).raise_for_status()

    def cpu_seconds(self) -> float | None:
        try:
            times = psutil.Process(self._proc.pid).cpu_times()
        except psutil.Error:
            return None
        return float(times.user + times.system)

    def close(self) -> None:
        if self._proc.poll() is None:
            self._proc.terminate()
            try:
                self._proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self._proc.kill()
                self._proc.wait(timeout=10)
        if hasattr(self, "_http"):
            self._http.close()

    def __enter__(self) -> SandboxProcess:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()


class InProcessSandbox:
    """``MagentoSandbox`` on a thread of this process (smoke test, or when asked with --in-process)."""

    def __init__(self, cost: CostModel, *, store: Store | None = None) -> None:
        self.cost = cost
        self.oauth = DEMO_OAUTH
        options = SandboxOptions(
            latency_ms=cost.latency_ms,
            item_ms=cost.item_ms,
            workers=cost.workers,
            oauth=DEMO_OAUTH,
            sources=EXTRA_SOURCES,
        )
        self.sandbox = MagentoSandbox(options, store=store).start()
        self.base_url = self.sandbox.base_url

    def stats(self) -> MagentoStats:
        return self.sandbox.stats()

    def reset_stats(self) -> None:
        self.sandbox.reset_stats()

    def cpu_seconds(self) -> float | None:
        return None

    def close(self) -> None:
        self.sandbox.stop()

    def __enter__(self) -> InProcessSandbox:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()


def open_store(cost: CostModel, *, subprocess_store: bool, state_file: Path | None = None) -> BenchStore:
    """A fresh store with this cost model; ``state_file`` preloads a saved store (sales for the pull)."""
    if subprocess_store:
        return SandboxProcess(cost, state_file=state_file)
    store = Store.load(state_file) if state_file is not None else None
    return InProcessSandbox(cost, store=store)
