"""Magento's cost model and the lower bound it sets for a piece of work (ARCHITECTURE section 9).

A request costs ``latency_ms`` plus ``item_ms`` per array item, and the store serves ``workers``
requests at once. Whatever a client does, the store must spend the sum of those costs, spread over its
workers, so ``sum over requests of (latency + items * item_ms) / workers`` is the fastest the work
can possibly be done. The sandbox applies exactly this model and counts requests and array items per
endpoint, so the bound is computed from what the store actually received.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

MagentoStats = dict[str, dict[str, int]]
"""The sandbox's ``GET /__sandbox/stats``: ``{"requests": {endpoint: n}, "items": {endpoint: n}, ...}``."""


@dataclass(frozen=True)
class CostModel:
    latency_ms: float = 40.0
    item_ms: float = 8.0
    workers: int = 4

    @property
    def enabled(self) -> bool:
        return self.latency_ms > 0 or self.item_ms > 0

    def request_seconds(self, items: int) -> float:
        """What one request with ``items`` array items costs the store."""
        return (self.latency_ms + self.item_ms * items) / 1000.0

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


ZERO_COST = CostModel(latency_ms=0.0, item_ms=0.0, workers=0)


def store_seconds(stats: MagentoStats, cost: CostModel) -> float:
    """Seconds of store work the requests in ``stats`` cost, summed over requests (one worker)."""
    requests = stats.get("requests", {})
    items = stats.get("items", {})
    total_ms = sum(cost.latency_ms * n for n in requests.values()) + sum(
        cost.item_ms * n for n in items.values()
    )
    return total_ms / 1000.0


def lower_bound_seconds(stats: MagentoStats, cost: CostModel) -> float:
    """The cost model's lower bound for this work: store seconds divided by the store's workers."""
    workers = max(1, cost.workers)
    return store_seconds(stats, cost) / workers


def ratio(measured: float, bound: float) -> float | None:
    """measured / bound; None when the bound is zero (nothing for the store to do)."""
    if bound <= 0:
        return None
    return measured / bound


def per_endpoint(stats: MagentoStats, cost: CostModel) -> dict[str, dict[str, float]]:
    """Requests, items and the lower-bound share of each endpoint, largest share first."""
    requests = stats.get("requests", {})
    items = stats.get("items", {})
    workers = max(1, cost.workers)
    rows: dict[str, dict[str, float]] = {}
    for endpoint in sorted(set(requests) | set(items)):
        n, k = requests.get(endpoint, 0), items.get(endpoint, 0)
        bound = (cost.latency_ms * n + cost.item_ms * k) / 1000.0 / workers
        rows[endpoint] = {"requests": n, "items": k, "lower_bound_seconds": round(bound, 3)}
    return dict(sorted(rows.items(), key=lambda kv: (-kv[1]["lower_bound_seconds"], kv[0])))


def totals(stats: MagentoStats) -> tuple[int, int]:
    """(requests, items) over every endpoint."""
    return sum(stats.get("requests", {}).values()), sum(stats.get("items", {}).values())


def diff_stats(after: MagentoStats, before: MagentoStats) -> MagentoStats:
    """``after - before`` per counter (for stores whose statistics cannot be reset)."""
    out: MagentoStats = {}
    for section in ("requests", "items", "faults"):
        a, b = after.get(section, {}), before.get(section, {})
        out[section] = {k: a.get(k, 0) - b.get(k, 0) for k in a if a.get(k, 0) - b.get(k, 0)}
    return out
