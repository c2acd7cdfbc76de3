"""The product exporter: creates, updates, enables and disables, children before configurable parents.

diff (by fingerprint of the always-owned fields) -> write ahead (a pending binding for any write
Magento could not be asked about afterwards: a create, an enable, a disable, a move to another
category or parent) -> send a wave of saves -> unlink categories the product left -> bind what Magento
confirmed -> park what it refused. A pending binding the next run finds is reconciled: still desired,
the write is resent (an upsert) and categories the intent recorded but no longer wanted are unlinked;
no longer desired, the product is disabled if Magento has it and the binding dropped if not.
"""

import logging
import time
from collections import defaultdict
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass

from kudos_sync.batches import chunks
from kudos_sync.domain.desired import DesiredCatalogue, Problem
from kudos_sync.domain.errors import RecordError
from kudos_sync.domain.ids import Sku
from kudos_sync.domain.push_fingerprints import product_fingerprint
from kudos_sync.domain.state import Binding, BindingKind, ProductLinks, ProductWriteKind
from kudos_sync.sync.binding_writer import Ticket
from kudos_sync.sync.ports import ProductWrite, WriteOutcome
from kudos_sync.sync.push import binders
from kudos_sync.sync.push.context import PushContext
from kudos_sync.sync.push.mappers import ProductChange, ProductMapper

logger = logging.getLogger(__name__)

STEP = "products"


@dataclass(slots=True)
class _Prepared:
    change: ProductChange
    write: ProductWrite
    links: ProductLinks


def write_kind(binding: Binding | None) -> ProductWriteKind:
    """How a desired product is written: as the pending intent said (a create whose outcome is unknown
    is resent as a create, an upsert), else by what the binding holds."""
    pending = binders.pending_kind(binding)
    if binding is None or pending == "create":
        return "create"
    if pending in ("enable", "disable") or (pending is None and binders.is_disabled(binding)):
        return "enable"
    return "update"


def diff_products(
    desired: DesiredCatalogue, bindings: Mapping[str, Binding], always: frozenset[str]
) -> tuple[list[ProductChange], int, int]:
    """(changes, unchanged children/simples, unchanged parents), children and simples before
    configurable parents. Parents are diffed against their desired children here; the exporter
    re-diffs them against the children actually in Magento."""
    first: list[ProductChange] = []
    parents: list[ProductChange] = []
    unchanged = unchanged_parents = 0
    for sku, product in desired.products.items():
        binding = bindings.get(sku)
        fp = product_fingerprint(product, always)
        if binding is not None and binding.in_step(fp):
            if product.type_id == "configurable":
                unchanged_parents += 1
            else:
                unchanged += 1
            continue
        change = ProductChange(write_kind(binding), product.sku, fp, product, binding)
        (parents if product.type_id == "configurable" else first).append(change)
    for sku, binding in bindings.items():
        if sku in desired.products or sku in desired.held_products or binders.is_disabled(binding):
            continue
        first.append(ProductChange("disable", Sku(sku), "", None, binding))
    return first + parents, unchanged, unchanged_parents


def children_to_unlink(desired: DesiredCatalogue, bindings: Mapping[str, Binding]) -> list[tuple[str, str]]:
    """(old parent, child) for bound children that left a parent which is still active (a colour or
    size removed, or the SKU moved style). Scans the bindings, so an unlink cut off by a crash or the
    deadline is done by the next run."""
    pairs: list[tuple[str, str]] = []
    for sku, binding in bindings.items():
        links = binding.product
        old_parent = links.parent if links is not None else None
        if not old_parent or sku in desired.held_products:
            continue
        product = desired.products.get(sku)
        new_parent = product.parent_sku if product else None
        if old_parent != new_parent and old_parent in desired.products:
            pairs.append((old_parent, sku))
    return pairs


