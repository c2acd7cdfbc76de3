"""Tenant configurations the fault harness runs: the shipped defaults, and settings drawn at random
from what the settings allow.

The defaults are read from `kudos_sync.config` itself (not copied), so a change of a shipped default
is what chaos runs next. A drawn configuration varies what a retailer may set: who owns each field,
concurrency up to the store's workers + 1, safety stock (with fractional stock on hand), the store
views prices are written for, batch and page sizes, the overlap window and the deadline margin.

The checks learn only what each setting means (checks.py), never how the sync implements it.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from decimal import Decimal

from kudos_sync.config import DEFAULT_OWNERSHIP, MagentoSettings, SyncSettings, TenantConfig

# Fields the web team may own after a product is created. The others stay `always`: a store cannot
# run with no price or stock at all, and status follows Internet Active by definition.
WEB_OWNABLE: tuple[str, ...] = ("name", "description", "url_key", "images", "categories", "price")
# A product must have a name and a url key when it is created: those two are never `never`.
NEVER_ALLOWED: frozenset[str] = frozenset({"description", "images", "categories"})
# The sandbox's extra store view (id 2) beside `default` (id 1); prices can go to either or to 0.
EXTRA_STORE_ID = 2
STORE_ID_CHOICES: tuple[tuple[int, ...], ...] = ((0,), (0, 1), (1, EXTRA_STORE_ID), (0, 1, EXTRA_STORE_ID))
SANDBOX_WORKERS = 4  # requests the sandbox serves at once; concurrency is drawn up to this + 1


def _shipped_sync() -> SyncSettings:
    return SyncSettings()


def _shipped_tenant_field(name: str) -> object:
    return TenantConfig.model_fields[name].default


@dataclass(frozen=True)
class Configuration:
    """One tenant's settings as the harness writes them into its secret."""

    name: str
    batch_size: int
    page_size: int
    concurrency: int
    overlap_minutes: int
    deadline_margin_seconds: int
    ownership: dict[str, str] = field(default_factory=dict)
    safety_stock: Decimal = Decimal(0)
    store_ids: tuple[int, ...] = (0,)
    fractional_stock: bool = False  # CI Office stock on hand with parts of a unit (sold by weight/length)

    def owns(self, name: str) -> str:
        return self.ownership.get(name, "always")

    def sync_payload(self) -> dict[str, int]:
        return {
            "batch_size": self.batch_size,
            "page_size": self.page_size,
            "concurrency": self.concurrency,
            "overlap_minutes": self.overlap_minutes,
            "deadline_margin_seconds": self.deadline_margin_seconds,
        }

    def describe(self) -> str:
        """Short, stable text for the report (`configurations: ...`)."""
        if self.name == "defaults":
            return self.name
        on_create = "+".join(sorted(f for f, o in self.ownership.items() if o == "on_create")) or "-"
        never = "+".join(sorted(f for f, o in self.ownership.items() if o == "never")) or "-"
        return (
            f"{self.name}[c{self.concurrency} b{self.batch_size} p{self.page_size} "
            f"ss{self.safety_stock} views{'+'.join(map(str, self.store_ids))} "
            f"on_create:{on_create} never:{never}]"
        )


def shipped_defaults() -> Configuration:
    """What a retailer gets who sets nothing: `config.py`'s defaults, read from the models."""
    sync = _shipped_sync()
    safety = _shipped_tenant_field("safety_stock")
    store_ids = MagentoSettings.model_fields["store_ids"].default
    assert isinstance(safety, Decimal) and isinstance(store_ids, tuple)
    return Configuration(
        name="defaults",
        batch_size=sync.batch_size,
        page_size=sync.page_size,
        concurrency=sync.concurrency,
        overlap_minutes=sync.overlap_minutes,
        deadline_margin_seconds=sync.deadline_margin_seconds,
        ownership={name: value.value for name, value in DEFAULT_OWNERSHIP.items()},
        safety_stock=safety,
        store_ids=store_ids,
    )


def randomised(rng: random.Random, name: str = "random") -> Configuration:
    """Settings drawn from what the settings allow (and what a small catalogue can exercise)."""
    ownership = {key: value.value for key, value in DEFAULT_OWNERSHIP.items()}
    for field_name in WEB_OWNABLE:
        choices = ["always", "on_create"] + (["never"] if field_name in NEVER_ALLOWED else [])
        ownership[field_name] = rng.choice(choices)
    return Configuration(
        name=name,
        batch_size=rng.choice((1, 3, 7, 20, 100)),
        page_size=rng.choice((1, 2, 5, 10, 100)),
        concurrency=rng.randint(1, SANDBOX_WORKERS + 1),
        overlap_minutes=rng.choice((1, 5, 10, 30)),
        deadline_margin_seconds=rng.choice((5, 30, 60, 300)),
        ownership=ownership,
        safety_stock=rng.choice((Decimal(0), Decimal(1), Decimal("2.5"), Decimal(3))),
        store_ids=rng.choice(STORE_ID_CHOICES),
        fractional_stock=rng.random() < 0.6,
    )


def every_field_always(rng: random.Random) -> Configuration:
    """The harness's settings before configurations: one request at a time, small batches and pages,
    every field owned `always` (used by the bad-input and secrets suites that build a chaos world)."""
    return Configuration(
        name="every-field-always",
        batch_size=rng.choice((4, 7, 10, 20)),
        page_size=rng.choice((2, 3, 5, 10)),
        concurrency=1,
        overlap_minutes=10,
        deadline_margin_seconds=5,
        ownership={name: "always" for name in DEFAULT_OWNERSHIP},
    )
