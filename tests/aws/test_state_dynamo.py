"""DynamoStateStore specifics the contract suite cannot see: shard layout, resharding, the cross-tenant
parked index, lease TTL and input validation."""

from datetime import timedelta
from typing import Any

import pytest
from kudos_sync.aws.clients import AwsClients
from kudos_sync.aws.state import DynamoStateStore, list_parked_all_tenants, shard_of
from kudos_sync.domain.ids import InvalidTenantIdError
from kudos_sync.domain.state import BindingKind

from sandbox.aws import LocalAws
from tests.contract.builders import T0, a_binding, a_parked, a_run, many_bindings
from tests.contract.test_state_store_contract import counting_dynamo_writes


@pytest.fixture
def table(local_aws: LocalAws) -> str:
    return local_aws.new_table()


def items_with_prefix(aws: AwsClients, table: str, tenant: str, prefix: str) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    kwargs: dict[str, Any] = {
        "TableName": table,
        "KeyConditionExpression": "pk = :pk AND begins_with(sk, :p)",
        "ExpressionAttributeValues": {":pk": {"S": f"TENANT#{tenant}"}, ":p": {"S": prefix}},
    }
    while True:
        page = aws.dynamodb.query(**kwargs)
        items.extend(page["Items"])
        if "LastEvaluatedKey" not in page:
            return items
        kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]


def test_shard_of_is_stable_across_processes_and_versions() -> None:
    # Pinned: a change here would scatter every tenant's bindings over the wrong shards on deploy.
    assert [shard_of(key, 64) for key in ("SKU-1@WEB", "STYLE-1", "", "ünï")] == [31, 45, 52, 23]
    assert shard_of("SKU-1@WEB", 1024) == 95


def test_given_first_save_of_fifty_thousand_bindings_then_a_few_hundred_small_items_are_written(
    aws: AwsClients, table: str
) -> None:
    store = DynamoStateStore(aws.dynamodb, table, "acme")
    bindings = many_bindings(50_000)
    with counting_dynamo_writes(aws.dynamodb) as written:
        store.save_bindings(bindings)
    shard_writes = [sk for sk in written if "#S" in sk]
    assert 64 <= len(shard_writes) <= 1024, "hundreds of shards, not 50,000 items"
    assert len(set(shard_writes)) == len(shard_writes), "each shard written once"
    items = items_with_prefix(aws, table, "acme", "BIND#stock#")
    (header,) = [i for i in items if i["sk"]["S"].endswith("#HEADER")]
    shards = [i for i in items if "b" in i]
    assert len(shards) == int(header["shards"]["N"]) == len(shard_writes)
    assert max(len(item["b"]["B"]) for item in shards) < 16 * 1024, "far below the 400 KB item limit"
    loaded = store.load_bindings(BindingKind.STOCK)  # the 20,000 round trip is in the contract suite
    assert len(loaded) == 50_000
    assert [loaded[b.key] for b in bindings[::5_000]] == bindings[::5_000]

    changed = [b.model_copy(update={"fingerprint": "new"}) for b in bindings[:100]]
    with counting_dynamo_writes(aws.dynamodb) as written:
        store.save_bindings(changed)
    assert len([sk for sk in written if "#S" in sk]) <= 100, "a steady-state save rewrites only its shards"


def test_given_shards_outgrow_the_limit_then_the_kind_is_resharded_and_old_shards_removed(
    aws: AwsClients, table: str
) -> None:
    store = DynamoStateStore(aws.dynamodb, table, "acme", initial_shards=2, shard_soft_limit=4096)
    store.save_bindings(many_bindings(100))
    first = many_bindings(3_000)
    store.save_bindings(first)
    items = items_with_prefix(aws, table, "acme", "BIND#stock#")
    (header,) = [i for i in items if i["sk"]["S"].endswith("#HEADER")]
    shards = [i for i in items if "b" in i]
    assert int(header["shards"]["N"]) > 2
    assert {int(i["gen"]["N"]) for i in shards} == {int(header["gen"]["N"])}, "no old generation left"
    assert all(len(i["b"]["B"]) <= 4096 for i in shards)
    assert sum(int(i["c"]["N"]) for i in shards) == 3_000
    assert store.load_bindings(BindingKind.STOCK) == {b.key: b for b in first}

    more = many_bindings(6_000, version=3)
    store.save_bindings(more)
    assert store.load_bindings(BindingKind.STOCK) == {b.key: b for b in more}
    assert store.delete_bindings(BindingKind.STOCK) == 6_000
    assert items_with_prefix(aws, table, "acme", "BIND#stock#") == []


