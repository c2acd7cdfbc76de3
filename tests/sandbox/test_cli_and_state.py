"""``python -m sandbox.magento``: prints its URL, serves, persists the store with ``--state``."""

from __future__ import annotations

import re
import signal
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import requests

from sandbox.magento import MagentoSandbox, SandboxOptions
from sandbox.magento.__main__ import parse_args
from sandbox.magento.testing import SandboxClient, simple_product

REPO = Path(__file__).resolve().parents[2]


@contextmanager
def running(*args: str) -> Iterator[str]:
    process = subprocess.Popen(
        [sys.executable, "-m", "sandbox.magento", "--port", "0", *args],
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        line = process.stdout.readline()
        match = re.fullmatch(r"Magento sandbox listening on (http://127\.0\.0\.1:\d+)\n", line)
        assert match, (line, process.stderr.read() if process.poll() is not None else "")
        yield match.group(1)
    finally:
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=15) == 0


def test_given_cli_with_state_then_store_survives_a_restart(tmp_path: Path) -> None:
    state = tmp_path / "store.json"
    with running("--state", str(state), "--source", "akl") as url:
        client = SandboxClient(url)
        assert (
            client.post("/V1/products", json={"product": simple_product("KEEP", "Keep Me", 9)}).status_code
            == 200
        )
        assert requests.get(f"{url}/__sandbox/stats").json()["requests"] == {"POST /V1/products": 1}
    assert state.exists()
    with running("--state", str(state)) as url:
        product = SandboxClient(url).get("/V1/products/KEEP").json()
        assert (product["sku"], product["price"]) == ("KEEP", 9)
        sources = SandboxClient(url).get("/V1/inventory/sources").json()["items"]
        assert [s["source_code"] for s in sources] == ["default", "akl"]


def test_given_cli_flags_then_options_mapped() -> None:
    options, verbose = parse_args(
        [
            "--oauth", "a:b:c:d", "--allow-bearer", "--bearer", "tok", "--input-limits", "--latency-ms", "5",
            "--item-ms", "1", "--workers", "3", "--fault-rate", "0.1", "--faults", "429,slow", "--seed", "9",
            "--slow-s", "2", "--store-view", "2:fr:French", "--strict-source-items", "--record",
        ]
    )  # fmt: skip
    assert (options.oauth.consumer_key, options.oauth.token_secret) == ("a", "d")  # type: ignore[union-attr]
    assert (options.allow_bearer, options.bearer_token, options.input_limits) == (True, "tok", True)
    assert (options.latency_ms, options.item_ms, options.workers) == (5, 1, 3)
    assert (options.fault_rate, options.fault_kinds, options.seed, options.slow_s) == (
        0.1,
        ("429", "slow"),
        9,
        2,
    )
    assert options.extra_store_views[0].code == "fr" and options.strict_source_items and options.record
    assert verbose is False


def test_given_state_file_then_writes_are_saved_without_stopping(tmp_path: Path) -> None:
    state = tmp_path / "store.json"
    with MagentoSandbox(SandboxOptions(state_file=state)) as store:
        SandboxClient(store.base_url).post("/V1/products", json={"product": simple_product("A", "A", 1)})
        store.sales.create_customer("ann@example.com", "Ann", "Lee")
        for _ in range(50):
            if state.exists() and "ann@example.com" in state.read_text():
                break
            import time

            time.sleep(0.1)
        assert '"sku":"A"' in state.read_text()
    with MagentoSandbox(SandboxOptions(state_file=state)) as again:
        assert again.store.product_by_sku("a") is not None
        assert [c.email for c in again.store.customers.values()] == ["ann@example.com"]


def test_given_rich_store_then_state_round_trip_keeps_every_answer(tmp_path: Path) -> None:
    from tests.sandbox.test_schema import _tour

    state = tmp_path / "store.json"
    paths = [
        "/V1/products/TEE",
        "/V1/products/TEE-R-S",
        "/V1/products/PLAIN",
        "/V1/orders/1",
        "/V1/invoices/1",
        "/V1/creditmemo/1",
        "/V1/customers/1",
        "/V1/categories/list?searchCriteria=",
        "/V1/inventory/source-items?searchCriteria=",
        "/V1/products/attributes/color/options",
    ]
    options = SandboxOptions(state_file=state, sources=("akl",))
    with MagentoSandbox(options) as store:
        client = SandboxClient(store.base_url)
        _tour(store, client)
        before = {p: client.get(p).json() for p in paths}
    with MagentoSandbox(SandboxOptions(state_file=state)) as again:
        client = SandboxClient(again.base_url)
        after = {p: client.get(p).json() for p in paths}
        assert after == before
        assert again.unexpected_errors == []
