"""HTTP client for one tenant's Magento 2.4 admin REST API.

What it owns: scope prefixes (``/rest/all/V1`` for global product writes, ``/rest/<store>/V1``
otherwise), path escaping (a SKU's ``/`` becomes ``%2F``), signing every attempt afresh, TLS with an
optional tenant CA bundle, timeouts, retries of transient failures (exponential backoff with full
jitter, ``Retry-After`` honoured, bounded attempts and time budget), an AIMD concurrency limiter shared
by all threads, and request accounting per endpoint template.

Retrying writes: a write whose connection dropped after sending, whose read timed out, or that got a
500/502/504 may have been applied. Only calls declared ``idempotent`` (upserts and deletes) are retried
then; any other write is retried only when Magento certainly did not apply it (connection refused,
429, 503, deadlock) and otherwise raises ``AmbiguousWriteError`` so its caller can check first.
"""

from __future__ import annotations

import contextlib
import email.utils
import json
import logging
import os
import random
import tempfile
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from types import TracebackType
from typing import Any, Literal
from urllib.parse import quote

import requests
from requests.adapters import HTTPAdapter

from kudos_sync.config import MagentoSettings, SyncSettings
from kudos_sync.domain.errors import ConfigurationError
from kudos_sync.magento.auth import RequestSigner, signer_for
from kudos_sync.magento.errors import (
    AmbiguousWriteError,
    MagentoConfigurationError,
    MagentoTransientError,
    classify,
    transport_error,
)
from kudos_sync.magento.search import encode_query

log = logging.getLogger(__name__)

Method = Literal["GET", "POST", "PUT", "DELETE"]
Scope = Literal["store", "all"]

USER_AGENT = "kudos-sync/0.1 (+Kudos Cloud Interaction for Magento 2)"


# ---------------------------------------------------------------- concurrency


