"""Push: CI Office -> Magento as desired state, diffed by fingerprint (ARCHITECTURE sections 2-4, 9).

One run reads the whole Internet-Active catalogue set-based, maps it to the Magento shape it should
have, loads the bindings of each kind once, and sends only what differs, in dependency order:
categories, attribute options, products (children before parents), base prices, special prices,
stock, images. Bindings are saved after the writes they cover succeeded, chunk by chunk, on a
write-behind thread (`BindingWriter`) so the store's workers never wait on state; a crash or a
deadline loses nothing (an unsaved binding means an idempotent resend) and the next run resumes where
this one stopped. A bad record is parked and skipped; it never blocks the others. Requests go out a
wave at a time (batch size x concurrency), and image galleries are synced several styles at once.

Product writes that Magento could not be asked about afterwards (a create, an enable, a move to
another category or parent) are written ahead: a *pending* binding records the intent (the kind of
write, every category id the product may now be linked to, the parent) before the request, so a
binding save that fails after the write, or a run that ends right after it, still leaves a record. The
next run reconciles it: still desired, the write is resent (an upsert) and categories the intent
recorded that are no longer wanted are unlinked; no longer desired, the product is disabled if
Magento has it (`find_products`) and the binding dropped if not. A successful write replaces the
pending binding by a normal one, so a steady catalogue costs nothing extra.
"""

import hashlib
import logging
import re
import threading
import time
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from datetime import date
from typing import Any, Literal

from kudos_sync.config import Ownership, TenantConfig
from kudos_sync.domain.bulk import trusted_constructor
from kudos_sync.domain.catalogue import ImageMeta
from kudos_sync.domain.errors import RecordError
from kudos_sync.domain.ids import Sku
from kudos_sync.domain.push_mapping import (
    MAX_IMAGE_BYTES,
    STATUS_DISABLED,
    STATUS_ENABLED,
    DesiredCatalogue,
    DesiredProduct,
    DesiredSpecial,
    Problem,
    always_owned,
    category_prefixes,
    image_problem,
    image_set_fingerprint,
    map_catalogue,
    owned_always,
    owned_on_create,
    price_fingerprint,
    product_fingerprint,
    sniff_image,
    special_fingerprint,
    stock_fingerprint,
)
from kudos_sync.domain.state import Binding, BindingKind, ParkedRecord
from kudos_sync.sync.binding_writer import BindingWriter, Ticket
from kudos_sync.sync.ports import (
    CatalogueSource,
    Clock,
    Deadline,
    ImageStage,
    MagentoCatalog,
    MediaUpload,
    PriceRow,
    ProductWrite,
    RowFailure,
    SourceItemRow,
    StateStore,
)
from kudos_sync.sync.push_results import PushCounts, PushPlan, PushProblem, PushResult

logger = logging.getLogger(__name__)

PushScope = Literal["products", "prices", "stock", "images"]
PUSH_STREAMS = frozenset({"products", "prices", "special_prices", "stock", "images"})

# Fingerprints with a meaning of their own (never a real hash: those are 32 hex characters).
DISABLED = "disabled"  # the product left Internet Active and was disabled
RESYNC = "resync"  # an operator asked for this item to be sent again
INCOMPLETE = "incomplete:"  # an image set partly synced (a bad image is parked): retried next run
PENDING = "pending:"  # a product write was about to be sent; whether Magento applied it is unknown

IMAGE_ROLES = ("image", "small_image", "thumbnail")
_NO_MORE: Any = object()
_SHA_IN_LABEL = re.compile(r"sha256:([0-9a-f]{64})")


# ---------------------------------------------------------------- internal shapes


@dataclass(slots=True)
class _ProductChange:
    kind: Literal["create", "update", "enable", "disable"]
    sku: Sku
    fingerprint: str
    product: DesiredProduct | None  # None when disabling
    binding: Binding | None


# A product change with its request body and the binding extra to keep once Magento accepted it.
type _Prepared = tuple[_ProductChange, ProductWrite, dict[str, Any]]


@dataclass(slots=True)
class _Phases:
    """Seconds each step of a run took, logged with its counts: where a slow run spent its time."""

    seconds: dict[str, float] = field(default_factory=dict)
    _mark: float = field(default_factory=time.monotonic)

    def done(self, phase: str) -> None:
        now = time.monotonic()
        self.seconds[phase] = round(now - self._mark, 3)
        self._mark = now


@dataclass(slots=True)
class _Run:
    """Mutable bookkeeping of one run."""

    counts: PushCounts = field(default_factory=PushCounts)
    problems: dict[tuple[str, str], list[Problem]] = field(default_factory=dict)
    failed_products: set[str] = field(default_factory=set)
    created: set[str] = field(default_factory=set)
    saved_ids: dict[str, int] = field(default_factory=dict)  # Magento ids returned by this run's saves
    partial: bool = False

    def problem(self, problem: Problem) -> None:
        self.problems.setdefault((problem.stream, problem.key), []).append(problem)

    def add_images_of(self, other: "_Run") -> None:
        """Fold in what one style's image sync (run on a worker thread) counted and found."""
        self.counts.images_staged += other.counts.images_staged
        self.counts.images_uploaded += other.counts.images_uploaded
        self.counts.images_deleted += other.counts.images_deleted
        for problems in other.problems.values():
            for problem in problems:
                self.problem(problem)


