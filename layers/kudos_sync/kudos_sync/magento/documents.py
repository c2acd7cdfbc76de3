"""Magento's sales documents read into the domain's types (`kudos_sync.domain.sales`): the quirks of
`GET /V1/invoices`, `/V1/creditmemos` and `/V1/orders` are handled here, so no raw document crosses the
`MagentoSales` port.

Each read document comes with its place in the stream (entity id, created_at, the key it is parked
under) and the trimmed payload kept with a parked record, so the pull can retry it without a search.
A document that does not validate is read as the `RecordError` naming it ("invoice 000000042 (entity
17)") and the field path ("items[2].qty"). Values are never echoed in messages: a document may hold
personal data.

Magento quirks handled here:
- `created_at` is a UTC wall-clock string without zone ("2026-11-01 09:00:00"): read as aware UTC.
- Amounts arrive as JSON numbers (floats) or strings: read as exact Decimal (`domain.money`).
- Documents without a usable entity id are parked under a digest of their content.
"""

import hashlib
import json
from contextlib import suppress
from datetime import UTC, datetime
from typing import Any, Literal

from pydantic import BaseModel, ValidationError

from kudos_sync.domain.errors import RecordError
from kudos_sync.domain.sales import (
    MagentoCreditMemo,
    MagentoDocument,
    MagentoDocumentItem,
    MagentoInvoice,
    MagentoOrder,
)
from kudos_sync.sync.ports import DocumentRef, ReadDocument

Stream = Literal["invoices", "creditmemos"]


def parse_magento_time(value: object) -> datetime:
    """Magento's "2026-11-01 09:00:00" (UTC, no zone) -> aware UTC datetime; ValueError otherwise."""
    if isinstance(value, datetime):
        parsed = value
    elif isinstance(value, str) and len(value) <= 40:
        try:
            parsed = datetime.fromisoformat(value.strip())
        except ValueError:
            raise ValueError("expected 'YYYY-MM-DD HH:MM:SS' (UTC)") from None
    else:
        raise ValueError("expected 'YYYY-MM-DD HH:MM:SS' (UTC)")
    # Magento writes UTC without a zone; an explicit zone is honoured and converted.
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)


# ---------------------------------------------------------------- labels and paths


def _raw_label(kind: str, raw: object) -> str:
    """Name a raw document as well as its own (possibly broken) fields allow."""
    if not isinstance(raw, dict):
        return f"{kind} (not a JSON object)"
    increment = raw.get("increment_id")
    entity = raw.get("entity_id")
    shown_increment = increment if isinstance(increment, str) and 0 < len(increment) <= 50 else None
    shown_entity = entity if isinstance(entity, int) and not isinstance(entity, bool) else None
    if shown_increment and shown_entity is not None:
        return f"{kind} {shown_increment} (entity {shown_entity})"
    if shown_entity is not None:
        return f"{kind} (entity {shown_entity})"
    if shown_increment:
        return f"{kind} {shown_increment}"
    return f"{kind} (no entity id)"


def field_path(loc: tuple[int | str, ...]) -> str:
    """pydantic's ('items', 2, 'qty') -> 'items[2].qty'."""
    path = ""
    for part in loc:
        if isinstance(part, int):
            path += f"[{part}]"
        else:
            path += f".{part}" if path else part
    return path


def _parse[M: BaseModel](model: type[M], kind: str, raw: object) -> M:
    label = _raw_label(kind, raw)
    if not isinstance(raw, dict):
        raise RecordError(f"{label}: expected a JSON object", record=label)
    created_at = raw.get("created_at")
    if created_at is not None:
        with suppress(ValueError):  # else left as it came: the model names the field
            raw = {**raw, "created_at": parse_magento_time(created_at)}
    try:
        return model.model_validate(raw)
    except ValidationError as exc:
        errors = exc.errors(include_url=False, include_input=False)
        first = errors[0]
        path = field_path(tuple(p for p in first["loc"] if not str(p).startswith("function-")))
        more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
        message = first["msg"] if first["type"] != "missing" else "is missing"
        raise RecordError(f"{label}: {path or '<root>'}: {message}{more}", record=label, field=path) from None


