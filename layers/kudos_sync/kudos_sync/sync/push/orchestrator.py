"""Push: CI Office -> Magento as desired state, diffed by fingerprint (ARCHITECTURE sections 2-4, 9).

One exporter per concern, each the same five steps: *diff* desired against its bindings -> *write
ahead* what is about to change -> *send* in batches, several in flight -> *bind* what Magento
confirmed -> *park* what it refused, with its reason. The orchestrator only says the order:

1. **Read** the Internet-Active catalogue and map it to the Magento shape it should have, while the
   bindings of every kind and the parked push records load beside it. Assumes nothing.
   **Drift** (when due, within its budget: `drift_schedule`): read what Magento holds of the fields
   CI Office owns `always` and mark what drifted out of step, so the steps below send it.
2. **Adopt**: look before creating. Products the run would create (never bound, or a create whose
   confirmation was lost) are read from Magento in batched SKU searches; one the store holds is bound
   and sent only its always-owned fields, a conflict is parked and held. Assumes nothing.
3. **Categories, then attribute options** (taxonomy). Assume nothing of Magento: a cache miss lists
   what is there before creating. After them every category path and colour/size label a product
   write needs has an id, or its products are parked.
4. **Products**, children and simples before configurable parents. May assume step 3's ids. After
   it, `present` is every desired product that is bound and did not fail this run: the only
   products the later steps touch (a price for a product Magento does not have would be refused).
5. **Base prices, special prices, stock**: rows of present products only; independent of each other.
6. **Images**: galleries of present carrier products; `on_create` uses the products created in 4.
7. **Flush** the bindings (write-behind, in order), then **settle parked** records: park this run's
   problems, unpark what synced. Never unparks after a partial run.

What every step may assume: a binding is saved only after the Magento write it records succeeded
(a lost one means an idempotent resend, or a reconcile from the write-ahead intent); the deadline is
checked before each batch and a step that finds it reached leaves the rest to the next run
(`partial`); a bad record is parked and never blocks the others. Steps report to `Progress`.
"""

import logging
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from typing import Literal

from kudos_sync.batches import chunks
from kudos_sync.config import TenantConfig
from kudos_sync.domain.desired import DesiredCatalogue
from kudos_sync.domain.push_mapping import map_catalogue
from kudos_sync.domain.push_rules import always_owned, owned_always
from kudos_sync.domain.state import Binding, BindingKind, BindingStatus, ParkedRecord
from kudos_sync.sync.binding_writer import BindingWriter
from kudos_sync.sync.ports import CatalogueSource, Clock, Deadline, ImageStage, MagentoCatalog, StateStore
from kudos_sync.sync.progress import NoProgress, Progress
from kudos_sync.sync.push import drift, drift_repair, drift_schedule, parking, products, taxonomy
from kudos_sync.sync.push.adopt import SURVEY_CHUNK, adopt_found, bind_found, candidates, survey
from kudos_sync.sync.push.context import Phases, PushContext, Tally
from kudos_sync.sync.push.images import ImageExporter, diff_images
from kudos_sync.sync.push.mappers import ProductMapper
from kudos_sync.sync.push.results import AdoptReport, PushPlan, PushResult
from kudos_sync.sync.push.rows import PriceExporter, SpecialPriceExporter, StockExporter

logger = logging.getLogger(__name__)

PushScope = Literal["products", "prices", "stock", "images"]
type Bindings = dict[BindingKind, dict[str, Binding]]

