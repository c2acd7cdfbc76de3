"""Adopt: before anything is created, find what the store already holds and bind it instead.

Runs before categories and products, on the products the push would create: those without a binding
(first contact with a store that already sells) and pending creates whose outcome was lost (the
create may have been applied). The same skeleton as every exporter: diff (which SKUs would be
created) -> read what Magento holds, batched by SKU, fields limited -> bind what matches -> park
what conflicts. No write goes to Magento here.

A matched product is bound with no fingerprint and status RESYNC, so the product step sends it as an
*update*: only the fields CI Office owns `always` go, the `on_create` ones (name, url key,
description, images) stay the web team's. A pending create found in Magento becomes a pending
update, keeping the categories its intent recorded. A conflict (a type mismatch, a SKU Magento
spells differently, a url key held by another SKU, a product we cannot read) is parked naming both
sides and the product is held: neither created nor updated, never forced.
"""

import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Literal

from kudos_sync.batches import chunks
from kudos_sync.config import Ownership, TenantConfig
from kudos_sync.domain.desired import DesiredCatalogue, DesiredProduct, Problem
from kudos_sync.domain.errors import RecordError
from kudos_sync.domain.push_fingerprints import image_set_fingerprint
from kudos_sync.domain.push_rules import owned_on_create
from kudos_sync.domain.state import (
    Binding,
    BindingKind,
    BindingStatus,
    ImageGallery,
    PendingWrite,
    ProductLinks,
)
from kudos_sync.sync.ports import MagentoCatalog, StoreProduct
from kudos_sync.sync.push import binders
from kudos_sync.sync.push.context import PushContext
from kudos_sync.sync.push.results import AdoptReport, ConflictKind

logger = logging.getLogger(__name__)

STEP = "adopt"
_SYNCED_TYPES = frozenset({"simple", "configurable"})
# SKUs read between two deadline checks: the adapter splits them into searches of its page size.
SURVEY_CHUNK = 1000


@dataclass(slots=True)
class Survey:
    """What the store holds of the products the push would create."""

    found: dict[str, StoreProduct] = field(default_factory=dict)  # bindable, by CI SKU
    to_create: list[str] = field(default_factory=list)
    conflicts: dict[str, tuple[ConflictKind, Problem]] = field(default_factory=dict)  # by CI SKU
    complete: bool = True

    def report(self, foreign: int | None = None) -> AdoptReport:
        by_kind: dict[ConflictKind, list[str]] = {}
        for sku, (kind, problem) in sorted(self.conflicts.items()):
            by_kind.setdefault(kind, []).append(f"{sku}: {problem.reason}")
        return AdoptReport(
            matched=sorted(self.found),
            to_create=sorted(self.to_create),
            conflicts=by_kind,
            foreign=foreign,
            complete=self.complete,
        )


def candidates(desired: DesiredCatalogue, bindings: Mapping[str, Binding]) -> list[str]:
    """Desired SKUs the push would create: never bound, or a create whose outcome is unknown."""
    return [
        sku
        for sku in desired.products
        if sku not in bindings or binders.pending_kind(bindings[sku]) == "create"
    ]


def survey(
    config: TenantConfig,
    magento: MagentoCatalog,
    desired: DesiredCatalogue,
    skus: Sequence[str],
    batch: int,
    stop: Callable[[], bool] = lambda: False,
) -> Survey:
    """Read what the store holds of `skus` (batched) and sort each into found, to create or conflict.
    Reads only: a dry run and an applied adopt see the same thing."""
    result = Survey()
    creating: list[str] = []
    for chunk in chunks(list(skus), batch):
        if stop():
            result.complete = False
            break
        held = magento.read_products(chunk)
        for sku in chunk:
            store = held.get(sku)
            if store is None:
                creating.append(sku)
                continue
            conflict = _conflict(desired.products[sku], store)
            if conflict is not None:
                result.conflicts[sku] = conflict
            elif isinstance(store, StoreProduct):
                result.found[sku] = store
    if result.complete:
        _check_url_keys(config, magento, desired, creating, batch, result)
    else:
        result.to_create = []  # unsurveyed SKUs are not created this run
    return result


def _conflict(
    product: DesiredProduct, store: StoreProduct | RecordError
) -> tuple[ConflictKind, Problem] | None:
    sku = product.sku

    def parked(kind: ConflictKind, field_name: str, reason: str) -> tuple[ConflictKind, Problem]:
        return kind, Problem("products", sku, field_name, reason)

    if isinstance(store, RecordError):
        return parked("unreadable", store.field, f"in Magento but cannot be read ({store}): left alone")
    if store.sku != sku:
        return parked(
            "sku_spelling", "sku", f"CI Office has SKU {sku!r}, Magento {store.sku!r}: rename one to match"
        )
    if store.type_id not in _SYNCED_TYPES:
        return parked("unreadable", "type_id", f"Magento holds a {store.type_id} product, a type not synced")
    if store.type_id != product.type_id:
        return parked(
            "type", "type_id", f"CI Office has a {product.type_id} product, Magento a {store.type_id} one"
        )
    if store.type_id == "configurable" and not store.configurable_attributes:
        return parked("unreadable", "configurable_options", "Magento holds a configurable without options")
    return None