def parse_invoice(raw: object) -> MagentoInvoice:
    """Validate a raw `/V1/invoices` item; RecordError names the invoice and the field path."""
    return _parse(MagentoInvoice, "invoice", raw)


def parse_creditmemo(raw: object) -> MagentoCreditMemo:
    """Validate a raw `/V1/creditmemos` item; RecordError names the credit memo and the field path."""
    return _parse(MagentoCreditMemo, "credit memo", raw)


def parse_order(raw: object) -> MagentoOrder:
    """Validate a raw `/V1/orders` item; RecordError names the order and the field path."""
    return _parse(MagentoOrder, "order", raw)


def parse_document(stream: Literal["invoices", "creditmemos"], raw: object) -> MagentoDocument:
    """`parse_invoice` or `parse_creditmemo`, by stream."""
    return parse_invoice(raw) if stream == "invoices" else parse_creditmemo(raw)


def document_label(stream: str, raw: object) -> str:
    """The label of a raw document ("invoice 000000042 (entity 17)"), however broken it is."""
    return _raw_label("invoice" if stream == "invoices" else "credit memo", raw)


# ---------------------------------------------------------------- parked payloads

_DOCUMENT_KEYS = frozenset(MagentoCreditMemo.model_fields) - {"stream"}
_ITEM_KEYS = frozenset(MagentoDocumentItem.model_fields)
MAX_PAYLOAD_CHARS = 200_000


def trim_document(raw: object) -> dict[str, Any]:
    """The part of a raw document the pull reads, to keep with a parked record and re-import from.

    Unknown keys (extension attributes, comments, base amounts) are dropped; the known ones are kept
    as they came, so a re-import sees exactly what failed. An absurdly large document keeps only its
    identity (the retry then parks it again with the same reason).
    """
    if not isinstance(raw, dict):
        return {}
    trimmed: dict[str, Any] = {k: v for k, v in raw.items() if k in _DOCUMENT_KEYS and k != "items"}
    items = raw.get("items")
    if isinstance(items, list):
        trimmed["items"] = [
            {k: v for k, v in item.items() if k in _ITEM_KEYS} if isinstance(item, dict) else item
            for item in items
        ]
    elif "items" in raw:
        trimmed["items"] = items
    if len(json.dumps(trimmed, default=str)) > MAX_PAYLOAD_CHARS:
        identity = ("entity_id", "increment_id", "order_id", "created_at")
        return {k: trimmed[k] for k in identity if k in trimmed}
    return trimmed


# ---------------------------------------------------------------- documents as the port gives them


def _identity(raw: object) -> tuple[int | None, datetime | None]:
    """Entity id and created_at of a raw document, as far as they can be read."""
    if not isinstance(raw, dict):
        return None, None
    entity = raw.get("entity_id")
    entity_id = entity if isinstance(entity, int) and not isinstance(entity, bool) and entity > 0 else None
    try:
        created_at: datetime | None = parse_magento_time(raw.get("created_at"))
    except ValueError:
        created_at = None
    return entity_id, created_at


def _park_key(raw: object, entity_id: int | None) -> str:
    if entity_id is not None:
        return str(entity_id)
    digest = hashlib.sha256(json.dumps(raw, sort_keys=True, default=str).encode()).hexdigest()[:16]
    return f"unidentified-{digest}"


def read_document(stream: Stream, raw: object) -> ReadDocument:
    """One raw invoice or credit memo as the port gives it: parsed (or the RecordError saying why
    not), placed in its stream, with the payload to keep should it be parked."""
    entity_id, created_at = _identity(raw)
    try:
        document: MagentoDocument | RecordError = parse_document(stream, raw)
    except RecordError as exc:
        document = exc
    ref = DocumentRef(
        key=_park_key(raw, entity_id),
        label=document_label(stream, raw),
        entity_id=entity_id,
        created_at=created_at,
    )
    return ReadDocument(ref=ref, document=document, payload=trim_document(raw))


def read_order(raw: object) -> MagentoOrder | RecordError:
    """One raw order, parsed, or the RecordError naming it and the field."""
    try:
        return parse_order(raw)
    except RecordError as exc:
        return exc