def test_given_leftover_shard_of_an_interrupted_reshard_then_loads_ignore_it_and_delete_removes_it(
    aws: AwsClients, table: str
) -> None:
    store = DynamoStateStore(aws.dynamodb, table, "acme")
    store.save_bindings([a_binding("STYLE-1", magento_id=1)])
    orphan = DynamoStateStore(aws.dynamodb, table, "acme", initial_shards=1)
    stale = items_with_prefix(aws, table, "acme", "BIND#product#G")[0]
    stale["sk"] = {"S": stale["sk"]["S"].replace("#G", "#G9", 1)[:-1] + "9"}
    stale["gen"] = {"N": "9"}
    aws.dynamodb.put_item(TableName=table, Item=stale)
    assert orphan.load_bindings(BindingKind.PRODUCT) == {"STYLE-1": a_binding("STYLE-1", magento_id=1)}
    assert store.delete_bindings(BindingKind.PRODUCT) == 1
    assert items_with_prefix(aws, table, "acme", "BIND#product#") == []


def test_given_parked_records_of_several_tenants_then_operator_lists_them_all(
    aws: AwsClients, table: str
) -> None:
    acme = DynamoStateStore(aws.dynamodb, table, "acme")
    globex = DynamoStateStore(aws.dynamodb, table, "globex")
    acme.park(a_parked("products", "STYLE-1"))
    acme.park(a_parked("products", "STYLE-1", at=T0 + timedelta(minutes=15)))
    globex.park(a_parked("stock", "SKU-9@WEB"))
    listed = list_parked_all_tenants(aws.dynamodb, table)
    assert [(tenant, r.stream, r.key, r.attempts) for tenant, r in listed] == [
        ("acme", "products", "STYLE-1", 2),
        ("globex", "stock", "SKU-9@WEB", 1),
    ]
    globex.unpark("stock", "SKU-9@WEB")
    assert [tenant for tenant, _ in list_parked_all_tenants(aws.dynamodb, table)] == ["acme"]
    item = aws.dynamodb.get_item(
        TableName=table, Key={"pk": {"S": "TENANT#acme"}, "sk": {"S": "PARKED#products#STYLE-1"}}
    )["Item"]
    assert (item["gsi1pk"]["S"], item["gsi1sk"]["S"]) == ("PARKED", "acme#products#STYLE-1")


def test_given_lease_then_it_carries_a_ttl_so_abandoned_leases_are_swept(aws: AwsClients, table: str) -> None:
    store = DynamoStateStore(aws.dynamodb, table, "acme")
    until = T0 + timedelta(minutes=14)
    assert store.acquire_lease("push", "run-a", T0, until)
    key = {"pk": {"S": "TENANT#acme"}, "sk": {"S": "LEASE#push"}}
    item = aws.dynamodb.get_item(TableName=table, Key=key)["Item"]
    assert int(item["expires_at"]["N"]) == int((until + timedelta(days=1)).timestamp())
    assert item["holder"]["S"] == "run-a"


def test_given_bad_input_then_refused_before_any_write(aws: AwsClients, table: str) -> None:
    with pytest.raises(InvalidTenantIdError):
        DynamoStateStore(aws.dynamodb, table, "Acme Ltd")
    store = DynamoStateStore(aws.dynamodb, table, "acme")
    with pytest.raises(ValueError, match="stream"):
        store.park(a_parked("pro#ducts", "STYLE-1"))
    with pytest.raises(ValueError, match="direction"):
        store.acquire_lease("", "run-a", T0, T0)
    with pytest.raises(ValueError, match="globex"):
        store.save_run(a_run("globex"))
    assert store.list_runs(limit=0) == []


def test_given_runs_beyond_one_page_then_limit_still_returns_the_newest(aws: AwsClients, table: str) -> None:
    store = DynamoStateStore(aws.dynamodb, table, "acme")
    for minutes in range(0, 40 * 15, 15):
        store.save_run(a_run("acme", minutes=minutes))
    newest = store.list_runs("push", limit=5)
    assert [r.started_at for r in newest] == [T0 + timedelta(minutes=m) for m in range(585, 510, -15)]


def test_given_reshard_between_header_reads_when_loading_then_the_load_is_repeated(
    aws: AwsClients, table: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = DynamoStateStore(aws.dynamodb, table, "acme")
    store.save_bindings([a_binding("STYLE-1", magento_id=1)])
    real_get_header = store._get_header
    calls: list[int] = []

    def header_moving_once(kind: BindingKind) -> Any:
        calls.append(1)
        header = real_get_header(kind)
        if len(calls) == 2 and header is not None:  # the second read of the first attempt
            header = header._replace(gen=header.gen + 1)
        return header

    monkeypatch.setattr(store, "_get_header", header_moving_once)
    assert store.load_bindings(BindingKind.PRODUCT) == {"STYLE-1": a_binding("STYLE-1", magento_id=1)}
    assert len(calls) == 4, "one attempt discarded, one kept"
