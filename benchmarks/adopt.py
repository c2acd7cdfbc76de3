"""Scenario (h): the first push of a tenant whose store already holds half the catalogue.

The store is made beforehand, at no cost and unmeasured: a push by another tenant while every other
Internet-Active style is switched off, saved to a state file. Then every style is on again and a new
tenant (no bindings) pushes against the store loaded from that file, under the cost model: it reads
what the store holds (batched SKU searches, fields limited), binds half and creates half. Reported as
the other scenarios: requests and items per endpoint, the cost model's bound, our ratio to it.
"""

from __future__ import annotations

from typing import Any

from benchmarks.cost import ZERO_COST
from benchmarks.env import active_skus_by_style, make_ci_office
from benchmarks.stores import InProcessSandbox
from sandbox.ci_office import demo_data

Result = dict[str, Any]


def adopt_scenario(bench: Any) -> Result:
    """(h) adopt a store that already holds half the SKUs (`bench`: scenarios.Bench)."""
    sizes = bench.sizes
    ci = make_ci_office(bench.workdir / "adopt", sizes.push_skus, seed=13)
    state_file = bench.workdir / "adopt-store.json"
    engine = ci.engine()
    try:
        by_style = active_skus_by_style(engine)
        hidden = sorted(by_style)[1::2]
        held = sum(len(skus) for code, skus in by_style.items() if code not in hidden)
        total = sum(len(skus) for skus in by_style.values())
        bench.log(f"(h) filling a store with {held} of {total} SKUs (unmeasured) ...")
        for code in hidden:
            demo_data.set_internet_active(engine, code, False)
        with InProcessSandbox(ZERO_COST) as seeding:
            tenant = bench.tenant("seed")
            bench.register(tenant, seeding, ci)
            seeded = bench.sync_run(tenant, "push", seeding, cost=ZERO_COST)
            if seeded["status"] != "succeeded":
                raise RuntimeError(f"seeding the store ended {seeded['status']}: {seeded.get('error')}")
            seeding.sandbox.store.save(state_file)
        for code in hidden:
            demo_data.set_internet_active(engine, code, True)
    finally:
        engine.dispose()
    with bench.store(state_file=state_file) as store:
        tenant = bench.tenant("adopt")
        bench.register(tenant, store, ci)
        bench.log(f"(h) first push of {total} SKUs to a store holding {held} of them ...")
        result: Result = bench.sync_run(tenant, "push", store)
    result["store_held_skus"] = held
    result["catalogue_skus"] = total
    counts = result.get("counts", {})
    bench.log(
        f"(h) {result['wall_seconds']:.1f}s, {result['magento']['requests']} requests, "
        f"adopted {counts.get('products_adopted', 0)}, created {counts.get('products_created', 0)}, "
        f"ratio to bound {result.get('ratio_to_lower_bound')}"
    )
    return result
