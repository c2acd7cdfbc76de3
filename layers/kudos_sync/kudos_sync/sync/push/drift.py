"""Drift: what Magento holds of the fields CI Office owns `always`, against what CI Office wants.

The push trusts its bindings: a binding in step says Magento holds what its fingerprint describes. The
store changes too (MSI deducts stock at shipment, the web team edits a price, disables, deletes or
unlinks a product), so a drift scan reads what Magento holds for bound items whose binding is in step
and names every difference. Repair is the skeleton the exporters already have: a drifted binding is
marked `resync` (so the next diff sends it: write ahead -> send -> bind -> park), and the bindings of a
product deleted in Magento are forgotten (so it is created again, with its rows and images). Nothing is
ever deleted in Magento, and fields the web team owns (`on_create`, `never`) are never read or sent.

Reads go in batches of `sync.batch_size` SKUs, one request each: a scan of N SKUs costs about
N / batch_size requests per kind (products' status, categories and links share one read).
"""

import logging
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Literal, get_args

from kudos_sync.config import Ownership, TenantConfig
from kudos_sync.domain.desired import DesiredCatalogue
from kudos_sync.domain.push_fingerprints import price_fingerprint, special_fingerprint, stock_fingerprint
from kudos_sync.domain.state import Binding, BindingKind, BindingStatus
from kudos_sync.sync.ports import MagentoCatalog, PriceRow, ProductState, SourceItemRow
from kudos_sync.sync.push import mappers

logger = logging.getLogger(__name__)

DriftKind = Literal["stock", "prices", "special-prices", "status", "categories", "links"]
DRIFT_KINDS: tuple[DriftKind, ...] = get_args(DriftKind)
# What one read covers: products' status, categories and links come from one product search.
ReadUnit = Literal["stock", "prices", "special-prices", "products"]
READ_UNITS: tuple[ReadUnit, ...] = get_args(ReadUnit)
UNIT_OF: dict[DriftKind, ReadUnit] = {
    "stock": "stock",
    "prices": "prices",
    "special-prices": "special-prices",
    "status": "products",
    "categories": "products",
    "links": "products",
}
# The field-ownership name of each kind; child links are the catalogue's shape, always CI Office's.
_OWNERSHIP: dict[DriftKind, str | None] = {
    "stock": "stock",
    "prices": "price",
    "special-prices": "special_price",
    "status": "status",
    "categories": "categories",
    "links": None,
}
MISSING = "missing"


@dataclass(frozen=True, slots=True)
class Drift:
    """One difference: the binding it concerns, the field, and each side's value as text."""

    kind: DriftKind
    sku: str
    key: str  # the binding key: the SKU, or "<sku>@<source>" for stock
    field: str
    ci: str
    magento: str


@dataclass(slots=True)
class DriftScan:
    """What one scan read and found."""

    drifts: list[Drift] = field(default_factory=list)
    scanned: dict[ReadUnit, int] = field(default_factory=dict)  # SKUs read per unit
    requests: int = 0  # reads sent (one per batch)
    complete: bool = True  # False when the budget stopped it before every SKU asked was read

    def counts(self) -> dict[DriftKind, int]:
        """Drift per kind, every kind named (zero included)."""
        counts = dict.fromkeys(DRIFT_KINDS, 0)
        for drift in self.drifts:
            counts[drift.kind] += 1
        return counts


def owned_kinds(config: TenantConfig, kinds: Iterable[DriftKind] = DRIFT_KINDS) -> list[DriftKind]:
    """The kinds CI Office owns `always` for this tenant: the only ones ever read or repaired."""
    owned: list[DriftKind] = []
    for kind in kinds:
        name = _OWNERSHIP[kind]
        if name is None or config.owns(name) is Ownership.ALWAYS:
            owned.append(kind)
    return owned


def units_of(kinds: Iterable[DriftKind]) -> list[ReadUnit]:
    wanted = {UNIT_OF[kind] for kind in kinds}
    return [unit for unit in READ_UNITS if unit in wanted]


def _money(value: Decimal) -> str:
    return f"{value:.2f}"


def _stock_text(quantity: Decimal, in_stock: bool) -> str:
    return f"{quantity.normalize():f} {'in' if in_stock else 'out of'} stock"


