"""Scenario (f): our own CPU cost of reading, mapping and fingerprinting the catalogue, with no Magento.

``PushSync.plan()`` is the push's read + map + diff path (every product, price, special price, stock
row and image set is mapped and fingerprinted and compared with the bindings) without a single write.
It runs here over a SQLite CI Office with an in-memory state store and a Magento that is never called,
so the time is ours alone. The read and the mapping are also timed on their own.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from kudos_sync.ci_office.catalogue import SqlCatalogueSource
from kudos_sync.config import TenantConfig
from kudos_sync.domain.errors import RecordError
from kudos_sync.domain.push_mapping import map_catalogue
from kudos_sync.domain.state import Binding, BindingKind, Cursor, ParkedRecord, RunRecord
from kudos_sync.sync.ports import (
    CategoryNode,
    MediaEntry,
    MediaUpload,
    PriceRow,
    ProductWrite,
    RowFailure,
    SourceItemRow,
    StoreProduct,
    WriteOutcome,
)
from kudos_sync.sync.push import PushSync
from sqlalchemy import Engine


class MemoryState:
    """A StateStore in a dict: enough for plan(), which only loads bindings."""

    def __init__(self) -> None:
        self.bindings: dict[BindingKind, dict[str, Binding]] = {}

    def acquire_lease(self, direction: str, holder: str, now: datetime, until: datetime) -> bool:
        return True

    def renew_lease(self, direction: str, holder: str, until: datetime) -> bool:
        return True

    def release_lease(self, direction: str, holder: str) -> None:
        return None

    def load_bindings(self, kind: BindingKind) -> dict[str, Binding]:
        return dict(self.bindings.get(kind, {}))

    def save_bindings(self, bindings: Sequence[Binding]) -> None:
        for binding in bindings:
            self.bindings.setdefault(binding.kind, {})[binding.key] = binding

    def delete_bindings(self, kind: BindingKind, keys: Sequence[str] | None = None) -> int:
        held = self.bindings.get(kind, {})
        gone = list(held) if keys is None else [k for k in keys if k in held]
        for key in gone:
            del held[key]
        return len(gone)

    def get_cursor(self, stream: str) -> Cursor | None:
        return None

    def save_cursor(self, cursor: Cursor) -> None:
        return None

    def park(self, record: ParkedRecord) -> None:
        return None

    def unpark(self, stream: str, key: str) -> None:
        return None

    def list_parked(self, stream: str | None = None) -> list[ParkedRecord]:
        return []

    def save_run(self, run: RunRecord) -> None:
        return None

    def list_runs(self, direction: str | None = None, limit: int = 20) -> list[RunRecord]:
        return []


class UnusedMagento:
    """A MagentoCatalog that must not be written to: plan() writes nothing. For a tenant that never
    pushed it surveys the store (adopt); this store holds nothing, so only the diff's CPU is measured."""

    def read_products(self, skus: Sequence[str]) -> dict[str, StoreProduct | RecordError]:
        return {}

    def find_url_keys(self, url_keys: Sequence[str]) -> dict[str, str]:
        return {}

    def count_products(self) -> int:
        return 0

    def _never(self, *args: Any) -> Any:
        raise AssertionError("plan() must not call Magento")

    def list_attribute_options(self, attribute_code: str) -> dict[str, int]:
        return self._never(attribute_code)  # type: ignore[no-any-return]

    def add_attribute_option(self, attribute_code: str, label: str) -> int:
        return self._never(attribute_code, label)  # type: ignore[no-any-return]

    def list_categories(self, root_id: int) -> list[CategoryNode]:
        return self._never(root_id)  # type: ignore[no-any-return]

    def create_category(self, parent_id: int, name: str) -> int:
        return self._never(parent_id, name)  # type: ignore[no-any-return]

    def find_products(self, skus: Sequence[str]) -> dict[str, int]:
        return self._never(skus)  # type: ignore[no-any-return]

    def save_products(
        self, products: Sequence[ProductWrite], known_ids: Mapping[str, int] | None = None
    ) -> list[WriteOutcome]:
        return self._never(products, known_ids)  # type: ignore[no-any-return]

    def unlink_child(self, parent_sku: str, child_sku: str) -> None:
        self._never(parent_sku, child_sku)

    def unlink_category(self, category_id: int, sku: str) -> None:
        self._never(category_id, sku)

    def save_base_prices(self, rows: Sequence[PriceRow]) -> list[RowFailure]:
        return self._never(rows)  # type: ignore[no-any-return]

    def save_special_prices(self, rows: Sequence[PriceRow]) -> list[RowFailure]:
        return self._never(rows)  # type: ignore[no-any-return]

    def delete_special_prices(self, rows: Sequence[PriceRow]) -> list[RowFailure]:
        return self._never(rows)  # type: ignore[no-any-return]

    def save_source_items(self, rows: Sequence[SourceItemRow]) -> list[RowFailure]:
        return self._never(rows)  # type: ignore[no-any-return]

    def list_media(self, sku: str) -> list[MediaEntry]:
        return self._never(sku)  # type: ignore[no-any-return]

    def add_media(self, sku: str, upload: MediaUpload) -> int:
        return self._never(sku, upload)  # type: ignore[no-any-return]

    def delete_media(self, sku: str, entry_id: int) -> None:
        self._never(sku, entry_id)


class UnusedImages:
    def stage(self, sha256: str, extension: str, data: bytes) -> bool:
        raise AssertionError("plan() must not stage images")

    def fetch(self, sha256: str, extension: str) -> bytes:
        raise AssertionError("plan() must not fetch images")


class _Clock:
    def now(self) -> datetime:
        return datetime.now(UTC)


class _NoDeadline:
    def remaining_seconds(self) -> float:
        return 1e9


def measure_cpu(engine: Engine, config: TenantConfig, skus: int, repeats: int = 2) -> dict[str, Any]:
    """Best of ``repeats``: the read alone, read + map, and the whole plan() (read + map + diff)."""
    catalogue = SqlCatalogueSource(engine)
    branches = sorted(config.branch_sources)
    read_best = map_best = plan_best = float("inf")
    plan_counts: dict[str, int] = {}
    for _ in range(repeats):
        started = time.perf_counter()
        styles = list(catalogue.read_styles())
        stock = list(catalogue.read_stock(branches))
        images = list(catalogue.read_image_meta())
        read_seconds = time.perf_counter() - started
        started = time.perf_counter()
        map_catalogue(styles, stock, images, config, datetime.now(UTC).date())
        map_seconds = time.perf_counter() - started
        sync = PushSync(
            config, catalogue, UnusedMagento(), MemoryState(), UnusedImages(), _Clock(), _NoDeadline()
        )
        started = time.perf_counter()
        plan = sync.plan()
        plan_seconds = time.perf_counter() - started
        read_best, map_best = min(read_best, read_seconds), min(map_best, map_seconds)
        if plan_seconds < plan_best:
            plan_best, plan_counts = plan_seconds, plan.counts()
    return {
        "skus": skus,
        "read_seconds": round(read_best, 3),
        "map_seconds": round(map_best, 3),
        "plan_seconds": round(plan_best, 3),
        "skus_per_second": round(skus / plan_best, 1) if plan_best > 0 else None,
        "plan_counts": {k: v for k, v in plan_counts.items() if v},
        "method": (
            f"PushSync.plan() (read + map + fingerprint + diff), best of {repeats}, "
            "in-memory state, no Magento"
        ),
    }
