"""Statistics, the cost model (latency, per-item cost, worker limit) and injected faults."""

from __future__ import annotations

import re
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests

from sandbox.magento.testing import SandboxClient, simple_product


def test_given_requests_then_stats_count_per_route_template_and_items(
    magento_sandbox, sandbox_client
) -> None:
    sandbox_client.post("/V1/products", json={"product": simple_product("A/1", "A", 1)})
    sandbox_client.get("/V1/products/A%2F1")
    sandbox_client.get("/V1/products/NOPE")
    prices = [{"sku": "A/1", "price": 2, "store_id": 0}, {"sku": "A/1", "price": 3, "store_id": 0}]
    sandbox_client.post("/V1/products/base-prices", json={"prices": prices})
    stats = requests.get(f"{magento_sandbox.base_url}/__sandbox/stats").json()
    assert stats == magento_sandbox.stats()
    assert stats["requests"] == {
        "POST /V1/products": 1,
        "GET /V1/products/{sku}": 2,
        "POST /V1/products/base-prices": 1,
    }
    assert stats["items"] == {"POST /V1/products/base-prices": 2}
    assert stats["faults"] == {}
    assert requests.post(f"{magento_sandbox.base_url}/__sandbox/reset").status_code == 200
    assert magento_sandbox.stats() == {"requests": {}, "items": {}, "faults": {}}


def test_given_latency_and_item_cost_then_requests_take_that_long(store_with) -> None:
    with store_with(latency_ms=60, item_ms=10) as (_store, client):
        started = time.perf_counter()
        client.post("/V1/products/base-prices-information", json={"skus": [f"S{i}" for i in range(10)]})
        assert time.perf_counter() - started >= 0.16
        started = time.perf_counter()
        client.get("/V1/products/NOPE")
        assert 0.06 <= time.perf_counter() - started < 2


def test_given_worker_limit_then_excess_requests_queue(store_with) -> None:
    with store_with(latency_ms=300, workers=2) as (store, _):
        clients = [SandboxClient(store.base_url) for _ in range(4)]
        started = time.perf_counter()
        with ThreadPoolExecutor(4) as pool:
            codes = list(pool.map(lambda c: c.get("/V1/products/NOPE").status_code, clients))
        elapsed = time.perf_counter() - started
        assert codes == [404] * 4
        assert 0.6 <= elapsed < 1.15  # two waves of two: not all at once (0.3 s), not one by one (1.2 s)


def test_given_cost_model_then_default_workers_is_four(store_with) -> None:
    with store_with(latency_ms=1) as (store, _):
        assert store.options.effective_workers() == 4
    with store_with() as (store, _):
        assert store.options.effective_workers() is None


def _post_product(client: SandboxClient, sku: str, timeout: float = 5) -> requests.Response:
    return client.post("/V1/products", json={"product": simple_product(sku, sku, 1)}, timeout=timeout)


@pytest.mark.parametrize(
    ("kind", "status"),
    [("429", 429), ("500", 500), ("502", 502), ("503", 503), ("deadlock", 400)],
)
def test_given_answering_fault_then_status_and_write_not_applied(store_with, kind: str, status: int) -> None:
    with store_with(fault_rate=1.0, fault_kinds=(kind,)) as (store, client):
        response = _post_product(client, "F-1")
        assert response.status_code == status
        assert store.store.product_by_sku("F-1") is None
        assert store.stats()["faults"] == {kind: 1}
        if kind == "429":
            assert response.headers["Retry-After"] == "1"
            assert response.json() == {"message": "Too Many Requests", "trace": None}
        if kind == "500":
            assert re.fullmatch(
                r"Internal Error\. Details are available in Magento log file\. "
                r"Report ID: webapi-[0-9a-f]{13}",
                response.json()["message"],
            )
        if kind in ("502", "503"):
            assert response.headers["Content-Type"].startswith("text/html")
        if kind == "deadlock":
            assert response.json() == {"message": "Database deadlock found when trying to get lock"}


def test_given_deadlock_only_then_reads_are_not_faulted(store_with) -> None:
    with store_with(fault_rate=1.0, fault_kinds=("deadlock",)) as (store, client):
        assert client.get("/V1/products/NOPE").status_code == 404
        assert store.stats()["faults"] == {}


def test_given_drop_before_then_connection_closes_and_nothing_written(store_with) -> None:
    with store_with(fault_rate=1.0, fault_kinds=("drop_before",)) as (store, client):
        with pytest.raises(requests.ConnectionError):
            _post_product(client, "F-1")
        assert store.store.product_by_sku("F-1") is None


def test_given_drop_after_then_connection_closes_but_write_applied(store_with) -> None:
    with store_with(fault_rate=1.0, fault_kinds=("drop_after",)) as (store, client):
        with pytest.raises(requests.ConnectionError):
            _post_product(client, "F-1")
        assert store.store.product_by_sku("F-1") is not None


def test_given_slow_response_then_client_times_out_and_write_applied(store_with) -> None:
    with store_with(fault_rate=1.0, fault_kinds=("slow",), slow_s=1.0) as (store, client):
        with pytest.raises(requests.ReadTimeout):
            _post_product(client, "F-1", timeout=0.3)
        assert store.store.product_by_sku("F-1") is not None


def test_given_faults_then_control_routes_are_never_faulted(store_with) -> None:
    with store_with(fault_rate=1.0) as (store, _):
        for _ in range(20):
            assert requests.get(f"{store.base_url}/__sandbox/stats").status_code == 200


def test_given_same_seed_then_same_fault_sequence(store_with) -> None:
    def outcomes(seed: int) -> list[str]:
        kinds = ("429", "500", "502", "503")
        with store_with(fault_rate=0.5, fault_kinds=kinds, seed=seed) as (_store, client):
            return [str(client.get("/V1/products/NOPE").status_code) for _ in range(30)]

    first, second = outcomes(7), outcomes(7)
    assert first == second
    assert {"404"} < set(first)


def test_given_runtime_fault_changes_then_applied_and_counted(store_with) -> None:
    with store_with() as (store, client):
        store.set_faults(1.0, ["503"])
        assert client.get("/V1/products/NOPE").status_code == 503
        response = requests.post(f"{store.base_url}/__sandbox/faults", json={"rate": 0})
        assert response.json()["rate"] == 0
        assert client.get("/V1/products/NOPE").status_code == 404
        requests.post(f"{store.base_url}/__sandbox/faults", json={"rate": 1, "kinds": ["429"]})
        assert client.get("/V1/products/NOPE").status_code == 429
        assert store.stats()["faults"] == {"503": 1, "429": 1}
        bad = requests.post(f"{store.base_url}/__sandbox/faults", json={"rate": 1, "kinds": ["meteor"]})
        assert bad.status_code == 400


def test_given_keep_alive_client_then_many_requests_are_fast(sandbox_client) -> None:
    started = time.perf_counter()
    for _ in range(200):
        assert sandbox_client.get("/V1/products/NOPE").status_code == 404
    assert time.perf_counter() - started < 5


def test_given_chunked_request_body_then_read_whole(sandbox_client) -> None:
    import json

    url = sandbox_client.url("/V1/products")
    payload = json.dumps({"product": simple_product("CH-1", "Chunked", 3)}).encode()
    headers = {**sandbox_client.sign("POST", url), "Content-Type": "application/json"}
    response = sandbox_client.session.post(url, data=iter([payload[:10], payload[10:]]), headers=headers)
    assert response.status_code == 200, response.text
    assert sandbox_client.get("/V1/products/CH-1").json()["name"] == "Chunked"