class DriftScanner:
    """Compares one run's desired catalogue with what Magento holds, batch by batch."""

    def __init__(
        self,
        config: TenantConfig,
        magento: MagentoCatalog,
        desired: DesiredCatalogue,
        bindings: Mapping[BindingKind, Mapping[str, Binding]],
    ) -> None:
        self.config = config
        self.magento = magento
        self.desired = desired
        self.bindings = bindings
        self.stores = tuple(config.magento.store_ids)
        self.batch = config.sync.batch_size
        self.slots = max(1, config.sync.concurrency)
        products = bindings[BindingKind.PRODUCT]
        # In Magento for CI Office: desired, bound, confirmed, enabled by us, not held back.
        self.present = {
            sku
            for sku in desired.products
            if (b := products.get(sku)) is not None
            and b.status is BindingStatus.SENT
            and sku not in desired.held_products
        }
        # Disabled by us because CI Office no longer sells it: the web team must not re-enable it.
        self.disabled = {
            sku
            for sku, b in products.items()
            if b.status is BindingStatus.DISABLED
            and sku not in desired.products
            and sku not in desired.held_products
        }

    # ------------------------------------------------------------ what to read

    def _in_step(self, kind: BindingKind, key: str, fingerprint: str) -> bool:
        binding = self.bindings[kind].get(key)
        return binding is not None and binding.in_step(fingerprint)

    def skus(self, unit: ReadUnit) -> list[str]:
        """The SKUs a unit reads, in a stable order (a resumed scan continues by position). Only items
        whose binding is in step: one out of step is sent by the next push anyway."""
        desired, present = self.desired, self.present
        if unit == "stock":
            return sorted(
                {
                    row.sku
                    for key, row in desired.stock.items()
                    if row.sku in present and self._in_step(BindingKind.STOCK, key, stock_fingerprint(row))
                }
            )
        if unit == "prices":
            return sorted(
                sku
                for sku, price in desired.prices.items()
                if sku in present
                and self._in_step(BindingKind.PRICE, sku, price_fingerprint(price, self.stores))
            )
        if unit == "special-prices":
            return sorted(
                sku
                for sku, want in desired.specials.items()
                if sku in present
                and sku not in desired.held_specials
                and self._in_step(BindingKind.SPECIAL_PRICE, sku, special_fingerprint(want, self.stores))
            )
        return sorted(present | self.disabled)

    # ------------------------------------------------------------ compare one batch

    def compare(self, unit: ReadUnit, skus: Sequence[str], kinds: Iterable[DriftKind]) -> list[Drift]:
        """One read of `skus` for a unit, and the differences of the asked kinds it shows."""
        if unit == "stock":
            return self._stock(skus, self.magento.read_source_items(skus))
        if unit == "prices":
            return self._prices(skus, self.magento.read_base_prices(skus))
        if unit == "special-prices":
            return self._specials(skus, self.magento.read_special_prices(skus))
        held = self.magento.read_product_states(skus)
        wanted = set(kinds)
        drifts: list[Drift] = []
        for sku in skus:
            state = held.get(sku)
            if "status" in wanted:
                drifts += self._status(sku, state)
            if state is not None and sku in self.present:
                if "categories" in wanted:
                    drifts += self._categories(sku, state)
                if "links" in wanted:
                    drifts += self._links(sku, state)
        return drifts

    def _stock(self, skus: Sequence[str], rows: Sequence[SourceItemRow]) -> list[Drift]:
        held = {(row.sku, row.source_code): row for row in rows}
        wanted = set(skus)
        drifts: list[Drift] = []
        for key, want in sorted(self.desired.stock.items()):
            if want.sku not in wanted or not self._in_step(BindingKind.STOCK, key, stock_fingerprint(want)):
                continue
            got = held.get((want.sku, want.source_code))
            if got is not None and got.quantity == want.quantity and got.in_stock == want.in_stock:
                continue
            magento = _stock_text(got.quantity, got.in_stock) if got is not None else MISSING
            drifts.append(
                Drift("stock", want.sku, key, "quantity", _stock_text(want.quantity, want.in_stock), magento)
            )
        return drifts

    def _prices(self, skus: Sequence[str], rows: Sequence[PriceRow]) -> list[Drift]:
        held: dict[tuple[str, int], Decimal] = {(row.sku, row.store_id): row.price for row in rows}
        drifts: list[Drift] = []
        for sku in skus:
            want = self.desired.prices[sku]
            for row in mappers.base_price_rows(sku, want, self.stores):
                got = held.get((sku, row.store_id))
                if got != want:
                    magento = _money(got) if got is not None else MISSING
                    drifts.append(Drift("prices", sku, sku, f"price@{row.store_id}", _money(want), magento))
        return drifts

    def _specials(self, skus: Sequence[str], rows: Sequence[PriceRow]) -> list[Drift]:
        held: dict[tuple[str, int], list[PriceRow]] = {}
        for row in rows:
            held.setdefault((row.sku, row.store_id), []).append(row)
        drifts: list[Drift] = []
        for sku in skus:
            want = self.desired.specials[sku]
            for row in mappers.special_price_rows(sku, want, self.stores):
                got = held.get((sku, row.store_id), [])
                same = (row.price, row.price_from, row.price_to)
                if any((g.price, g.price_from, g.price_to) == same for g in got):
                    continue
                ci = f"{_money(want.price)} {want.price_from or '-'}..{want.price_to or '-'}"
                magento = (
                    "; ".join(f"{_money(g.price)} {g.price_from or '-'}..{g.price_to or '-'}" for g in got)
                    or MISSING
                )
                drifts.append(Drift("special-prices", sku, sku, f"special_price@{row.store_id}", ci, magento))
        return drifts

    def _status(self, sku: str, state: ProductState | None) -> list[Drift]:
        if sku in self.present:
            if state is None:
                return [Drift("status", sku, sku, "status", "enabled", MISSING)]
            if not state.enabled:
                return [Drift("status", sku, sku, "status", "enabled", "disabled")]
        elif state is not None and state.enabled:  # CI Office no longer sells it; a deleted one is left
            return [Drift("status", sku, sku, "status", "disabled", "enabled")]
        return []

    def _categories(self, sku: str, state: ProductState) -> list[Drift]:
        product = self.desired.products[sku]
        links = self.bindings[BindingKind.PRODUCT][sku].product
        category_id = links.category_id if links is not None else None
        # Extra links are the web team's merchandising: only our own link is checked.
        if category_id is None or not product.category_path or category_id in state.category_ids:
            return []
        held = ",".join(str(i) for i in state.category_ids) or "none"
        return [Drift("categories", sku, sku, "category", product.category_path, held)]

    def _links(self, sku: str, state: ProductState) -> list[Drift]:
        product = self.desired.products[sku]
        if product.type_id != "configurable":
            return []
        products = self.bindings[BindingKind.PRODUCT]
        unlinked = [
            child
            for child in product.child_skus
            if child in self.present
            and (b := products.get(child)) is not None
            and b.magento_id is not None
            and b.magento_id not in state.child_ids
        ]
        if not unlinked:
            return []
        return [Drift("links", sku, sku, "children", ",".join(unlinked), f"{len(state.child_ids)} linked")]


