"""What a push reports: the run's counts and problems (PushResult) and a dry run's plan (PushPlan)."""

from collections.abc import Mapping
from typing import Literal

from pydantic import BaseModel, Field

from kudos_sync.domain.state import ProductWriteKind


class PushCounts(BaseModel):
    """What one push did, per concern (the run summary and the demo show these)."""

    categories_created: int = 0
    options_created: int = 0
    products_created: int = 0
    products_adopted: int = 0  # already in the store: bound, their on_create fields left as they are
    products_updated: int = 0
    products_enabled: int = 0
    products_disabled: int = 0
    children_unlinked: int = 0
    categories_unlinked: int = 0
    prices_sent: int = 0
    special_prices_sent: int = 0
    special_prices_deleted: int = 0
    stock_sent: int = 0
    images_staged: int = 0
    images_uploaded: int = 0
    images_deleted: int = 0
    parked: int = 0
    unparked: int = 0
    unchanged: int = 0  # items (products, prices, special prices, stock rows, image sets) in step
    # The scheduled reconcile: what Magento held differently from CI Office (resent by the same run).
    drift_scanned: int = 0  # SKUs read
    drift_stock: int = 0
    drift_prices: int = 0
    drift_special_prices: int = 0
    drift_status: int = 0
    drift_categories: int = 0
    drift_links: int = 0

    def add_drift(self, scanned: int, found: Mapping[str, int]) -> None:
        """Count a reconcile: SKUs read and differences per drift kind ("special-prices" etc.)."""
        self.drift_scanned += scanned
        for kind, count in found.items():
            name = f"drift_{kind.replace('-', '_')}"
            setattr(self, name, getattr(self, name) + count)

    def product_written(self, kind: ProductWriteKind) -> None:
        """Count one product write Magento confirmed."""
        match kind:
            case "create":
                self.products_created += 1
            case "update":
                self.products_updated += 1
            case "enable":
                self.products_enabled += 1
            case "disable":
                self.products_disabled += 1


class PushProblem(BaseModel):
    stream: str
    key: str
    field: str
    reason: str


class PushResult(BaseModel):
    status: Literal["succeeded", "partial"]
    counts: PushCounts
    problems: list[PushProblem] = Field(default_factory=list)
    phase_seconds: dict[str, float] = Field(default_factory=dict)  # where the run's time went

    def summary_counts(self) -> dict[str, int]:
        """Flat counts for RunRecord.counts (sync.run.SyncResult)."""
        return self.counts.model_dump()

    def summary_seconds(self) -> dict[str, float]:
        """Seconds per step for RunRecord.seconds (sync.run.SyncResult)."""
        return dict(self.phase_seconds)


type ConflictKind = Literal["type", "sku_spelling", "url_key", "unreadable"]


class AdoptReport(BaseModel):
    """What the store already holds of the catalogue: the SKUs to bind, to create, and the conflicts
    left alone (by kind, each naming both sides). `foreign`: store products CI Office does not have."""

    matched: list[str] = Field(default_factory=list)
    to_create: list[str] = Field(default_factory=list)
    conflicts: dict[ConflictKind, list[str]] = Field(default_factory=dict)  # kind -> "<sku>: <both sides>"
    foreign: int | None = None  # None: not counted (a push run does not ask)
    complete: bool = True  # False: the deadline stopped the survey; the rest is surveyed next time

    def counts(self) -> dict[str, int]:
        counts = {"matched": len(self.matched), "to_create": len(self.to_create)}
        counts.update({f"conflict_{kind}": len(items) for kind, items in sorted(self.conflicts.items())})
        if self.foreign is not None:
            counts["foreign"] = self.foreign
        return counts


class PushPlan(BaseModel):
    """A dry run: what a push would do now. Nothing is written to Magento, S3 or the state store."""

    categories_to_ensure: list[str] = Field(default_factory=list)  # paths not yet known
    options_to_ensure: list[str] = Field(default_factory=list)  # "<attribute>:<label>" not yet known
    create: list[str] = Field(default_factory=list)
    update: list[str] = Field(default_factory=list)
    enable: list[str] = Field(default_factory=list)
    disable: list[str] = Field(default_factory=list)
    unlink_children: list[str] = Field(default_factory=list)  # "<parent> -> <child>"
    unlink_categories: list[str] = Field(default_factory=list)  # "<sku> from <old path>"
    base_prices: list[str] = Field(default_factory=list)  # skus
    special_prices: list[str] = Field(default_factory=list)
    special_prices_deleted: list[str] = Field(default_factory=list)
    stock: list[str] = Field(default_factory=list)  # "<sku>@<source>"
    images: list[str] = Field(default_factory=list)  # skus whose image set would be synced
    problems: list[PushProblem] = Field(default_factory=list)
    unchanged: int = 0
    adopt: AdoptReport | None = None  # a tenant that never pushed: what the store already holds

    def counts(self) -> dict[str, int]:
        """Sizes of every list, for a table."""
        return {
            name: len(value) if isinstance(value, list) else int(value)
            for name, value in self.model_dump(exclude={"adopt"}).items()
        }
