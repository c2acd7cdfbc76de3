"""StateStore on the stack's one DynamoDB table (ARCHITECTURE §3; layout in docs/state.md).

Every item of a tenant lives under the partition `TENANT#<tenant>`:

    LEASE#<direction>                       holder, lease_until (epoch ms), expires_at (TTL)
    CURSOR#<stream>                         doc (the Cursor as JSON)
    PARKED#<stream>#<key>                   doc, attempts, first_seen; gsi1pk="PARKED",
                                            gsi1sk="<tenant>#<stream>#<key>" (cross-tenant list)
    RUN#<direction>#<started iso>#<run id>  doc, expires_at (TTL, default 30 days)
    BIND#<kind>#HEADER                      shards (N), gen: which shard set is current
    BIND#<kind>#G<gen>#S<shard>             b (zlib JSON {key: [fingerprint, magento_id, extra]}), c

Bindings are packed into shards rather than kept one item per binding; see `DynamoStateStore` for
why, and docs/state.md for the numbers.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import random
import time
import zlib
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any, NamedTuple

from botocore.exceptions import ClientError
from pydantic_core import from_json, to_jsonable_python

from kudos_sync.aws.errors import aws_errors, error_code
from kudos_sync.domain.bulk import bulk_build, trusted_constructor
from kudos_sync.domain.errors import TransientError
from kudos_sync.domain.ids import validate_tenant_id
from kudos_sync.domain.state import Binding, BindingKind, Cursor, Direction, ParkedRecord, RunRecord

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.client import DynamoDBClient
    from mypy_boto3_dynamodb.type_defs import (
        AttributeValueTypeDef,
        KeysAndAttributesTypeDef,
        QueryInputTypeDef,
        WriteRequestTypeDef,
    )

    Item = dict[str, AttributeValueTypeDef]
    Key = dict[str, AttributeValueTypeDef]

DEFAULT_RUN_RETENTION = timedelta(days=30)
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
LEASE_TTL_GRACE = timedelta(days=1)
PARKED_INDEX = "gsi1"
PARKED_INDEX_PK = "PARKED"
_BATCH_ATTEMPTS = 8
_LOAD_ATTEMPTS = 3
_CONDITION_FAILED = "ConditionalCheckFailedException"


def _utc(moment: datetime) -> datetime:
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def _epoch_ms(moment: datetime) -> int:
    return int(_utc(moment).timestamp() * 1000)


def _sortable(moment: datetime) -> str:
    """Fixed-width UTC ISO time: sorts as a string exactly as it sorts in time."""
    return _utc(moment).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _name_part(value: str, what: str) -> str:
    """A sort-key component that is followed by another one: non-empty and free of '#'."""
    if not value or "#" in value:
        raise ValueError(f"{what} {value!r} must be non-empty and must not contain '#'")
    return value


def shard_of(key: str, shards: int) -> int:
    """Stable across processes and Python versions (unlike hash()): blake2b of the UTF-8 key."""
    digest = hashlib.blake2b(key.encode("utf-8"), digest_size=8).digest()
    return int.from_bytes(digest, "big") % shards


def _chunks[T](values: Sequence[T], size: int) -> Iterator[Sequence[T]]:
    for start in range(0, len(values), size):
        yield values[start : start + size]


def _backoff(attempt: int) -> None:
    time.sleep(min(2.0, 0.05 * 2**attempt) * (0.5 + random.random() / 2))


# ---------------------------------------------------------------- binding shard encoding

_Packed = dict[str, list[Any]]  # key -> [fingerprint, magento_id] or [fingerprint, magento_id, extra]


def _pack(binding: Binding) -> list[Any]:
    if binding.extra:
        return [binding.fingerprint, binding.magento_id, to_jsonable_python(binding.extra)]
    return [binding.fingerprint, binding.magento_id]


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


# A load builds every binding of a kind (150,000 stock bindings at 50,000 SKUs) from what this store
# wrote itself with `_pack`, so the values already have the field types: no validation.
_construct_binding = trusted_constructor(Binding)


class _Header:
    def __init__(self, shards: int, gen: int) -> None:
        self.shards = shards
        self.gen = gen


class DynamoStateStore:
    """StateStore of one tenant on the shared table (see the module docstring for the layout).

    **Bindings are packed, not one item per binding.** A first push of 50,000 SKUs creates about
    150,000 bindings (product, price, special price, stock per source, images); one item each would be
    150,000 writes (and as many write units) before the first run can finish, and every load would page
    through 150,000 items. Instead the bindings of a kind are spread over N shard items by a stable hash
    of the key (N is recorded in the kind's header item, 64 to start), each shard holding a compressed
    JSON map key -> [fingerprint, magento_id, extra]. A load is one paginated Query over the current
    generation's shards (between two reads of the header, so it never sees half a reshard); a save
    reads the shards it touches (BatchGetItem), merges, and rewrites only the shards whose content
    changed (BatchWriteItem); saving unchanged bindings writes nothing. Read-modify-write is safe
    because the lease guarantees one writer per tenant and direction, and each kind belongs to one
    direction.

    When the shards a save touches average more than a few times `shard_target` (4 KB compressed), or
    one would pass `shard_soft_limit` (far below the 400 KB item limit), the kind is resharded to about
    `shard_target` per shard: all shards are rewritten under a new generation, then the header is
    switched to it (the commit point), then the old generation is deleted. A crash leaves at most
    unreferenced shards, which loads ignore and the next reshard or delete removes.

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
        self._client = client
        self._table = table_name
        self.tenant = validate_tenant_id(tenant)
        self._pk = f"TENANT#{self.tenant}"
        self._run_retention = run_retention
        self._initial_shards = initial_shards
        self._shard_target = shard_target
        self._shard_soft_limit = shard_soft_limit

    # ------------------------------------------------------------ plumbing

    def _what(self, operation: str) -> str:
        return f"DynamoDB {operation} on table {self._table} for tenant {self.tenant}"

    def _key(self, sk: str) -> Key:
        return {"pk": {"S": self._pk}, "sk": {"S": sk}}

    def _query(self, request: QueryInputTypeDef) -> Iterator[Item]:
        start: Mapping[str, Any] | None = None
        while True:
            page_request: QueryInputTypeDef = {**request, "ExclusiveStartKey": start} if start else request
            with aws_errors(self._what("Query")):
                page = self._client.query(**page_request)
            yield from page.get("Items", [])
            start = page.get("LastEvaluatedKey")
            if not start:
                return

    def _query_prefix(self, prefix: str, **extra: Any) -> Iterator[Item]:
        request: QueryInputTypeDef = {
            "TableName": self._table,
            "KeyConditionExpression": "pk = :pk AND begins_with(sk, :prefix)",
            "ExpressionAttributeValues": {":pk": {"S": self._pk}, ":prefix": {"S": prefix}},
            "ConsistentRead": True,
            **extra,  # type: ignore[typeddict-item]
        }
        return self._query(request)

    def _batch_get(self, keys: Sequence[Key]) -> list[Item]:
        found: list[Item] = []
        for chunk in _chunks(keys, 100):
            pending: Mapping[str, KeysAndAttributesTypeDef] = {
                self._table: {"Keys": list(chunk), "ConsistentRead": True}
            }
            for attempt in range(_BATCH_ATTEMPTS):
                with aws_errors(self._what("BatchGetItem")):
                    response = self._client.batch_get_item(RequestItems=pending)
                found.extend(response.get("Responses", {}).get(self._table, []))
                unprocessed = response.get("UnprocessedKeys") or {}
                if not unprocessed:
                    break
                pending = unprocessed  # type: ignore[assignment]
                _backoff(attempt)
            else:
                raise TransientError(f"{self._what('BatchGetItem')}: keys still unprocessed after retries")
        return found

    def _batch_write(self, requests: Sequence[WriteRequestTypeDef]) -> None:
        for chunk in _chunks(requests, 25):
            pending: Mapping[str, Sequence[WriteRequestTypeDef]] = {self._table: list(chunk)}
            for attempt in range(_BATCH_ATTEMPTS):
                with aws_errors(self._what("BatchWriteItem")):
                    response = self._client.batch_write_item(RequestItems=pending)
                unprocessed = response.get("UnprocessedItems") or {}
                if not unprocessed:
                    break
                pending = unprocessed  # type: ignore[assignment]
                _backoff(attempt)
            else:
                raise TransientError(f"{self._what('BatchWriteItem')}: items still unprocessed after retries")

    def _conditional(self, operation: str, call: Callable[[], object]) -> bool:
        """Run a conditional write; False when its condition did not hold."""
        with aws_errors(self._what(operation)):
            try:
                call()
            except ClientError as exc:
                if error_code(exc) == _CONDITION_FAILED:
                    return False
                raise
        return True

    # ------------------------------------------------------------ leases

    def acquire_lease(self, direction: str, holder: str, now: datetime, until: datetime) -> bool:
        sk = f"LEASE#{_name_part(direction, 'direction')}"
        return self._conditional(
            "PutItem",
            lambda: self._client.put_item(
                TableName=self._table,
                Item={
                    **self._key(sk),
                    "holder": {"S": holder},
                    "lease_until": {"N": str(_epoch_ms(until))},
                    "expires_at": {"N": str(int((_utc(until) + LEASE_TTL_GRACE).timestamp()))},
                },
                ConditionExpression="attribute_not_exists(pk) OR lease_until <= :now OR holder = :holder",
                ExpressionAttributeValues={":now": {"N": str(_epoch_ms(now))}, ":holder": {"S": holder}},
            ),
        )

    def renew_lease(self, direction: str, holder: str, until: datetime) -> bool:
        sk = f"LEASE#{_name_part(direction, 'direction')}"
        return self._conditional(
            "UpdateItem",
            lambda: self._client.update_item(
                TableName=self._table,
                Key=self._key(sk),
                UpdateExpression="SET lease_until = :until, expires_at = :ttl",
                ConditionExpression="holder = :holder",
                ExpressionAttributeValues={
                    ":until": {"N": str(_epoch_ms(until))},
                    ":ttl": {"N": str(int((_utc(until) + LEASE_TTL_GRACE).timestamp()))},
                    ":holder": {"S": holder},
                },
            ),
        )

    def lease_holder(self, direction: str, now: datetime) -> tuple[str, datetime] | None:
        """Who holds the direction's lease and until when; None when free or expired (for status)."""
        sk = f"LEASE#{_name_part(direction, 'direction')}"
        with aws_errors(self._what("GetItem")):
            item = self._client.get_item(TableName=self._table, Key=self._key(sk), ConsistentRead=True).get(
                "Item"
            )
        if item is None or int(item["lease_until"]["N"]) <= _epoch_ms(now):
            return None
        until = datetime.fromtimestamp(int(item["lease_until"]["N"]) / 1000, tz=UTC)
        return item["holder"]["S"], until

    def release_lease(self, direction: str, holder: str) -> None:
        sk = f"LEASE#{_name_part(direction, 'direction')}"
        self._conditional(
            "DeleteItem",
            lambda: self._client.delete_item(
                TableName=self._table,
                Key=self._key(sk),
                ConditionExpression="holder = :holder",
                ExpressionAttributeValues={":holder": {"S": holder}},
            ),
        )

    # ------------------------------------------------------------ bindings

    @staticmethod
    def _header_sk(kind: BindingKind) -> str:
        return f"BIND#{kind.value}#HEADER"

    @staticmethod
    def _shard_sk(kind: BindingKind, gen: int, shard: int) -> str:
        return f"BIND#{kind.value}#G{gen:016d}#S{shard:05d}"

    def _get_header(self, kind: BindingKind) -> _Header | None:
        with aws_errors(self._what("GetItem")):
            item = self._client.get_item(
                TableName=self._table, Key=self._key(self._header_sk(kind)), ConsistentRead=True
            ).get("Item")
        return None if item is None else _Header(int(item["shards"]["N"]), int(item["gen"]["N"]))

    def _put_header(self, kind: BindingKind, header: _Header) -> None:
        with aws_errors(self._what("PutItem")):
            self._client.put_item(
                TableName=self._table,
                Item={
                    **self._key(self._header_sk(kind)),
                    "shards": {"N": str(header.shards)},
                    "gen": {"N": str(header.gen)},
                },
            )

    def _shard_put(
        self, kind: BindingKind, gen: int, shard: int, count: int, blob: bytes
    ) -> WriteRequestTypeDef:
        return {
            "PutRequest": {
                "Item": {
                    **self._key(self._shard_sk(kind, gen, shard)),
                    "gen": {"N": str(gen)},
                    "c": {"N": str(count)},
                    "b": {"B": blob},
                }
            }
        }

    def _shard_delete(self, sk: str) -> WriteRequestTypeDef:
        return {"DeleteRequest": {"Key": self._key(sk)}}

    def _read_shards(self, kind: BindingKind, header: _Header, shards: Iterable[int]) -> dict[int, _Packed]:
        keys = [self._key(self._shard_sk(kind, header.gen, shard)) for shard in sorted(set(shards))]
        packed: dict[int, _Packed] = {}
        for item in self._batch_get(keys):
            packed[int(item["sk"]["S"].rsplit("#S", 1)[1])] = _decode(item["b"]["B"])
        return packed

    def _load_packed(self, kind: BindingKind) -> tuple[_Header | None, dict[str, list[Any]], list[str]]:
        """The current header, every current binding (packed) and the sort keys of all shard items."""
        header: _Header | None = None
        shards: list[Item] = []
        for item in self._query_prefix(f"BIND#{kind.value}#"):
            if item["sk"]["S"] == self._header_sk(kind):
                header = _Header(int(item["shards"]["N"]), int(item["gen"]["N"]))
            else:
                shards.append(item)
        merged: dict[str, list[Any]] = {}
        for item in shards:
            # Shards of another generation are leftovers of an interrupted reshard or delete.
            if header is not None and int(item["gen"]["N"]) == header.gen:
                merged.update(_decode(item["b"]["B"]))
        return header, merged, [item["sk"]["S"] for item in shards]

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
            construct = _construct_binding
            with bulk_build():
                for item in self._query_prefix(f"BIND#{kind.value}#G{header.gen:016d}#"):
                    for key, value in _decode(item["b"]["B"]).items():
                        bindings[key] = construct(
                            kind=kind,
                            key=key,
                            fingerprint=value[0],
                            magento_id=value[1],
                            extra=value[2] if len(value) > 2 else {},
                        )
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
            header = _Header(self._initial_shards, time.time_ns() // 1000)
            self._put_header(kind, header)
            current: dict[int, _Packed] = {}
        else:
            current = self._read_shards(kind, header, (shard_of(key, header.shards) for key in updates))
        changed: dict[int, _Packed] = {}
        for key, value in updates.items():
            shard = shard_of(key, header.shards)
            packed = changed.get(shard)
            if packed is None:
                packed = current.get(shard, {})
            if packed.get(key) != value:
                if shard not in changed:
                    packed = changed[shard] = dict(packed)
                packed[key] = value
        blobs = {shard: _encode(packed) for shard, packed in changed.items()}
        if blobs and header.shards < MAX_SHARDS and self._outgrown([len(blob) for blob in blobs.values()]):
            self._reshard(kind, updates, header.shards)
            return
        self._batch_write(
            [
                self._shard_put(kind, header.gen, shard, len(changed[shard]), blob)
                for shard, blob in blobs.items()
            ]
        )

    def _outgrown(self, sizes: Sequence[int]) -> bool:
        """Shards are too big: one passed the soft limit, or (the shards touched being a fair sample of
        a hash spread) they average several times the target."""
        return max(sizes) > self._shard_soft_limit or sum(sizes) > len(sizes) * self._shard_target * _GROWTH

    def _reshard(self, kind: BindingKind, updates: dict[str, list[Any]], current_shards: int) -> None:
        old_header, merged, old_items = self._load_packed(kind)
        merged.update(updates)
        old_gen = old_header.gen if old_header else 0
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
        self._batch_write(
            [self._shard_put(kind, gen, shard, count, blob) for shard, (count, blob) in blobs.items()]
        )
        self._put_header(kind, _Header(shards, gen))  # the commit point
        self._batch_write([self._shard_delete(sk) for sk in old_items])

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
        requests: list[WriteRequestTypeDef] = []
        for shard, packed in current.items():
            remaining = {key: value for key, value in packed.items() if key not in wanted}
            if len(remaining) == len(packed):
                continue
            removed += len(packed) - len(remaining)
            if remaining:
                requests.append(self._shard_put(kind, header.gen, shard, len(remaining), _encode(remaining)))
            else:
                requests.append(self._shard_delete(self._shard_sk(kind, header.gen, shard)))
        self._batch_write(requests)
        return removed

    def _delete_kind(self, kind: BindingKind) -> int:
        header: _Header | None = None
        shard_counts: list[tuple[str, int, int]] = []
        for item in self._query_prefix(f"BIND#{kind.value}#", ProjectionExpression="sk, gen, c, shards"):
            if item["sk"]["S"] == self._header_sk(kind):
                header = _Header(int(item["shards"]["N"]), int(item["gen"]["N"]))
            else:
                shard_counts.append((item["sk"]["S"], int(item["gen"]["N"]), int(item["c"]["N"])))
        if header is not None:
            # Header first: the kind is empty from this instant, whatever happens to the shards after.
            with aws_errors(self._what("DeleteItem")):
                self._client.delete_item(TableName=self._table, Key=self._key(self._header_sk(kind)))
        removed = sum(count for _, gen, count in shard_counts if header is not None and gen == header.gen)
        self._batch_write([self._shard_delete(sk) for sk, _, _ in shard_counts])
        return removed

    # ------------------------------------------------------------ cursors

    def get_cursor(self, stream: str) -> Cursor | None:
        with aws_errors(self._what("GetItem")):
            item = self._client.get_item(
                TableName=self._table, Key=self._key(f"CURSOR#{stream}"), ConsistentRead=True
            ).get("Item")
        return None if item is None else Cursor.model_validate_json(item["doc"]["S"])

    def save_cursor(self, cursor: Cursor) -> None:
        with aws_errors(self._what("PutItem")):
            self._client.put_item(
                TableName=self._table,
                Item={**self._key(f"CURSOR#{cursor.stream}"), "doc": {"S": cursor.model_dump_json()}},
            )

    # ------------------------------------------------------------ parked records

    def park(self, record: ParkedRecord) -> None:
        stream = _name_part(record.stream, "stream")
        doc = record.model_dump_json(exclude={"attempts", "first_seen"})
        with aws_errors(self._what("UpdateItem")):
            self._client.update_item(
                TableName=self._table,
                Key=self._key(f"PARKED#{stream}#{record.key}"),
                UpdateExpression=(
                    "SET #doc = :doc, #last = :last, #first = if_not_exists(#first, :first), "
                    "#attempts = if_not_exists(#attempts, :base) + :one, "
                    "#gpk = :gpk, #gsk = :gsk, #tenant = :tenant"
                ),
                ExpressionAttributeNames={
                    "#doc": "doc",
                    "#last": "last_seen",
                    "#first": "first_seen",
                    "#attempts": "attempts",
                    "#gpk": "gsi1pk",
                    "#gsk": "gsi1sk",
                    "#tenant": "tenant",
                },
                ExpressionAttributeValues={
                    ":doc": {"S": doc},
                    ":last": {"S": _utc(record.last_seen).isoformat()},
                    ":first": {"S": _utc(record.first_seen).isoformat()},
                    # A new record keeps its own count; a record parked again counts one more attempt.
                    ":base": {"N": str(record.attempts - 1)},
                    ":one": {"N": "1"},
                    ":gpk": {"S": PARKED_INDEX_PK},
                    ":gsk": {"S": f"{self.tenant}#{stream}#{record.key}"},
                    ":tenant": {"S": self.tenant},
                },
            )

    def unpark(self, stream: str, key: str) -> None:
        sk = f"PARKED#{_name_part(stream, 'stream')}#{key}"
        with aws_errors(self._what("DeleteItem")):
            self._client.delete_item(TableName=self._table, Key=self._key(sk))

    def list_parked(self, stream: str | None = None) -> list[ParkedRecord]:
        prefix = "PARKED#" if stream is None else f"PARKED#{_name_part(stream, 'stream')}#"
        records = [_parked_from_item(item) for item in self._query_prefix(prefix)]
        return sorted(records, key=lambda r: (r.stream, r.key))

    # ------------------------------------------------------------ runs

    def save_run(self, run: RunRecord) -> None:
        if run.tenant != self.tenant:
            raise ValueError(f"run {run.run_id} belongs to tenant {run.tenant}, not {self.tenant}")
        direction = _name_part(Direction(run.direction).value, "direction")
        expires = _utc(run.finished_at or run.started_at) + self._run_retention
        with aws_errors(self._what("PutItem")):
            self._client.put_item(
                TableName=self._table,
                Item={
                    **self._key(f"RUN#{direction}#{_sortable(run.started_at)}#{run.run_id}"),
                    "doc": {"S": run.model_dump_json()},
                    "expires_at": {"N": str(int(expires.timestamp()))},
                },
            )

    def list_runs(self, direction: str | None = None, limit: int = 20) -> list[RunRecord]:
        if limit <= 0:
            return []
        if direction is None:
            directions = [d.value for d in Direction]
        else:
            directions = [_name_part(direction, "direction")]
        runs: list[RunRecord] = []
        for name in directions:
            found: list[RunRecord] = []
            for item in self._query_prefix(f"RUN#{name}#", ScanIndexForward=False, Limit=limit):
                found.append(RunRecord.model_validate_json(item["doc"]["S"]))
                if len(found) >= limit:
                    break
            runs.extend(found)
        return sorted(runs, key=lambda r: r.started_at, reverse=True)[:limit]


def _parked_from_item(item: Mapping[str, AttributeValueTypeDef]) -> ParkedRecord:
    fields = json.loads(item["doc"]["S"])
    fields["attempts"] = int(item["attempts"]["N"])
    fields["first_seen"] = item["first_seen"]["S"]
    return ParkedRecord.model_validate(fields)


class TenantParkedRecord(NamedTuple):
    tenant: str
    record: ParkedRecord


def list_parked_all_tenants(client: DynamoDBClient, table: str) -> list[TenantParkedRecord]:
    """Every parked record of every tenant, as (tenant, record), through the `gsi1` index, ordered by
    tenant, stream and key.

    The index is eventually consistent: a record parked or unparked a moment ago may not show yet.
    """
    found: list[TenantParkedRecord] = []
    start: Mapping[str, Any] | None = None
    while True:
        request: QueryInputTypeDef = {
            "TableName": table,
            "IndexName": PARKED_INDEX,
            "KeyConditionExpression": "gsi1pk = :pk",
            "ExpressionAttributeValues": {":pk": {"S": PARKED_INDEX_PK}},
        }
        if start:
            request["ExclusiveStartKey"] = start
        with aws_errors(f"DynamoDB Query on index {PARKED_INDEX} of table {table}"):
            page = client.query(**request)
        found.extend(
            TenantParkedRecord(item["tenant"]["S"], _parked_from_item(item)) for item in page["Items"]
        )
        start = page.get("LastEvaluatedKey")
        if not start:
            break
    return sorted(found, key=lambda found: (found.tenant, found.record.stream, found.record.key))


__all__ = [
    "DEFAULT_RUN_RETENTION",
    "DEFAULT_SHARDS",
    "DynamoStateStore",
    "TenantParkedRecord",
    "list_parked_all_tenants",
    "shard_of",
]
