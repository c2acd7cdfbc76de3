"""Benchmarks (i) and (j): knowing what the store holds, at a real store's pace.

(i)  A drift scan of the catalogue with nothing drifted: Magento requests per 1,000 SKUs per kind
     (stock, base prices, special prices, and the product search shared by status, categories and
     links), and the ratio to the bound of one request per `batch_size` SKUs per kind.
(j)  A first push against a store that takes `--request-ms` per request with `--workers` workers, run
     as the schedule runs it: invocations of at most `--invocation-seconds`, each ending `partial` and
     resumed by the next, until one succeeds. Reports the invocations, the total time to a complete
     catalogue, and that nothing was sent twice across invocations (every product saved once, every
     price and stock row sent once). Real numbers are 1 s per request against 900-s invocations; the
     default compressed clock (100 ms against 90 s, the deadline margin scaled the same way) keeps the
     same ratios and runs in minutes.

    python -m benchmarks.drift --skus 1000                # both, small
    python -m benchmarks.drift --skus 20000 --scenarios j # the documented size (long: not in make bench)
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from kudos_sync.aws.clients import aws_clients
from kudos_sync.service import Stack, drift_tenant
from kudos_sync.sync.push.drift import DRIFT_KINDS

from benchmarks.cost import CostModel, lower_bound_seconds, ratio, totals
from benchmarks.env import CiOffice, SyncSettings, make_ci_office, measure_sync, tenant_payload
from benchmarks.stores import BenchStore, open_store
from sandbox.aws import LocalAws
from sandbox.magento.testing import SandboxClient

# The read endpoint of each read unit (the product search serves status, categories and links).
READS = {
    "stock": "GET /V1/inventory/source-items",
    "prices": "POST /V1/products/base-prices-information",
    "special-prices": "POST /V1/products/special-price-information",
    "products": "GET /V1/products",
}
# Endpoints whose every array item is one row sent (to prove none was sent twice).
ROW_WRITES = {
    "source items": "POST /V1/inventory/source-items",
    "base prices": "POST /V1/products/base-prices",
    "special prices": "POST /V1/products/special-price",
}
PRODUCT_SAVE = "POST /V1/products"


def _register(
    aws: LocalAws, tenant: str, store: BenchStore, ci: CiOffice, settings: SyncSettings, **extra: Any
) -> None:
    aws.put_tenant_secret(tenant, {**tenant_payload(store, ci.url, settings), **extra})


def drift_scan(
    aws: LocalAws, workdir: Path, skus: int, cost: CostModel, sync: SyncSettings
) -> dict[str, Any]:
    """(i): a first push (not measured), then one full drift scan of every kind, measured."""
    ci = make_ci_office(workdir, skus)
    with open_store(cost, subprocess_store=True) as store:
        tenant = "bench-drift-i"
        _register(aws, tenant, store, ci, sync)
        first = measure_sync(tenant, "push", subprocess_worker=True)
        store.reset_stats()
        started = time.perf_counter()
        report = drift_tenant(tenant, list(DRIFT_KINDS), stack=Stack(clients=aws_clients()))
        wall = time.perf_counter() - started
        stats = store.stats()
    requests = stats.get("requests", {})
    per_kind: dict[str, Any] = {}
    for unit, endpoint in READS.items():
        scanned = report.scanned.get(unit, 0)
        sent = requests.get(endpoint, 0)
        bound = math.ceil(scanned / sync.batch_size) if scanned else 0
        per_kind[unit] = {
            "skus": scanned,
            "requests": sent,
            "requests_per_1000_skus": round(sent * 1000 / scanned, 2) if scanned else None,
            "bound_requests": bound,
            "ratio_to_bound": round(sent / bound, 3) if bound else None,
        }
    bound_seconds = lower_bound_seconds(stats, cost)
    share = ratio(wall, bound_seconds)
    return {
        "skus": ci.summary.skus,
        "first_push_status": first["status"],
        "drift_found": sum(report.counts.values()),
        "requests": totals(stats)[0],
        "other_requests": {e: n for e, n in requests.items() if e not in READS.values()},
        "per_kind": per_kind,
        "wall_seconds": round(wall, 3),
        "lower_bound_seconds": round(bound_seconds, 3),
        "ratio_to_lower_bound": round(share, 3) if share is not None else None,
    }


def scheduled_first_push(
    aws: LocalAws,
    workdir: Path,
    skus: int,
    cost: CostModel,
    sync: SyncSettings,
    invocation: float,
    margin: int,
) -> dict[str, Any]:
    """(j): a first push as the schedule runs it: invocations of at most `invocation` seconds."""
    ci = make_ci_office(workdir, skus)
    invocations: list[dict[str, Any]] = []
    sent: dict[str, int] = {}
    with open_store(cost, subprocess_store=True) as store:
        tenant = "bench-drift-j"
        sync_settings = {**sync.as_dict(), "overlap_minutes": 10, "deadline_margin_seconds": margin}
        _register(aws, tenant, store, ci, sync, sync=sync_settings)
        started = time.perf_counter()
        for _ in range(200):  # a bound on a broken run, far above any real count
            store.reset_stats()
            run = measure_sync(tenant, "push", subprocess_worker=True, budget=invocation)
            stats = store.stats()
            for endpoint, count in stats.get("items", {}).items():
                sent[endpoint] = sent.get(endpoint, 0) + count
            for endpoint, count in stats.get("requests", {}).items():
                if endpoint == PRODUCT_SAVE:
                    sent[PRODUCT_SAVE + " (requests)"] = sent.get(PRODUCT_SAVE + " (requests)", 0) + count
            invocations.append(
                {
                    "status": run["status"],
                    "wall_seconds": run["wall_seconds"],
                    "requests": totals(stats)[0],
                    "seconds_by_step": run.get("seconds_by_step", {}),
                }
            )
            if run["status"] != "partial":
                break
        total = time.perf_counter() - started
        held = _held(store)
    saved = sent.get(PRODUCT_SAVE + " (requests)", 0)
    rows = {
        name: {"sent": sent.get(endpoint, 0), "held": held[name]} for name, endpoint in ROW_WRITES.items()
    }
    return {
        "skus": ci.summary.skus,
        "cost_model": cost.as_dict(),
        "invocation_seconds": invocation,
        "deadline_margin_seconds": margin,
        "invocations": len(invocations),
        "statuses": [i["status"] for i in invocations],
        "per_invocation": invocations,
        "longest_invocation_seconds": max(i["wall_seconds"] for i in invocations),
        # Past the cap a real Lambda is killed mid-wave (the next run reconciles what it wrote ahead).
        "invocations_over_cap": sum(1 for i in invocations if i["wall_seconds"] > invocation),
        "total_seconds": round(total, 1),
        "complete": invocations[-1]["status"] == "succeeded",
        "products": {"saves": saved, "held": held["products"]},
        "rows": rows,
        "nothing_sent_twice": saved == held["products"]
        and all(r["sent"] == r["held"] for r in rows.values()),
    }


def _held(store: BenchStore) -> dict[str, int]:
    """What the store holds now, counted by its own search endpoints (not by our bindings)."""
    client = SandboxClient(store.base_url, store.oauth)
    page = {"searchCriteria[pageSize]": "1", "searchCriteria[currentPage]": "1"}
    products = int(client.get("/V1/products", params=page).json()["total_count"])
    source_items = int(client.get("/V1/inventory/source-items", params=page).json()["total_count"])
    skus = [
        p["sku"]
        for p in client.get(
            "/V1/products", params={"searchCriteria[pageSize]": "100000", "fields": "items[sku,type_id]"}
        ).json()["items"]
        if p["type_id"] == "simple"
    ]
    base = special = 0
    for start in range(0, len(skus), 500):
        chunk = skus[start : start + 500]
        base += len(client.post("/V1/products/base-prices-information", json={"skus": chunk}).json())
        special += len(client.post("/V1/products/special-price-information", json={"skus": chunk}).json())
    return {
        "products": products,
        "source items": source_items,
        "base prices": base,
        "special prices": special,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.drift", description=__doc__)
    parser.add_argument("--skus", type=int, default=20_000)
    parser.add_argument("--scenarios", default="ij")
    parser.add_argument("--latency-ms", type=float, default=40.0, help="(i): store cost per request")
    parser.add_argument("--item-ms", type=float, default=8.0, help="(i): store cost per array item")
    parser.add_argument("--request-ms", type=float, default=100.0, help="(j): store cost per request")
    parser.add_argument("--invocation-seconds", type=float, default=90.0, help="(j): one invocation's limit")
    parser.add_argument("--margin-seconds", type=int, default=6, help="(j): deadline margin (min 5)")
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--batch-size", type=int, default=100)
    parser.add_argument("--results", type=Path, default=None, help="write the JSON here too")
    args = parser.parse_args(argv)
    sync = SyncSettings(batch_size=args.batch_size, page_size=100, concurrency=args.workers + 1)
    result: dict[str, Any] = {"started_at": datetime.now(UTC).isoformat(), "skus": args.skus}
    with tempfile.TemporaryDirectory(prefix="kudos-drift-bench-") as tmp, LocalAws() as aws:
        workdir = Path(tmp)
        if "i" in args.scenarios:
            cost = CostModel(latency_ms=args.latency_ms, item_ms=args.item_ms, workers=args.workers)
            result["i"] = drift_scan(aws, workdir / "i", args.skus, cost, sync)
            print(json.dumps({"i": result["i"]}, indent=2), flush=True)
        if "j" in args.scenarios:
            cost = CostModel(latency_ms=args.request_ms, item_ms=0.0, workers=args.workers)
            result["j"] = scheduled_first_push(
                aws, workdir / "j", args.skus, cost, sync, args.invocation_seconds, args.margin_seconds
            )
            print(json.dumps({"j": result["j"]}, indent=2), flush=True)
    if args.results is not None:
        args.results.mkdir(parents=True, exist_ok=True)
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
        (args.results / f"drift-{stamp}.json").write_text(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
