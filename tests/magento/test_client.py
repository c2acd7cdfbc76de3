"""MagentoClient against a scripted local server: retries, backoff, ambiguity, limiter, stats, URLs."""

from __future__ import annotations

import os
import random
import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path

import pytest
from kudos_sync.domain.errors import ConfigurationError, RecordError, TransientError
from kudos_sync.magento.client import AdaptiveLimiter, MagentoClient, RetryPolicy, parse_retry_after
from kudos_sync.magento.errors import AmbiguousWriteError

from tests.magento.conftest import Sleeps, bearer_auth, make_client
from tests.magento.stub import Reply, Seen, StubServer, free_port, self_signed_tls


def scripted(*replies: Reply) -> object:
    """A handler answering with the replies in turn, then repeating the last."""
    queue = list(replies)
    lock = threading.Lock()

    def handle(seen: Seen) -> Reply:
        with lock:
            return queue.pop(0) if len(queue) > 1 else queue[0]

    return handle


def test_429_with_retry_after_is_honoured_then_succeeds(stub: StubServer) -> None:
    stub.handler = scripted(
        Reply(429, {"message": "Too Many Requests"}, {"Retry-After": "3"}), Reply(200, [])
    )
    sleeps = Sleeps()
    with make_client(stub.base_url, sleeps=sleeps) as client:
        assert client.call("POST", "/V1/products/base-prices", body={"prices": []}, idempotent=True) == []
        assert client.limiter.limit == 2  # halved from 4 by the 429
    assert len(stub.seen) == 2
    assert sleeps.calls and sleeps.calls[0] >= 3.0


def test_a_long_retry_after_ends_the_call_at_once(stub: StubServer) -> None:
    stub.handler = scripted(Reply(503, {"message": "Maintenance"}, {"Retry-After": "3600"}))
    with make_client(stub.base_url) as client, pytest.raises(TransientError):
        client.get("/V1/orders", query="searchCriteria=")
    assert len(stub.seen) == 1


def test_deadlock_400_is_retried(stub: StubServer) -> None:
    stub.handler = scripted(
        Reply(400, {"message": "Database deadlock found when trying to get lock"}),
        Reply(200, {"id": 7, "sku": "A"}),
    )
    with make_client(stub.base_url) as client:
        result = client.call(
            "POST", "/V1/products", body={"product": {"sku": "A"}}, scope="all", idempotent=True
        )
    assert result["id"] == 7
    assert len(stub.seen) == 2


def test_every_attempt_is_signed_afresh(stub: StubServer) -> None:
    stub.handler = scripted(Reply(502, None), Reply(502, None), Reply(200, {"ok": True}))
    with make_client(stub.base_url) as client:
        client.get("/V1/products/{sku}", path={"sku": "A"})
    nonces = {s.headers["Authorization"].split("oauth_nonce=")[1][:40] for s in stub.seen}
    assert len(stub.seen) == 3 and len(nonces) == 3
    assert all("HMAC-SHA256" in s.headers["Authorization"] for s in stub.seen)


def test_idempotent_calls_give_up_after_max_attempts_with_growing_jittered_delays(stub: StubServer) -> None:
    stub.handler = scripted(Reply(500, {"message": "Internal Error. Report ID: webapi-1"}))
    sleeps = Sleeps()
    policy = RetryPolicy(max_attempts=5, base_delay=1.0, max_delay=8.0, time_budget=1000)
    with (
        make_client(stub.base_url, sleeps=sleeps, retry=policy) as client,
        pytest.raises(TransientError, match="gave up after 5 attempts"),
    ):
        client.call("POST", "/V1/inventory/source-items", body={"sourceItems": [1]}, idempotent=True)
    assert len(stub.seen) == 5
    assert len(sleeps.calls) == 4
    for attempt, delay in enumerate(sleeps.calls, start=1):
        assert 0 <= delay <= min(8.0, 2 ** (attempt - 1))


