"""Leases, cursors, parked records and run records of one tenant on the stack's DynamoDB table:
the small items of the StateStore (bindings, packed into shards, are in `aws.state`).

    LEASE#<direction>                       holder, lease_until (epoch ms), expires_at (TTL)
    CURSOR#<stream>                         doc (the Cursor as JSON)
    PARKED#<stream>#<key>                   doc, attempts, first_seen; gsi1pk="PARKED",
                                            gsi1sk="<tenant>#<stream>#<key>" (cross-tenant list)
    RUN#<direction>#<started iso>#<run id>  doc, expires_at (TTL, default 30 days)
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, NamedTuple

from kudos_sync.aws.errors import aws_errors
from kudos_sync.aws.table import TenantTable, epoch_ms, from_epoch_ms, name_part, utc
from kudos_sync.domain.state import Cursor, Direction, ParkedRecord, RunRecord
from kudos_sync.sync.ports import LeaseHolder

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.client import DynamoDBClient
    from mypy_boto3_dynamodb.type_defs import AttributeValueTypeDef, QueryInputTypeDef

DEFAULT_RUN_RETENTION = timedelta(days=30)
LEASE_TTL_GRACE = timedelta(days=1)
PARKED_INDEX = "gsi1"
PARKED_INDEX_PK = "PARKED"


def _sortable(moment: datetime) -> str:
    """Fixed-width UTC ISO time: sorts as a string exactly as it sorts in time."""
    return utc(moment).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


class TenantRecords(TenantTable):
    """The lease, cursor, parked and run items of one tenant (a part of `DynamoStateStore`)."""

    _run_retention: timedelta = DEFAULT_RUN_RETENTION

    # ------------------------------------------------------------ leases

    def acquire_lease(self, direction: str, holder: str, now: datetime, until: datetime) -> bool:
        sk = f"LEASE#{name_part(direction, 'direction')}"
        return self._conditional(
            "PutItem",
            lambda: self._client.put_item(
                TableName=self._table,
                Item={
                    **self._key(sk),
                    "holder": {"S": holder},
                    "lease_until": {"N": str(epoch_ms(until))},
                    "expires_at": {"N": str(int((utc(until) + LEASE_TTL_GRACE).timestamp()))},
                },
                ConditionExpression="attribute_not_exists(pk) OR lease_until <= :now OR holder = :holder",
                ExpressionAttributeValues={":now": {"N": str(epoch_ms(now))}, ":holder": {"S": holder}},
            ),
        )

    def current_lease(self, direction: str) -> LeaseHolder | None:
        item = self._get(f"LEASE#{name_part(direction, 'direction')}")
        if item is None:
            return None
        return LeaseHolder(holder=item["holder"]["S"], until=from_epoch_ms(item["lease_until"]["N"]))

    def lease_holder(self, direction: str, now: datetime) -> tuple[str, datetime] | None:
        """Who holds the direction's lease and until when; None when free or expired (for status)."""
        lease = self.current_lease(direction)
        if lease is None or lease.until <= now:
            return None
        return lease.holder, lease.until

    def renew_lease(self, direction: str, holder: str, until: datetime) -> bool:
        sk = f"LEASE#{name_part(direction, 'direction')}"
        return self._conditional(
            "UpdateItem",
            lambda: self._client.update_item(
                TableName=self._table,
                Key=self._key(sk),
                UpdateExpression="SET lease_until = :until, expires_at = :ttl",
                ConditionExpression="holder = :holder",
                ExpressionAttributeValues={
                    ":until": {"N": str(epoch_ms(until))},
                    ":ttl": {"N": str(int((utc(until) + LEASE_TTL_GRACE).timestamp()))},
                    ":holder": {"S": holder},
                },
            ),
        )

    def release_lease(self, direction: str, holder: str) -> None:
        sk = f"LEASE#{name_part(direction, 'direction')}"
        self._conditional(
            "DeleteItem",
            lambda: self._client.delete_item(
                TableName=self._table,
                Key=self._key(sk),
                ConditionExpression="holder = :holder",
                ExpressionAttributeValues={":holder": {"S": holder}},
            ),
        )

    # ------------------------------------------------------------ cursors

    def get_cursor(self, stream: str) -> Cursor | None:
        item = self._get(f"CURSOR#{stream}")
        return None if item is None else Cursor.model_validate_json(item["doc"]["S"])

    def save_cursor(self, cursor: Cursor) -> None:
        with aws_errors(self._what("PutItem")):
            self._client.put_item(
                TableName=self._table,
                Item={**self._key(f"CURSOR#{cursor.stream}"), "doc": {"S": cursor.model_dump_json()}},
            )

    # ------------------------------------------------------------ parked records

    def park(self, record: ParkedRecord) -> None:
        stream = name_part(record.stream, "stream")
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
                    ":last": {"S": utc(record.last_seen).isoformat()},
                    ":first": {"S": utc(record.first_seen).isoformat()},
                    # A new record keeps its own count; a record parked again counts one more attempt.
                    ":base": {"N": str(record.attempts - 1)},
                    ":one": {"N": "1"},
                    ":gpk": {"S": PARKED_INDEX_PK},
                    ":gsk": {"S": f"{self.tenant}#{stream}#{record.key}"},
                    ":tenant": {"S": self.tenant},
                },
            )

    def unpark(self, stream: str, key: str) -> None:
        sk = f"PARKED#{name_part(stream, 'stream')}#{key}"
        with aws_errors(self._what("DeleteItem")):
            self._client.delete_item(TableName=self._table, Key=self._key(sk))

    def list_parked(self, stream: str | None = None) -> list[ParkedRecord]:
        prefix = "PARKED#" if stream is None else f"PARKED#{name_part(stream, 'stream')}#"
        records = [_parked_from_item(item) for item in self._query_prefix(prefix)]
        return sorted(records, key=lambda r: (r.stream, r.key))

    # ------------------------------------------------------------ runs

    def save_run(self, run: RunRecord) -> None:
        if run.tenant != self.tenant:
            raise ValueError(f"run {run.run_id} belongs to tenant {run.tenant}, not {self.tenant}")
        direction = name_part(Direction(run.direction).value, "direction")
        expires = utc(run.finished_at or run.started_at) + self._run_retention
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
            directions = [name_part(direction, "direction")]
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
