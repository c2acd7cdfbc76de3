"""One chaos scenario: random catalogue edits in CI Office and random sales in Magento, push and pull
runs under faults, then fault-free runs until quiet, then the checks (`checks.py`).

Everything random comes from `random.Random(seed)`; the same seed makes the same edits, sales and
fault draws (see faults.py for what can still vary: timing under load).
"""

from __future__ import annotations

import random
import threading
import traceback
from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

from kudos_sync.ci_office import schema as s
from kudos_sync.domain.errors import ConfigurationError, SyncError
from kudos_sync.domain.state import Direction, RunRecord, RunStatus
from kudos_sync.service import LEASE_SECONDS, run_tenant
from sqlalchemy import func, insert, select, update

from sandbox.aws import LocalAws
from sandbox.ci_office import demo_data
from sandbox.magento.model import Creditmemo, Customer, Invoice, Order, source_item_key
from tests.chaos.checks import (
    Expected,
    Findings,
    Observed,
    Planted,
    Settings,
    check_catalogue,
    check_ledger,
    check_parked,
    expected_catalogue,
)
from tests.chaos.configs import EXTRA_STORE_ID, Configuration, shipped_defaults
from tests.chaos.faults import CountdownDeadline, GateClock, GateDeadline, PlentyDeadline, StreamDeadline
from tests.chaos.world import BRANCH_SOURCES, PAYMENT_MAPPING, UNMAPPED_PAYMENT, World, open_world

SCHEDULE = timedelta(minutes=17)  # one scheduled interval, and longer than a lease (960 s)
QUIET_CYCLES = 14
# Push counters that mean "Magento was written to" (others: unchanged, parked, lag, staged...).
PUSH_WORK_SUFFIXES = (
    "_created",
    "_updated",
    "_enabled",
    "_disabled",
    "_unlinked",
    "_sent",
    "_deleted",
    "_uploaded",
)
CATEGORY_PATHS = (*(c.path for c in demo_data.CATEGORIES), "Sale/Last Chance", "Womens/Dresses/Occasion")
MAGENTO_TIME = "%Y-%m-%d %H:%M:%S"
# How a run meets each run-level fault kind (when the catalogue aims one at a stream).
RUN_MODES: dict[str, str] = {
    "deadline": "deadline",
    "concurrent_run": "concurrent",
    "lease_expiry_race": "expired",
}
# A rival run starts this long after the first took its lease: past the lease's expiry.
PAST_THE_LEASE = timedelta(seconds=LEASE_SECONDS) + timedelta(minutes=1)


@dataclass(frozen=True)
class FaultRates:
    """Chances per Magento request, per CI Office statement, per commit and per DynamoDB call."""

    sandbox: float
    sql: float
    commit: float
    dynamo: float


@dataclass
class ScenarioResult:
    index: int
    seed: int
    faults: dict[str, int]
    findings: Findings
    runs: dict[str, int] = field(default_factory=dict)  # status counts
    errors: list[str] = field(default_factory=list)  # exceptions that are not SyncErrors: bugs
    lease_violations: int = 0
    quiet: bool = True
    configuration: str = "defaults"
    streams: dict[tuple[str, str], int] = field(default_factory=dict)  # (fault kind, stream) -> count

    @property
    def clean(self) -> bool:
        return self.findings.clean and not self.errors and not self.lease_violations and self.quiet