def test_time_budget_bounds_retries() -> None:
    clock = [0.0]

    def sleep(seconds: float) -> None:
        clock[0] += seconds

    with StubServer(scripted(Reply(503, {"message": "busy"}, {"Retry-After": "10"}))) as server:
        client = MagentoClient(
            make_client(server.base_url).settings,
            make_client(server.base_url).sync,
            sleep=sleep,
            monotonic=lambda: clock[0],
            retry=RetryPolicy(max_attempts=50, time_budget=25.0),
        )
        with client, pytest.raises(TransientError):
            client.get("/V1/orders", query="searchCriteria=")
        assert len(server.seen) == 3  # t=0, 10, 20; the next wait would pass 25 s
        assert clock[0] == pytest.approx(20.0)


@pytest.mark.parametrize("status", [500, 502, 504])
def test_non_idempotent_write_is_not_repeated_after_an_ambiguous_failure(
    stub: StubServer, status: int
) -> None:
    stub.handler = scripted(Reply(status, {"message": "Internal Error"}))
    with make_client(stub.base_url) as client, pytest.raises(AmbiguousWriteError):
        client.call(
            "POST", "/V1/products/{sku}/media", path={"sku": "A"}, body={"entry": {}}, idempotent=False
        )
    assert len(stub.seen) == 1


@pytest.mark.parametrize(
    "first",
    [
        Reply(429, {"message": "Too Many Requests"}),
        Reply(503, {"message": "Service Unavailable"}),
        Reply(400, {"message": "Database lock wait timeout exceeded"}),
    ],
)
def test_non_idempotent_write_is_retried_when_magento_certainly_did_not_apply_it(
    stub: StubServer, first: Reply
) -> None:
    stub.handler = scripted(first, Reply(200, 41))
    with make_client(stub.base_url) as client:
        assert client.call("POST", "/V1/categories", body={"category": {}}, idempotent=False) == 41
    assert len(stub.seen) == 2


def test_dropped_connection_after_sending(stub: StubServer) -> None:
    stub.handler = scripted(Reply(drop=True), Reply(200, True))
    with make_client(stub.base_url) as client:
        assert (
            client.call(
                "DELETE", "/V1/products/{sku}/media/{id}", path={"sku": "A", "id": 1}, idempotent=True
            )
            is True
        )
    stub.handler = scripted(Reply(drop=True), Reply(200, 5))
    with make_client(stub.base_url) as client, pytest.raises(AmbiguousWriteError):
        client.call(
            "POST", "/V1/orders/{id}/comments", path={"id": 5}, body={"statusHistory": {}}, idempotent=False
        )


def test_read_timeout_is_ambiguous_for_writes_and_retried_for_reads(stub: StubServer) -> None:
    stub.handler = scripted(Reply(200, [], delay=1.5), Reply(200, []))
    with make_client(stub.base_url, timeout_seconds=0.5) as client:
        assert client.get("/V1/products/{sku}/media", path={"sku": "A"}) == []
    stub.handler = scripted(Reply(200, 9, delay=1.5))
    with make_client(stub.base_url, timeout_seconds=0.5) as client, pytest.raises(AmbiguousWriteError):
        client.call(
            "POST", "/V1/products/{sku}/media", path={"sku": "A"}, body={"entry": {}}, idempotent=False
        )


def test_connection_refused_is_transient_and_retried_even_for_non_idempotent_writes() -> None:
    sleeps = Sleeps()
    client = make_client(f"http://127.0.0.1:{free_port()}", sleeps=sleeps, retry=RetryPolicy(max_attempts=3))
    with client, pytest.raises(TransientError) as caught:
        client.call("POST", "/V1/categories", body={"category": {}}, idempotent=False)
    assert not isinstance(caught.value, AmbiguousWriteError)
    assert len(sleeps.calls) == 2


