"""Pacing for one tenant's Magento client: the AIMD concurrency limiter shared by a run's threads, the
retry policy with ``Retry-After`` parsing, and request accounting per endpoint template."""

from __future__ import annotations

import email.utils
import logging
import threading
from dataclasses import dataclass
from datetime import UTC, datetime

# The client's logger: these lines read as the client's, as they did before the split.
log = logging.getLogger("kudos_sync.magento.client")

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