def _chunks[T](items: Sequence[T], size: int) -> Iterator[Sequence[T]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _binding(
    kind: BindingKind,
    key: str,
    fingerprint: str,
    magento_id: int | None = None,
    extra: dict[str, Any] | None = None,
) -> Binding:
    # Built by the thousand from values the core made itself (a first push of 50,000 SKUs keeps
    # one per product for the whole run): no validation, one shared fields-set.
    return _construct_binding(
        kind=kind, key=key, fingerprint=fingerprint, magento_id=magento_id, extra=extra or {}
    )


_construct_binding = trusted_constructor(Binding)


def _sku_of(key: str) -> str:
    return key.split("@", 1)[0]


def _pending(binding: Binding | None) -> dict[str, Any] | None:
    """The write-ahead intent of a product binding whose last write is unconfirmed, else None."""
    if binding is None:
        return None
    pending = binding.extra.get("pending")
    return pending if isinstance(pending, dict) else None


def _pending_kind(binding: Binding | None) -> str | None:
    pending = _pending(binding)
    return str(pending.get("kind")) if pending is not None else None


def _linked_categories(binding: Binding | None) -> set[int]:
    """Category ids our writes may have linked the product to: the one last confirmed and, while a
    write is pending, every one an unconfirmed write carried (Magento merges category links)."""
    if binding is None:
        return set()
    linked = {int(c) for c in (_pending(binding) or {}).get("category_ids", ())}
    if binding.extra.get("category_id") is not None:
        linked.add(int(binding.extra["category_id"]))
    return linked


# ---------------------------------------------------------------- the use case


class PushSync:
    """CI Office -> Magento for one tenant. Build it per run; it holds no state between runs."""

    def __init__(
        self,
        config: TenantConfig,
        catalogue: CatalogueSource,
        magento: MagentoCatalog,
        state: StateStore,
        images: ImageStage,
        clock: Clock,
        deadline: Deadline,
    ) -> None:
        self.config = config
        self.catalogue = catalogue
        self.magento = magento
        self.state = state
        self.images = images
        self.clock = clock
        self.deadline = deadline
        self._batch = config.sync.batch_size
        # Rows handed to the adapter per call for array endpoints: enough for one request per slot in
        # flight, so prices and stock use the store's workers in parallel rather than one batch at a time.
        self._wave = config.sync.batch_size * config.sync.concurrency
        self._slots = max(1, config.sync.concurrency)  # requests in flight
        # Price rows go one per SKU and store view: a request carries batch_size rows.
        self._skus_per_request = max(1, config.sync.batch_size // max(1, len(config.magento.store_ids)))
        self._stores = tuple(config.magento.store_ids)
        self._run = _Run()
        self._writer: BindingWriter | None = None
        # CI Office reads of image bytes happen on image workers; one at a time keeps any driver safe.
        self._catalogue_lock = threading.Lock()
        self._always = always_owned(config)
        self._ownership = {name: config.owns(name) for name in ("price", "special_price", "stock", "images")}

    # ------------------------------------------------------------ public

    def run(self) -> PushResult:
        """Send what differs from the bindings; returns `partial` when the deadline stopped it."""
        self._run = run = _Run()
        phases = _Phases()
        desired, (bindings, parked_before) = self._read_with_state()
        phases.done("read_and_state")
        for problem in desired.problems:
            run.problem(problem)

        # Leaving the block waits for every binding to be saved (and raises if one could not be).
        with BindingWriter(self.state) as self._writer:
            category_ids = self._ensure_categories(
                desired, bindings[BindingKind.CATEGORY], bindings[BindingKind.PRODUCT]
            )
            option_ids = self._ensure_options(desired, bindings[BindingKind.OPTION])
            phases.done("categories_options")
            self._push_products(desired, bindings[BindingKind.PRODUCT], category_ids, option_ids)
            phases.done("products")
            present = {
                sku
                for sku in desired.products
                if sku in bindings[BindingKind.PRODUCT] and sku not in run.failed_products
            }
            self._push_prices(desired, bindings[BindingKind.PRICE], present)
            self._push_specials(desired, bindings[BindingKind.SPECIAL_PRICE], present)
            phases.done("prices")
            self._push_stock(desired, bindings[BindingKind.STOCK], present)
            phases.done("stock")
            self._push_images(desired, bindings[BindingKind.IMAGES], present)
            phases.done("images")
        self._writer = None
        phases.done("state_flush")
        self._settle_parked(parked_before)
        phases.done("parked")

        status: Literal["succeeded", "partial"] = "partial" if run.partial else "succeeded"
        logger.info("push %s: %s; seconds per phase: %s", status, run.counts.model_dump(), phases.seconds)
        return PushResult(
            status=status, counts=run.counts, problems=self._problem_list(), phase_seconds=phases.seconds
        )

    def plan(self) -> PushPlan:
        """What run() would do now, computed from the same diff. Writes nothing anywhere and reads
        nothing from Magento (unknown categories/options are listed as to be ensured)."""
        self._run = _Run()
        desired, (bindings, _) = self._read_with_state()
        plan = PushPlan(problems=[PushProblem(**_problem_fields(p)) for p in desired.problems])

        known_paths = bindings[BindingKind.CATEGORY]
        needed_paths = self._needed_category_paths(desired, bindings[BindingKind.PRODUCT])
        plan.categories_to_ensure = sorted(needed_paths - set(known_paths))
        known_options = bindings[BindingKind.OPTION]
        plan.options_to_ensure = sorted(
            f"{attr}:{label}"
            for attr, labels in desired.option_labels.items()
            for label in labels
            if f"{attr}:{label}" not in known_options
        )

        product_bindings = bindings[BindingKind.PRODUCT]
        changes, unchanged, unchanged_parents = self._diff_products(desired, product_bindings)
        plan.unchanged += unchanged + unchanged_parents
        for change in changes:
            getattr(plan, change.kind).append(change.sku)
        for parent, child in self._children_to_unlink(desired, product_bindings):
            plan.unlink_children.append(f"{parent} -> {child}")
        if owned_always(self.config, "categories"):
            for change in changes:
                old = change.binding.extra.get("category_path") if change.binding else None
                new = change.product.category_path if change.product else None
                if change.kind != "disable" and old and old != new:
                    plan.unlink_categories.append(f"{change.sku} from {old}")
        created: set[str] = {change.sku for change in changes if change.kind == "create"}
        present = set(desired.products)

        prices, unchanged = self._diff_prices(desired, bindings[BindingKind.PRICE], present)
        plan.base_prices, plan.unchanged = sorted(prices), plan.unchanged + unchanged
        to_save, to_delete, unchanged = self._diff_specials(
            desired, bindings[BindingKind.SPECIAL_PRICE], present
        )
        plan.special_prices = sorted(to_save)
        plan.special_prices_deleted = sorted(b.key for b in to_delete)
        plan.unchanged += unchanged
        stock, unchanged = self._diff_stock(desired, bindings[BindingKind.STOCK], present)
        plan.stock, plan.unchanged = sorted(stock), plan.unchanged + unchanged
        image_work, unchanged = self._diff_images(desired, bindings[BindingKind.IMAGES], present, created)
        plan.images, plan.unchanged = sorted(image_work), plan.unchanged + unchanged
        return plan

    def resync(self, scope: PushScope) -> int:
        """Forget what was sent for one concern so the next run sends it again; returns how many
        bindings were reset. Product and image bindings keep their Magento ids, category links and
        media entry ids (only the fingerprint is forgotten), so the resend updates rather than
        creates: on_create fields stay with the web team and no image is uploaded twice."""
        if scope == "products":
            count = self._reset_fingerprints(BindingKind.PRODUCT)
            # The category and option caches are rebuilt from Magento on the next run.
            self.state.delete_bindings(BindingKind.CATEGORY)
            self.state.delete_bindings(BindingKind.OPTION)
            return count
        if scope == "prices":
            # Special prices keep their last rows (in extra) so a sale ended since can still be deleted.
            return self.state.delete_bindings(BindingKind.PRICE) + self._reset_fingerprints(
                BindingKind.SPECIAL_PRICE
            )
        if scope == "stock":
            return self.state.delete_bindings(BindingKind.STOCK)
        if scope == "images":
            return self._reset_fingerprints(BindingKind.IMAGES)
        raise ValueError(f"unknown resync scope {scope!r}: use products, prices, stock or images")

    # ------------------------------------------------------------ reading and mapping

    def _read_with_state(
        self,
    ) -> tuple[DesiredCatalogue, tuple[dict[BindingKind, dict[str, Binding]], list[ParkedRecord]]]:
        """The desired catalogue, and the bindings and parked push records: read side by side (one
        waits on CI Office and maps, the other on DynamoDB), as they do not depend on each other."""
        with ThreadPoolExecutor(max_workers=1, thread_name_prefix="state") as pool:
            loading = pool.submit(self._load_state)
            try:
                desired = self._read_and_map()
            except BaseException:
                loading.cancel()
                raise
            return desired, loading.result()

    def _load_state(self) -> tuple[dict[BindingKind, dict[str, Binding]], list[ParkedRecord]]:
        # The kinds are independent items: loaded side by side, one waits on DynamoDB while another
        # decodes. Biggest first, so the small ones fill in around it.
        with ThreadPoolExecutor(max_workers=_STATE_READERS, thread_name_prefix="state") as pool:
            loads = {kind: pool.submit(self.state.load_bindings, kind) for kind in _LOAD_ORDER}
            parked = [r for r in self.state.list_parked() if r.stream in PUSH_STREAMS]
            return {kind: loads[kind].result() for kind in _PUSH_KINDS}, parked

    def _read_and_map(self) -> DesiredCatalogue:
        styles = self.catalogue.read_styles()
        stock = self.catalogue.read_stock(sorted(self.config.branch_sources))
        image_meta = self.catalogue.read_image_meta()
        return map_catalogue(styles, stock, image_meta, self.config, self._today())

    def _today(self) -> date:
        return self.clock.now().date()

    @property
    def _writes(self) -> BindingWriter:
        """Where run() saves bindings (write-behind, in order)."""
        if self._writer is None:
            raise RuntimeError("bindings are written only inside PushSync.run()")
        return self._writer

    def _out_of_time(self) -> bool:
        """True (and the run becomes partial) once the deadline margin is reached."""
        run = self._run
        if run.partial:
            return True
        if self.deadline.remaining_seconds() < self.config.sync.deadline_margin_seconds:
            run.partial = True
            logger.warning("push deadline reached: stopping here, the next run continues")
        return run.partial

    def _reset_fingerprints(self, kind: BindingKind) -> int:
        held = self.state.load_bindings(kind)
        # Disabled products are reset too: the next run disables them again (healing a manual
        # re-enable in Magento).
        reset = [_binding(kind, b.key, RESYNC, b.magento_id, dict(b.extra)) for b in held.values()]
        for chunk in _chunks(reset, 500):
            self.state.save_bindings(chunk)
        return len(reset)

    # ------------------------------------------------------------ a. categories

    def _needed_category_paths(self, desired: DesiredCatalogue, products: dict[str, Binding]) -> set[str]:
        """Every path (and its parents) a product write will carry: all of them when categories are
        owned `always`, only new products' when `on_create`, none when `never`."""
        ownership = self.config.owns("categories")
        if ownership is Ownership.ALWAYS:
            paths = desired.category_paths
        elif ownership is Ownership.ON_CREATE:
            paths = {
                p.category_path
                for p in desired.products.values()
                if p.category_path is not None and p.sku not in products
            }
        else:
            paths = set()
        return {prefix for path in paths for prefix in category_prefixes(path)}

    def _ensure_categories(
        self, desired: DesiredCatalogue, cache: dict[str, Binding], products: dict[str, Binding]
    ) -> dict[str, int]:
        """Path -> category id for every needed path and its parents, creating missing segments
        parent-first. The CATEGORY bindings are the cache; on a miss the tree is listed once."""
        if self._run.partial:
            return {}
        needed = sorted(self._needed_category_paths(desired, products), key=lambda p: (p.count("/"), p))
        ids = {p: cache[p].magento_id for p in needed if p in cache and cache[p].magento_id is not None}
        resolved: dict[str, int] = {p: i for p, i in ids.items() if i is not None}
        missing = [p for p in needed if p not in resolved]
        if not missing:
            return resolved
        root = self.config.magento.root_category_id
        existing = {
            (node.parent_id, node.name): node.category_id for node in self.magento.list_categories(root)
        }
        found: list[Binding] = []
        for path in missing:
            parent_path, _, name = path.rpartition("/")
            parent_id = resolved.get(parent_path) if parent_path else root
            if parent_id is None:
                continue  # its parent could not be made; the products using it are parked below
            category_id = existing.get((parent_id, name))
            if category_id is None:
                if self._out_of_time():
                    break
                try:
                    category_id = self.magento.create_category(parent_id, name)
                except RecordError as exc:
                    logger.warning("category %s could not be created: %s", path, exc)
                    self._run.problem(Problem("products", path, "category_path", f"category {path}: {exc}"))
                    continue
                self._run.counts.categories_created += 1
                # Should this binding be lost in a crash, the next run's cache miss lists the tree and
                # finds the category by parent and name: it is never created twice.
                self._writes.save([_binding(BindingKind.CATEGORY, path, "", category_id, {})])
            else:
                found.append(_binding(BindingKind.CATEGORY, path, "", category_id, {}))
            resolved[path] = category_id
            cache[path] = _binding(BindingKind.CATEGORY, path, "", category_id, {})
        if found:
            self._writes.save(found)
        return resolved

    # ------------------------------------------------------------ b. attribute options

    def _ensure_options(
        self, desired: DesiredCatalogue, cache: dict[str, Binding]
    ) -> dict[tuple[str, str], int]:
        """(attribute, label) -> option id for every colour/size label used; creates only missing labels,
        listing an attribute's options once when the OPTION cache misses."""
        if self._run.partial:
            return {}
        resolved: dict[tuple[str, str], int] = {}
        for attribute, labels in sorted(desired.option_labels.items()):
            missing: list[str] = []
            for label in sorted(labels):
                binding = cache.get(f"{attribute}:{label}")
                if binding is not None and binding.magento_id is not None:
                    resolved[(attribute, label)] = binding.magento_id
                else:
                    missing.append(label)
            if not missing:
                continue
            listed = self.magento.list_attribute_options(attribute)
            found: list[Binding] = []
            for label in missing:
                key = f"{attribute}:{label}"
                option_id = listed.get(label)
                if option_id is None:
                    if self._out_of_time():
                        break
                    try:
                        option_id = self.magento.add_attribute_option(attribute, label)
                    except RecordError as exc:
                        logger.warning("option %s could not be created: %s", key, exc)
                        self._run.problem(Problem("products", key, attribute, f"option {key}: {exc}"))
                        continue
                    self._run.counts.options_created += 1
                    # A lost binding is harmless: the next run's cache miss lists the options first.
                    self._writes.save([_binding(BindingKind.OPTION, key, "", option_id, {})])
                else:
                    found.append(_binding(BindingKind.OPTION, key, "", option_id, {}))
                resolved[(attribute, label)] = option_id
                cache[key] = _binding(BindingKind.OPTION, key, "", option_id, {})
            if found:
                self._writes.save(found)
        return resolved

    # ------------------------------------------------------------ c. products

    def _diff_products(
        self, desired: DesiredCatalogue, bindings: dict[str, Binding]
    ) -> tuple[list[_ProductChange], int, int]:
        """(changes, unchanged children/simples, unchanged parents): creates, updates, enables and
        disables, children and simples before configurable parents. Parents are diffed against their
        desired children here; run() re-diffs them against the children actually in Magento."""
        first: list[_ProductChange] = []
        parents: list[_ProductChange] = []
        unchanged = unchanged_parents = 0
        for sku, product in desired.products.items():
            binding = bindings.get(sku)
            fp = product_fingerprint(product, self._always)
            if binding is not None and binding.fingerprint == fp:
                if product.type_id == "configurable":
                    unchanged_parents += 1
                else:
                    unchanged += 1
                continue
            change = _ProductChange(_write_kind(binding), product.sku, fp, product, binding)
            (parents if product.type_id == "configurable" else first).append(change)
        for sku, binding in bindings.items():
            if sku in desired.products or sku in desired.held_products or binding.fingerprint == DISABLED:
                continue
            first.append(_ProductChange("disable", Sku(sku), DISABLED, None, binding))
        return first + parents, unchanged, unchanged_parents

    def _children_to_unlink(
        self, desired: DesiredCatalogue, bindings: dict[str, Binding]
    ) -> list[tuple[str, str]]:
        """(old parent, child) for bound children that left a parent which is still active (a colour
        or size removed, or the SKU moved style). Scans the bindings, so an unlink cut off by a crash
        or the deadline is done by the next run."""
        pairs: list[tuple[str, str]] = []
        for sku, binding in bindings.items():
            old_parent = binding.extra.get("parent")
            if not old_parent or sku in desired.held_products:
                continue
            product = desired.products.get(sku)
            new_parent = product.parent_sku if product else None
            if old_parent != new_parent and old_parent in desired.products:
                pairs.append((str(old_parent), sku))
        return pairs

    def _push_products(
        self,
        desired: DesiredCatalogue,
        bindings: dict[str, Binding],
        category_ids: dict[str, int],
        option_ids: dict[tuple[str, str], int],
    ) -> None:
        run = self._run
        changes, unchanged, _ = self._diff_products(desired, bindings)
        run.counts.unchanged += unchanged
        first = [c for c in changes if c.product is None or c.product.type_id != "configurable"]

        # Which held (parked) children are still linked to each parent: a parent update keeps them,
        # so a parked child is left exactly as it is rather than unlinked by the new link set.
        held_links: dict[str, list[str]] = defaultdict(list)
        if desired.held_products:
            for sku in desired.held_products:
                binding = bindings.get(sku)
                if (
                    binding is not None
                    and binding.extra.get("parent")
                    and binding.fingerprint != DISABLED
                    and _pending_kind(binding) != "create"  # maybe never made: not linked
                ):
                    held_links[str(binding.extra["parent"])].append(sku)

        first = self._drop_never_made(first, bindings)
        self._write_products(first, bindings, category_ids, option_ids, None)
        if run.partial:
            return
        # Children that left a still-active parent: unlink them (they were disabled above).
        for parent, child in self._children_to_unlink(desired, bindings):
            try:
                self.magento.unlink_child(parent, child)
            except RecordError as exc:
                run.problem(Problem("products", child, "parent", f"sku {child}: unlink from {parent}: {exc}"))
                continue
            run.counts.children_unlinked += 1
            binding = bindings[child]
            extra = {**binding.extra, "parent": None}
            new = _binding(BindingKind.PRODUCT, child, binding.fingerprint, binding.magento_id, extra)
            self._writes.save([new])
            bindings[child] = new

        # Parents last, with the children actually in Magento (a child that failed is linked on a
        # later run: the parent's fingerprint covers its real link set).
        parent_changes: list[_ProductChange] = []
        children_of: dict[str, tuple[Sku, ...]] = {}
        for product in (p for p in desired.products.values() if p.type_id == "configurable"):
            # In Magento = bound and not disabled (an update that failed leaves the child in place),
            # but not a pending create that failed again: that one may never have been made.
            linked: list[str] = [
                child
                for child in product.child_skus
                if child in bindings
                and bindings[child].fingerprint != DISABLED
                and not (_pending_kind(bindings[child]) == "create" and child in run.failed_products)
            ]
            linked += sorted(held_links.get(product.sku, ()))
            children = tuple(Sku(child) for child in linked)
            binding = bindings.get(product.sku)
            fp = product_fingerprint(product, self._always, children)
            if binding is not None and binding.fingerprint == fp:
                run.counts.unchanged += 1
                continue
            if not children and (binding is None or _pending_kind(binding) == "create"):
                continue  # every child failed: create the parent once one can be linked
            parent_changes.append(_ProductChange(_write_kind(binding), product.sku, fp, product, binding))
            children_of[product.sku] = children
        self._write_products(parent_changes, bindings, category_ids, option_ids, children_of)

    def _drop_never_made(
        self, changes: list[_ProductChange], bindings: dict[str, Binding]
    ) -> list[_ProductChange]:
        """Pending creates no longer desired: asks Magento which exist. Those are disabled like any
        other; the binding of one that was never made is dropped (a disable would create it)."""
        unsure = [c.sku for c in changes if c.kind == "disable" and _pending_kind(c.binding) == "create"]
        if not unsure or self._out_of_time():
            return changes
        found = self.magento.find_products(unsure)
        never_made = [sku for sku in unsure if sku not in found]
        if not never_made:
            return changes
        self._writes.delete(BindingKind.PRODUCT, never_made)
        for sku in never_made:
            bindings.pop(sku, None)
        logger.info("forgot %d pending product creates that never reached Magento", len(never_made))
        dropped = set(never_made)
        return [c for c in changes if c.sku not in dropped]

    def _intent(self, change: _ProductChange, extra: dict[str, Any]) -> Binding | None:
        """The pending binding to save before this write, or None when a lost binding would do no
        harm (a plain update: the binding already held leads the next run right). A disable needs one:
        were it applied with its binding lost, a style made active again would look unchanged."""
        old = change.binding
        if (
            change.kind == "update"
            and old is not None
            and _pending(old) is None
            and old.extra.get("category_id") == extra.get("category_id")
            and old.extra.get("parent") == extra.get("parent")
        ):
            return None
        linked = _linked_categories(old)
        if extra.get("category_id") is not None:
            linked.add(int(extra["category_id"]))
        pending = {"kind": change.kind, "category_ids": sorted(linked)}
        return _binding(
            BindingKind.PRODUCT,
            change.sku,
            PENDING + change.fingerprint,
            old.magento_id if old else None,
            {**extra, "pending": pending},
        )

    def _write_products(
        self,
        changes: list[_ProductChange],
        bindings: dict[str, Binding],
        category_ids: dict[str, int],
        option_ids: dict[tuple[str, str], int],
        children_of: dict[str, tuple[Sku, ...]] | None,
    ) -> None:
        run = self._run
        if run.partial:
            return

        def prepare(chunk: Sequence[_ProductChange]) -> list[_Prepared]:
            # A chunk's request bodies are built just before it goes: a first push of 50,000 SKUs
            # never holds them all at once.
            ready: list[_Prepared] = []
            for change in chunk:
                try:
                    write, extra = self._product_write(
                        change, category_ids, option_ids, bindings, children_of
                    )
                except RecordError as exc:
                    run.failed_products.add(change.sku)
                    run.problem(Problem("products", change.sku, exc.field, str(exc)))
                    continue
                ready.append((change, write, extra))
            return ready

        chunks = (prepare(chunk) for chunk in _chunks(changes, self._wave))
        chunk = next(chunks, None)
        if chunk is None:
            return
        # Write ahead: once a request is sent its effect may outlive this run's state, so a chunk's
        # intents are durable before it goes. The next chunk's are saved while this one is in flight.
        intents, ticket = self._write_intents(chunk)
        following: list[_Prepared] | None = chunk
        while (chunk := following) is not None:
            if self._out_of_time():
                return  # intents saved for unsent writes are reconciled by the next run
            ticket.wait()
            current = intents
            following = next(chunks, None)
            if following is not None:
                intents, ticket = self._write_intents(following)
            known_ids = self._child_ids(chunk)
            writes = [write for _, write, _ in chunk]
            outcomes = {o.key: o for o in self.magento.save_products(writes, known_ids)}
            intended = {intent.key for intent in current}
            saved: list[Binding] = []
            refused: list[str] = []  # intents of writes Magento refused: nothing was written
            unlink: list[tuple[int, str]] = []
            counted: list[str] = []
            for change, _, extra in chunk:
                outcome = outcomes.get(change.sku)
                if outcome is None or outcome.error:
                    message = outcome.error if outcome else "Magento returned no outcome for this product"
                    run.failed_products.add(change.sku)
                    run.problem(
                        Problem("products", change.sku, outcome.field if outcome else "", message or "")
                    )
                    if outcome is not None and change.sku in intended:
                        if change.binding is None:
                            refused.append(change.sku)
                        else:
                            saved.append(change.binding)  # back to what the binding held before
                    continue
                old = change.binding
                magento_id = (
                    outcome.magento_id if outcome.magento_id is not None else old.magento_id if old else None
                )
                saved.append(_binding(BindingKind.PRODUCT, change.sku, change.fingerprint, magento_id, extra))
                if outcome.magento_id is not None:
                    run.saved_ids[change.sku] = outcome.magento_id
                if change.kind == "create":
                    run.created.add(change.sku)
                counted.append(_PRODUCT_COUNTERS[change.kind])
                # Every link an earlier (confirmed or pending) write may have made, but the one wanted.
                # A disable keeps its categories; only links a pending write added on top go.
                if change.kind != "disable" or _pending(old) is not None:
                    keep = extra.get("category_id")
                    for category_id in sorted(_linked_categories(old) - {keep}):
                        unlink.append((category_id, change.sku))
            # Category links merge in Magento: the old one is removed before the binding that forgets
            # it is saved, so a crash in between repeats the (idempotent) write and unlink.
            unlinked_failed: set[str] = set()
            for category_id, sku in unlink:
                try:
                    self.magento.unlink_category(category_id, sku)
                except RecordError as exc:
                    unlinked_failed.add(sku)
                    run.failed_products.add(sku)
                    run.problem(Problem("products", sku, "categories", str(exc)))
                    continue
                run.counts.categories_unlinked += 1
            saved = [b for b in saved if b.key not in unlinked_failed]
            if refused:
                self._writes.delete(BindingKind.PRODUCT, refused)
            # State is saved only after the writes it covers succeeded.
            self._writes.save(saved)
            for binding in saved:
                bindings[binding.key] = binding
            for counter in counted:
                setattr(run.counts, counter, getattr(run.counts, counter) + 1)

    def _write_intents(self, chunk: Sequence[_Prepared]) -> tuple[list[Binding], Ticket]:
        intents = [i for i in (self._intent(c, extra) for c, _, extra in chunk) if i is not None]
        return intents, self._writes.save(intents)

    def _child_ids(self, chunk: Sequence[_Prepared]) -> dict[str, int]:
        """Ids Magento returned this run for the children these parents link, so the adapter need not
        look them up. Only this run's: an older bound id may be stale (a product deleted in Magento)."""
        saved = self._run.saved_ids
        return {
            child: saved[child] for _, write, _ in chunk for child in write.child_skus or () if child in saved
        }

    def _product_write(
        self,
        change: _ProductChange,
        category_ids: dict[str, int],
        option_ids: dict[tuple[str, str], int],
        bindings: dict[str, Binding],
        children_of: dict[str, tuple[Sku, ...]] | None,
    ) -> tuple[ProductWrite, dict[str, Any]]:
        """The ProductWrite for one change and the binding extra to keep once it succeeded."""
        config = self.config
        magento = config.magento
        old_extra: dict[str, Any] = dict(change.binding.extra) if change.binding else {}
        old_extra.pop("pending", None)  # the binding saved after this write is confirmed
        if change.product is None:  # disable
            type_id = old_extra.get("type", "simple")
            write = ProductWrite.model_construct(
                sku=change.sku,
                type_id=type_id,
                attributes={"status": STATUS_DISABLED},
                custom_attributes={},
                category_ids=None,
                configurable_options=None,
                child_skus=None,
            )
            return write, old_extra
        product = change.product
        creating = change.kind == "create"

        def sends(name: str) -> bool:
            return owned_always(config, name) or (creating and owned_on_create(config, name))

        attributes: dict[str, Any] = {"status": STATUS_ENABLED, "visibility": product.visibility}
        custom: dict[str, Any] = {}
        if creating:
            attributes["attribute_set_id"] = magento.attribute_set_id
            if product.price is not None and sends("price"):
                attributes["price"] = product.price  # Magento wants a price on a new simple
        if sends("name"):
            attributes["name"] = product.name
        if sends("url_key"):
            custom["url_key"] = product.url_key
        if product.description and sends("description"):
            custom["description"] = product.description
        options: dict[str, int] = {}
        for attribute, label in (
            (magento.colour_attribute, product.colour),
            (magento.size_attribute, product.size),
        ):
            if label is None:
                continue
            option_id = option_ids.get((attribute, label))
            if option_id is None:
                raise RecordError(
                    f"sku {product.sku}: option {label!r} of {attribute} is not in Magento",
                    record=product.sku,
                    field=attribute,
                )
            custom[attribute] = option_id
            options[attribute] = option_id
        category_id: int | None = old_extra.get("category_id")
        category_path: str | None = old_extra.get("category_path")
        category_field: tuple[int, ...] | None = None
        if product.category_path is not None and sends("categories"):
            resolved = category_ids.get(product.category_path)
            if resolved is None:
                raise RecordError(
                    f"sku {product.sku}: category {product.category_path!r} is not in Magento",
                    record=product.sku,
                    field="category_path",
                )
            category_field = (resolved,)
            category_id, category_path = resolved, product.category_path
        elif product.category_path is None and owned_always(config, "categories"):
            category_id, category_path = None, None  # a child now: its old link is removed
        configurable_options: dict[str, tuple[int, ...]] | None = None
        child_skus: tuple[Sku, ...] | None = None
        if product.type_id == "configurable":
            child_skus = (children_of or {}).get(product.sku, product.child_skus)
            collected: dict[str, set[int]] = defaultdict(set)
            for child in child_skus:
                child_binding = bindings.get(child)
                for attribute, option_id in (
                    child_binding.extra.get("options", {}) if child_binding else {}
                ).items():
                    collected[attribute].add(int(option_id))
            configurable_options = {attr: tuple(sorted(ids)) for attr, ids in sorted(collected.items())}
        extra: dict[str, Any] = {
            "type": product.type_id,
            "category_id": category_id,
            "category_path": category_path,
            "parent": product.parent_sku,
        }
        if options:
            extra["options"] = options
        write = ProductWrite.model_construct(
            sku=product.sku,
            type_id=product.type_id,
            attributes=attributes,
            custom_attributes=custom,
            category_ids=category_field,
            configurable_options=configurable_options,
            child_skus=child_skus,
        )
        return write, extra

    # ------------------------------------------------------------ d. prices

    def _may_send(self, name: str, binding: Binding | None) -> bool:
        """`always`: every change; `on_create`: only while nothing was sent yet for this item (so a
        crash between the product's creation and its first price still sends it); `never`: never."""
        ownership = self._ownership[name]
        if ownership is Ownership.ON_CREATE:
            # A pending binding is a first send whose outcome is unknown: still nothing confirmed.
            return binding is None or binding.fingerprint.startswith(PENDING)
        return ownership is Ownership.ALWAYS

    def _diff_prices(
        self, desired: DesiredCatalogue, bindings: dict[str, Binding], present: set[str]
    ) -> tuple[list[str], int]:
        to_send: list[str] = []
        unchanged = 0
        for sku, price in desired.prices.items():
            binding = bindings.get(sku)
            if sku not in present or not self._may_send("price", binding):
                continue
            if binding is not None and binding.fingerprint == price_fingerprint(price, self._stores):
                unchanged += 1
            else:
                to_send.append(sku)
        return to_send, unchanged

    def _push_prices(
        self, desired: DesiredCatalogue, bindings: dict[str, Binding], present: set[str]
    ) -> None:
        run = self._run
        to_send, unchanged = self._diff_prices(desired, bindings, present)
        run.counts.unchanged += unchanged
        self._write_ahead(
            _binding(BindingKind.PRICE, sku, PENDING + price_fingerprint(desired.prices[sku], self._stores))
            for sku in to_send
            if sku in bindings
        )

        def send(skus: Sequence[str]) -> list[RowFailure]:
            return self.magento.save_base_prices(
                [
                    PriceRow.model_construct(
                        sku=Sku(sku),
                        price=desired.prices[sku],
                        store_id=store,
                        price_from=None,
                        price_to=None,
                    )
                    for sku in skus
                    for store in self._stores
                ]
            )

        def sent(skus: Sequence[str], failures: list[RowFailure]) -> None:
            failed = self._park_row_failures("prices", failures)
            saved = [
                _binding(
                    BindingKind.PRICE, sku, price_fingerprint(desired.prices[sku], self._stores), None, {}
                )
                for sku in skus
                if sku not in failed
            ]
            self._writes.save(saved)
            run.counts.prices_sent += len(saved)

        self._in_flight(list(_chunks(to_send, self._skus_per_request)), send, sent, self._slots)

    def _diff_specials(
        self, desired: DesiredCatalogue, bindings: dict[str, Binding], present: set[str]
    ) -> tuple[list[str], list[Binding], int]:
        """(skus to save, bindings whose rows must be deleted, unchanged count)."""
        to_save: list[str] = []
        to_delete: list[Binding] = []
        unchanged = 0
        for sku in sorted(present):
            binding = bindings.get(sku)
            if sku in desired.held_specials or not self._may_send("special_price", binding):
                continue
            product = desired.products.get(sku)
            if product is None or not product.sellable:
                continue
            want = desired.specials.get(sku)
            if want is not None:
                if binding is not None and binding.fingerprint == special_fingerprint(want, self._stores):
                    unchanged += 1
                    continue
                to_save.append(sku)
                if binding is not None and _special_dates_changed(binding, want):
                    to_delete.append(binding)  # a new date range replaces the old row, not adds to it
            elif binding is not None:
                to_delete.append(binding)
        return to_save, to_delete, unchanged

    def _push_specials(
        self, desired: DesiredCatalogue, bindings: dict[str, Binding], present: set[str]
    ) -> None:
        run = self._run
        to_save, to_delete, unchanged = self._diff_specials(desired, bindings, present)
        run.counts.unchanged += unchanged
        saving = set(to_save)

        def delete(chunk: Sequence[Binding]) -> list[RowFailure]:
            rows = [row for binding in chunk for row in _special_rows_of(binding)]
            return self.magento.delete_special_prices(rows) if rows else []

        def deleted(chunk: Sequence[Binding], failures: list[RowFailure]) -> None:
            failed = self._park_row_failures("special_prices", failures)
            gone = [b.key for b in chunk if b.key not in failed and b.key not in saving]
            if gone:
                self._writes.delete(BindingKind.SPECIAL_PRICE, gone)
            run.counts.special_prices_deleted += sum(1 for b in chunk if b.key not in failed)

        self._in_flight(list(_chunks(to_delete, self._skus_per_request)), delete, deleted, self._slots)
        if run.partial:
            return  # out of time: a new date range waits for the old row's delete, next run

        # Every sale is written ahead, new ones too: a sale applied whose binding was lost would
        # otherwise never be deleted when it ends (nothing would say it was sent).
        self._write_ahead(
            _binding(
                BindingKind.SPECIAL_PRICE,
                sku,
                PENDING + special_fingerprint(desired.specials[sku], self._stores),
                None,
                self._special_extra(desired.specials[sku]),
            )
            for sku in to_save
        )

        def send(skus: Sequence[str]) -> list[RowFailure]:
            rows: list[PriceRow] = []
            for sku in skus:
                want = desired.specials[sku]
                rows.extend(
                    PriceRow.model_construct(
                        sku=Sku(sku),
                        price=want.price,
                        store_id=store,
                        price_from=want.price_from,
                        price_to=want.price_to,
                    )
                    for store in self._stores
                )
            return self.magento.save_special_prices(rows)

        def sent(skus: Sequence[str], failures: list[RowFailure]) -> None:
            failed = self._park_row_failures("special_prices", failures)
            saved = []
            for sku in skus:
                if sku in failed:
                    continue
                want = desired.specials[sku]
                extra = self._special_extra(want)
                saved.append(
                    _binding(
                        BindingKind.SPECIAL_PRICE, sku, special_fingerprint(want, self._stores), None, extra
                    )
                )
            self._writes.save(saved)
            run.counts.special_prices_sent += len(saved)

        self._in_flight(list(_chunks(to_save, self._skus_per_request)), send, sent, self._slots)

    def _special_extra(self, want: DesiredSpecial) -> dict[str, Any]:
        """What a special price binding keeps so its rows can be deleted when the sale ends."""
        return {
            "price": str(want.price),
            "price_from": want.price_from.isoformat() if want.price_from else None,
            "price_to": want.price_to.isoformat() if want.price_to else None,
            "store_ids": list(self._stores),
        }

    def _write_ahead(self, intents: Iterable[Binding]) -> None:
        """Save pending bindings and wait, before the writes they stand for are sent. A write whose
        confirming save is lost then leaves `pending:` behind, never the old fingerprint: were that
        kept, CI changing back to the old value would look in step while Magento holds the new one."""
        pending = list(intents)
        if pending and not self._out_of_time():
            self._writes.save_now(pending)

    def _park_row_failures(self, stream: str, failures: Sequence[RowFailure]) -> set[str]:
        """Record a problem per refused row (Magento's filled message); returns the refused skus."""
        failed: set[str] = set()
        for failure in failures:
            key = f"{failure.sku}@{failure.source_code}" if failure.source_code else failure.sku
            failed.add(key)
            failed.add(failure.sku)
            self._run.problem(Problem(stream, key, _STREAM_FIELD.get(stream, ""), failure.message))
        return failed

    # ------------------------------------------------------------ e. stock

    def _diff_stock(
        self, desired: DesiredCatalogue, bindings: dict[str, Binding], present: set[str]
    ) -> tuple[list[str], int]:
        to_send: list[str] = []
        unchanged = 0
        for key, row in desired.stock.items():
            binding = bindings.get(key)
            if row.sku not in present or not self._may_send("stock", binding):
                continue
            if binding is not None and binding.fingerprint == stock_fingerprint(row):
                unchanged += 1
            else:
                to_send.append(key)
        return to_send, unchanged

    def _push_stock(self, desired: DesiredCatalogue, bindings: dict[str, Binding], present: set[str]) -> None:
        run = self._run
        to_send, unchanged = self._diff_stock(desired, bindings, present)
        run.counts.unchanged += unchanged
        self._write_ahead(
            _binding(BindingKind.STOCK, key, PENDING + stock_fingerprint(desired.stock[key]))
            for key in to_send
            if key in bindings
        )

        def send(keys: Sequence[str]) -> list[RowFailure]:
            return self.magento.save_source_items(
                [
                    SourceItemRow.model_construct(
                        sku=desired.stock[key].sku,
                        source_code=desired.stock[key].source_code,
                        quantity=desired.stock[key].quantity,
                        in_stock=desired.stock[key].in_stock,
                    )
                    for key in keys
                ]
            )

        def sent(keys: Sequence[str], failures: list[RowFailure]) -> None:
            failed_keys: set[str] = set()
            for failure in failures:
                if failure.source_code:
                    failed_keys.add(f"{failure.sku}@{failure.source_code}")
                else:  # the whole SKU was refused
                    failed_keys.update(k for k in keys if _sku_of(k) == failure.sku)
            for failure in failures:
                if failure.source_code:
                    run.problem(
                        Problem("stock", f"{failure.sku}@{failure.source_code}", "quantity", failure.message)
                    )
                else:
                    for key in (k for k in keys if _sku_of(k) == failure.sku):
                        run.problem(Problem("stock", key, "quantity", failure.message))
            saved = [
                _binding(BindingKind.STOCK, key, stock_fingerprint(desired.stock[key]), None, {})
                for key in keys
                if key not in failed_keys
            ]
            self._writes.save(saved)
            run.counts.stock_sent += len(saved)

        self._in_flight(list(_chunks(to_send, self._batch)), send, sent, self._slots)

    # ------------------------------------------------------------ f. images

    def _diff_images(
        self, desired: DesiredCatalogue, bindings: dict[str, Binding], present: set[str], created: set[str]
    ) -> tuple[list[str], int]:
        """Carrier skus whose image set must be synced now, by ownership: `always` on every change;
        `on_create` only for products created now, never imaged, or asked to resync."""
        ownership = self.config.owns("images")
        work: list[str] = []
        unchanged = 0
        if ownership is Ownership.NEVER:
            return work, unchanged
        for sku, metas in desired.images.items():
            if sku not in present:
                continue
            binding = bindings.get(sku)
            if binding is None and not metas:
                continue
            if binding is not None and binding.fingerprint == image_set_fingerprint(metas):
                unchanged += 1
                continue
            if ownership is Ownership.ON_CREATE and not (
                sku in created
                or binding is None
                or binding.fingerprint == RESYNC
                or binding.fingerprint.startswith(INCOMPLETE)
                or not binding.extra.get("entries")
            ):
                unchanged += 1  # the web team owns this gallery now
                continue
            work.append(sku)
        return work, unchanged

    def _push_images(
        self, desired: DesiredCatalogue, bindings: dict[str, Binding], present: set[str]
    ) -> None:
        run = self._run
        work, unchanged = self._diff_images(desired, bindings, present, run.created)
        run.counts.unchanged += unchanged
        if not work:
            return

        # Galleries are independent: several styles are synced at once (each style's own requests in
        # order), so the store's workers stay busy. Bindings are saved as each style finishes; the
        # media labels carry the sha256, so entries made before a crash are recognised, not redone.
        # Twice the request slots: while some styles read CI Office or stage in S3, others keep the
        # store busy (the Magento client's limiter still caps requests in flight at `concurrency`).
        def sync(sku: str) -> tuple[Binding, _Run]:
            return self._sync_image_set(sku, desired.images[sku], bindings.get(sku))

        def synced(_: str, outcome: tuple[Binding, _Run]) -> None:
            binding, tally = outcome
            run.add_images_of(tally)
            self._writes.save([binding])

        self._in_flight(work, sync, synced, 2 * max(1, self.config.sync.concurrency))

    def _in_flight[T, R](
        self, items: Sequence[T], send: Callable[[T], R], done: Callable[[T, R], None], workers: int
    ) -> None:
        """send(item) on up to `workers` threads, keeping that many in flight with no wave barrier
        (a worker that finishes takes the next item at once); done(item, result) runs on this thread
        as each completes. Stops starting items at the deadline; the first failure is raised once
        the items already started have finished."""
        pending = iter(items)
        flying: dict[Future[R], T] = {}
        with ThreadPoolExecutor(max_workers=max(1, workers), thread_name_prefix="push") as pool:
            try:
                while True:
                    while len(flying) < workers and not self._out_of_time():
                        item = next(pending, _NO_MORE)
                        if item is _NO_MORE:
                            break
                        flying[pool.submit(send, item)] = item
                    if not flying:
                        return
                    finished, _ = wait(flying, return_when=FIRST_COMPLETED)
                    for future in finished:
                        done(flying.pop(future), future.result())
            finally:
                for future in flying:
                    future.cancel()

    def _sync_image_set(
        self, sku: str, metas: tuple[ImageMeta, ...], binding: Binding | None
    ) -> tuple[Binding, "_Run"]:
        """Stage, upload and delete so the product's gallery holds this set. Runs on an image worker:
        returns the binding to save and what it counted and found, for the run to fold in."""
        run = _Run()
        extra = binding.extra if binding else {}
        shas: dict[str, str] = dict(extra.get("shas", {}))  # image version -> sha256
        entries: dict[str, int] = {sha: int(entry) for sha, entry in extra.get("entries", {}).items()}
        # List the gallery once: drop entries someone removed, adopt ours a crashed run made.
        listed = self.magento.list_media(sku)
        listed_ids = {entry.entry_id for entry in listed}
        entries = {sha: entry for sha, entry in entries.items() if entry in listed_ids}
        for entry in listed:
            match = _SHA_IN_LABEL.search(entry.label)
            if match and match.group(1) not in entries:
                entries[match.group(1)] = entry.entry_id

        complete = True
        wanted: list[str] = []
        uploads: list[tuple[ImageMeta, str, str, str, bytes]] = []
        for meta in metas:
            known = shas.get(meta.version)
            if known is not None and known in entries:
                wanted.append(known)
                continue
            if meta.byte_length > MAX_IMAGE_BYTES:
                run.problem(image_problem(sku, meta, f"{meta.byte_length} bytes is over the 5 MB limit"))
                complete = False
                continue
            data = self._read_image(meta.image_id)
            if len(data) > MAX_IMAGE_BYTES:
                run.problem(image_problem(sku, meta, f"{len(data)} bytes is over the 5 MB limit"))
                complete = False
                continue
            kind = sniff_image(data)
            if kind is None:
                run.problem(image_problem(sku, meta, "the bytes are not a JPEG, PNG or GIF image"))
                complete = False
                continue
            sha = hashlib.sha256(data).hexdigest()
            shas[meta.version] = sha
            wanted.append(sha)
            if sha not in entries:
                uploads.append((meta, sha, kind[0], kind[1], data))

        first_sha = wanted[0] if wanted else None
        positions = {sha: index + 1 for index, sha in enumerate(wanted)}
        previous_first = extra.get("first")
        if (
            first_sha is not None
            and previous_first is not None
            and previous_first != first_sha
            and first_sha in entries
            and all(sha != first_sha for _, sha, _, _, _ in uploads)
        ):
            # The image that is now first was uploaded without roles, and roles cannot be moved
            # without Magento re-creating the entry anyway: replace it by an upload that carries them.
            meta = next(m for m in metas if shas.get(m.version) == first_sha)
            data = self._read_image(meta.image_id)
            kind = sniff_image(data)
            if kind is not None and hashlib.sha256(data).hexdigest() == first_sha:
                uploads.insert(0, (meta, first_sha, kind[0], kind[1], data))
                stale = entries.pop(first_sha)
                try:
                    self.magento.delete_media(sku, stale)
                    run.counts.images_deleted += 1
                except RecordError as exc:
                    run.problem(Problem("images", sku, f"media entry {stale}", f"sku {sku}: {exc}"))
        for meta, sha, content_type, extension, data in uploads:
            if sha in entries:
                continue  # the same bytes twice in one set
            if self.images.stage(sha, extension, data):
                run.counts.images_staged += 1
            upload = MediaUpload(
                label=f"{meta.style_code} {meta.sequence} sha256:{sha}",
                position=positions[sha],
                roles=IMAGE_ROLES if sha == first_sha else (),
                content_type=content_type,
                file_name=f"{meta.style_code}-{meta.sequence}.{extension}",
                data=data,
            )
            try:
                entries[sha] = self.magento.add_media(sku, upload)
            except RecordError as exc:
                run.problem(image_problem(sku, meta, str(exc)))
                complete = False
                continue
            run.counts.images_uploaded += 1
        keep = set(wanted)
        for sha, entry_id in sorted(entries.items()):
            if sha in keep:
                continue
            try:
                self.magento.delete_media(sku, entry_id)
            except RecordError as exc:  # e.g. 2.4.6+: still used as a role in another store view
                run.problem(
                    Problem(
                        "images", sku, f"media entry {entry_id}", f"sku {sku}: delete entry {entry_id}: {exc}"
                    )
                )
                complete = False
                keep.add(sha)  # still there: remembered, retried next run
                continue
            run.counts.images_deleted += 1
        entries = {sha: entry for sha, entry in entries.items() if sha in keep}
        fp = image_set_fingerprint(metas)
        kept_versions = {meta.version for meta in metas}
        new_extra = {
            "first": first_sha if first_sha in entries else None,
            "entries": entries,
            "shas": {version: sha for version, sha in shas.items() if version in kept_versions},
        }
        return _binding(BindingKind.IMAGES, sku, fp if complete else INCOMPLETE + fp, None, new_extra), run

    def _read_image(self, image_id: int) -> bytes:
        with self._catalogue_lock:
            return self.catalogue.read_image(image_id)

    # ------------------------------------------------------------ g. parked records

    def _settle_parked(self, parked_before: list[ParkedRecord]) -> None:
        """Park this run's problems (the store counts attempts) and unpark records that synced."""
        run = self._run
        now = self.clock.now()
        for (stream, key), problems in run.problems.items():
            fields = ", ".join(dict.fromkeys(p.field for p in problems if p.field))
            reason = "; ".join(dict.fromkeys(p.reason for p in problems))
            self.state.park(
                ParkedRecord(
                    stream=stream,
                    key=key,
                    reason=reason,
                    field=fields,
                    payload={"problems": [_problem_fields(p) for p in problems]},
                    first_seen=now,
                    last_seen=now,
                )
            )
        run.counts.parked = len(run.problems)
        if run.partial:
            return  # what the deadline cut off is not known to be fine yet
        for record in parked_before:
            if (record.stream, record.key) in run.problems:
                continue
            if record.stream != "products" and _sku_of(record.key) in run.failed_products:
                continue  # not tried this run: its product failed
            self.state.unpark(record.stream, record.key)
            run.counts.unparked += 1

    def _problem_list(self) -> list[PushProblem]:
        return [
            PushProblem(**_problem_fields(problem))
            for problems in self._run.problems.values()
            for problem in problems
        ]


# ---------------------------------------------------------------- helpers

_PUSH_KINDS = (
    BindingKind.CATEGORY,
    BindingKind.OPTION,
    BindingKind.PRODUCT,
    BindingKind.PRICE,
    BindingKind.SPECIAL_PRICE,
    BindingKind.STOCK,
    BindingKind.IMAGES,
)

_LOAD_ORDER = (
    BindingKind.STOCK,
    BindingKind.PRODUCT,
    BindingKind.PRICE,
    BindingKind.IMAGES,
    BindingKind.SPECIAL_PRICE,
    BindingKind.CATEGORY,
    BindingKind.OPTION,
)
_STATE_READERS = 3

_STREAM_FIELD = {"prices": "price", "special_prices": "special_price"}
_PRODUCT_COUNTERS = {
    "create": "products_created",
    "update": "products_updated",
    "enable": "products_enabled",
    "disable": "products_disabled",
}


def _write_kind(binding: Binding | None) -> Literal["create", "update", "enable"]:
    """How a desired product is written: as the pending intent said (a create whose outcome is
    unknown is resent as a create, an upsert), else by what the binding holds."""
    pending_kind = _pending_kind(binding)
    if binding is None or pending_kind == "create":
        return "create"
    if pending_kind in ("enable", "disable") or (pending_kind is None and binding.fingerprint == DISABLED):
        return "enable"
    return "update"


def _problem_fields(problem: Problem) -> dict[str, str]:
    return {"stream": problem.stream, "key": problem.key, "field": problem.field, "reason": problem.reason}


def _special_dates_changed(binding: Binding, want: DesiredSpecial) -> bool:
    extra = binding.extra
    if "price" not in extra:
        return False
    old_from, old_to = extra.get("price_from"), extra.get("price_to")
    new_from = want.price_from.isoformat() if want.price_from else None
    new_to = want.price_to.isoformat() if want.price_to else None
    return (old_from, old_to) != (new_from, new_to) or extra.get("store_ids") is None


def _special_rows_of(binding: Binding) -> list[PriceRow]:
    """The rows last sent for a special price, rebuilt from the binding (to delete them)."""
    extra = binding.extra
    if "price" not in extra:
        return []
    price_from = date.fromisoformat(extra["price_from"]) if extra.get("price_from") else None
    price_to = date.fromisoformat(extra["price_to"]) if extra.get("price_to") else None
    return [
        PriceRow(
            sku=Sku(binding.key),
            price=extra["price"],
            store_id=int(store),
            price_from=price_from,
            price_to=price_to,
        )
        for store in extra.get("store_ids", [0])
    ]


__all__ = [
    "PushCounts",
    "PushPlan",
    "PushProblem",
    "PushResult",
    "PushScope",
    "PushSync",
]