def test_401_is_a_configuration_error_without_retry(stub: StubServer) -> None:
    stub.handler = scripted(
        Reply(
            401,
            {
                "message": "The consumer isn't authorized to access %resources.",
                "parameters": {"resources": "Magento_Catalog::products"},
            },
        )
    )
    with (
        make_client(stub.base_url, auth=bearer_auth("tok-secret-123")) as client,
        pytest.raises(ConfigurationError) as caught,
    ):
        client.get("/V1/products", query="searchCriteria=")
    assert len(stub.seen) == 1
    assert "Magento_Catalog::products" in str(caught.value) and "2.4.4" in str(caught.value)
    assert "tok-secret-123" not in str(caught.value) and "tok-secret-123" not in repr(client)
    assert stub.seen[0].headers["Authorization"] == "Bearer tok-secret-123"


def test_record_error_fills_the_message(stub: StubServer) -> None:
    stub.handler = scripted(Reply(400, {"message": "URL key for specified store already exists."}))
    with make_client(stub.base_url) as client, pytest.raises(RecordError) as caught:
        client.call(
            "POST", "/V1/products", body={"product": {}}, scope="all", idempotent=True, record="TEE-1"
        )
    assert caught.value.field == "url_key" and caught.value.record == "TEE-1"
    assert len(stub.seen) == 1


def test_scope_prefixes_and_sku_escaping(stub: StubServer) -> None:
    stub.handler = scripted(Reply(200, {}))
    with make_client(stub.base_url, store_code="nz_en") as client:
        client.get("/V1/products/{sku}", path={"sku": "TEE/RED XL+1%"})
        client.call(
            "PUT",
            "/V1/products/{sku}",
            path={"sku": "A/B"},
            body={"product": {}},
            scope="all",
            idempotent=True,
        )
    assert stub.seen[0].raw_path == "/rest/nz_en/V1/products/TEE%2FRED%20XL%2B1%25"
    assert stub.seen[1].raw_path == "/rest/all/V1/products/A%2FB"
    assert stub.seen[1].headers["Content-Type"] == "application/json"
    assert stub.seen[1].body == {"product": {}}


def test_stats_count_requests_items_and_retries_per_endpoint_template(stub: StubServer) -> None:
    stub.handler = scripted(Reply(503, {"message": "busy"}), Reply(200, []))
    with make_client(stub.base_url) as client:
        client.call("POST", "/V1/products/base-prices", body={"prices": [1, 2, 3]}, idempotent=True, items=3)
        client.get("/V1/products/{sku}/media", path={"sku": "A"})
        client.get("/V1/products/{sku}/media", path={"sku": "B"})
        stats = client.stats.details()
    prices = stats["POST /V1/products/base-prices"]
    assert (prices.requests, prices.items, prices.retries, prices.failures) == (2, 6, 1, 1)
    assert stats["GET /V1/products/{sku}/media"].requests == 2
    assert client.stats.requests == 4
    assert client.stats.as_dict()["GET /V1/products/{sku}/media"]["items"] == 2
    requests, items = client.stats.snapshot()
    assert requests == {"GET /V1/products/{sku}/media": 2, "POST /V1/products/base-prices": 2}
    assert items == {"GET /V1/products/{sku}/media": 2, "POST /V1/products/base-prices": 6}


def test_limiter_never_exceeds_concurrency_in_flight(stub: StubServer) -> None:
    stub.handler = scripted(Reply(200, [], delay=0.03))
    with make_client(stub.base_url, concurrency=3) as client, ThreadPoolExecutor(max_workers=12) as pool:
        list(pool.map(lambda i: client.get("/V1/products/{sku}/media", path={"sku": str(i)}), range(36)))
        assert client.limiter.peak <= 3
    assert stub.peak == 3
    assert len(stub.seen) == 36


