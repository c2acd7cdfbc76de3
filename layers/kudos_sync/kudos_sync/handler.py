"""What both Lambda handlers share: validate the event, scope logs and metrics by tenant, run.

Metrics (EMF, namespace KudosSync, dimensions tenant and direction) feed the stack's alarms:
RunFailed, RunSucceeded (the stale alarm breaches when it goes missing), RunPartial, RecordsParked,
RunSeconds, Misconfigured, and DriftFound (a push's reconcile: in total, and per drift kind with a
further `kind` dimension).

A configuration error (a missing or invalid secret, refused credentials) is not raised: it would land in
the shared dead-letter queue every schedule and keep the stack-wide alarm on, hiding real crashes. The
handler returns a failed result and emits Misconfigured=1, which the tenant's misconfigured alarm
watches; every other run emits Misconfigured=0, so the alarm returns to OK (and says so) once fixed.
"""

import time
from collections.abc import Callable
from dataclasses import dataclass, field
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
    metrics.add_metric(name="Misconfigured", unit=MetricUnit.Count, value=0)
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


@dataclass
class _Step:
    total: int | None
    done: int = 0
    logged_at: float = 0.0


@dataclass
class LogProgress:
    """The Lambda's Progress reporter (sync/progress.py): a log line when a step starts and ends, and
    at most one every `every_seconds` while it runs, so a long first push shows in the logs as it goes
    without a line per product. Never raises into the sync."""

    logger: Logger
    every_seconds: float = 30.0
    monotonic: Callable[[], float] = time.monotonic
    _steps: dict[str, _Step] = field(default_factory=dict)

    def start(self, step: str, total: int | None) -> None:
        self._steps[step] = _Step(total=total, logged_at=self.monotonic())
        self._log("%s started: %s to do", step, "?" if total is None else total)

    def advance(self, step: str, done: int) -> None:
        current = self._steps.setdefault(step, _Step(total=None, logged_at=self.monotonic()))
        current.done += done
        now = self.monotonic()
        if now - current.logged_at >= self.every_seconds:
            current.logged_at = now
            self._log(
                "%s: %d of %s done", step, current.done, "?" if current.total is None else current.total
            )

    def finish(self, step: str) -> None:
        current = self._steps.pop(step, _Step(total=None))
        self._log("%s finished: %d of %s done", step, current.done, current.total or current.done)

    def _log(self, message: str, *args: object) -> None:
        try:
            self.logger.info(message, *args)
        except Exception:  # progress is advice: a logging problem must not stop a sync
            return


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
        record = run_tenant(tenant, direction, LambdaDeadline(context), progress=LogProgress(logger))
    except ConfigurationError as exc:
        # Alarmed once as "misconfigured" for this tenant; raising would also dead-letter every schedule.
        metrics.add_metric(name="Misconfigured", unit=MetricUnit.Count, value=1)
        metrics.add_metric(name="RunFailed", unit=MetricUnit.Count, value=0)
        metrics.add_metric(name="RunSucceeded", unit=MetricUnit.Count, value=0)
        logger.error("%s run stopped, the tenant is misconfigured: %s", direction.value, exc)
        return {
            "tenant": tenant,
            "direction": direction.value,
            "status": RunStatus.FAILED.value,
            "misconfigured": True,
            "error": f"configuration: {exc}",
        }
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
