"""Builders for state records, so the contract tests read as behaviour rather than dict literals."""

from datetime import UTC, datetime, timedelta
from typing import Any

from kudos_sync.domain.ids import RunId
from kudos_sync.domain.state import (
    Binding,
    BindingKind,
    BindingPayload,
    BindingStatus,
    Cursor,
    Direction,
    ParkedRecord,
    RunRecord,
    RunStatus,
)

T0 = datetime(2026, 11, 1, 9, 0, tzinfo=UTC)


def a_binding(
    key: str,
    *,
    kind: BindingKind = BindingKind.PRODUCT,
    fingerprint: str | None = None,
    magento_id: int | None = None,
    status: BindingStatus = BindingStatus.SENT,
    payload: BindingPayload | None = None,
) -> Binding:
    return Binding(
        kind=kind,
        key=key,
        fingerprint=fingerprint or f"fp-{key}",
        magento_id=magento_id,
        status=status,
        payload=payload,
    )


def many_bindings(count: int, *, kind: BindingKind = BindingKind.STOCK, version: int = 1) -> list[Binding]:
    return [
        Binding(
            kind=kind,
            key=f"SKU-{i:06d}@WEB",
            fingerprint=f"{version:02d}{i:062x}",
            magento_id=i if i % 3 else None,
        )
        for i in range(count)
    ]


def a_cursor(
    stream: str = "invoices", *, minutes: int = 0, entity_id: int = 1, seen: tuple[int, ...] = ()
) -> Cursor:
    created = T0 + timedelta(minutes=minutes)
    return Cursor(stream=stream, created_at=created, entity_id=entity_id, seen_ids=seen)


def a_parked(
    stream: str = "products",
    key: str = "STYLE-1",
    *,
    at: datetime = T0,
    reason: str = "url key already exists",
    attempts: int = 1,
    payload: dict[str, Any] | None = None,
) -> ParkedRecord:
    return ParkedRecord(
        stream=stream,
        key=key,
        reason=reason,
        field="url_key",
        payload=payload if payload is not None else {"sku": key, "price": "12.50"},
        attempts=attempts,
        first_seen=at,
        last_seen=at,
    )


def a_run(
    tenant: str,
    *,
    direction: Direction = Direction.PUSH,
    minutes: int = 0,
    run_id: str | None = None,
    status: RunStatus = RunStatus.SUCCEEDED,
) -> RunRecord:
    started = T0 + timedelta(minutes=minutes)
    return RunRecord(
        tenant=tenant,
        direction=direction,
        run_id=RunId(run_id or f"run-{direction.value}-{minutes}"),
        started_at=started,
        finished_at=started + timedelta(seconds=42),
        status=status,
        counts={"stock_sent": minutes},
        requests={"POST /V1/inventory/source-items": 1},
    )