class Scenario:
    def __init__(self, world: World, rng: random.Random) -> None:
        self.world = world
        self.rng = rng
        self.planted_parked: set[tuple[str, str]] = set()
        self.planted_styles: set[str] = set()
        self.planted_orders: set[int] = set()
        self.planted_documents: set[tuple[str, int]] = set()  # ("invoice" | "credit memo", id): parked
        self.shipped: dict[int, Counter[str]] = defaultdict(Counter)  # order -> what Magento deducted
        self.observed = Observed()
        self.catalogue = False  # a catalogue scenario (aimed faults): plants every kind of bad stock
        self.sold: set[str] = set()  # SKUs on an order: never removed from CI
        self.pending: dict[int, list[tuple[str, Decimal]]] = {}  # Magento invoice -> (sku, qty) not yet in CI
        self.open_orders: list[int] = []
        self.customers: list[Customer] = []
        self.runs: dict[str, int] = defaultdict(int)
        self.errors: list[str] = []
        self.lease_violations = 0

    # ------------------------------------------------------------ running the sync

    def run(self, direction: Direction, *, faulty: bool) -> RunRecord | None:
        """One scheduled run; under faults it may be cut by a deadline or meet a rival invocation."""
        mode, target, aimed = "normal", None, None
        tracker = self.world.streams
        if faulty:
            mode = self.rng.choices(("normal", "deadline", "concurrent", "expired"), weights=(6, 3, 2, 2))[0]
            aimed = tracker.aimed_stream(tuple(RUN_MODES), direction.value, self.rng)
            if aimed is not None:
                mode, target = RUN_MODES[aimed[0]], aimed[1]
        tracker.direction = direction.value
        tracker.touched.clear()
        if direction is Direction.PUSH:
            self.observed.remember(self.expected())
        storage = (
            self.world.sql_faults.rate,
            self.world.sql_faults.commit_rate,
            self.world.dynamo_faults.rate,
        )
        if target is not None:
            # An aimed run must reach its stream: no random CI Office or DynamoDB fault ends it first.
            self.world.sql_faults.rate = self.world.sql_faults.commit_rate = self.world.dynamo_faults.rate = (
                0.0
            )
        try:
            if mode == "concurrent":
                return self._run_concurrently(direction, target)
            if mode == "expired":
                return self._run_across_expiry(direction, target)
            deadline: Any = PlentyDeadline()
            if mode == "deadline" and target is not None:
                deadline = StreamDeadline(target, self.world.counter)
            elif mode == "deadline":
                # Mostly early in the run; sometimes deep into it (a later stream, a later page).
                checks = self.rng.randint(0, 6) if self.rng.random() < 0.6 else self.rng.randint(7, 80)
                deadline = CountdownDeadline(checks, self.world.counter)
            return self._run_one(direction, deadline, self.world.clock)
        finally:
            self.world.sql_faults.rate, self.world.sql_faults.commit_rate, self.world.dynamo_faults.rate = (
                storage
            )
            if aimed is not None and aimed in tracker.aims:
                tracker.attempts[aimed] -= 0.5  # it did not happen (the run ended first): half a turn
            self.world.clock.advance(SCHEDULE)

    def expected(self) -> Expected:
        """What CI Office's rows call for now, by the documented rules (checks.py)."""
        planted = frozenset(self.planted_styles)
        today = self.world.clock.now().date()
        return expected_catalogue(
            self.world.ci, today, BRANCH_SOURCES, planted, self.world.configuration.safety_stock
        )

    def _gate(
        self, holding: threading.Event, rival_done: threading.Event, target: str | None, pause_at: int
    ) -> tuple[Any, Any]:
        """The first run's (clock, deadline): it pauses inside the work at its `pause_at`-th clock
        reading or, when a stream is aimed, at the first clock reading or deadline check once the run
        has begun work on `target`."""
        if target is None:
            return GateClock(self.world.clock, holding, rival_done, pause_at=pause_at), PlentyDeadline()
        tracker, fired = self.world.streams, threading.Event()

        def arrived() -> bool:
            if fired.is_set() or target not in tracker.touched:
                return False
            fired.set()
            return True

        clock = GateClock(self.world.clock, holding, rival_done, when=arrived)
        return clock, GateDeadline(holding, rival_done, arrived)

    def _run_across_expiry(self, direction: Direction, target: str | None = None) -> RunRecord | None:
        """The first run stalls inside its work (a frozen container, a long GC pause) past its lease;
        a second run takes the expired lease and finishes; then the first wakes up and goes on."""
        holding, rival_done = threading.Event(), threading.Event()
        first: list[RunRecord | None] = []
        clock, deadline = self._gate(holding, rival_done, target, self.rng.randint(2, 8))
        thread = threading.Thread(
            target=lambda: first.append(self._run_one(direction, deadline, clock)), daemon=True
        )
        thread.start()
        while not holding.is_set() and thread.is_alive():
            holding.wait(0.01)
        if holding.is_set():
            self.world.counter.add("lease_expiry_race", stream=target)
            self.world.clock.advance(PAST_THE_LEASE)
            self._run_one(direction, PlentyDeadline(), self.world.clock)
        rival_done.set()
        thread.join(timeout=120)
        return first[0] if first else None

    def _run_one(self, direction: Direction, deadline: Any, clock: Any) -> RunRecord | None:
        world = self.world
        try:
            record = run_tenant(world.tenant, direction, deadline, stack=world.stack, clock=clock)
        except ConfigurationError as exc:  # every injected fault is transient: this is a misclassification
            self.errors.append(f"{direction.value} run stopped as a configuration problem: {str(exc)[:200]}")
            self.runs[f"{direction.value}:raised-{type(exc).__name__}"] += 1
            return None
        except SyncError as exc:  # transient: the lease or the state store was throttled
            self.runs[f"{direction.value}:raised-{type(exc).__name__}"] += 1
            return None
        except Exception as exc:  # not one of the three failure classes: a bug
            frame = traceback.extract_tb(exc.__traceback__)[-1]
            self.errors.append(
                f"{direction.value} run raised {type(exc).__name__}: {str(exc)[:200]} "
                f"at {Path(frame.filename).name}:{frame.lineno}"
            )
            self.runs[f"{direction.value}:crashed"] += 1
            return None
        self.runs[f"{direction.value}:{record.status.value}"] += 1
        return record

    def _run_concurrently(self, direction: Direction, target: str | None = None) -> RunRecord | None:
        """Two invocations of one tenant and direction at once: the second starts while the first
        holds the lease (it is paused inside its work) and must back off."""
        holding, rival_done = threading.Event(), threading.Event()
        first: list[RunRecord | None] = []
        clock, deadline = self._gate(holding, rival_done, target, 2)
        thread = threading.Thread(
            target=lambda: first.append(self._run_one(direction, deadline, clock)), daemon=True
        )
        thread.start()
        while not holding.is_set() and thread.is_alive():
            holding.wait(0.01)
        rival = None
        if holding.is_set():
            self.world.counter.add("concurrent_run", stream=target)
            rival = self._run_one(direction, PlentyDeadline(), self.world.clock)
        rival_done.set()
        thread.join(timeout=120)
        if holding.is_set() and rival is not None and rival.status is not RunStatus.SKIPPED:
            self.lease_violations += 1
            self.errors.append(
                f"{direction.value}: a second run went ahead ({rival.status.value}) while the lease was held"
            )
        return first[0] if first else None

    # ------------------------------------------------------------ CI Office edits

    def _styles(self, *, active: bool | None = True, variants: bool | None = None) -> list[str]:
        st, sk = s.styles, s.skus
        query = select(st.c.code)
        if active is not None:
            query = query.where(st.c.internet_active == active)
        if variants is not None:
            varied = select(sk.c.style_code).where(sk.c.size_code.is_not(None))
            query = query.where(st.c.code.in_(varied) if variants else st.c.code.not_in(varied))
        with self.world.ci.connect() as conn:
            codes = sorted(conn.scalars(query))
        return [code for code in codes if code not in self.planted_styles]

    def _skus_of(self, style: str) -> list[str]:
        with self.world.ci.connect() as conn:
            return sorted(conn.scalars(select(s.skus.c.sku).where(s.skus.c.style_code == style)))

    def _retail(self, style: str) -> Decimal:
        with self.world.ci.connect() as conn:
            value = conn.execute(select(s.styles.c.retail_price).where(s.styles.c.code == style)).scalar_one()
        return Decimal(value)

    def today(self) -> date:
        return self.world.clock.now().date()

    def edit_catalogue(self, count: int, first: tuple[str, ...] = ()) -> None:
        """`count` random edits, after the `first` ones (the catalogue's: a price, two sales and a new
        variant each round, so the price streams have work, in several chunks, whenever faults are
        aimed at them, also where prices are owned on_create and only new products get one)."""
        engine, rng = self.world.ci, self.rng
        edits = (
            "price",
            "sale",
            "end_sale",
            "category",
            "inactive",
            "active",
            "rename",
            "stock",
            "replace_image",
            "add_image",
            "add_variant",
            "remove_variant",
        )
        for number in range(len(first) + count):
            edit = first[number] if number < len(first) else rng.choice(edits)
            styles = self._styles()
            if not styles:
                return
            style = rng.choice(styles)
            try:
                if edit == "price":
                    demo_data.change_price(engine, style, Decimal(rng.randint(20, 300)) + Decimal("0.90"))
                elif edit == "sale":
                    retail = self._retail(style)
                    price = max(Decimal("1.00"), (retail * Decimal("0.6")).quantize(Decimal("0.01")))
                    start = rng.choice((None, self.today() - timedelta(days=rng.randint(0, 5))))
                    end = rng.choice(
                        (
                            None,
                            self.today() + timedelta(days=rng.randint(3, 30)),
                            self.today() - timedelta(days=2),
                        )
                    )
                    if start and end and end < start:
                        end = None
                    demo_data.put_on_sale(engine, style, price, start, end)
                elif edit == "end_sale":
                    demo_data.end_sale(engine, style)
                elif edit == "category":
                    demo_data.move_category(engine, style, rng.choice(CATEGORY_PATHS))
                elif edit == "inactive":
                    demo_data.set_internet_active(engine, style, False)
                elif edit == "active":
                    inactive = self._styles(active=False)
                    if inactive:
                        demo_data.set_internet_active(engine, rng.choice(inactive), True)
                elif edit == "rename":
                    word = rng.choice(("Linen", "Crème", "Merino", "Café", "Harbour", "Sunday"))
                    demo_data.set_description(
                        engine, style, f"{word} {rng.choice(('Tee', 'Dress', 'Knit', 'Pant'))}"
                    )
                elif edit == "stock":
                    sku = rng.choice(self._skus_of(style))
                    branch = rng.choice(tuple(BRANCH_SOURCES))
                    if branch != "WEB" or not self._pending_qty(sku):
                        quantity = Decimal(rng.randint(0, 15))
                        if self.world.configuration.fractional_stock and rng.random() < 0.5:
                            quantity += rng.choice((Decimal("0.5"), Decimal("0.25"), Decimal("0.999")))
                            self.world.counter.add("fractional_stock", stream="stock")
                        demo_data.set_stock(engine, sku, branch, quantity)
                elif edit == "replace_image":
                    demo_data.replace_image(
                        engine, demo_data.pick_image(engine, rng.randrange(10**6), style_code=style)
                    )
                elif edit == "add_image":
                    demo_data.add_image(engine, style)
                elif edit == "add_variant":
                    varied = self._styles(variants=True)
                    if varied:
                        target = rng.choice(varied)
                        colour, size = demo_data.pick_new_variant(engine, target, rng.randrange(10**6))
                        demo_data.add_variant(
                            engine,
                            target,
                            colour,
                            size,
                            stock={"WEB": rng.randint(0, 9), "AKL": rng.randint(0, 5)},
                        )
                elif edit == "remove_variant":
                    candidates = [sku for sku in self._skus_of(style) if sku not in self.sold]
                    if len(self._skus_of(style)) > 2 and candidates:
                        demo_data.remove_variant(engine, rng.choice(candidates))
            except LookupError:
                continue  # nothing matched this edit (no image, no free colour...): try another

    # ------------------------------------------------------------ planted bad records

    def plant_bad_records(self) -> None:
        """CI rows the push must park (naming record and field) while it syncs everything else."""
        engine, rng = self.world.ci, self.rng
        kinds = rng.sample(
            ("null_price", "negative_stock", "duplicate_barcode", "bad_image", "huge_image"),
            k=rng.randint(1, 3),
        )
        if self.catalogue and "negative_stock" not in kinds:
            kinds.append("negative_stock")  # the catalogue meets every kind: this one is planted only
        if self.world.configuration.owns("images") != "always":
            # Images the web team owns are never read again once a product has some: nothing to park.
            kinds = [kind for kind in kinds if kind not in ("bad_image", "huge_image")]
        for kind in kinds:
            styles = self._styles()
            if len(styles) < 3:
                return
            style = rng.choice(styles)
            if kind == "null_price":
                demo_data.change_price(engine, style, None)
                self.planted_parked.add(("products", style))
            elif kind == "negative_stock":
                sku = rng.choice(self._skus_of(style))
                if sku in self.sold:
                    continue
                branch = rng.choice(tuple(BRANCH_SOURCES))
                demo_data.set_stock(engine, sku, branch, rng.choice((Decimal(-2), Decimal("-0.5"))))
                self.world.counter.add("negative_stock", stream="stock")
                self.planted_parked.add(("stock", f"{sku}@{BRANCH_SOURCES[branch]}"))
            elif kind == "duplicate_barcode":
                skus = self._skus_of(style)
                if len(skus) < 2:
                    continue
                first, second = rng.sample(skus, 2)
                with engine.begin() as conn:
                    barcode = demo_data.ean13(f"{rng.randrange(10**12):012d}")
                    conn.execute(
                        update(s.skus).where(s.skus.c.sku.in_([first, second])).values(barcode=barcode)
                    )
                self.planted_parked.update({("products", first), ("products", second)})
            else:
                carrier = (
                    style
                    if len(self._skus_of(style)) > 1 or self._has_sizes(style)
                    else self._skus_of(style)[0]
                )
                data = (
                    b"%PDF-1.4 a price list, not a picture"
                    if kind == "bad_image"
                    else b"\xff\xd8\xff" + b"0" * 64
                )
                with engine.begin() as conn:
                    last = conn.execute(
                        select(func.max(s.product_images.c.sequence)).where(
                            s.product_images.c.style_code == style
                        )
                    ).scalar()
                    conn.execute(
                        insert(s.product_images).values(
                            style_code=style,
                            sequence=(last or 0) + 1,
                            colour_code=None,
                            content_type="image/jpeg",
                            data=data,
                            # An oversized image is refused on its recorded length, before its bytes are read.
                            byte_length=len(data) if kind == "bad_image" else 6 * 1024 * 1024,
                            updated_at=self.world.clock.now().replace(tzinfo=None),
                        )
                    )
                self.planted_parked.add(("images", carrier))
            self.planted_styles.add(style)

    def _has_sizes(self, style: str) -> bool:
        with self.world.ci.connect() as conn:
            return bool(
                conn.scalar(
                    select(func.count()).where(
                        s.skus.c.style_code == style,
                        s.skus.c.size_code.is_not(None) | s.skus.c.colour_code.is_not(None),
                    )
                )
            )

    # ------------------------------------------------------------ Magento sales

    def _web_stock(self, sku: str) -> Decimal:
        return demo_data.get_stock(self.world.ci, sku, "WEB") or Decimal(0)

    def _pending_qty(self, sku: str) -> Decimal:
        """What CI Office's WEB stock of `sku` will lose to sales it has not booked yet: invoices not
        yet pulled, and orders not yet invoiced (so no sale ever drives CI stock below zero)."""
        self._settle_pending()
        invoiced = sum((qty for lines in self.pending.values() for s_, qty in lines if s_ == sku), Decimal(0))
        store = self.world.sandbox.store
        ordered = sum(
            (
                item.qty_ordered
                for order_id in self.open_orders
                for item in store.orders[order_id].items
                if item.parent_item_id is None and item.sku == sku
            ),
            Decimal(0),
        )
        return invoiced + ordered

    def _settle_pending(self) -> None:
        if not self.pending:
            return
        with self.world.ci.connect() as conn:
            done = set(
                conn.scalars(
                    select(s.invoices.c.magento_entity_id).where(
                        s.invoices.c.magento_entity_id.in_(list(self.pending))
                    )
                )
            )
        for entity_id in done:
            self.pending.pop(entity_id, None)

    def _sellable(self) -> list[str]:
        """Enabled simple products in Magento that CI Office knows, outside planted styles."""
        store = self.world.sandbox.store
        with store.lock:
            skus = [
                p.sku
                for p in store.products.values()
                if p.type_id == "simple" and str(p.values.get("status")) == "1"
            ]
        with self.world.ci.connect() as conn:
            rows = conn.execute(select(s.skus.c.sku, s.skus.c.style_code).where(s.skus.c.sku.in_(skus))).all()
        return sorted(sku for sku, style in rows if style not in self.planted_styles)

    def make_sales(self, count: int, *, plant: bool) -> None:
        rng, sales = self.rng, self.world.sandbox.sales
        for _ in range(count):
            skus = self._sellable()
            lines: list[tuple[str, int]] = []
            for sku in rng.sample(skus, min(len(skus), rng.randint(1, 3))):
                quantity = rng.randint(1, 2)
                if self._web_stock(sku) - self._pending_qty(sku) >= quantity:
                    lines.append((sku, quantity))
            if not lines:
                continue
            customer: Any
            who = rng.random()
            if who < 0.3:
                customer = f"guest{rng.randrange(10**6)}@example.net"
            elif who < 0.5 and self.customers:
                customer = rng.choice(self.customers)
            elif who < 0.7:
                customer = sales.create_customer(f"reg{rng.randrange(10**8)}@example.org", "Aroha", "Ngata")
                self.customers.append(customer)
            else:
                customer = self._ci_customer_email()
            payment = rng.choice(tuple(PAYMENT_MAPPING))
            currency = None
            planted = plant and rng.random() < 0.5
            if planted:
                if rng.random() < 0.5:
                    payment = UNMAPPED_PAYMENT
                else:
                    currency = "AUD"
            order = sales.place_order(lines, customer, payment_method=payment, currency=currency)
            self.sold.update(sku for sku, _ in lines)
            if planted:
                self.planted_orders.add(order.entity_id)
                invoice = sales.invoice(order.entity_id)
                self.planted_parked.add(("invoices", str(invoice.entity_id)))
                plant = False
                continue
            if rng.random() < 0.8:
                self._invoice(order)
            else:
                self.open_orders.append(order.entity_id)

    def _ci_customer_email(self) -> str:
        with self.world.ci.connect() as conn:
            emails = sorted(
                e
                for e in conn.scalars(select(s.customers.c.email).where(s.customers.c.email.is_not(None)))
                if e
            )
        return self.rng.choice(emails) if emails else f"guest{self.rng.randrange(10**6)}@example.net"

    def _invoice(self, order: Order) -> None:
        invoice = self.world.sandbox.sales.invoice(order.entity_id, created_at=self._stamp("invoice"))
        lines = [(line.sku, Decimal(line.qty)) for line in invoice.items if not line.is_child]
        self.pending[invoice.entity_id] = lines
        if self._report_total_off(invoice):
            self.planted_orders.add(order.entity_id)
            return
        self._ship(order.entity_id, lines)

    # ------------------------------------------------------------ what real stores do

    def _stamp(self, kind: str) -> str | None:
        """Sometimes a document committed late: stamped before the newest document of its kind, inside
        the overlap window (rarely exactly at its start), so a pull may already have read past it."""
        stream = "invoices" if kind == "invoice" else "creditmemos"
        drawn = self.rng.random() < 0.2
        if not (drawn or self.world.streams.aimed("late_document", stream)):
            return None
        store = self.world.sandbox.store
        with store.lock:
            documents: dict[int, Any] = dict(store.invoices if kind == "invoice" else store.creditmemos)
        if not documents:
            return None
        newest = max(
            datetime.strptime(d.created_at, MAGENTO_TIME).replace(tzinfo=UTC) for d in documents.values()
        )
        window = timedelta(minutes=self.world.configuration.overlap_minutes)
        back = window if self.rng.random() < 0.2 else window * self.rng.uniform(0.05, 0.95)
        self.world.counter.add("late_document", stream=stream)
        return (newest - back).replace(microsecond=0).strftime(MAGENTO_TIME)

    def _report_total_off(self, document: Invoice | Creditmemo) -> bool:
        """Sometimes Magento reports a grand total off the document's rows: by one cent (imported as
        Magento says), or by 0.02 to 1.00 (parked, naming the grand total). True when parked."""
        credit = isinstance(document, Creditmemo)
        stream = "creditmemos" if credit else "invoices"
        tracker = self.world.streams
        drawn = self.rng.random() < 0.12
        cent, off = tracker.aimed("total_off_cent", stream), tracker.aimed("total_off", stream)
        if not (drawn or cent or off):
            return False
        cents = 1 if self.rng.random() < 0.5 else self.rng.randint(2, 100)
        if cent or off:
            cents = 1 if cent else max(2, cents)
        offset = Decimal(cents) / 100 * self.rng.choice((1, -1))
        self.world.total_offsets[("creditmemo" if credit else "invoice", document.entity_id)] = offset
        if cents == 1:
            self.world.counter.add("total_off_cent", stream=stream)
            return False
        self.world.counter.add("total_off", stream=stream)
        self.planted_parked.add((stream, str(document.entity_id)))
        self.planted_documents.add(("credit memo" if credit else "invoice", document.entity_id))
        return True

    def _ship(self, order_id: int, lines: list[tuple[str, Decimal]]) -> None:
        """Magento deducts an order's quantities from the web source when it ships (MSI source
        deduction), before CI Office has booked the sale; only where the push's last figure is in place,
        so what the sale moves CI Office's figure to is what the next push sends."""
        store, source = self.world.sandbox.store, BRANCH_SOURCES["WEB"]
        wanted = self.expected().stock
        with store.lock:
            for sku, quantity in lines:
                item = store.source_items.get(source_item_key(source, sku))
                if item is None or Decimal(item.quantity) != wanted.get((sku, source)):
                    continue
                left = max(Decimal(0), Decimal(item.quantity) - quantity)
                self._move_stock(sku, left)
                self.shipped[order_id][sku] += Decimal(item.quantity) - left
                self.world.counter.add("stock_movement", stream="stock")

    def _return_to_stock(self, memo: Creditmemo) -> None:
        """A credit memo with "Return to Stock" puts back in Magento what its shipment took, as CI
        Office puts the refunded quantities back on its shelf (`credit_note_returns_stock`)."""
        store, source = self.world.sandbox.store, BRANCH_SOURCES["WEB"]
        shipped = self.shipped.get(memo.order_id)
        if not shipped:
            return
        with store.lock:
            for line in memo.items:
                given = min(Decimal(line.qty), shipped.get(line.sku, Decimal(0)))
                item = store.source_items.get(source_item_key(source, line.sku))
                if line.is_child or given <= 0 or item is None:
                    continue
                shipped[line.sku] -= given
                self._move_stock(line.sku, Decimal(item.quantity) + given)
                self.world.counter.add("stock_movement", stream="stock")

    def _move_stock(self, sku: str, quantity: Decimal) -> None:
        store, key = self.world.sandbox.store, source_item_key(BRANCH_SOURCES["WEB"], sku)
        item = store.source_items[key]
        store.source_items[key] = item.model_copy(update={"quantity": quantity, "status": int(quantity > 0)})

    def web_team_edits(self) -> None:
        """The web team edits what it owns (fields owned `on_create` or `never`) on a few products, and
        sets a store-view value (a translated name) on one."""
        rng, store, config = self.rng, self.world.sandbox.store, self.world.configuration
        editable = [f for f in ("name", "description", "price") if config.owns(f) != "always"]
        with store.lock:
            products = sorted(
                (p for p in store.products.values() if not _style_of_any(p.sku, self.planted_styles)),
                key=lambda p: p.sku,
            )
            if not products:
                return
            for product in rng.sample(products, min(len(products), rng.randint(0, 2))):
                fields = [f for f in editable if f != "price" or product.type_id == "simple"]
                if not fields:
                    continue
                attribute = rng.choice(fields)
                value: Any = (
                    Decimal(rng.randint(10, 99)) + Decimal("0.95")
                    if attribute == "price"
                    else f"{attribute.title()} by the web team {rng.randrange(10**4)}"
                )
                product.values[attribute] = value
                self.observed.web_edits[(product.sku, attribute)] = value
                self.world.counter.add("web_edit", stream="prices" if attribute == "price" else "products")
            if rng.random() < 0.3:
                product = rng.choice(products)
                name = f"Ingoa {rng.randrange(10**4)}"
                product.store_values.setdefault(EXTRA_STORE_ID, {})["name"] = name
                self.observed.store_level[(EXTRA_STORE_ID, product.sku, "name")] = name
                self.world.counter.add("store_view_value", stream="products")

    def settle_orders(self) -> None:
        """Invoice orders left open, and refund some invoiced ones (partly or wholly)."""
        rng, sales, store = self.rng, self.world.sandbox.sales, self.world.sandbox.store
        for order_id in self.open_orders:
            self._invoice(store.orders[order_id])
        self.open_orders = []
        invoiced = sorted(
            order_id
            for order_id, order in store.orders.items()
            if order.total_paid > 0 and order.state != "closed" and order_id not in self.planted_orders
        )
        for order_id in rng.sample(invoiced, min(len(invoiced), rng.randint(0, 2))):
            order = store.orders[order_id]
            priced = [
                i for i in order.items if i.parent_item_id is None and i.qty_invoiced - i.qty_refunded > 0
            ]
            if not priced:
                continue
            items = None
            if rng.random() < 0.5:
                item = rng.choice(priced)
                items = {item.item_id: 1}
            try:
                memo = sales.refund(
                    order_id,
                    items,
                    adjustment_positive=rng.choice((0, 0, 2)),
                    created_at=self._stamp("creditmemo"),
                )
            except Exception:  # the sandbox refused (e.g. nothing left to refund): not our concern here
                continue
            if not self._report_total_off(memo):
                self._return_to_stock(memo)

    # ------------------------------------------------------------ the scenario

    def play(
        self, rounds: int, rates: tuple[FaultRates, ...] = (), aims: tuple[tuple[str, str], ...] = ()
    ) -> bool:
        """`rates`: the fault rates of each round in turn (cycled); default one draw for all rounds.
        `aims`: (kind, stream) pairs injected at their first chance during the faulty rounds."""
        world, rng = self.world, self.rng
        drawn = FaultRates(
            sandbox=rng.uniform(0.08, 0.2),
            sql=rng.uniform(0.02, 0.08),
            commit=rng.uniform(0.3, 0.6),
            dynamo=rng.uniform(0.005, 0.03),
        )
        rates = rates or (drawn,)
        plant_round = rng.randrange(rounds)
        world.streams.aims.update(aims)
        self.catalogue = bool(aims)
        for round_no in range(rounds):
            now = rates[round_no % len(rates)]
            world.faults_on(
                sandbox_rate=now.sandbox, sql_rate=now.sql, commit_rate=now.commit, dynamo_rate=now.dynamo
            )
            if round_no:
                self.edit_catalogue(
                    rng.randint(3, 8), ("price", "sale", "sale", "add_variant") if aims else ()
                )
            if round_no == plant_round:
                self.plant_bad_records()
            self.run(Direction.PUSH, faulty=True)
            self.web_team_edits()
            self.make_sales(rng.randint(2, 5), plant=round_no == plant_round)
            self.settle_orders()
            self.run(Direction.PULL, faulty=True)
        world.streams.aims.clear()
        world.collect_sandbox_faults()
        world.faults_off()
        self.settle_orders()
        for _ in range(QUIET_CYCLES):
            push = self.run(Direction.PUSH, faulty=False)
            pull = self.run(Direction.PULL, faulty=False)
            if _push_quiet(push) and _pull_quiet(pull):
                return True
        return False

    def check(self, initial_customers: set[str]) -> Findings:
        world = self.world
        findings = Findings()
        planted = Planted(
            frozenset(self.planted_parked),
            frozenset(self.planted_styles),
            frozenset(self.planted_orders),
            frozenset(self.planted_documents),
        )
        config = world.configuration
        # The last push ran a schedule interval ago: use its day for sales that start or end.
        today = (world.clock.now() - SCHEDULE * 2).date()
        expected = expected_catalogue(world.ci, today, BRANCH_SOURCES, planted.styles, config.safety_stock)
        settings = Settings(dict(config.ownership), tuple(config.store_ids))
        check_catalogue(world.sandbox.store, expected, findings, settings=settings, observed=self.observed)
        check_ledger(world.sandbox.store, world.ci, PAYMENT_MAPPING, planted, initial_customers, findings)
        parked = [(r.stream, r.key, r.reason) for r in world.clean_state().list_parked()]
        check_parked(parked, planted, findings)
        return findings


