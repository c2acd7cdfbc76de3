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
import logging
import os
import random
import tempfile
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from types import TracebackType
from typing import Any, Literal
from urllib.parse import quote

import requests
from requests.adapters import HTTPAdapter

from kudos_sync.config import MagentoSettings, SyncSettings
from kudos_sync.domain.errors import ConfigurationError
from kudos_sync.magento.auth import RequestSigner, signer_for
from kudos_sync.magento.bodies import MAX_RESPONSE_BYTES, Undecodable, decode, dumps, read_capped
from kudos_sync.magento.errors import (
    AmbiguousWriteError,
    MagentoConfigurationError,
    MagentoRecordError,
    MagentoTransientError,
    classify,
    transport_error,
)
from kudos_sync.magento.pacing import (
    AdaptiveLimiter,
    EndpointStats,
    RequestStats,
    RetryPolicy,
    parse_retry_after,
)
from kudos_sync.magento.search import encode_query

log = logging.getLogger(__name__)

Method = Literal["GET", "POST", "PUT", "DELETE"]
Scope = Literal["store", "all"]

USER_AGENT = "kudos-sync/0.1 (+Kudos Cloud Interaction for Magento 2)"


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
        max_response_bytes: int = MAX_RESPONSE_BYTES,
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
        self.max_response_bytes = max_response_bytes
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
        """The absolute URL: ``template`` ("/V1/products/{sku}") with each path value fully escaped.
        A value of dots only (a SKU ``.`` or ``..``) is a RecordError: escaping leaves dots alone and
        the URL would be normalised to another route (``/products/../media``)."""
        for name, value in (path or {}).items():
            text = str(value)
            if text and text.strip(".") == "":
                raise MagentoRecordError(
                    f"{name} {text!r} cannot be addressed in a Magento URL (dots only)",
                    record=text,
                    field=name,
                    reason="bad_path_value",
                )
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
                    prepared, timeout=self._timeout, verify=self._verify, allow_redirects=False, stream=True
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
            try:
                content = read_capped(response, self.max_response_bytes, endpoint=endpoint, record=record)
            except requests.exceptions.RequestException as exc:  # the body was cut off mid-read
                raise transport_error(exc, endpoint=endpoint, record=record, sent=True) from None
            body = decode(content)
            if 200 <= response.status_code < 300:
                if isinstance(body, Undecodable):
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
                body.text if isinstance(body, Undecodable) else body,
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
    "MAX_RESPONSE_BYTES",
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