# ---------------------------------------------------------------- scanning within a budget


@dataclass(slots=True)
class Budget:
    """Reads and seconds one scan may spend; `stop` is the run's own deadline check."""

    requests: int | None = None
    seconds: float | None = None
    stop: Callable[[], bool] = lambda: False
    _started: float = field(default_factory=time.monotonic)

    def spent(self, requests: int) -> bool:
        if self.requests is not None and requests >= self.requests:
            return True
        if self.seconds is not None and time.monotonic() - self._started >= self.seconds:
            return True
        return self.stop()


def scan_unit(
    scanner: DriftScanner,
    unit: ReadUnit,
    kinds: Sequence[DriftKind],
    scan: DriftScan,
    budget: Budget,
    start: int = 0,
) -> tuple[int, bool]:
    """Read one unit from position `start` in batches until done or the budget is spent; returns the
    position reached and whether the unit was read to its end."""
    skus = scanner.skus(unit)
    position = start if start < len(skus) else 0
    # One call reads a batch per request slot: the adapter sends them side by side.
    while position < len(skus):
        room = budget.requests - scan.requests if budget.requests is not None else scanner.slots
        if room <= 0 or budget.spent(scan.requests):
            scan.complete = False
            return position, False
        group = skus[position : position + scanner.batch * min(scanner.slots, room)]
        scan.drifts += scanner.compare(unit, group, kinds)
        scan.requests += -(-len(group) // scanner.batch)
        scan.scanned[unit] = scan.scanned.get(unit, 0) + len(group)
        position += len(group)
    return position, True


def scan(
    config: TenantConfig,
    magento: MagentoCatalog,
    desired: DesiredCatalogue,
    bindings: Mapping[BindingKind, Mapping[str, Binding]],
    kinds: Iterable[DriftKind] = DRIFT_KINDS,
) -> DriftScan:
    """Every owned kind asked, in full (the operator's `drift` command)."""
    scanner = DriftScanner(config, magento, desired, bindings)
    owned = owned_kinds(config, kinds)
    result = DriftScan()
    for unit in units_of(owned):
        scan_unit(scanner, unit, [k for k in owned if UNIT_OF[k] == unit], result, Budget())
    return result
