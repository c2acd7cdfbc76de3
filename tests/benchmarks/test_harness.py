"""The benchmark harness end to end at a tiny size (`make test` proves `make bench` works), and the
cost model's lower bound on hand-made statistics."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from benchmarks.cost import CostModel, diff_stats, lower_bound_seconds, per_endpoint, ratio
from benchmarks.report import evaluate_targets
from benchmarks.run import parse_args, run

SCENARIOS = ("a", "b", "c", "d", "e", "f", "g", "h")
MAGENTO_SCENARIOS = ("a", "b", "c", "d", "e", "g", "h")
WITH_NAIVE = ("a", "b", "d", "e")


def test_given_requests_and_items_when_bounding_then_store_seconds_are_spread_over_workers() -> None:
    stats = {
        "requests": {"POST /V1/products": 10, "POST /V1/products/base-prices": 2},
        "items": {"POST /V1/products/base-prices": 200},
    }
    cost = CostModel(latency_ms=40, item_ms=8, workers=4)

    # (12 x 40 ms + 200 x 8 ms) / 4 = (480 + 1600) / 4 ms
    assert lower_bound_seconds(stats, cost) == pytest.approx(0.52)
    assert per_endpoint(stats, cost)["POST /V1/products/base-prices"]["lower_bound_seconds"] == pytest.approx(
        0.42
    )
    assert ratio(1.04, 0.52) == pytest.approx(2.0)
    assert ratio(1.0, 0.0) is None


def test_given_two_snapshots_when_diffing_then_only_the_work_between_them_counts() -> None:
    before = {"requests": {"GET /V1/orders": 3}, "items": {}}
    after = {"requests": {"GET /V1/orders": 5, "GET /V1/invoices": 1}, "items": {}}

    assert diff_stats(after, before)["requests"] == {"GET /V1/orders": 2, "GET /V1/invoices": 1}


def test_given_a_nothing_changed_push_over_budget_when_evaluating_then_the_target_is_missed() -> None:
    scenarios: dict[str, Any] = {
        "c": {"wall_seconds": 2.5, "magento": {"requests": 0}, "local_aws": {"seconds": 2.0}},
    }

    evaluate_targets(scenarios, full_sizes=True)

    marks = {t["target"]: t["met"] for t in scenarios["c"]["targets"]}
    assert marks == {"at most 3 Magento requests": True, "under 2 s": False}


@pytest.mark.timeout(120)
def test_given_a_tiny_catalogue_when_the_harness_runs_then_every_scenario_reports_numbers_and_a_bound(
    tmp_path: Path,
) -> None:
    args = parse_args(
        ["--smoke", "--in-process", "--latency-ms", "1", "--item-ms", "0.2", "--results", str(tmp_path)]
    )

    report, path = run(args, log=lambda message: None)

    assert report["errors"] == {}
    saved = json.loads(path.read_text(encoding="utf-8"))
    assert path.parent == tmp_path and path.suffix == ".json"
    assert set(saved["scenarios"]) == set(SCENARIOS)
    for key in MAGENTO_SCENARIOS:
        result = saved["scenarios"][key]
        cost = CostModel(**result["cost_model"])
        assert result["status"] == "succeeded", (key, result.get("error"))
        assert result["wall_seconds"] > 0
        endpoints = result["magento"]["per_endpoint"]
        stats = {
            "requests": {name: int(row["requests"]) for name, row in endpoints.items()},
            "items": {name: int(row["items"]) for name, row in endpoints.items()},
        }
        assert result["magento"]["requests"] == sum(stats["requests"].values())
        assert result["lower_bound_seconds"] == pytest.approx(lower_bound_seconds(stats, cost), abs=1e-3)
        assert all(t["met"] in (True, False, None) for t in result["targets"])
    for key in ("a", "d"):
        assert saved["scenarios"][key]["magento"]["requests"] > 0
        assert saved["scenarios"][key]["lower_bound_seconds"] > 0
    assert saved["scenarios"]["g"]["magento"]["requests"] > 0  # its store has no cost model: bound 0
    for key in WITH_NAIVE:
        naive = saved["scenarios"][key]["naive"]
        assert naive["wall_seconds"] > 0 and naive["requests_in_sample"] > 0
        assert naive["errors_in_sample"] == 0, naive["error_examples"]
    assert saved["scenarios"]["f"]["skus_per_second"] > 0
    adopt = saved["scenarios"]["h"]
    # Products, not SKUs: configurable parents count too, on both sides.
    assert adopt["counts"]["products_adopted"] > 0 and adopt["counts"]["products_created"] > 0
    assert 0 < adopt["store_held_skus"] < adopt["catalogue_skus"]
    assert saved["scenarios"]["g"]["peak_rss_mb"] > 0
    assert [row["skus"] for row in saved["scaling"]] == [50]
    assert (tmp_path / "push-scaling.png").stat().st_size > 0
    assert saved["table"]