class ProductExporter:
    def __init__(
        self,
        ctx: PushContext,
        desired: DesiredCatalogue,
        bindings: dict[str, Binding],
        mapper: ProductMapper,
        always: frozenset[str],
    ) -> None:
        self.ctx = ctx
        self.desired = desired
        self.bindings = bindings
        self.mapper = mapper
        self.always = always

    def push(self) -> None:
        ctx, desired, bindings = self.ctx, self.desired, self.bindings
        tally = ctx.tally
        changes, unchanged, _ = diff_products(desired, bindings, self.always)
        tally.counts.unchanged += unchanged
        with ctx.step(STEP, len(changes)):
            first = [c for c in changes if c.product is None or c.product.type_id != "configurable"]
            held_links = self._held_links()
            self._write(self._drop_never_made(first), None)
            if tally.partial:
                return
            self._unlink_children()
            parents, children_of = self._parent_changes(held_links)
            self._write(parents, children_of)

    # ------------------------------------------------------------ steps

    def _held_links(self) -> dict[str, list[str]]:
        """Which held (parked) children are still linked to each parent: a parent update keeps them, so
        a parked child is left exactly as it is rather than unlinked by the new link set."""
        held: dict[str, list[str]] = defaultdict(list)
        for sku in self.desired.held_products:
            binding = self.bindings.get(sku)
            links = binding.product if binding is not None else None
            if (
                links is not None
                and links.parent
                and not binders.is_disabled(binding)
                and binders.pending_kind(binding) != "create"  # maybe never made: not linked
            ):
                held[links.parent].append(sku)
        return held

    def _unlink_children(self) -> None:
        """Children that left a still-active parent (they were disabled or moved above)."""
        ctx, tally, bindings = self.ctx, self.ctx.tally, self.bindings
        for parent, child in children_to_unlink(self.desired, bindings):
            try:
                ctx.magento.unlink_child(parent, child)
            except RecordError as exc:
                tally.problem(
                    Problem("products", child, "parent", f"sku {child}: unlink from {parent}: {exc}")
                )
                continue
            tally.counts.children_unlinked += 1
            new = binders.without_parent(bindings[child])
            ctx.writes.save([new])
            bindings[child] = new

    def _parent_changes(
        self, held_links: Mapping[str, list[str]]
    ) -> tuple[list[ProductChange], dict[str, tuple[Sku, ...]]]:
        """Parents last, with the children actually in Magento (a child that failed is linked on a
        later run: the parent's fingerprint covers its real link set)."""
        bindings, tally = self.bindings, self.ctx.tally
        changes: list[ProductChange] = []
        children_of: dict[str, tuple[Sku, ...]] = {}
        for product in (p for p in self.desired.products.values() if p.type_id == "configurable"):
            # In Magento = bound and not disabled (an update that failed leaves the child in place),
            # but not a pending create that failed again: that one may never have been made.
            linked: list[str] = [
                child
                for child in product.child_skus
                if child in bindings
                and not binders.is_disabled(bindings[child])
                and not (binders.pending_kind(bindings[child]) == "create" and child in tally.failed_products)
            ]
            linked += sorted(held_links.get(product.sku, ()))
            children = tuple(Sku(child) for child in linked)
            binding = bindings.get(product.sku)
            fp = product_fingerprint(product, self.always, children)
            if binding is not None and binding.in_step(fp):
                tally.counts.unchanged += 1
                continue
            if not children and (binding is None or binders.pending_kind(binding) == "create"):
                continue  # every child failed: create the parent once one can be linked
            changes.append(ProductChange(write_kind(binding), product.sku, fp, product, binding))
            children_of[product.sku] = children
        return changes, children_of

    def _drop_never_made(self, changes: list[ProductChange]) -> list[ProductChange]:
        """Pending creates no longer desired: asks Magento which exist. Those are disabled like any
        other; the binding of one that was never made is dropped (a disable would create it)."""
        ctx = self.ctx
        unsure = [
            c.sku for c in changes if c.kind == "disable" and binders.pending_kind(c.binding) == "create"
        ]
        if not unsure or ctx.out_of_time():
            return changes
        found = ctx.magento.find_products(unsure)
        never_made = [sku for sku in unsure if sku not in found]
        if not never_made:
            return changes
        ctx.writes.delete(BindingKind.PRODUCT, never_made)
        for sku in never_made:
            self.bindings.pop(sku, None)
        logger.info("forgot %d pending product creates that never reached Magento", len(never_made))
        dropped = set(never_made)
        return [c for c in changes if c.sku not in dropped]

    # ------------------------------------------------------------ write ahead, send, bind, park

    def _intent(self, item: _Prepared) -> Binding | None:
        """The pending binding to save before this write, or None when a lost binding would do no harm
        (a plain update: the binding already held leads the next run right). A disable needs one: were
        it applied with its binding lost, a style made active again would look unchanged."""
        change, links = item.change, item.links
        old = change.binding
        old_links = old.product if old is not None else None
        if (
            change.kind == "update"
            and old_links is not None
            and old_links.pending is None
            and old_links.category_id == links.category_id
            and old_links.parent == links.parent
        ):
            return None
        return binders.product_intent(change.sku, change.kind, change.fingerprint, old, links)

    def _prepare(
        self, chunk: Sequence[ProductChange], children_of: Mapping[str, tuple[Sku, ...]] | None
    ) -> list[_Prepared]:
        # A chunk's request bodies are built just before it goes: a first push of 50,000 SKUs never
        # holds them all at once.
        tally = self.ctx.tally
        ready: list[_Prepared] = []
        for change in chunk:
            try:
                write, links = self.mapper.map(change, children_of)
            except RecordError as exc:
                tally.failed_products.add(change.sku)
                tally.problem(Problem("products", change.sku, exc.field, str(exc)))
                continue
            ready.append(_Prepared(change, write, links))
        return ready

    def _write_intents(self, chunk: Sequence[_Prepared]) -> tuple[set[str], Ticket]:
        intents = [i for i in (self._intent(item) for item in chunk) if i is not None]
        return {i.key for i in intents}, self.ctx.writes.save(intents)

    def _write(self, changes: list[ProductChange], children_of: Mapping[str, tuple[Sku, ...]] | None) -> None:
        ctx = self.ctx
        if ctx.tally.partial:
            return
        waves: Iterator[list[_Prepared]] = (self._prepare(c, children_of) for c in chunks(changes, ctx.wave))
        wave = next(waves, None)
        if wave is None:
            return
        # Write ahead: once a request is sent its effect may outlive this run's state, so a wave's
        # intents are durable before it goes. The next wave's are saved while this one is in flight.
        intended, ticket = self._write_intents(wave)
        following: list[_Prepared] | None = wave
        wave_seconds = 0.0  # how long the last wave took: the next one is not started without as long
        while (wave := following) is not None:
            if ctx.out_of_time(wave_seconds):
                return  # intents saved for unsent writes are reconciled by the next run
            started = time.monotonic()
            ticket.wait()
            current = intended
            following = next(waves, None)
            if following is not None:
                intended, ticket = self._write_intents(following)
            outcomes = {
                o.key: o for o in ctx.magento.save_products([p.write for p in wave], self._child_ids(wave))
            }
            self._bind(wave, outcomes, current)
            ctx.progress.advance(STEP, len(wave))
            wave_seconds = time.monotonic() - started

    def _bind(
        self, wave: Sequence[_Prepared], outcomes: Mapping[str, WriteOutcome], intended: set[str]
    ) -> None:
        ctx, tally = self.ctx, self.ctx.tally
        saved: list[Binding] = []
        refused: list[str] = []  # intents of writes Magento refused: nothing was written
        unlink: list[tuple[int, str]] = []
        written: list[ProductWriteKind] = []
        for item in wave:
            change = item.change
            outcome = outcomes.get(change.sku)
            if outcome is None or outcome.error:
                message = outcome.error if outcome else "Magento returned no outcome for this product"
                tally.failed_products.add(change.sku)
                tally.problem(
                    Problem("products", change.sku, outcome.field if outcome else "", message or "")
                )
                if outcome is not None and change.sku in intended:
                    if change.binding is None:
                        refused.append(change.sku)
                    else:
                        saved.append(change.binding)  # back to what the binding held before
                continue
            old = change.binding
            returned = outcome.magento_id
            magento_id = returned if returned is not None else old.magento_id if old else None
            saved.append(
                binders.product_confirmed(change.sku, change.kind, change.fingerprint, magento_id, item.links)
            )
            if returned is not None:
                tally.saved_ids[change.sku] = returned
            if change.kind == "create":
                tally.created.add(change.sku)
            written.append(change.kind)
            # Every link an earlier (confirmed or pending) write may have made, but the one wanted.
            # A disable keeps its categories; only links a pending write added on top go.
            if change.kind != "disable" or binders.pending_write(old) is not None:
                for category_id in sorted(binders.linked_categories(old) - {item.links.category_id}):
                    unlink.append((category_id, change.sku))
        # Category links merge in Magento: the old one is removed before the binding that forgets it
        # is saved, so a crash in between repeats the (idempotent) write and unlink.
        unlink_failed: set[str] = set()
        for category_id, sku in unlink:
            try:
                ctx.magento.unlink_category(category_id, sku)
            except RecordError as exc:
                unlink_failed.add(sku)
                tally.failed_products.add(sku)
                tally.problem(Problem("products", sku, "categories", str(exc)))
                continue
            tally.counts.categories_unlinked += 1
        saved = [b for b in saved if b.key not in unlink_failed]
        if refused:
            ctx.writes.delete(BindingKind.PRODUCT, refused)
        # State is saved only after the writes it covers succeeded.
        ctx.writes.save(saved)
        for binding in saved:
            self.bindings[binding.key] = binding
        for kind in written:
            tally.counts.product_written(kind)

    def _child_ids(self, wave: Sequence[_Prepared]) -> dict[str, int]:
        """Ids Magento returned this run for the children these parents link, so the adapter need not
        look them up. Only this run's: an older bound id may be stale (a product deleted in Magento)."""
        saved = self.ctx.tally.saved_ids
        return {
            child: saved[child] for item in wave for child in item.write.child_skus or () if child in saved
        }


def planned(
    desired: DesiredCatalogue,
    bindings: Mapping[str, Binding],
    always: frozenset[str],
    categories_always: bool,
) -> tuple[dict[str, list[str]], list[str], list[str], int]:
    """A dry run's product lists: changes by kind, children to unlink, categories to unlink, unchanged."""
    changes, unchanged, unchanged_parents = diff_products(desired, bindings, always)
    by_kind: dict[str, list[str]] = defaultdict(list)
    for change in changes:
        by_kind[change.kind].append(change.sku)
    unlink_children = [f"{parent} -> {child}" for parent, child in children_to_unlink(desired, bindings)]
    unlink_categories: list[str] = []
    if categories_always:
        for change in changes:
            links = change.binding.product if change.binding else None
            old = links.category_path if links else None
            new = change.product.category_path if change.product else None
            if change.kind != "disable" and old and old != new:
                unlink_categories.append(f"{change.sku} from {old}")
    return by_kind, unlink_children, unlink_categories, unchanged + unchanged_parents
