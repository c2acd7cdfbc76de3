"""One tenant's partition of the stack's DynamoDB table: keys, paged queries, batches and conditional
writes, with AWS failures mapped to the sync's error classes. `aws.records` and `aws.state` build the
StateStore on top of it (layout in docs/state.md)."""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from kudos_sync.aws.errors import aws_errors, error_code
from kudos_sync.batches import chunks
from kudos_sync.domain.errors import ConcurrentWriteError, TransientError
from kudos_sync.domain.ids import validate_tenant_id

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.client import DynamoDBClient
    from mypy_boto3_dynamodb.type_defs import (
        AttributeValueTypeDef,
        KeysAndAttributesTypeDef,
        QueryInputTypeDef,
        TransactWriteItemTypeDef,
        WriteRequestTypeDef,
    )

    Item = dict[str, AttributeValueTypeDef]
    Key = dict[str, AttributeValueTypeDef]

_BATCH_ATTEMPTS = 8
_TRANSACT_ATTEMPTS = 5
_CONDITION_FAILED = "ConditionalCheckFailedException"
_TRANSACTION_CANCELED = "TransactionCanceledException"
# DynamoDB's limits for one TransactWriteItems call: 100 actions and 4 MB; the margin covers keys.
TRANSACT_MAX_ITEMS = 100
TRANSACT_MAX_BYTES = 3_500_000


def utc(moment: datetime) -> datetime:
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def epoch_ms(moment: datetime) -> int:
    return int(utc(moment).timestamp() * 1000)


def from_epoch_ms(value: str) -> datetime:
    return datetime.fromtimestamp(int(value) / 1000, tz=UTC)


def name_part(value: str, what: str) -> str:
    """A sort-key component that is followed by another one: non-empty and free of '#'."""
    if not value or "#" in value:
        raise ValueError(f"{what} {value!r} must be non-empty and must not contain '#'")
    return value


def _backoff(attempt: int) -> None:
    time.sleep(min(2.0, 0.05 * 2**attempt) * (0.5 + random.random() / 2))


def _action_bytes(action: TransactWriteItemTypeDef) -> int:
    """A generous size of one transaction action: its binary payloads plus a fixed allowance."""
    put = action.get("Put")
    if put is None:
        return 1024
    item: Mapping[str, Any] = put["Item"]
    return 1024 + sum(len(value.get("B", b"")) for value in item.values() if isinstance(value, Mapping))


class TenantTable:
    """The partition `TENANT#<tenant>` of one table, and the plumbing every item kind shares."""

    def __init__(self, client: DynamoDBClient, table_name: str, tenant: str) -> None:
        self._client = client
        self._table = table_name
        self.tenant = validate_tenant_id(tenant)
        self._pk = f"TENANT#{self.tenant}"

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

    def _get(self, sk: str) -> Item | None:
        with aws_errors(self._what("GetItem")):
            item: Item | None = self._client.get_item(
                TableName=self._table, Key=self._key(sk), ConsistentRead=True
            ).get("Item")
        return item

    def _batch_get(self, keys: Sequence[Key]) -> list[Item]:
        found: list[Item] = []
        for chunk in chunks(keys, 100):
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
        """Unconditional writes (deletes of items nobody reads any more)."""
        for chunk in chunks(requests, 25):
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

    def _transact_write(
        self, actions: Sequence[TransactWriteItemTypeDef], guard: TransactWriteItemTypeDef
    ) -> None:
        """Conditional writes, in transactions of up to 100 actions / ~3.5 MB, each also carrying
        `guard` (a ConditionCheck, e.g. "the header is still at this generation").

        A failed condition raises ConcurrentWriteError: someone else wrote since we read, and
        overwriting would lose their update. Each transaction is all-or-nothing; the ones before it
        stay written (each of them was checked against what it replaced).
        """
        batch: list[TransactWriteItemTypeDef] = []
        size = 0
        for action in actions:
            action_size = _action_bytes(action)
            if batch and (len(batch) + 2 > TRANSACT_MAX_ITEMS or size + action_size > TRANSACT_MAX_BYTES):
                self._transact_once([guard, *batch])
                batch, size = [], 0
            batch.append(action)
            size += action_size
        if batch:
            self._transact_once([guard, *batch])

    def _transact_once(self, actions: list[TransactWriteItemTypeDef]) -> None:
        for attempt in range(_TRANSACT_ATTEMPTS):
            with aws_errors(self._what("TransactWriteItems")):
                try:
                    self._client.transact_write_items(TransactItems=actions)
                    return
                except ClientError as exc:
                    if error_code(exc) != _TRANSACTION_CANCELED:
                        raise
                    reasons = {
                        str(reason.get("Code", "")) for reason in exc.response.get("CancellationReasons", [])
                    }
            if "ConditionalCheckFailed" in reasons:
                raise ConcurrentWriteError(
                    f"{self._what('TransactWriteItems')}: the state changed since it was read "
                    "(another writer); nothing was overwritten"
                )
            _backoff(attempt)  # a conflicting transaction in flight, or throttling: try again
        raise TransientError(f"{self._what('TransactWriteItems')}: cancelled after retries; retry later")

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
