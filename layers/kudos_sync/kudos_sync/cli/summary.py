"""A run's summary in words a person can check: what was read, sent, left unchanged and parked, with
units, so the numbers add up (the pull's `read` is the sum of what happened to each document)."""

from typing import Any

from kudos_sync.domain.state import Direction, RunRecord

_STREAM_LABELS = {"invoices": "invoices", "creditmemos": "credit memos"}


def run_summary(record: RunRecord) -> dict[str, Any]:
    """The run as JSON (`run --json`, `parked retry --json`)."""
    duration = (record.finished_at - record.started_at).total_seconds() if record.finished_at else None
    return {
        "tenant": record.tenant,
        "direction": record.direction.value,
        "run_id": record.run_id,
        "status": record.status.value,
        "duration_seconds": duration,
        "summary": summary_lines(record),
        "counts": record.counts,
        "requests": record.requests,
        "items": record.items,
        "error": record.error,
    }


def count(n: int, unit: str, plural: str | None = None) -> str:
    """`1 SKU`, `2 SKUs`, `0 rows`."""
    return f"{n} {unit if n == 1 else plural or unit + 's'}"


def _push_lines(c: dict[str, int]) -> list[str]:
    products = c.get("products_created", 0) + c.get("products_updated", 0)
    products += c.get("products_enabled", 0) + c.get("products_disabled", 0)
    return [
        f"products sent: {count(products, 'Magento product')} ({c.get('products_created', 0)} created, "
        f"{c.get('products_updated', 0)} updated ({c.get('products_adopted', 0)} of them adopted: the store "
        f"already held them), {c.get('products_enabled', 0)} enabled, "
        f"{c.get('products_disabled', 0)} disabled; one per SKU plus a configurable parent per style)",
        f"prices sent: {count(c.get('prices_sent', 0), 'SKU')}; special prices: "
        f"{count(c.get('special_prices_sent', 0), 'SKU')} sent, {c.get('special_prices_deleted', 0)} ended",
        f"stock sent: {count(c.get('stock_sent', 0), 'row')} (one per SKU and source)",
        f"images: {count(c.get('images_uploaded', 0), 'image')} uploaded, "
        f"{c.get('images_deleted', 0)} removed",
        f"unchanged: {count(c.get('unchanged', 0), 'item')} already in step (products, prices, stock rows, "
        "image sets: nothing sent)",
    ]


def _pull_lines(c: dict[str, int]) -> list[str]:
    lines = []
    for stream, label in _STREAM_LABELS.items():
        parts = {
            "imported": c.get(f"{stream}_imported", 0),
            "already in CI Office": c.get(f"{stream}_already_imported", 0),
            "parked": c.get(f"{stream}_parked", 0),
            "seen by an earlier run": c.get(f"{stream}_skipped_seen", 0),
            "still parked, skipped": c.get(f"{stream}_skipped_parked", 0),
            "left for the next run": c.get(f"{stream}_deferred", 0),
        }
        shown = ", ".join(f"{n} {what}" for what, n in parts.items() if n)
        lines.append(f"{label} read: {count(sum(parts.values()), 'document')}{': ' + shown if shown else ''}")
        retried = c.get(f"{stream}_unparked", 0) + c.get(f"{stream}_still_parked", 0)
        if retried:
            lines.append(
                f"{label} parked earlier, retried: {retried} ({c.get(f'{stream}_unparked', 0)} imported, "
                f"{c.get(f'{stream}_still_parked', 0)} still parked)"
            )
    lines.append(f"customers created in CI Office: {c.get('customers_created_total', 0)}")
    return lines


def summary_lines(record: RunRecord) -> list[str]:
    c = record.counts
    if not c:
        return []
    lines = _push_lines(c) if record.direction is Direction.PUSH else _pull_lines(c)
    new = c.get("parked", c.get("parked_total", 0))
    lines.append(
        f"parked: {count(new, 'record')} newly parked, {c.get('unparked', c.get('unparked_total', 0))} "
        f"unparked; {c.get('parked_now', 0)} parked in all (kudos-sync parked list)"
    )
    return lines