def test_limiter_halves_under_429_and_stays_within_the_new_limit(stub: StubServer) -> None:
    lock = threading.Lock()
    count = [0]

    def handle(seen: Seen) -> Reply:
        with lock:
            count[0] += 1
            n = count[0]
        return (
            Reply(429, {"message": "Too Many Requests"}, delay=0.02) if n <= 4 else Reply(200, [], delay=0.02)
        )

    stub.handler = handle
    with make_client(stub.base_url, concurrency=8) as client, ThreadPoolExecutor(max_workers=16) as pool:
        client.limiter.increase_after = 1000  # no growing back within this test
        list(pool.map(lambda i: client.get("/V1/orders", query=f"x={i}"), range(40)))
        assert client.limiter.limit < 8
        assert client.limiter.peak <= 8
    assert stub.peak <= 8


def test_adaptive_limiter_aimd() -> None:
    limiter = AdaptiveLimiter(8, increase_after=3)
    gens = [limiter.acquire() for _ in range(4)]
    for g in gens:
        limiter.release(g, throttled=True)  # four 429s from one generation: one halving
    assert limiter.limit == 4
    g = limiter.acquire()
    limiter.release(g, throttled=True)
    assert limiter.limit == 2
    for _ in range(6):
        limiter.release(limiter.acquire(), succeeded=True)
    assert limiter.limit == 4
    for _ in range(100):
        limiter.release(limiter.acquire(), succeeded=True)
    assert limiter.limit == 8 and limiter.in_flight == 0
    g = limiter.acquire()
    limiter.release(g, throttled=True)
    assert limiter.limit == 4
    floor = AdaptiveLimiter(1)
    floor.release(floor.acquire(), throttled=True)
    assert floor.limit == 1


def test_retry_after_parsing() -> None:
    now = datetime(2026, 1, 1, tzinfo=UTC)
    assert parse_retry_after("7", now) == 7.0
    assert parse_retry_after(format_datetime(now + timedelta(seconds=30), usegmt=True), now) == 30.0
    assert parse_retry_after("soon", now) is None
    assert parse_retry_after(None) is None


def test_backoff_full_jitter_is_bounded() -> None:
    client = make_client("http://127.0.0.1:1", retry=RetryPolicy(base_delay=0.5, max_delay=4.0))
    client._rng = random.Random(1)
    for attempt in range(1, 10):
        for _ in range(50):
            assert 0 <= client._backoff(attempt, None) <= min(4.0, 0.5 * 2 ** (attempt - 1))
    assert client._backoff(1, 9.0) >= 9.0
    client.close()


def test_ca_bundle_is_written_for_verify_and_removed_on_close() -> None:
    pem = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n"
    client = make_client("https://shop.example.com", ca_bundle_pem=pem)
    path = client._verify
    assert isinstance(path, str)
    with open(path) as handle:
        assert handle.read() == pem
    client.close()
    assert not os.path.exists(path)
    assert make_client("https://shop.example.com")._verify is True


def test_untrusted_certificate_is_a_configuration_error_and_a_tenant_ca_bundle_fixes_it(
    tmp_path: Path,
) -> None:
    context, cert_pem = self_signed_tls(str(tmp_path))
    with StubServer(scripted(Reply(200, {"items": [], "total_count": 0})), tls=context) as server:
        with make_client(server.base_url) as client, pytest.raises(ConfigurationError, match="ca_bundle_pem"):
            client.get("/V1/orders", query="searchCriteria=")
        with make_client(server.base_url, ca_bundle_pem=cert_pem) as client:
            assert client.get("/V1/orders", query="searchCriteria=") == {"items": [], "total_count": 0}
        assert len(server.seen) == 1


def test_bodies_are_json_with_decimals_and_any_unicode(stub: StubServer) -> None:
    from decimal import Decimal

    stub.handler = scripted(Reply(200, {"id": 1}))
    name = "Crème \u201cTee\u201d \u2013 赤 🎽"
    with make_client(stub.base_url) as client:
        client.call(
            "POST",
            "/V1/products",
            body={"product": {"name": name, "price": Decimal("19.90")}},
            scope="all",
            idempotent=True,
        )
    assert stub.seen[0].body == {"product": {"name": name, "price": 19.9}}
