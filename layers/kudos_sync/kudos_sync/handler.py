"""What both Lambda handlers share: validate the event, scope logs and metrics by tenant, run.

Metrics (EMF, namespace KudosSync, dimensions tenant and direction) feed the stack's alarms:
RunFailed, RunSucceeded (the stale alarm breaches when it goes missing), RecordsParked, RunSeconds,
DriftFound (a push's reconcile: in total, and per drift kind with a further `kind` dimension).
"""

from collections.abc import Callable
from typing import Any

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.logging.utils import copy_config_to_registered_loggers
from aws_lambda_powertools.metrics import MetricUnit, single_metric
from pydantic import BaseModel, ConfigDict, ValidationError

from kudos_sync.clock import LambdaDeadline
from kudos_sync.domain.errors import ConfigurationError
from kudos_sync.domain.ids import TenantId
from kudos_sync.domain.state import Direction, RunRecord, RunStatus
from kudos_sync.service import run_tenant


class SyncEvent(BaseModel):
    """The EventBridge rule's input: {"tenant": "<id>"}."""

    model_config = ConfigDict(extra="ignore")

    tenant: TenantId


def record_metrics(metrics: Metrics, record: RunRecord) -> None:
    metrics.add_metric(
        name="RunSucceeded", unit=MetricUnit.Count, value=int(record.status is RunStatus.SUCCEEDED)
    )
    metrics.add_metric(
        name="RunPartial", unit=MetricUnit.Count, value=int(record.status is RunStatus.PARTIAL)
    )
    metrics.add_metric(name="RunFailed", unit=MetricUnit.Count, value=int(record.status is RunStatus.FAILED))
    metrics.add_metric(name="RecordsParked", unit=MetricUnit.Count, value=record.counts.get("parked_now", 0))
    if "lag_seconds" in record.counts:
        metrics.add_metric(name="LagSeconds", unit=MetricUnit.Seconds, value=record.counts["lag_seconds"])
    if record.finished_at:
        seconds = (record.finished_at - record.started_at).total_seconds()
        metrics.add_metric(name="RunSeconds", unit=MetricUnit.Seconds, value=seconds)
    record_drift(metrics, record)


DRIFT_PREFIX = "drift_"  # PushCounts.drift_<kind>, beside drift_scanned


def record_drift(metrics: Metrics, record: RunRecord) -> None:
    """DriftFound of a push run: the total under the run's dimensions (the alarm's), and each kind
    found under a further `kind` dimension (its own EMF document, so the total is not split)."""
    if record.direction is not Direction.PUSH:
        return
    found = {
        name.removeprefix(DRIFT_PREFIX): count
        for name, count in record.counts.items()
        if name.startswith(DRIFT_PREFIX) and name != "drift_scanned"
    }
    if not found:
        return
    metrics.add_metric(name="DriftFound", unit=MetricUnit.Count, value=sum(found.values()))
    # The total's dimensions (service, tenant, direction) and the kind.
    dimensions = {"service": str(metrics.service), **metrics.default_dimensions, "kind": ""}
    for kind, count in found.items():
        if count:
            dimensions["kind"] = kind
            with single_metric(
                name="DriftFound",
                unit=MetricUnit.Count,
                value=count,
                namespace=metrics.namespace,
                default_dimensions=dimensions,
            ):
                pass


def handle(
    event: dict[str, Any], context: Any, direction: Direction, logger: Logger, metrics: Metrics
) -> dict[str, Any]:
    try:
        tenant = SyncEvent.model_validate(event).tenant
    except ValidationError as exc:
        fields = ", ".join(".".join(str(p) for p in e["loc"]) for e in exc.errors())
        logger.error("rejected event: bad field(s) %s", fields)
        raise ConfigurationError(f"event rejected: bad field(s) {fields}") from None
    logger.append_keys(tenant=tenant, direction=direction.value)
    metrics.set_default_dimensions(tenant=tenant, direction=direction.value)
    try:
        record = run_tenant(tenant, direction, LambdaDeadline(context))
    except Exception:
        metrics.add_metric(name="RunFailed", unit=MetricUnit.Count, value=1)
        logger.exception("%s run failed", direction.value)
        raise
    logger.append_keys(run_id=record.run_id)
    record_metrics(metrics, record)
    logger.info(
        "%s run %s",
        direction.value,
        record.status.value,
        extra={"counts": record.counts, "requests": record.requests},
    )
    return record.model_dump(mode="json")


LambdaHandler = Callable[[dict[str, Any], Any], dict[str, Any]]


def lambda_handler_for(direction: Direction) -> tuple[LambdaHandler, Logger, Metrics]:
    """The handler a function module exposes, with its Powertools logger and metrics."""
    logger = Logger(service="kudos-sync")
    metrics = Metrics(namespace="KudosSync", service="kudos-sync")
    # Only our own loggers take the JSON config: botocore at DEBUG would log the secret's body.
    copy_config_to_registered_loggers(source_logger=logger, include={"kudos_sync"})

    @metrics.log_metrics
    @logger.inject_lambda_context(clear_state=True)
    def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
        return handle(event, context, direction, logger, metrics)

    return lambda_handler, logger, metrics
