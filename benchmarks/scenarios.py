"""The benchmark scenarios (a)-(g) and the push-scaling series, each returning a plain-dict result.

Every Magento-facing scenario reports the wall time, the store's requests and items per endpoint (as
the sandbox counted them), the cost model's lower bound for that work and our ratio to it.
"""

from __future__ import annotations

import random
import shutil
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

from kudos_sync.ci_office import schema as s
from kudos_sync.config import TenantConfig
from sqlalchemy import select

from benchmarks.cost import (
    ZERO_COST,
    CostModel,
    MagentoStats,
    lower_bound_seconds,
    per_endpoint,
    ratio,
    totals,
)
from benchmarks.cpu import measure_cpu
from benchmarks.env import (
    BRANCH_SOURCES,
    Changes,
    CiOffice,
    SyncSettings,
    active_sku_count,
    change_every_price,
    change_one_percent,
    make_ci_office,
    measure_sync,
    tenant_payload,
)
from benchmarks.naive import NaiveConnector, NaiveTiming
from benchmarks.stores import BenchStore, InProcessSandbox, open_store
from sandbox.aws import LocalAws
from sandbox.magento.testing import SandboxClient, simple_product

Result = dict[str, Any]


@dataclass(frozen=True)
class Sizes:
    push_skus: int  # (a)-(d)
    scaling: tuple[int, ...]  # push-scaling chart; the largest is (a) itself
    invoices: int  # (e)
    creditmemos: int
    cpu_skus: int  # (f)
    memory_skus: int  # (g)
    naive_sample: int  # naive operations timed before scaling


FULL = Sizes(20_000, (1_000, 5_000, 20_000), 1_000, 100, 50_000, 50_000, 500)
QUICK = Sizes(500, (100, 200, 500), 100, 10, 5_000, 1_000, 40)
SMOKE = Sizes(50, (50,), 10, 2, 50, 50, 10)


@dataclass
class Bench:
    """Everything the scenarios share: local AWS, a work directory, the cost model and the options."""

    aws: LocalAws
    workdir: Path
    cost: CostModel
    sync: SyncSettings
    sizes: Sizes
    subprocess_store: bool = True
    subprocess_worker: bool = True
    naive: bool = True  # False only for development runs of our side (naive targets are then n/a)
    log: Callable[[str], None] = print
    _tenants: int = 0

    def tenant(self, label: str) -> str:
        self._tenants += 1
        return f"bench-{label}-{self._tenants}"[:32].rstrip("-")

    def register(self, tenant: str, store: BenchStore, ci: CiOffice) -> None:
        self.aws.put_tenant_secret(tenant, tenant_payload(store, ci.url, self.sync))

    @contextmanager
    def store(self, cost: CostModel | None = None, state_file: Path | None = None) -> Iterator[BenchStore]:
        store = open_store(cost or self.cost, subprocess_store=self.subprocess_store, state_file=state_file)
        try:
            yield store
        finally:
            store.close()

    def sync_run(
        self, tenant: str, direction: str, store: BenchStore, cost: CostModel | None = None
    ) -> Result:
        """One measured push or pull, with the store's statistics for exactly that run."""
        store.reset_stats()
        cpu_before = store.cpu_seconds()
        run = measure_sync(tenant, direction, subprocess_worker=self.subprocess_worker)
        cpu_after = store.cpu_seconds()
        stats = store.stats()
        result = magento_result(run, stats, cost or self.cost)
        # The sandbox's own CPU is outside the cost model; it serves requests under one lock, so when
        # it approaches the wall time the store's implementation, not the model, set the pace.
        result["store_cpu_seconds"] = (
            round(cpu_after - cpu_before, 2) if cpu_before is not None and cpu_after is not None else None
        )
        return result


def magento_result(run: Result, stats: MagentoStats, cost: CostModel) -> Result:
    requests, items = totals(stats)
    bound = lower_bound_seconds(stats, cost)
    wall = float(run["wall_seconds"])
    share = ratio(wall, bound)
    aws_seconds = float(run.get("aws_seconds") or 0.0)
    # moto is not DynamoDB or S3: show the ratio with its time taken out too (never instead).
    share_without_aws = ratio(max(0.0, wall - aws_seconds), bound)
    return {
        "wall_seconds": wall,
        "status": run["status"],
        "error": run.get("error"),
        "counts": {k: v for k, v in run.get("counts", {}).items() if v},
        "magento": {
            "requests": requests,
            "items": items,
            "per_endpoint": per_endpoint(stats, cost),
            "faults": stats.get("faults", {}),
        },
        "cost_model": cost.as_dict(),
        "lower_bound_seconds": round(bound, 3),
        "ratio_to_lower_bound": round(share, 3) if share is not None else None,
        "ratio_without_local_aws": round(share_without_aws, 3) if share_without_aws is not None else None,
        "cpu_seconds": run.get("cpu_seconds"),
        "local_aws": {"calls": run.get("aws_calls"), "seconds": run.get("aws_seconds")},
        "seconds_by_step": run.get("seconds_by_step", {}),
        "peak_rss_mb": run.get("peak_rss_mb"),
        "rss_baseline_mb": run.get("rss_baseline_mb"),
        "process": run.get("process"),
    }


