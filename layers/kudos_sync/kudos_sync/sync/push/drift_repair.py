"""Drift repair, back into the push's skeleton: a drifted binding is made out of step so the
exporters' own diff sends exactly it (write ahead -> send -> bind -> park); and what an operator is
shown of a scan and its repair."""

import logging
from collections.abc import Mapping, Sequence
from dataclasses import replace

from pydantic import BaseModel

from kudos_sync.batches import chunks
from kudos_sync.domain.state import Binding, BindingKind, BindingStatus
from kudos_sync.sync.ports import StateStore
from kudos_sync.sync.push import binders
from kudos_sync.sync.push.drift import MISSING, Drift, DriftScan
from kudos_sync.sync.push.results import PushResult

logger = logging.getLogger(__name__)


# ---------------------------------------------------------------- repair: back into the skeleton


def mark_for_repair(
    state: StateStore, bindings: Mapping[BindingKind, dict[str, Binding]], drifts: Sequence[Drift]
) -> int:
    """Make every drifted binding out of step, so the exporters' own diff sends exactly it; forget the
    bindings of a product deleted in Magento (and mark its parent) so it is created and linked again.
    Updates `bindings` in place and saves the change first. Returns how many bindings changed."""
    products = bindings[BindingKind.PRODUCT]
    resync: dict[tuple[BindingKind, str], Binding] = {}
    forget: dict[BindingKind, set[str]] = {}

    def mark(kind: BindingKind, key: str) -> None:
        binding = bindings[kind].get(key)
        if binding is not None:
            resync[(kind, key)] = replace(binding, status=BindingStatus.RESYNC)

    for drift in drifts:
        if drift.kind == "stock":
            mark(BindingKind.STOCK, drift.key)
        elif drift.kind == "prices":
            mark(BindingKind.PRICE, drift.key)
        elif drift.kind == "special-prices":
            mark(BindingKind.SPECIAL_PRICE, drift.key)
        elif drift.kind == "status" and drift.magento == MISSING:
            links = binders.links_of(products.get(drift.sku))
            forget.setdefault(BindingKind.PRODUCT, set()).add(drift.sku)
            forget.setdefault(BindingKind.PRICE, set()).add(drift.sku)
            forget.setdefault(BindingKind.SPECIAL_PRICE, set()).add(drift.sku)
            forget.setdefault(BindingKind.IMAGES, set()).add(drift.sku)
            stock = {key for key in bindings[BindingKind.STOCK] if key.rsplit("@", 1)[0] == drift.sku}
            forget.setdefault(BindingKind.STOCK, set()).update(stock)
            if links is not None and links.parent:
                mark(BindingKind.PRODUCT, links.parent)  # its fingerprint covers the child it lost
        else:  # status, categories, links: a product update sends them all
            mark(BindingKind.PRODUCT, drift.sku)
    for kind, keys in forget.items():
        for key in keys:
            resync.pop((kind, key), None)
    changed = list(resync.values())
    for chunk in chunks(changed, 500):
        state.save_bindings(chunk)
    for binding in changed:
        bindings[binding.kind][binding.key] = binding
    forgotten = 0
    for kind, keys in forget.items():
        known = sorted(key for key in keys if key in bindings[kind])
        if known:
            forgotten += state.delete_bindings(kind, known)
            for key in known:
                bindings[kind].pop(key, None)
    if changed or forgotten:
        logger.info("drift: %d bindings marked to resend, %d forgotten", len(changed), forgotten)
    return len(changed) + forgotten


# ---------------------------------------------------------------- what an operator is shown


class DriftItem(BaseModel):
    kind: str
    sku: str
    field: str
    ci: str
    magento: str


class DriftReport(BaseModel):
    """A drift scan for the `drift` command (and `--json`): differences, counts per kind, and what a
    repair's push did."""

    counts: dict[str, int]
    scanned: dict[str, int]
    requests: int
    differences: list[DriftItem]
    repair_status: str | None = None  # the repair push's status: "succeeded" or "partial"
    repaired: dict[str, int] | None = None  # the repair push's counts

    @classmethod
    def of(cls, found: DriftScan, repair: PushResult | None) -> "DriftReport":
        return cls(
            counts={str(kind): n for kind, n in found.counts().items()},
            scanned={str(unit): n for unit, n in found.scanned.items()},
            requests=found.requests,
            differences=[
                DriftItem(kind=d.kind, sku=d.sku, field=d.field, ci=d.ci, magento=d.magento)
                for d in found.drifts
            ],
            repair_status=repair.status if repair is not None else None,
            repaired=repair.counts.model_dump() if repair is not None else None,
        )
