"""Bindings <-> the JSON values a state store keeps: the one place that knows both encodings.

A packed binding is a JSON array. Two encodings are read; only the second is written:

- **v1** (releases before typed bindings): `[fingerprint, magento_id]` or `[fingerprint, magento_id,
  extra]`, with the status folded into the fingerprint as a magic string: `"disabled"`, `"resync"`,
  `"pending:<fp>"`, `"incomplete:<fp>"`, and a product's write-ahead intent in `extra["pending"]`.
- **v2**: `[fingerprint, magento_id]` for a sent binding without payload (most of them: prices,
  stock, categories, options), else `[fingerprint, magento_id, payload or null, status]`.

The two agree on the short form, so a tenant's shards need no migration: a v1 shard is read as the
equivalent typed bindings, and a binding is rewritten in v2 when the push next saves it. A real
fingerprint is 32 hex characters (or empty for categories and options), so a two- or three-element
array whose fingerprint is one of the magic strings can only be v1. The payload's JSON keys are the
same in both (v1's `extra` without `pending` inside for anything but products).

Pure: no I/O. Decoding trusts what this service stored itself (no validation beyond the types).
"""

from collections.abc import Mapping
from datetime import date
from decimal import Decimal
from typing import cast

from kudos_sync.domain.state import (
    Binding,
    BindingKind,
    BindingPayload,
    BindingStatus,
    ImageGallery,
    PendingWrite,
    ProductLinks,
    ProductWriteKind,
    SpecialRows,
)

type Json = bool | int | float | str | list[Json] | dict[str, Json] | None

_SENT = BindingStatus.SENT
# v1 fingerprints with a meaning of their own, and the prefixes that carried a fingerprint.
_V1_WHOLE = {"disabled": BindingStatus.DISABLED, "resync": BindingStatus.RESYNC}
_V1_PREFIX = (("pending:", BindingStatus.PENDING), ("incomplete:", BindingStatus.INCOMPLETE))


def encode_binding(binding: Binding) -> list[Json]:
    """The v2 array for a binding (deterministic: equal bindings give equal arrays)."""
    if binding.status is _SENT and binding.payload is None:
        return [binding.fingerprint, binding.magento_id]
    payload = None if binding.payload is None else _encode_payload(binding.payload)
    return [binding.fingerprint, binding.magento_id, payload, binding.status.value]


def decode_binding(kind: BindingKind, key: str, packed: list[Json]) -> Binding:
    """The typed binding for a v1 or v2 array."""
    fingerprint = cast(str, packed[0])
    magento_id = cast(int | None, packed[1])
    raw = cast(dict[str, Json] | None, packed[2]) if len(packed) > 2 else None
    if len(packed) > 3:
        status = BindingStatus(cast(str, packed[3]))
    else:
        fingerprint, status = _v1_status(fingerprint)
    payload = _decode_payload(kind, raw) if raw else None
    return Binding(kind, key, fingerprint, magento_id, status, payload)


def _v1_status(fingerprint: str) -> tuple[str, BindingStatus]:
    whole = _V1_WHOLE.get(fingerprint)
    if whole is not None:
        return "", whole
    for prefix, status in _V1_PREFIX:
        if fingerprint.startswith(prefix):
            return fingerprint[len(prefix) :], status
    return fingerprint, _SENT


# ---------------------------------------------------------------- payloads


def _encode_payload(payload: BindingPayload) -> dict[str, Json]:
    if isinstance(payload, ProductLinks):
        product: dict[str, Json] = {
            "type": payload.type_id,
            "category_id": payload.category_id,
            "category_path": payload.category_path,
            "parent": payload.parent,
        }
        if payload.options:
            product["options"] = {attribute: option for attribute, option in payload.options}
        if payload.pending is not None:
            product["pending"] = {
                "kind": payload.pending.kind,
                "category_ids": list(payload.pending.category_ids),
            }
        return product
    if isinstance(payload, SpecialRows):
        return {
            "price": str(payload.price),
            "price_from": payload.price_from.isoformat() if payload.price_from else None,
            "price_to": payload.price_to.isoformat() if payload.price_to else None,
            "store_ids": None if payload.store_ids is None else list(payload.store_ids),
        }
    return {
        "first": payload.first,
        "entries": dict(payload.entries),
        "shas": dict(payload.shas),
    }


def _decode_payload(kind: BindingKind, raw: Mapping[str, Json]) -> BindingPayload | None:
    if kind is BindingKind.PRODUCT:
        return _product_links(raw)
    if kind is BindingKind.SPECIAL_PRICE:
        if "price" not in raw:
            return None  # nothing recorded to delete
        store_ids = raw.get("store_ids")
        return SpecialRows(
            price=Decimal(cast(str, raw["price"])),
            price_from=_date(raw.get("price_from")),
            price_to=_date(raw.get("price_to")),
            store_ids=None if store_ids is None else tuple(cast(list[int], store_ids)),
        )
    if kind is BindingKind.IMAGES:
        entries = cast(dict[str, int], raw.get("entries") or {})
        return ImageGallery(
            first=cast(str | None, raw.get("first")),
            entries={sha: int(entry) for sha, entry in entries.items()},
            shas=dict(cast(dict[str, str], raw.get("shas") or {})),
        )
    return None


def _product_links(raw: Mapping[str, Json]) -> ProductLinks:
    options = cast(dict[str, int], raw.get("options") or {})
    pending_raw = cast(dict[str, Json] | None, raw.get("pending"))
    pending = None
    if pending_raw is not None:
        pending = PendingWrite(
            kind=cast(ProductWriteKind, pending_raw["kind"]),
            category_ids=tuple(int(c) for c in cast(list[int], pending_raw.get("category_ids") or [])),
        )
    category_id = raw.get("category_id")
    return ProductLinks(
        type_id="configurable" if raw.get("type") == "configurable" else "simple",
        category_id=None if category_id is None else int(cast(int, category_id)),
        category_path=cast(str | None, raw.get("category_path")),
        parent=cast(str | None, raw.get("parent")),
        options=tuple((attribute, int(option)) for attribute, option in options.items()),
        pending=pending,
    )


def _date(value: Json) -> date | None:
    return date.fromisoformat(value) if isinstance(value, str) and value else None