# ---------------------------------------------------------------- (a)-(d) and the scaling series


def push_scenarios(bench: Bench) -> tuple[dict[str, Result], list[Result]]:
    """(a) first push, (b) 1% changed, (c) nothing changed, (d) every price changed; then first pushes
    of the smaller catalogue sizes for the chart."""
    sizes = bench.sizes
    results: dict[str, Result] = {}
    ci = make_ci_office(bench.workdir, sizes.push_skus)
    summary = ci.summary
    bench.log(
        f"CI Office: {summary.skus} SKUs, {summary.internet_active_styles} Internet-Active styles "
        f"of {summary.styles}, {summary.stock_rows} stock rows, {summary.images} images"
    )
    active = active_sku_count(ci)
    catalogue = {
        "skus": summary.skus,
        "internet_active_skus": active,
        "styles": summary.styles,
        "internet_active_styles": summary.internet_active_styles,
        "stock_rows": summary.stock_rows,
        "images": summary.images,
    }
    naive_rate: float | None = None
    engine = ci.engine()
    try:
        with bench.store() as store:
            tenant = bench.tenant("push")
            bench.register(tenant, store, ci)

            bench.log(f"(a) first push of {summary.skus} SKUs ...")
            a = bench.sync_run(tenant, "push", store)
            a.update(catalogue=catalogue)
            results["a"] = a
            bench.log(_line("a", a))

            bench.log("(b) push after 1% of SKUs changed price or stock ...")
            changes = change_one_percent(engine)
            b = bench.sync_run(tenant, "push", store)
            b["changed"] = {"price_skus": len(changes.price_skus), "stock_rows": len(changes.stock_rows)}
            results["b"] = b
            bench.log(_line("b", b))

            bench.log("(c) push with nothing changed ...")
            c = bench.sync_run(tenant, "push", store)
            results["c"] = c
            bench.log(_line("c", c))

            bench.log(f"(d) price change on all {summary.skus} SKUs ...")
            every = change_every_price(engine)
            d = bench.sync_run(tenant, "push", store)
            d["changed"] = {"price_skus": len(every.price_skus)}
            results["d"] = d
            bench.log(_line("d", d))

        # The naive connector, on a store of its own with the same cost model.
        if bench.naive:
            with bench.store() as naive_store:
                naive = NaiveConnector(naive_store)
                try:
                    bench.log(
                        f"(a) naive: first push, timing {min(sizes.naive_sample, summary.skus)} SKUs ..."
                    )
                    # Scaled to the Internet-Active SKUs: the only ones either connector sends.
                    timing = naive.first_push(engine, BRANCH_SOURCES, sizes.naive_sample, active)
                    naive_rate = timing.sample_seconds / max(1, timing.sample_units)
                    _attach_naive(results["a"], timing, bench.cost)
                    bench.log(_naive_line("a", timing))

                    bench.log("(b) naive: one request per changed price and stock item ...")
                    prices, stock = _naive_changes(engine, changes)
                    timing = naive.updates(prices, stock)
                    _attach_naive(results["b"], timing, bench.cost)
                    bench.log(_naive_line("b", timing))

                    sample = _sample(list(every.price_skus), sizes.naive_sample)
                    bench.log(f"(d) naive: one base-price request per SKU, timing {len(sample)} ...")
                    price_of = _prices(engine, sample)
                    timing = naive.price_updates(
                        [(sku, price_of[sku]) for sku in sample if sku in price_of], len(every.price_skus)
                    )
                    _attach_naive(results["d"], timing, bench.cost)
                    bench.log(_naive_line("d", timing))
                finally:
                    naive.close()
    finally:
        engine.dispose()

    scaling = [
        {
            "skus": summary.skus,
            "ours_seconds": results["a"]["wall_seconds"],
            "naive_seconds": results["a"].get("naive", {}).get("wall_seconds"),
            "lower_bound_seconds": results["a"]["lower_bound_seconds"],
        }
    ]
    for size in sorted(set(sizes.scaling) - {sizes.push_skus}):
        bench.log(f"scaling: first push of {size} SKUs ...")
        small = make_ci_office(bench.workdir, size)
        with bench.store() as store:
            tenant = bench.tenant(f"scale{size}")
            bench.register(tenant, store, small)
            run = bench.sync_run(tenant, "push", store)
        scaling.append(
            {
                "skus": small.summary.skus,
                "ours_seconds": run["wall_seconds"],
                "naive_seconds": round(naive_rate * active_sku_count(small), 3)
                if naive_rate is not None
                else None,
                "naive_scaled_from": "the per-SKU time of (a)'s naive sample",
                "lower_bound_seconds": run["lower_bound_seconds"],
                "ratio_to_lower_bound": run["ratio_to_lower_bound"],
                "magento_requests": run["magento"]["requests"],
                "status": run["status"],
            }
        )
        bench.log(
            f"  {size} SKUs: {run['wall_seconds']:.1f}s (lower bound {run['lower_bound_seconds']:.1f}s)"
        )
    scaling.sort(key=lambda row: int(row["skus"]))
    return results, scaling