def _check_url_keys(
    config: TenantConfig,
    magento: MagentoCatalog,
    desired: DesiredCatalogue,
    creating: list[str],
    batch: int,
    result: Survey,
) -> None:
    """A create carries the url key: one another SKU already holds would be refused, so it is a conflict
    found before the create (and named in a dry run)."""
    if not owned_on_create(config, "url_key"):
        result.to_create = creating
        return
    holders: dict[str, str] = {}
    keys = sorted({desired.products[sku].url_key for sku in creating})
    for chunk in chunks(keys, batch):
        holders.update(magento.find_url_keys(chunk))
    for sku in creating:
        url_key = desired.products[sku].url_key
        holder = holders.get(url_key)
        if holder is not None and holder != sku:
            result.conflicts[sku] = (
                "url_key",
                Problem("products", sku, "url_key", f"url key {url_key!r} is already used by SKU {holder!r}"),
            )
        else:
            result.to_create.append(sku)


def adopted_binding(product: DesiredProduct, store: StoreProduct, old: Binding | None) -> Binding:
    """The product binding of a product found in the store. A pending create becomes a pending update
    (its intent's categories kept, so links no longer wanted are still removed); a new one is bound
    with no fingerprint, so the product step sends its always-owned fields once."""
    links = old.product if old is not None else None
    if old is not None and links is not None and links.pending is not None:
        intent = PendingWrite("update", links.pending.category_ids)
        return replace(old, magento_id=store.magento_id, payload=replace(links, pending=intent))
    return Binding(
        BindingKind.PRODUCT,
        product.sku,
        "",
        store.magento_id,
        BindingStatus.RESYNC,
        ProductLinks(product.type_id, None, None, None),
    )


def kept_gallery(desired: DesiredCatalogue, sku: str) -> Binding:
    """An image binding for a store gallery the web team owns: in step with CI's set, so it is not
    uploaded over (images owned `on_create`)."""
    return Binding(
        BindingKind.IMAGES,
        sku,
        image_set_fingerprint(desired.images[sku]),
        None,
        BindingStatus.SENT,
        ImageGallery(None, {}, {}),
    )


def adopt_found(
    ctx: PushContext,
    desired: DesiredCatalogue,
    products: dict[str, Binding],
    images: dict[str, Binding],
) -> Survey:
    """Bind what the store holds, hold and park the conflicts. Returns the survey it acted on."""
    skus = candidates(desired, products)
    if not skus or ctx.tally.partial:
        return Survey()
    with ctx.step(STEP, len(skus)):
        found = survey(ctx.config, ctx.magento, desired, skus, SURVEY_CHUNK, ctx.out_of_time)
        bind_found(ctx, desired, products, images, found, save="galleries")
        ctx.progress.advance(STEP, len(skus))
    return found


def bind_found(
    ctx: PushContext,
    desired: DesiredCatalogue,
    products: dict[str, Binding],
    images: dict[str, Binding],
    found: Survey,
    save: Literal["all", "galleries", "nothing"] = "all",
) -> None:
    """Bind what was found (and galleries the web team keeps) and hold the conflicts. `save`: what is
    saved now. A push saves only the galleries: its product step saves each product's binding once
    the update is confirmed, and a product binding lost before then is found again by the next
    run's survey (harmless), whereas a lost gallery binding would let an upload land on the web
    team's gallery. `adopt --apply` saves all; a dry run nothing."""
    tally = ctx.tally
    keep_galleries = ctx.config.owns("images") is Ownership.ON_CREATE
    saved: list[Binding] = []
    galleries: list[Binding] = []
    for sku, store in found.found.items():
        old = products.get(sku)
        binding = adopted_binding(desired.products[sku], store, old)
        saved.append(binding)
        products[sku] = binding
        tally.adopted.add(sku)
        if old is None:
            tally.counts.products_adopted += 1
        if keep_galleries and store.media_entries and sku in desired.images and sku not in images:
            gallery = kept_gallery(desired, sku)
            galleries.append(gallery)
            images[sku] = gallery
    for sku, (_, problem) in found.conflicts.items():
        hold(desired, sku)
        tally.failed_products.add(sku)
        tally.problem(problem)
    if save != "nothing":
        ctx.writes.save(saved + galleries if save == "all" else galleries)
    if saved or found.conflicts:
        logger.info("adopt: %d bound, %d conflicts left alone", len(saved), len(found.conflicts))
    if not found.complete:
        tally.partial = True


def hold(desired: DesiredCatalogue, sku: str) -> None:
    """Leave a product alone this run: not created, updated, disabled, priced or stocked."""
    desired.products.pop(sku, None)
    desired.held_products.add(sku)
