"""The push's scheduled reconcile: each run reads a bounded slice of what Magento holds, kind by kind
when it is due (stock every `stock_every_minutes`, the rest every `others_every_minutes`), marks what
drifted so the same run's exporters send it, and keeps its position so the next run resumes there.

Position per read unit is a cursor in the state store (`drift-<unit>`): `created_at` is when the
current pass started, `entity_id` the position reached in that unit's sorted SKUs (0 once a pass is
done). A pass in progress continues whatever the interval; a finished one starts again once its
interval has passed since it started. The markings are saved before the cursor moves, so a run cut
off in between reads that slice again rather than losing what it found.
"""

import logging
from collections.abc import Callable, Mapping
from datetime import datetime, timedelta

from kudos_sync.config import TenantConfig
from kudos_sync.domain.desired import DesiredCatalogue
from kudos_sync.domain.state import Binding, BindingKind, Cursor
from kudos_sync.sync.ports import MagentoCatalog, StateStore
from kudos_sync.sync.push.drift import (
    UNIT_OF,
    Budget,
    DriftScan,
    DriftScanner,
    ReadUnit,
    owned_kinds,
    scan_unit,
    units_of,
)
from kudos_sync.sync.push.drift_repair import mark_for_repair

logger = logging.getLogger(__name__)


def cursor_stream(unit: ReadUnit) -> str:
    return f"drift-{unit}"


def _interval(config: TenantConfig, unit: ReadUnit) -> timedelta:
    settings = config.reconcile
    minutes = settings.stock_every_minutes if unit == "stock" else settings.others_every_minutes
    return timedelta(minutes=minutes)


def _due(cursor: Cursor | None, now: datetime, interval: timedelta) -> tuple[int, datetime] | None:
    """(position to start from, when this pass started), or None while the unit is not due."""
    if cursor is None:
        return 0, now
    if cursor.entity_id > 0:
        return cursor.entity_id, cursor.created_at
    if now - cursor.created_at >= interval:
        return 0, now
    return None


def reconcile(
    config: TenantConfig,
    magento: MagentoCatalog,
    state: StateStore,
    desired: DesiredCatalogue,
    bindings: Mapping[BindingKind, dict[str, Binding]],
    now: datetime,
    stop: Callable[[], bool],
) -> DriftScan:
    """Scan what is due within the run's reconcile budget and mark what drifted for this run to send."""
    result = DriftScan()
    settings = config.reconcile
    if not settings.enabled:
        return result
    kinds = owned_kinds(config)
    scanner = DriftScanner(config, magento, desired, bindings)
    budget = Budget(requests=settings.max_requests, seconds=settings.max_seconds, stop=stop)
    for unit in units_of(kinds):
        cursor = state.get_cursor(cursor_stream(unit))
        due = _due(cursor, now, _interval(config, unit))
        if due is None:
            continue
        start, pass_started = due
        found_before = len(result.drifts)
        position, done = scan_unit(
            scanner, unit, [k for k in kinds if UNIT_OF[k] == unit], result, budget, start
        )
        mark_for_repair(state, bindings, result.drifts[found_before:])
        state.save_cursor(
            Cursor(stream=cursor_stream(unit), created_at=pass_started, entity_id=0 if done else position)
        )
        if not done:
            break  # the budget is spent: the next run resumes this unit before the others
    if result.drifts:
        logger.warning("drift found: %s", {k: n for k, n in result.counts().items() if n})
    return result