def _attach_naive(result: Result, timing: NaiveTiming, cost: CostModel) -> None:
    result["naive"] = timing.as_dict()
    result["naive"]["sample_lower_bound_seconds"] = round(lower_bound_seconds(timing.stats, cost), 3)
    ours = float(result["wall_seconds"])
    result["speedup_vs_naive"] = round(timing.seconds / ours, 2) if ours > 0 else None


def _sample(values: list[str], size: int) -> list[str]:
    if len(values) <= size:
        return values
    return sorted(random.Random(5).sample(values, size))


def _prices(engine: Any, skus: list[str]) -> dict[str, Decimal]:
    st, sk = s.styles, s.skus
    wanted = set(skus)
    out: dict[str, Decimal] = {}
    query = select(sk.c.sku, st.c.retail_price).join(st, st.c.code == sk.c.style_code)
    with engine.connect() as conn:
        for sku, price in conn.execute(query):
            if sku in wanted and price is not None:
                out[str(sku)] = Decimal(price)
    return out


def _naive_changes(
    engine: Any, changes: Changes
) -> tuple[list[tuple[str, Decimal]], list[tuple[str, str, Decimal]]]:
    price_of = _prices(engine, list(changes.price_skus))
    prices = [(sku, price_of[sku]) for sku in changes.price_skus if sku in price_of]
    soh = s.stock_on_hand
    stock: list[tuple[str, str, Decimal]] = []
    with engine.connect() as conn:
        for sku, branch in changes.stock_rows:
            quantity = conn.execute(
                select(soh.c.quantity).where(soh.c.sku == sku, soh.c.branch_code == branch)
            ).scalar_one_or_none()
            stock.append((sku, BRANCH_SOURCES[branch], Decimal(quantity or 0)))
    return prices, stock


# ---------------------------------------------------------------- (e) pull


