"""Push: CI Office -> Magento. `PushSync` (orchestrator.py) says the order; one exporter per concern
does the work: taxonomy (categories and options), products, rows (prices, special prices, stock),
images; binders make the bindings, mappers the request shapes, parking settles parked records."""

from kudos_sync.sync.push.orchestrator import PushScope, PushSync
from kudos_sync.sync.push.results import PushCounts, PushPlan, PushProblem, PushResult

__all__ = ["PushCounts", "PushPlan", "PushProblem", "PushResult", "PushScope", "PushSync"]