# Biggest first, so the small kinds load around it.
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
_NOBODY_WATCHING = NoProgress()  # stateless: one default is safe to share


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
        progress: Progress = _NOBODY_WATCHING,
    ) -> None:
        self.config = config
        self.catalogue = catalogue
        self.magento = magento
        self.state = state
        self.images = images
        self.clock = clock
        self.deadline = deadline
        self.progress = progress
        self._always = always_owned(config)

    def run(self) -> PushResult:
        """Send what differs from the bindings; returns `partial` when the deadline stopped it."""
        tally = Tally()
        phases = Phases()
        desired, bindings, parked_before = self._read_with_state()
        phases.done("read_and_state")
        for problem in desired.problems:
            tally.problem(problem)
        self._reconcile(desired, bindings, tally)
        phases.done("drift")

        # Leaving the block waits for every binding to be saved (and raises if one could not be).
        with BindingWriter(self.state) as writer:
            ctx = PushContext(self.config, self.magento, writer, self.deadline, self.progress, tally)
            product_bindings = bindings[BindingKind.PRODUCT]
            # Look before creating: what the store already holds is bound, not created over.
            adopt_found(ctx, desired, product_bindings, bindings[BindingKind.IMAGES])
            phases.done("adopt")
            category_ids = taxonomy.ensure_categories(
                ctx, desired, bindings[BindingKind.CATEGORY], product_bindings
            )
            option_ids = taxonomy.ensure_options(ctx, desired, bindings[BindingKind.OPTION])
            phases.done("categories_options")
            mapper = ProductMapper(self.config, category_ids, option_ids, product_bindings)
            products.ProductExporter(ctx, desired, product_bindings, mapper, self._always).push()
            phases.done("products")
            present = {
                sku
                for sku in desired.products
                if sku in product_bindings and sku not in tally.failed_products
            }
            PriceExporter(ctx, desired, bindings[BindingKind.PRICE], present).push()
            SpecialPriceExporter(ctx, desired, bindings[BindingKind.SPECIAL_PRICE], present).push()
            phases.done("prices")
            StockExporter(ctx, desired, bindings[BindingKind.STOCK], present).push()
            phases.done("stock")
            ImageExporter(ctx, desired, bindings[BindingKind.IMAGES], self.catalogue, self.images).push(
                present
            )
            phases.done("images")
        phases.done("state_flush")
        parking.settle_parked(self.state, tally, parked_before, self.clock.now())
        phases.done("parked")

        status: Literal["succeeded", "partial"] = "partial" if tally.partial else "succeeded"
        logger.info("push %s: %s; seconds per phase: %s", status, tally.counts.model_dump(), phases.seconds)
        return PushResult(
            status=status,
            counts=tally.counts,
            problems=parking.problem_list(tally),
            phase_seconds=phases.seconds,
        )

    def _reconcile(self, desired: DesiredCatalogue, bindings: Bindings, tally: Tally) -> None:
        """The scheduled drift scan: what drifted is marked here and sent by this run's exporters."""
        margin = self.config.sync.deadline_margin_seconds

        def out_of_time() -> bool:
            return self.deadline.remaining_seconds() < margin

        found = drift_schedule.reconcile(
            self.config, self.magento, self.state, desired, bindings, self.clock.now(), out_of_time
        )
        tally.counts.add_drift(sum(found.scanned.values()), {str(k): n for k, n in found.counts().items()})

    def drift(
        self, kinds: Sequence[drift.DriftKind], repair: bool
    ) -> tuple[drift.DriftScan, PushResult | None]:
        """Read what Magento holds for every owned field of `kinds` and list the differences; with
        `repair`, mark them and run the push, whose diff then sends exactly them (and whatever CI
        Office changed since the last push, which differs from Magento just as well)."""
        desired, bindings, _ = self._read_with_state()
        found = drift.scan(self.config, self.magento, desired, bindings, kinds)
        if not repair:
            return found, None
        drift_repair.mark_for_repair(self.state, bindings, found.drifts)
        return found, self.run()

    def adopt(self, apply: bool = False) -> AdoptReport:
        """What the store already holds of the catalogue: matched, to create, conflicts by kind, and
        how many of its products CI Office does not have (never touched). Reads only, unless `apply`:
        then the matched products are bound (the caller holds the push lease), so the next push sends
        them only their always-owned fields. Conflicts are parked by that push."""
        desired, bindings, _ = self._read_with_state()
        products_bound = bindings[BindingKind.PRODUCT]
        found = survey(self.config, self.magento, desired, candidates(desired, products_bound), SURVEY_CHUNK)
        in_store = set(products_bound) | set(found.found)
        in_store |= {sku for sku, (kind, _) in found.conflicts.items() if kind != "url_key"}
        foreign = max(0, self.magento.count_products() - len(in_store))
        if apply:
            with BindingWriter(self.state) as writer:
                ctx = PushContext(self.config, self.magento, writer, self.deadline, self.progress, Tally())
                bind_found(ctx, desired, products_bound, bindings[BindingKind.IMAGES], found)
        return found.report(foreign)

    def plan(self) -> PushPlan:
        """What run() would do now, computed from the same diffs. Writes nothing anywhere and reads
        nothing from Magento (unknown categories/options are listed as to be ensured), except for a
        tenant that never pushed: then what the store already holds is surveyed (`adopt`)."""
        desired, bindings, _ = self._read_with_state()
        plan = PushPlan(problems=[parking.push_problem(p) for p in desired.problems])
        product_bindings = bindings[BindingKind.PRODUCT]
        tally = Tally()
        if not product_bindings:
            found = survey(self.config, self.magento, desired, list(desired.products), SURVEY_CHUNK)
            plan.adopt = found.report()
            product_bindings = dict(product_bindings)
            images = dict(bindings[BindingKind.IMAGES])
            ctx = PushContext(self.config, self.magento, None, self.deadline, self.progress, tally)
            bind_found(ctx, desired, product_bindings, images, found, save="nothing")
            bindings = {**bindings, BindingKind.PRODUCT: product_bindings, BindingKind.IMAGES: images}
        categories = bindings[BindingKind.CATEGORY]
        plan.categories_to_ensure = sorted(
            set(taxonomy.needed_category_paths(self.config, desired, product_bindings)) - set(categories)
        )
        options = bindings[BindingKind.OPTION]
        plan.options_to_ensure = [
            f"{attribute}:{label}"
            for attribute, label in taxonomy.needed_options(desired)
            if f"{attribute}:{label}" not in options
        ]
        by_kind, plan.unlink_children, plan.unlink_categories, plan.unchanged = products.planned(
            desired, product_bindings, self._always, owned_always(self.config, "categories")
        )
        plan.create, plan.update = by_kind["create"], by_kind["update"]
        plan.enable, plan.disable = by_kind["enable"], by_kind["disable"]
        created = set(plan.create)
        present = set(desired.products)
        ctx = PushContext(self.config, self.magento, None, self.deadline, self.progress, tally)

        prices, unchanged = PriceExporter(ctx, desired, bindings[BindingKind.PRICE], present).diff()
        plan.base_prices, plan.unchanged = sorted(prices), plan.unchanged + unchanged
        specials = SpecialPriceExporter(ctx, desired, bindings[BindingKind.SPECIAL_PRICE], present)
        to_save, to_delete, unchanged = specials.diff_specials()
        plan.special_prices = sorted(to_save)
        plan.special_prices_deleted = sorted(b.key for b in to_delete)
        plan.unchanged += unchanged
        stock, unchanged = StockExporter(ctx, desired, bindings[BindingKind.STOCK], present).diff()
        plan.stock, plan.unchanged = sorted(stock), plan.unchanged + unchanged
        image_work, unchanged = diff_images(
            self.config.owns("images"), desired, bindings[BindingKind.IMAGES], present, created
        )
        plan.images, plan.unchanged = sorted(image_work), plan.unchanged + unchanged
        return plan

    def resync(self, scope: PushScope) -> int:
        """Forget what was sent for one concern so the next run sends it again; returns how many
        bindings were reset. Product and image bindings keep their Magento ids, category links and
        media entry ids (only the status changes), so the resend updates rather than creates:
        on_create fields stay with the web team and no image is uploaded twice."""
        if scope == "products":
            count = self._mark_resync(BindingKind.PRODUCT)
            # The category and option caches are rebuilt from Magento on the next run.
            self.state.delete_bindings(BindingKind.CATEGORY)
            self.state.delete_bindings(BindingKind.OPTION)
            return count
        if scope == "prices":
            # Special prices keep their last rows so a sale ended since can still be deleted.
            return self.state.delete_bindings(BindingKind.PRICE) + self._mark_resync(
                BindingKind.SPECIAL_PRICE
            )
        if scope == "stock":
            return self.state.delete_bindings(BindingKind.STOCK)
        if scope == "images":
            return self._mark_resync(BindingKind.IMAGES)
        raise ValueError(f"unknown resync scope {scope!r}: use products, prices, stock or images")

    # ------------------------------------------------------------ reading

    def _read_with_state(self) -> tuple[DesiredCatalogue, Bindings, list[ParkedRecord]]:
        """The desired catalogue, and the bindings and parked push records: read side by side (one
        waits on CI Office and maps, the other on the state store), as they do not depend on each other."""
        with ThreadPoolExecutor(max_workers=1, thread_name_prefix="state") as pool:
            loading = pool.submit(self._load_state)
            try:
                styles = self.catalogue.read_styles()
                stock = self.catalogue.read_stock(sorted(self.config.branch_sources))
                image_meta = self.catalogue.read_image_meta()
                desired = map_catalogue(styles, stock, image_meta, self.config, self.clock.now().date())
            except BaseException:
                loading.cancel()
                raise
            bindings, parked = loading.result()
            return desired, bindings, parked

    def _load_state(self) -> tuple[Bindings, list[ParkedRecord]]:
        # The kinds are independent: loaded side by side, one waits on the store while another decodes.
        with ThreadPoolExecutor(max_workers=_STATE_READERS, thread_name_prefix="state") as pool:
            loads = {kind: pool.submit(self.state.load_bindings, kind) for kind in _LOAD_ORDER}
            parked = parking.parked_push_records(self.state)
            return {kind: loads[kind].result() for kind in _LOAD_ORDER}, parked

    def _mark_resync(self, kind: BindingKind) -> int:
        # Disabled products are reset too: the next run disables them again (healing a manual
        # re-enable in Magento). Payloads stay, a pending product write's intent with them.
        reset = [replace(b, status=BindingStatus.RESYNC) for b in self.state.load_bindings(kind).values()]
        for chunk in chunks(reset, 500):
            self.state.save_bindings(chunk)
        return len(reset)