def _style_of_any(sku: str, styles: set[str]) -> bool:
    return any(sku == code or sku.startswith(f"{code}-") for code in styles)


def _push_quiet(record: RunRecord | None) -> bool:
    return (
        record is not None
        and record.status is RunStatus.SUCCEEDED
        and not any(v for k, v in record.counts.items() if k.endswith(PUSH_WORK_SUFFIXES) or k == "unparked")
    )


def _pull_quiet(record: RunRecord | None) -> bool:
    if record is None or record.status is not RunStatus.SUCCEEDED:
        return False
    counts = record.counts
    return not any(
        counts.get(k, 0) for k in ("imported_total", "unparked_total", "parked_total", "deferred_total")
    )


def run_scenario(
    aws: LocalAws,
    directory: Path,
    index: int,
    seed: int,
    inspect: Callable[[Scenario, set[str]], None] | None = None,
    configuration: Configuration | None = None,
    rounds: int | None = None,
    rates: tuple[FaultRates, ...] = (),
    aims: tuple[tuple[str, str], ...] = (),
) -> ScenarioResult:
    """Play one scenario and check it; `inspect` (tests) sees the scenario before its world closes.
    `configuration`: the tenant's settings (default: the shipped defaults); `rounds`: default 5-8."""
    configuration = configuration or shipped_defaults()
    rng = random.Random(seed)
    skus = rng.randint(20, 40)
    drawn_rounds = rng.randint(5, 8)
    rounds = rounds or drawn_rounds
    with open_world(aws, directory, index, seed, skus, configuration) as world:
        with world.ci.connect() as conn:
            initial_customers = set(conn.scalars(select(s.customers.c.code)))
        scenario = Scenario(world, rng)
        quiet = scenario.play(rounds, rates, aims)
        findings = scenario.check(initial_customers)
        if not quiet:
            findings.details.append("did not go quiet within the fault-free cycles")
        if inspect is not None:
            inspect(scenario, initial_customers)
        return ScenarioResult(
            index=index,
            seed=seed,
            faults=world.counter.snapshot(),
            findings=findings,
            runs=dict(scenario.runs),
            errors=scenario.errors,
            lease_violations=scenario.lease_violations,
            quiet=quiet,
            configuration=configuration.describe(),
            streams=dict(world.streams.matrix),
        )
