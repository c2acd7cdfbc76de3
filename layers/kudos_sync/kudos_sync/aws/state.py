"""StateStore on the stack's one DynamoDB table (ARCHITECTURE §3; layout in docs/state.md).

Every item of a tenant lives under the partition `TENANT#<tenant>`. Leases, cursors, parked records
and runs are in `aws.records`; this module keeps the bindings:

    BIND#<kind>#HEADER                      shards (N), gen: which shard set is current
    BIND#<kind>#G<gen>#S<shard>             b (zlib JSON {key: [fingerprint, magento_id, extra]}), c,
                                            v (version: 1 more at every write; absent = 0)

Bindings are packed into shards rather than kept one item per binding; see `DynamoStateStore` for
why, and docs/state.md for the numbers.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import time
import zlib
from collections import defaultdict
from collections.abc import Iterable, Sequence
from datetime import timedelta
from typing import TYPE_CHECKING, Any, NamedTuple

from pydantic_core import from_json

from kudos_sync.aws.records import (
    DEFAULT_RUN_RETENTION,
    TenantParkedRecord,
    list_parked_all_tenants,
)
from kudos_sync.aws.shard_items import Header, ShardItems, item_version
from kudos_sync.domain.binding_codec import decode_binding, encode_binding
from kudos_sync.domain.bulk import bulk_build
from kudos_sync.domain.errors import ConcurrentWriteError, TransientError
from kudos_sync.domain.state import Binding, BindingKind

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.client import DynamoDBClient
    from mypy_boto3_dynamodb.type_defs import TransactWriteItemTypeDef

DEFAULT_SHARDS = 64
MAX_SHARDS = 16_384
# A shard's compressed payload may grow to this before the kind is resharded: far below DynamoDB's
# 400 KB item limit, so one save can never produce an item DynamoDB refuses.
SHARD_SOFT_LIMIT = 128 * 1024
# The average compressed shard a reshard aims at. Small shards keep steady-state saves cheap (a save
# rewrites each shard it touches, whole) while a kind of 150,000 bindings is still ~1,000 items, not
# 150,000. A kind is resharded when its shards average more than _GROWTH times this.
SHARD_TARGET = 4 * 1024
_GROWTH = 4
_LOAD_ATTEMPTS = 3


def shard_of(key: str, shards: int) -> int:
    """Stable across processes and Python versions (unlike hash()): blake2b of the UTF-8 key."""
    digest = hashlib.blake2b(key.encode("utf-8"), digest_size=8).digest()
    return int.from_bytes(digest, "big") % shards


# ---------------------------------------------------------------- binding shard encoding

_Packed = dict[str, list[Any]]  # key -> a binding as domain.binding_codec packs it


def _pack(binding: Binding) -> list[Any]:
    return encode_binding(binding)  # domain.binding_codec: reads the older encoding too


def _encode(shard: _Packed) -> bytes:
    return zlib.compress(json.dumps(shard, separators=(",", ":"), ensure_ascii=False).encode("utf-8"), 6)


def _encoded_size(shard: _Packed) -> int:
    """len(_encode(shard)) without holding the whole JSON text (megabytes for a large kind): the map is
    encoded a slice at a time into one compressor, which yields the same stream as one call."""
    compressor = zlib.compressobj(6)
    size = len(compressor.compress(b"{"))
    items = iter(shard.items())
    separator = ""
    while chunk := dict(itertools.islice(items, 4096)):
        text = json.dumps(chunk, separators=(",", ":"), ensure_ascii=False)[1:-1]
        size += len(compressor.compress((separator + text).encode("utf-8")))
        separator = ","
    return size + len(compressor.compress(b"}")) + len(compressor.flush())


def _decode(blob: bytes) -> _Packed:
    # pydantic-core's JSON parser reads the same JSON as json.loads about twice as fast, and shares
    # repeated short strings (fingerprints of equal prices and quantities) instead of copying them.
    decoded: _Packed = from_json(zlib.decompress(blob))
    return decoded


class _Shard(NamedTuple):
    packed: _Packed
    version: int  # 0: never written with a version (state from before versions, or absent)


class DynamoStateStore(ShardItems):
    """StateStore of one tenant on the shared table (see the module docstring for the layout).

    **Bindings are packed, not one item per binding.** A first push of 50,000 SKUs creates about
    150,000 bindings (product, price, special price, stock per source, images); one item each would be
    150,000 writes (and as many write units) before the first run can finish, and every load would page
    through 150,000 items. Instead the bindings of a kind are spread over N shard items by a stable hash
    of the key (N is recorded in the kind's header item, 64 to start), each shard holding a compressed
    JSON map key -> [fingerprint, magento_id, extra]. A load is one paginated Query over the current
    generation's shards (between two reads of the header, so it never sees half a reshard); a save
    reads the shards it touches (BatchGetItem), merges, and rewrites only the shards whose content
    changed; saving unchanged bindings writes nothing.

    **Every shard write is conditional.** The lease keeps one writer per tenant and direction (and
    each kind belongs to one direction), but a writer can lose its lease without knowing (a stalled
    process whose lease expired). So a shard carries a version `v`, and a save writes it back (in
    TransactWriteItems, each with a check that the header is still at the generation read) only if
    `v` is still the one it read: a writer that lost the race gets ConcurrentWriteError (transient:
    its run ends failed) instead of silently overwriting the other's bindings.

    When the shards a save touches average more than a few times `shard_target` (4 KB compressed), or
    one would pass `shard_soft_limit` (far below the 400 KB item limit), the kind is resharded to about
    `shard_target` per shard: all shards are rewritten under a new generation, then the header is
    switched to it (the commit point, conditional on the generation read), then the old generation is
    deleted. A crash leaves at most unreferenced shards, which loads ignore and the next reshard or
    delete removes.

    The price is write amplification: a save rewrites every shard it touches, whole. Small shards keep
    that near the cost of one item per binding (a 4 KB shard costs 4 write units against 1), and
    callers should save per checkpoint (hundreds to thousands of bindings), not one binding at a time.
    """

    def __init__(
        self,
        client: DynamoDBClient,
        table_name: str,
        tenant: str,
        *,
        run_retention: timedelta = DEFAULT_RUN_RETENTION,
        initial_shards: int = DEFAULT_SHARDS,
        shard_target: int = SHARD_TARGET,
        shard_soft_limit: int = SHARD_SOFT_LIMIT,
    ) -> None:
        if initial_shards < 1 or initial_shards > MAX_SHARDS:
            raise ValueError(f"initial_shards must be 1..{MAX_SHARDS}")
        super().__init__(client, table_name, tenant)
        self._run_retention = run_retention
        self._initial_shards = initial_shards
        self._shard_target = shard_target
        self._shard_soft_limit = shard_soft_limit

    # ------------------------------------------------------------ shards read

    def _read_shards(self, kind: BindingKind, header: Header, shards: Iterable[int]) -> dict[int, _Shard]:
        keys = [self._key(self._shard_sk(kind, header.gen, shard)) for shard in sorted(set(shards))]
        found: dict[int, _Shard] = {}
        for item in self._batch_get(keys):
            found[int(item["sk"]["S"].rsplit("#S", 1)[1])] = _Shard(
                _decode(item["b"]["B"]), item_version(item)
            )
        return found

    def _load_packed(self, kind: BindingKind) -> tuple[Header | None, dict[str, list[Any]], dict[str, int]]:
        """The current header, every current binding (packed) and the version of every shard item."""
        header: Header | None = None
        shards: list[dict[str, Any]] = []
        for item in self._query_prefix(f"BIND#{kind.value}#"):
            if item["sk"]["S"] == self._header_sk(kind):
                header = Header(int(item["shards"]["N"]), int(item["gen"]["N"]))
            else:
                shards.append(item)
        merged: dict[str, list[Any]] = {}
        for item in shards:
            # Shards of another generation are leftovers of an interrupted reshard or delete.
            if header is not None and int(item["gen"]["N"]) == header.gen:
                merged.update(_decode(item["b"]["B"]))
        return header, merged, {item["sk"]["S"]: item_version(item) for item in shards}

    # ------------------------------------------------------------ bindings

    def load_bindings(self, kind: BindingKind) -> dict[str, Binding]:
        kind = BindingKind(kind)
        # Header, shards of its generation, header again: if the generation did not change meanwhile,
        # no reshard or delete-all removed shards under the query (they go only after the header
        # changes), so a reader without the lease (CLI status, plan) never sees half a kind.
        for _ in range(_LOAD_ATTEMPTS):
            header = self._get_header(kind)
            if header is None:
                return {}
            # Bindings are built shard by shard, so the decoded form of the whole kind is never held
            # beside the bindings made from it.
            bindings: dict[str, Binding] = {}
            with bulk_build():
                for item in self._query_prefix(f"BIND#{kind.value}#G{header.gen:016d}#"):
                    for key, value in _decode(item["b"]["B"]).items():
                        bindings[key] = decode_binding(kind, key, value)
            after = self._get_header(kind)
            if after is not None and after.gen == header.gen:
                return bindings
        raise TransientError(f"{self._what('Query')}: bindings of {kind.value} kept changing while read")

    def save_bindings(self, bindings: Sequence[Binding]) -> None:
        by_kind: dict[BindingKind, dict[str, list[Any]]] = defaultdict(dict)
        for binding in bindings:
            by_kind[BindingKind(binding.kind)][binding.key] = _pack(binding)
        for kind, updates in by_kind.items():
            self._save_kind(kind, updates)

    def _save_kind(self, kind: BindingKind, updates: dict[str, list[Any]]) -> None:
        header = self._get_header(kind)
        if header is None:
            # The header goes first: a crash then leaves an empty kind, never shards nobody points at
            # that a later generation could mistake for its own.
            header = Header(self._initial_shards, time.time_ns() // 1000)
            self._put_header(kind, header, replacing=None)
            current: dict[int, _Shard] = {}
        else:
            current = self._read_shards(kind, header, (shard_of(key, header.shards) for key in updates))
        changed: dict[int, _Packed] = {}
        for key, value in updates.items():
            shard = shard_of(key, header.shards)
            packed = changed.get(shard)
            if packed is None:
                packed = current[shard].packed if shard in current else {}
            if packed.get(key) != value:
                if shard not in changed:
                    packed = changed[shard] = dict(packed)
                packed[key] = value
        blobs = {shard: _encode(packed) for shard, packed in changed.items()}
        if blobs and header.shards < MAX_SHARDS and self._outgrown([len(blob) for blob in blobs.values()]):
            self._reshard(kind, updates, header.shards)
            return
        self._transact_write(
            [
                self._shard_put(
                    kind, header.gen, shard, len(changed[shard]), blob, _version_of(current, shard)
                )
                for shard, blob in blobs.items()
            ],
            guard=self._header_check(kind, header),
        )

    def _outgrown(self, sizes: Sequence[int]) -> bool:
        """Shards are too big: one passed the soft limit, or (the shards touched being a fair sample of
        a hash spread) they average several times the target."""
        return max(sizes) > self._shard_soft_limit or sum(sizes) > len(sizes) * self._shard_target * _GROWTH

    def _reshard(self, kind: BindingKind, updates: dict[str, list[Any]], current_shards: int) -> None:
        old_header, merged, old_versions = self._load_packed(kind)
        if old_header is None:
            raise ConcurrentWriteError(f"{self._what('Query')}: bindings of {kind.value} deleted meanwhile")
        merged.update(updates)
        old_gen = old_header.gen
        # The whole map compresses better than its shards do, so this guess is low; the loop corrects it.
        estimate = _encoded_size(merged) // self._shard_target
        shards = min(MAX_SHARDS, max(current_shards * 2, 1 << max(0, estimate - 1).bit_length()))
        while True:
            # Keys per shard, then each shard encoded and dropped at once: a reshard holds the kind once
            # (plus its compressed shards), not a second time split into per-shard maps.
            split: dict[int, list[str]] = defaultdict(list)
            for key in merged:
                split[shard_of(key, shards)].append(key)
            blobs = {
                shard: (len(keys), _encode({key: merged[key] for key in keys}))
                for shard, keys in split.items()
            }
            del split
            sizes = [len(blob) for _, blob in blobs.values()] or [0]
            too_big = max(sizes) > self._shard_soft_limit or sum(sizes) > shards * self._shard_target * 2
            if not too_big or shards >= MAX_SHARDS:
                break
            shards = min(shards * 2, MAX_SHARDS)
        gen = max(old_gen + 1, time.time_ns() // 1000)
        new_header = Header(shards, gen)
        new_shards = [
            self._shard_put(kind, gen, shard, count, blob, 0) for shard, (count, blob) in blobs.items()
        ]
        self._transact_write(new_shards, guard=self._header_check(kind, old_header))
        # A shard another writer changed since the read above would be lost by the switch: look again
        # (versions only) and give up, leaving the new generation unreferenced, if one moved. What is
        # left is the moment between this look and the switch, against a writer that lost its lease.
        new_prefix = self._shard_sk(kind, gen, 0).rsplit("#S", 1)[0]
        now_versions = {
            sk: v for sk, v in self._shard_versions(kind).items() if not sk.startswith(new_prefix)
        }
        if now_versions != old_versions:
            raise ConcurrentWriteError(
                f"{self._what('Query')}: bindings of {kind.value} changed during a reshard (another writer)"
            )
        self._put_header(kind, new_header, replacing=old_header)  # the commit point
        self._delete_items(old_versions)

    def delete_bindings(self, kind: BindingKind, keys: Sequence[str] | None = None) -> int:
        kind = BindingKind(kind)
        if keys is None:
            return self._delete_kind(kind)
        header = self._get_header(kind)
        if header is None or not keys:
            return 0
        wanted = set(keys)
        current = self._read_shards(kind, header, (shard_of(key, header.shards) for key in wanted))
        removed = 0
        actions: list[TransactWriteItemTypeDef] = []
        for shard, (packed, version) in current.items():
            remaining = {key: value for key, value in packed.items() if key not in wanted}
            if len(remaining) == len(packed):
                continue
            removed += len(packed) - len(remaining)
            if remaining:
                actions.append(
                    self._shard_put(kind, header.gen, shard, len(remaining), _encode(remaining), version)
                )
            else:
                actions.append(self._shard_remove(kind, header.gen, shard, version))
        self._transact_write(actions, guard=self._header_check(kind, header))
        return removed

    def _delete_kind(self, kind: BindingKind) -> int:
        header: Header | None = None
        shard_counts: list[tuple[str, int, int]] = []
        for item in self._query_prefix(f"BIND#{kind.value}#", ProjectionExpression="sk, gen, c, shards"):
            if item["sk"]["S"] == self._header_sk(kind):
                header = Header(int(item["shards"]["N"]), int(item["gen"]["N"]))
            else:
                shard_counts.append((item["sk"]["S"], int(item["gen"]["N"]), int(item["c"]["N"])))
        if header is not None:
            # Header first: the kind is empty from this instant, whatever happens to the shards after.
            # Conditional on the generation read, so the count returned is the count of what went.
            remove = lambda: self._client.delete_item(  # noqa: E731
                TableName=self._table,
                Key=self._key(self._header_sk(kind)),
                ConditionExpression="gen = :gen",
                ExpressionAttributeValues={":gen": {"N": str(header.gen)}},
            )
            if not self._conditional("DeleteItem", remove):
                raise ConcurrentWriteError(
                    f"{self._what('DeleteItem')}: bindings of {kind.value} changed (another writer)"
                )
        removed = sum(count for _, gen, count in shard_counts if header is not None and gen == header.gen)
        self._delete_items(sk for sk, _, _ in shard_counts)
        return removed


def _version_of(shards: dict[int, _Shard], shard: int) -> int:
    found = shards.get(shard)
    return 0 if found is None else found.version


__all__ = [
    "DEFAULT_RUN_RETENTION",
    "DEFAULT_SHARDS",
    "DynamoStateStore",
    "TenantParkedRecord",
    "list_parked_all_tenants",
    "shard_of",
]