def pull_scenario(bench: Bench) -> Result:
    """(e) a pull of N invoices and M credit memos, then the naive connector on the same documents."""
    sizes = bench.sizes
    ci = make_ci_office(bench.workdir / "pull", max(200, sizes.invoices // 5), seed=9)
    state_file = bench.workdir / "pull-store.json"
    bench.log(f"(e) placing {sizes.invoices} invoiced orders and {sizes.creditmemos} refunds ...")
    _seed_sales(ci, state_file, sizes.invoices, sizes.creditmemos)
    with bench.store(state_file=state_file) as store:
        tenant = bench.tenant("pull")
        bench.register(tenant, store, ci)
        bench.log(f"(e) pull of {sizes.invoices} invoices and {sizes.creditmemos} credit memos ...")
        result = bench.sync_run(tenant, "pull", store)
        page_size = bench.sync.page_size
        pages = _pages(sizes.invoices, page_size) + _pages(sizes.creditmemos, page_size)
        result["documents"] = {
            "invoices": sizes.invoices,
            "creditmemos": sizes.creditmemos,
            "page_size": page_size,
        }
        result["pages"] = pages
        bench.log(_line("e", result))
        if not bench.naive:
            return result
        naive = NaiveConnector(store)
        try:
            documents = sizes.invoices + sizes.creditmemos
            sample = min(documents, max(sizes.naive_sample, 1))
            bench.log(f"(e) naive: page of documents + one order request per document, timing {sample} ...")
            timing = naive.pull(sample, documents, page_size)
            _attach_naive(result, timing, bench.cost)
            bench.log(_naive_line("e", timing))
        finally:
            naive.close()
    return result


def _pages(documents: int, page_size: int) -> int:
    return max(1, -(-documents // page_size))


def _seed_sales(ci: CiOffice, state_file: Path, invoices: int, creditmemos: int) -> None:
    """A store holding ``invoices`` invoiced orders of CI Office SKUs, ``creditmemos`` of them refunded,
    saved to ``state_file`` for the measured store to load."""
    engine = ci.engine()
    try:
        st, sk = s.styles, s.skus
        query = (
            select(sk.c.sku, st.c.description, st.c.retail_price)
            .join(st, st.c.code == sk.c.style_code)
            .where(st.c.retail_price.is_not(None))
            .order_by(sk.c.sku)
            .limit(40)
        )
        with engine.connect() as conn:
            products = [(str(r[0]), str(r[1]), Decimal(r[2])) for r in conn.execute(query)]
    finally:
        engine.dispose()
    rng = random.Random(3)
    with InProcessSandbox(ZERO_COST) as seeding:
        client = SandboxClient(seeding.base_url, seeding.oauth)
        try:
            for sku, name, price in products:
                client.post(
                    "/V1/products",
                    json={"product": simple_product(sku, name, str(price), url_key=sku.lower())},
                )
        finally:
            client.close()
        sales = seeding.sandbox.sales
        emails = [f"shopper{n}@example.co.nz" for n in range(max(5, invoices // 10))]
        orders: list[int] = []
        for _ in range(invoices):
            lines = [(sku, rng.randint(1, 2)) for sku, _, _ in rng.sample(products, rng.randint(1, 3))]
            order = sales.place_order(lines, rng.choice(emails), payment_method="checkmo")
            sales.invoice(order.entity_id)
            orders.append(order.entity_id)
        for order_id in orders[:creditmemos]:
            sales.refund(order_id)
        seeding.sandbox.store.save(state_file)
    shutil.copyfile(state_file, state_file.with_suffix(".seeded.json"))


# ---------------------------------------------------------------- (f) CPU and (g) memory


def cpu_scenario(bench: Bench) -> Result:
    ci = make_ci_office(bench.workdir / "cpu", bench.sizes.cpu_skus)
    bench.log(f"(f) read + map + fingerprint of {ci.summary.skus} SKUs (no Magento) ...")
    config = TenantConfig.from_secret(
        "bench-cpu",
        {
            "magento": {
                "base_url": "http://127.0.0.1:9",
                "auth": {"kind": "bearer", "token": "unused"},
            },
            "ci_office": {"url": ci.url, "encrypt": False},
            "branch_sources": dict(BRANCH_SOURCES),
            "sync": bench.sync.as_dict(),
        },
    )
    engine = ci.engine()
    try:
        result = measure_cpu(engine, config, ci.summary.skus, repeats=2)
    finally:
        engine.dispose()
    bench.log(f"  (f) {result['skus_per_second']} SKUs/s (plan {result['plan_seconds']}s)")
    return result


def memory_scenario(bench: Bench) -> Result:
    """(g) peak RSS of a first push of N SKUs, in a worker process of its own, against a store with no
    latency (memory does not depend on the store's speed, and this keeps the run short)."""
    ci = make_ci_office(bench.workdir / "memory", bench.sizes.memory_skus)
    bench.log(f"(g) first push of {ci.summary.skus} SKUs in a process of its own, store without latency ...")
    with bench.store(cost=ZERO_COST) as store:
        tenant = bench.tenant("memory")
        bench.register(tenant, store, ci)
        started = time.perf_counter()
        result = bench.sync_run(tenant, "push", store, cost=ZERO_COST)
        result["elapsed_with_worker_start_seconds"] = round(time.perf_counter() - started, 3)
    result["skus"] = ci.summary.skus
    result["method"] = (
        "peak RSS (VmHWM of /proc/self/status) of a worker process that runs only the push"
        if result.get("process") == "subprocess"
        else "peak RSS of the benchmark process itself: inline run, not a clean measurement"
    )
    bench.log(f"  (g) peak RSS {result['peak_rss_mb']} MB after {result['wall_seconds']:.1f}s")
    return result


# ---------------------------------------------------------------- log lines


def _line(name: str, result: Result) -> str:
    bound = result["lower_bound_seconds"]
    share = result["ratio_to_lower_bound"]
    return (
        f"  ({name}) {result['status']}: {result['wall_seconds']:.1f}s, "
        f"{result['magento']['requests']} requests, "
        f"lower bound {bound:.1f}s"
        + (f", ratio {share:.2f}" if share is not None else "")
        + (f" [error: {result['error']}]" if result.get("error") else "")
    )


def _naive_line(name: str, timing: NaiveTiming) -> str:
    scaled = (
        f" (scaled from {timing.sample_units} {timing.units} in {timing.sample_seconds:.1f}s)"
        if timing.scaled
        else ""
    )
    errors = f", {timing.errors} errors" if timing.errors else ""
    return f"  ({name}) naive: {timing.seconds:.1f}s{scaled}, {timing.requests} requests{errors}"
