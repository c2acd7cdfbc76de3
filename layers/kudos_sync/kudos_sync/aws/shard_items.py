"""The items of a binding kind on the table: its header and its versioned shards, each write
conditional (see `DynamoStateStore` in `aws.state`, which packs the bindings into them)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any, NamedTuple

from kudos_sync.aws.records import TenantRecords
from kudos_sync.domain.errors import ConcurrentWriteError
from kudos_sync.domain.state import BindingKind

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.type_defs import TransactWriteItemTypeDef


class Header(NamedTuple):
    shards: int
    gen: int


def item_version(item: dict[str, Any]) -> int:
    return int(item["v"]["N"]) if "v" in item else 0


class ShardItems(TenantRecords):
    """Header and shard items of the binding kinds of one tenant."""

    @staticmethod
    def _header_sk(kind: BindingKind) -> str:
        return f"BIND#{kind.value}#HEADER"

    @staticmethod
    def _shard_sk(kind: BindingKind, gen: int, shard: int) -> str:
        return f"BIND#{kind.value}#G{gen:016d}#S{shard:05d}"

    def _get_header(self, kind: BindingKind) -> Header | None:
        item = self._get(self._header_sk(kind))
        return None if item is None else Header(int(item["shards"]["N"]), int(item["gen"]["N"]))

    def _put_header(self, kind: BindingKind, header: Header, replacing: Header | None) -> None:
        """Write the header if it is still `replacing` (None: if there is none yet)."""
        item = {**self._key(self._header_sk(kind)), "shards": {"N": str(header.shards)}}
        item["gen"] = {"N": str(header.gen)}
        if replacing is None:
            condition: dict[str, Any] = {"ConditionExpression": "attribute_not_exists(pk)"}
        else:
            condition = {
                "ConditionExpression": "gen = :gen",
                "ExpressionAttributeValues": {":gen": {"N": str(replacing.gen)}},
            }
        put = lambda: self._client.put_item(TableName=self._table, Item=item, **condition)  # noqa: E731
        if not self._conditional("PutItem", put):
            raise ConcurrentWriteError(
                f"{self._what('PutItem')}: bindings of {kind.value} were restructured by another writer"
            )

    def _header_check(self, kind: BindingKind, header: Header) -> TransactWriteItemTypeDef:
        return {
            "ConditionCheck": {
                "TableName": self._table,
                "Key": self._key(self._header_sk(kind)),
                "ConditionExpression": "gen = :gen",
                "ExpressionAttributeValues": {":gen": {"N": str(header.gen)}},
            }
        }

    @staticmethod
    def _if_version(version: int) -> str:
        """Condition "the item is still at version :v"; 0 is an absent item or one written before
        shards had versions."""
        return "attribute_not_exists(v) OR v = :v" if version == 0 else "v = :v"

    def _shard_put(
        self, kind: BindingKind, gen: int, shard: int, count: int, blob: bytes, version: int
    ) -> TransactWriteItemTypeDef:
        """Write a shard if it is still at `version` (the one read); it becomes `version + 1`."""
        return {
            "Put": {
                "TableName": self._table,
                "Item": {
                    **self._key(self._shard_sk(kind, gen, shard)),
                    "gen": {"N": str(gen)},
                    "c": {"N": str(count)},
                    "b": {"B": blob},
                    "v": {"N": str(version + 1)},
                },
                "ConditionExpression": self._if_version(version),
                "ExpressionAttributeValues": {":v": {"N": str(version)}},
            }
        }

    def _shard_remove(
        self, kind: BindingKind, gen: int, shard: int, version: int
    ) -> TransactWriteItemTypeDef:
        return {
            "Delete": {
                "TableName": self._table,
                "Key": self._key(self._shard_sk(kind, gen, shard)),
                "ConditionExpression": self._if_version(version),
                "ExpressionAttributeValues": {":v": {"N": str(version)}},
            }
        }

    def _delete_items(self, sks: Iterable[str]) -> None:
        """Unconditional deletes of items no header points at any more."""
        self._batch_write([{"DeleteRequest": {"Key": self._key(sk)}} for sk in sks])

    def _shard_versions(self, kind: BindingKind) -> dict[str, int]:
        """Sort key -> version of every shard item of a kind (any generation), without payloads."""
        versions: dict[str, int] = {}
        for item in self._query_prefix(f"BIND#{kind.value}#G", ProjectionExpression="sk, v"):
            versions[item["sk"]["S"]] = item_version(item)
        return versions
