"""DriftFound: a push run's drift reaches CloudWatch in total (what the alarm watches) and per kind."""

import json
from datetime import UTC, datetime

import pytest
from aws_lambda_powertools import Metrics
from kudos_sync.domain.ids import RunId, TenantId
from kudos_sync.domain.state import Direction, RunRecord, RunStatus
from kudos_sync.handler import record_drift


def a_run(direction: Direction, counts: dict[str, int]) -> RunRecord:
    at = datetime(2026, 11, 1, 9, 0, tzinfo=UTC)
    return RunRecord(
        tenant=TenantId("acme"),
        direction=direction,
        run_id=RunId("r1"),
        started_at=at,
        finished_at=at,
        status=RunStatus.SUCCEEDED,
        counts=counts,
    )


def emitted(capsys: pytest.CaptureFixture[str], metrics: Metrics) -> list[dict[str, object]]:
    metrics.flush_metrics()
    metrics.clear_default_dimensions()  # Powertools keeps them per process, across instances
    return [json.loads(line) for line in capsys.readouterr().out.splitlines() if line.startswith("{")]


def value(found: object) -> object:
    """An EMF value: one number, or the list a single-metric document carries."""
    return found[0] if isinstance(found, list) and len(found) == 1 else found


def test_given_drift_of_two_kinds_then_the_total_and_each_kind_found_are_emitted(
    capsys: pytest.CaptureFixture[str],
) -> None:
    metrics = Metrics(namespace="KudosSync", service="kudos-sync")
    metrics.set_default_dimensions(tenant="acme", direction="push")
    counts = {"drift_scanned": 40, "drift_stock": 3, "drift_prices": 1, "drift_status": 0, "stock_sent": 3}

    record_drift(metrics, a_run(Direction.PUSH, counts))
    documents = emitted(capsys, metrics)

    per_kind = {d["kind"]: value(d["DriftFound"]) for d in documents if "kind" in d}
    total = [value(d["DriftFound"]) for d in documents if "kind" not in d and "DriftFound" in d]
    assert per_kind == {"stock": 3.0, "prices": 1.0} and total == [4.0]
    assert all(d["tenant"] == "acme" and d["service"] == "kudos-sync" for d in documents)


def test_given_a_pull_run_or_a_push_without_reconcile_then_no_drift_metric(
    capsys: pytest.CaptureFixture[str],
) -> None:
    metrics = Metrics(namespace="KudosSync", service="kudos-sync")
    metrics.set_default_dimensions(tenant="acme", direction="pull")

    record_drift(metrics, a_run(Direction.PULL, {"drift_stock": 2}))
    record_drift(metrics, a_run(Direction.PUSH, {"stock_sent": 2}))

    assert not any("DriftFound" in d for d in emitted(capsys, metrics))