class AdaptiveLimiter:
    """AIMD limit on requests in flight, shared by every thread of one client.

    Starts at ``maximum``; a throttling response (429/503) halves it, once per generation so a burst
    of 429s from requests already in flight counts as one signal; ``increase_after`` successes in a row
    add one back. Never more than ``maximum`` in flight.
    """

    def __init__(self, maximum: int, *, increase_after: int = 10) -> None:
        if maximum < 1:
            raise ValueError("maximum must be at least 1")
        self.maximum = maximum
        self.increase_after = increase_after
        self._limit = maximum
        self._in_flight = 0
        self._peak = 0
        self._successes = 0
        self._generation = 0
        self._cond = threading.Condition()

    @property
    def limit(self) -> int:
        with self._cond:
            return self._limit

    @property
    def in_flight(self) -> int:
        with self._cond:
            return self._in_flight

    @property
    def peak(self) -> int:
        """The most requests ever in flight at once."""
        with self._cond:
            return self._peak

    def acquire(self) -> int:
        """Wait for a slot; returns the generation the request starts in."""
        with self._cond:
            while self._in_flight >= self._limit:
                self._cond.wait()
            self._in_flight += 1
            self._peak = max(self._peak, self._in_flight)
            return self._generation

    def release(self, generation: int, *, throttled: bool = False, succeeded: bool = False) -> None:
        with self._cond:
            self._in_flight -= 1
            if throttled:
                if generation == self._generation:
                    self._limit = max(1, self._limit // 2)
                    self._generation += 1
                    log.warning("Magento is throttling: concurrency limit now %d", self._limit)
                self._successes = 0
            elif succeeded:
                self._successes += 1
                if self._successes >= self.increase_after and self._limit < self.maximum:
                    self._limit += 1
                    self._successes = 0
            self._cond.notify_all()


# ---------------------------------------------------------------- accounting


@dataclass(slots=True)
class EndpointStats:
    requests: int = 0  # HTTP attempts, retries included: what the store had to serve
    items: int = 0  # array items or records those attempts carried
    retries: int = 0
    failures: int = 0  # attempts that did not succeed
    seconds: float = 0.0


class RequestStats:
    """Requests and items per endpoint template ("POST /V1/products/base-prices"); thread-safe."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._by_endpoint: dict[str, EndpointStats] = {}

    def record(self, endpoint: str, *, items: int, ok: bool, retry: bool, seconds: float) -> None:
        with self._lock:
            entry = self._by_endpoint.setdefault(endpoint, EndpointStats())
            entry.requests += 1
            entry.items += items
            entry.retries += int(retry)
            entry.failures += int(not ok)
            entry.seconds += seconds

    def snapshot(self) -> tuple[dict[str, int], dict[str, int]]:
        """(requests per endpoint, items per endpoint): what a run record keeps."""
        with self._lock:
            requests = {k: v.requests for k, v in sorted(self._by_endpoint.items())}
            items = {k: v.items for k, v in sorted(self._by_endpoint.items())}
        return requests, items

    def details(self) -> dict[str, EndpointStats]:
        """A copy of every counter per endpoint (retries, failures and seconds too)."""
        with self._lock:
            return {
                k: EndpointStats(v.requests, v.items, v.retries, v.failures, v.seconds)
                for k, v in sorted(self._by_endpoint.items())
            }

    @property
    def requests(self) -> int:
        with self._lock:
            return sum(v.requests for v in self._by_endpoint.values())

    @property
    def items(self) -> int:
        with self._lock:
            return sum(v.items for v in self._by_endpoint.values())

    def as_dict(self) -> dict[str, dict[str, float]]:
        """Plain numbers for run summaries and benchmark output."""
        return {
            k: {
                "requests": v.requests,
                "items": v.items,
                "retries": v.retries,
                "failures": v.failures,
                "seconds": round(v.seconds, 3),
            }
            for k, v in self.details().items()
        }

    def reset(self) -> None:
        with self._lock:
            self._by_endpoint.clear()


# ---------------------------------------------------------------- retry policy


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    max_attempts: int = 5
    base_delay: float = 0.5  # seconds; attempt n waits up to base * 2**(n-1), capped
    max_delay: float = 30.0
    time_budget: float = 120.0  # seconds for all attempts of one call, sleeps included
    max_retry_after: float = 60.0  # a longer Retry-After ends the call (the next run continues)


def parse_retry_after(value: str | None, now: datetime | None = None) -> float | None:
    """Seconds to wait from a Retry-After header (delta-seconds or an HTTP date)."""
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - (now or datetime.now(UTC))).total_seconds())


def _json_default(value: Any) -> Any:
    if isinstance(value, Decimal):
        # Money is Decimal inside; JSON numbers at the edge. A quantised amount prints exactly.
        return float(value)
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M:%S")
    if isinstance(value, set | frozenset | tuple):
        return list(value)
    raise TypeError(f"cannot send a {type(value).__name__} to Magento")


def dumps(body: Any) -> bytes:
    """The JSON body as bytes (ASCII-escaped, so no proxy or server can mis-decode it)."""
    return json.dumps(body, default=_json_default, separators=(",", ":"), ensure_ascii=True).encode("ascii")


# ---------------------------------------------------------------- client


class MagentoClient:
    """One tenant's Magento REST client. Thread-safe; share one instance across a run's threads."""

    def __init__(
        self,
        settings: MagentoSettings,
        sync: SyncSettings,
        *,
        session: requests.Session | None = None,
        sleep: Callable[[float], None] = time.sleep,
        monotonic: Callable[[], float] = time.monotonic,
        rng: random.Random | None = None,
        retry: RetryPolicy | None = None,
        increase_after: int = 10,
        connect_timeout: float | None = None,
        signer: RequestSigner | None = None,
    ) -> None:
        self.settings = settings
        self.sync = sync
        self.retry = retry or RetryPolicy()
        self.limiter = AdaptiveLimiter(sync.concurrency, increase_after=increase_after)
        self.stats = RequestStats()
        self._signer = signer or signer_for(settings.auth)  # another signer only for preflight probes
        self._sleep = sleep
        self._monotonic = monotonic
        self._rng = rng or random.Random()
        self._rng_lock = threading.Lock()
        read_timeout = settings.timeout_seconds
        self._timeout = (connect_timeout or min(10.0, read_timeout), read_timeout)
        self._ca_file: str | None = None
        self._owns_session = session is None
        self.session = session or requests.Session()
        adapter = HTTPAdapter(pool_connections=1, pool_maxsize=sync.concurrency, max_retries=0)
        self.session.mount("https://", adapter)
        self.session.mount("http://", adapter)
        if self._owns_session:
            self.session.trust_env = False  # no proxy or netrc settings picked up from the environment
        self._verify: bool | str = self._tls_verify(settings)
        self._store_prefix = f"/rest/{quote(settings.store_code, safe='')}/V1"

    # -- setup and teardown

    def _tls_verify(self, settings: MagentoSettings) -> bool | str:
        if settings.ca_bundle_pem:
            handle, path = tempfile.mkstemp(prefix="kudos-magento-ca-", suffix=".pem")
            with os.fdopen(handle, "w", encoding="ascii") as out:
                out.write(settings.ca_bundle_pem)
            self._ca_file = path
            return path
        if not settings.verify_tls:
            log.warning("TLS certificate verification is OFF for %s", settings.base_url)
        return settings.verify_tls

    def close(self) -> None:
        if self._owns_session:
            self.session.close()
        if self._ca_file:
            with contextlib.suppress(OSError):
                os.unlink(self._ca_file)
            self._ca_file = None

    def __enter__(self) -> MagentoClient:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"MagentoClient({self.settings.base_url!r}, store={self.settings.store_code!r})"

    # -- URLs

    def url(
        self,
        template: str,
        path: Mapping[str, str | int] | None = None,
        *,
        scope: Scope = "store",
        query: Sequence[tuple[str, str]] | str | None = None,
    ) -> str:
        """The absolute URL: ``template`` ("/V1/products/{sku}") with each path value fully escaped."""
        values = {k: quote(str(v), safe="") for k, v in (path or {}).items()}
        prefix = "/rest/all/V1" if scope == "all" else self._store_prefix
        if not template.startswith("/V1/"):
            raise ValueError(f"template must start with /V1/: {template!r}")
        url = self.settings.base_url + prefix + template[3:].format(**values)
        if query:
            url += "?" + (query if isinstance(query, str) else encode_query(query))
        return url

    # -- calls

    def get(
        self,
        template: str,
        *,
        path: Mapping[str, str | int] | None = None,
        query: Sequence[tuple[str, str]] | str | None = None,
        scope: Scope = "store",
        record: str = "",
        items: int = 1,
    ) -> Any:
        """A read: always safe to retry."""
        return self.call(
            "GET", template, path=path, query=query, scope=scope, record=record, items=items, idempotent=True
        )

    def call(
        self,
        method: Method,
        template: str,
        *,
        path: Mapping[str, str | int] | None = None,
        query: Sequence[tuple[str, str]] | str | None = None,
        body: Any = None,
        scope: Scope = "store",
        idempotent: bool,
        items: int = 1,
        record: str = "",
    ) -> Any:
        """Send one request with retries; returns the decoded JSON (None for an empty body).

        ``idempotent``: repeating the call has the same effect as sending it once (reads, upserts,
        deletes); only then is an attempt that may have been applied sent again. Raises
        TransientError (after retries), RecordError or ConfigurationError.
        """
        endpoint = f"{method} {template}"
        url = self.url(template, path, scope=scope, query=query)
        data = dumps(body) if body is not None else None
        policy = self.retry
        started = self._monotonic()
        attempt = 0
        while True:
            attempt += 1
            try:
                return self._attempt(
                    method, url, data, endpoint, items=items, record=record, retry=attempt > 1
                )
            except MagentoTransientError as exc:
                if exc.may_have_applied and not idempotent and method != "GET":
                    raise AmbiguousWriteError(
                        f"{exc} (not retried: this write may have been applied)",
                        status=exc.status,
                        reason=exc.reason,
                        may_have_applied=True,
                    ) from None
                delay = self._backoff(attempt, exc.retry_after)
                elapsed = self._monotonic() - started
                if exc.retry_after is not None and exc.retry_after > policy.max_retry_after:
                    raise
                if attempt >= policy.max_attempts or elapsed + delay > policy.time_budget:
                    raise MagentoTransientError(
                        f"{exc} (gave up after {attempt} attempt{'s' if attempt > 1 else ''})",
                        status=exc.status,
                        reason=exc.reason,
                        throttled=exc.throttled,
                        retry_after=exc.retry_after,
                        may_have_applied=exc.may_have_applied,
                    ) from None
                log.warning(
                    "Magento %s%s: %s; retry %d in %.2fs",
                    endpoint,
                    f" for {record}" if record else "",
                    exc.reason or "transient",
                    attempt,
                    delay,
                )
                self._sleep(delay)

    def _backoff(self, attempt: int, retry_after: float | None) -> float:
        """Full jitter: uniform in [0, min(cap, base * 2**(attempt-1))]; at least Retry-After."""
        policy = self.retry
        ceiling = min(policy.max_delay, policy.base_delay * (2 ** (attempt - 1)))
        with self._rng_lock:
            delay = self._rng.uniform(0.0, ceiling)
        if retry_after is not None:
            delay = max(delay, retry_after)
        return delay

    def _attempt(
        self,
        method: Method,
        url: str,
        data: bytes | None,
        endpoint: str,
        *,
        items: int,
        record: str,
        retry: bool,
    ) -> Any:
        headers = {"Accept": "application/json", "User-Agent": USER_AGENT}
        if data is not None:
            headers["Content-Type"] = "application/json"
        prepared = self.session.prepare_request(requests.Request(method, url, headers=headers, data=data))
        # Sign the URL exactly as it goes on the wire; a fresh nonce and timestamp every attempt.
        prepared.headers["Authorization"] = self._signer.authorization(method, prepared.url or url)
        generation = self.limiter.acquire()
        throttled = succeeded = False
        t0 = self._monotonic()
        try:
            try:
                response = self.session.send(
                    prepared, timeout=self._timeout, verify=self._verify, allow_redirects=False
                )
            except requests.exceptions.SSLError as exc:
                if _certificate_rejected(exc):
                    raise MagentoConfigurationError(
                        f"Magento {endpoint}: the certificate of {self.settings.base_url} was not trusted "
                        "(set the tenant's ca_bundle_pem for a private CA)",
                        reason="tls",
                    ) from None
                raise transport_error(exc, endpoint=endpoint, record=record, sent=True) from None
            except (requests.exceptions.ConnectTimeout, requests.exceptions.ProxyError) as exc:
                raise transport_error(exc, endpoint=endpoint, record=record, sent=False) from None
            except requests.exceptions.ConnectionError as exc:
                raise transport_error(
                    exc, endpoint=endpoint, record=record, sent=not _never_connected(exc)
                ) from None
            except requests.exceptions.Timeout as exc:  # read timeout: the request went out
                raise transport_error(exc, endpoint=endpoint, record=record, sent=True) from None
            except (requests.exceptions.InvalidURL, requests.exceptions.MissingSchema) as exc:
                raise ConfigurationError(f"Magento {endpoint}: bad URL ({type(exc).__name__})") from None
            except requests.exceptions.RequestException as exc:
                raise transport_error(exc, endpoint=endpoint, record=record, sent=True) from None
            body = _decode(response)
            if 200 <= response.status_code < 300:
                if isinstance(body, _Undecodable):
                    raise MagentoTransientError(
                        f"Magento {endpoint}: HTTP {response.status_code} with a body that is not JSON",
                        status=response.status_code,
                        reason="bad_body",
                        may_have_applied=True,
                    )
                succeeded = True
                return body
            error = classify(
                response.status_code,
                body.text if isinstance(body, _Undecodable) else body,
                endpoint=endpoint,
                record=record,
                auth_kind=self._signer.kind,
                retry_after=parse_retry_after(response.headers.get("Retry-After")),
            )
            if isinstance(error, MagentoTransientError):
                throttled = error.throttled
            raise error
        finally:
            self.limiter.release(generation, throttled=throttled, succeeded=succeeded)
            self.stats.record(
                endpoint, items=items, ok=succeeded, retry=retry, seconds=self._monotonic() - t0
            )


class _Undecodable:
    __slots__ = ("text",)

    def __init__(self, text: str) -> None:
        self.text = text[:500]


def _decode(response: requests.Response) -> Any:
    if not response.content:
        return None
    try:
        return response.json()
    except ValueError:
        return _Undecodable(response.text)


def _certificate_rejected(exc: requests.exceptions.SSLError) -> bool:
    """A certificate that failed verification (untrusted, expired, wrong host): a setting to fix, not a
    blip. Other TLS errors (a handshake cut short) are transient."""
    text = repr(exc.args[0]) if exc.args else repr(exc)
    return any(m in text for m in ("CERTIFICATE_VERIFY_FAILED", "certificate verify failed", "hostname"))


def _never_connected(exc: requests.exceptions.ConnectionError) -> bool:
    """True when the connection was never made, so nothing was sent (refused, DNS, unreachable)."""
    text = repr(exc.args[0]) if exc.args else repr(exc)
    markers = (
        "NewConnectionError",
        "NameResolutionError",
        "Failed to establish a new connection",
        "Connection refused",
        "ConnectTimeoutError",
    )
    return any(marker in text for marker in markers)


def guarded_write[T](send: Callable[[], T], find: Callable[[], T | None]) -> T:
    """A write that must not be applied twice. After an ambiguous failure ``find`` looks for its
    effect (re-list by label or name); found means done. When Magento itself answered 500, it has
    finished with the request, so a miss means it was not applied and the write is sent once more.
    Any other miss (a dropped connection, a proxy timeout while PHP may still be working) raises."""
    try:
        return send()
    except AmbiguousWriteError as exc:
        found = find()
        if found is not None:
            return found
        if exc.status != 500:
            raise
    return send()


def iter_pages(total_count: int, page_size: int) -> Iterator[int]:
    """Pages 2.. still to read after page 1 reported ``total_count`` (ENDPOINTS section 9)."""
    page = 1
    while page * page_size < total_count:
        page += 1
        yield page


__all__ = [
    "AdaptiveLimiter",
    "AmbiguousWriteError",
    "EndpointStats",
    "MagentoClient",
    "MagentoTransientError",
    "RequestStats",
    "RetryPolicy",
    "guarded_write",
    "iter_pages",
    "parse_retry_after",
]
