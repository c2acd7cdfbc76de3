"""DynamoStateStore specifics the contract suite cannot see: shard layout, resharding, the cross-tenant
parked index, lease TTL and input validation."""

import json
import threading
import zlib
from dataclasses import replace
from datetime import timedelta
from typing import Any

import pytest
from kudos_sync.aws.clients import AwsClients
from kudos_sync.aws.state import DynamoStateStore, list_parked_all_tenants, shard_of
from kudos_sync.domain.errors import ConcurrentWriteError
from kudos_sync.domain.ids import InvalidTenantIdError
from kudos_sync.domain.state import BindingKind, ProductLinks

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

    changed = [replace(b, fingerprint="new") for b in bindings[:100]]
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


# ---------------------------------------------------------------- versioned shard writes


def put_shards_as_written_before_versions(
    aws: AwsClients, table: str, bindings: dict[str, list[Any]]
) -> None:
    """A kind of one shard exactly as the store wrote it before shard items carried a version."""
    pk = {"S": "TENANT#acme"}
    aws.dynamodb.put_item(
        TableName=table,
        Item={"pk": pk, "sk": {"S": "BIND#product#HEADER"}, "shards": {"N": "1"}, "gen": {"N": "7"}},
    )
    blob = zlib.compress(json.dumps(bindings, separators=(",", ":")).encode("utf-8"), 6)
    aws.dynamodb.put_item(
        TableName=table,
        Item={
            "pk": pk,
            "sk": {"S": "BIND#product#G0000000000000007#S00000"},
            "gen": {"N": "7"},
            "c": {"N": str(len(bindings))},
            "b": {"B": blob},
        },
    )


def test_given_shards_written_before_versions_then_they_load_and_take_a_version_on_the_next_save(
    aws: AwsClients, table: str
) -> None:
    put_shards_as_written_before_versions(
        aws,
        table,
        {
            "STYLE-1": [
                "fp-1",
                11,
                {"category_id": 3, "category_path": "Tops", "parent": None, "type": "simple"},
            ],
            "STYLE-2": ["fp-2", 12],
        },
    )
    store = DynamoStateStore(aws.dynamodb, table, "acme")
    loaded = store.load_bindings(BindingKind.PRODUCT)
    assert loaded == {
        "STYLE-1": a_binding(
            "STYLE-1",
            fingerprint="fp-1",
            magento_id=11,
            payload=ProductLinks(type_id="simple", category_id=3, category_path="Tops", parent=None),
        ),
        "STYLE-2": a_binding("STYLE-2", fingerprint="fp-2", magento_id=12),
    }
    store.save_bindings([a_binding("STYLE-3", magento_id=13)])
    (shard,) = [i for i in items_with_prefix(aws, table, "acme", "BIND#product#G") if "b" in i]
    assert shard["v"] == {"N": "1"}, "an unversioned shard counts as version 0"
    assert set(store.load_bindings(BindingKind.PRODUCT)) == {"STYLE-1", "STYLE-2", "STYLE-3"}


def test_given_another_writer_saved_between_read_and_write_then_concurrent_write_error_and_its_save_kept(
    aws: AwsClients, table: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A writer that lost its lease (stalled past it) cannot overwrite the new holder's bindings."""
    stale = DynamoStateStore(aws.dynamodb, table, "acme", initial_shards=1)
    holder = DynamoStateStore(aws.dynamodb, table, "acme", initial_shards=1)
    stale.save_bindings([a_binding("STYLE-1", magento_id=1)])
    real_read = stale._read_shards

    def read_then_lose_the_race(*args: Any) -> Any:
        read = real_read(*args)
        holder.save_bindings([a_binding("STYLE-2", magento_id=2)])  # the new lease holder's save
        return read

    monkeypatch.setattr(stale, "_read_shards", read_then_lose_the_race)
    with pytest.raises(ConcurrentWriteError, match="another writer"):
        stale.save_bindings([a_binding("STYLE-3", magento_id=3)])
    assert set(holder.load_bindings(BindingKind.PRODUCT)) == {"STYLE-1", "STYLE-2"}


def test_given_stale_delete_then_refused_and_the_newer_bindings_stay(
    aws: AwsClients, table: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    stale = DynamoStateStore(aws.dynamodb, table, "acme", initial_shards=1)
    holder = DynamoStateStore(aws.dynamodb, table, "acme", initial_shards=1)
    stale.save_bindings([a_binding("STYLE-1", magento_id=1)])
    real_read = stale._read_shards

    def read_then_lose_the_race(*args: Any) -> Any:
        read = real_read(*args)
        holder.save_bindings([a_binding("STYLE-1", magento_id=1, fingerprint="resent")])
        return read

    monkeypatch.setattr(stale, "_read_shards", read_then_lose_the_race)
    with pytest.raises(ConcurrentWriteError):
        stale.delete_bindings(BindingKind.PRODUCT, ["STYLE-1"])
    assert holder.load_bindings(BindingKind.PRODUCT)["STYLE-1"].fingerprint == "resent"


def test_given_shard_changed_during_a_reshard_then_the_switch_is_refused_and_nothing_lost(
    aws: AwsClients, table: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    stale = DynamoStateStore(aws.dynamodb, table, "acme", initial_shards=1, shard_soft_limit=2048)
    holder = DynamoStateStore(aws.dynamodb, table, "acme", initial_shards=1, shard_soft_limit=10**6)
    stale.save_bindings(many_bindings(10))
    real_load = stale._load_packed

    def load_then_lose_the_race(kind: BindingKind) -> Any:
        loaded = real_load(kind)
        holder.save_bindings([a_binding("SKU-NEW@WEB", kind=BindingKind.STOCK)])
        return loaded

    monkeypatch.setattr(stale, "_load_packed", load_then_lose_the_race)
    with pytest.raises(ConcurrentWriteError, match="reshard"):
        stale.save_bindings(many_bindings(2_000))  # outgrows 2 KB: resharded
    assert set(holder.load_bindings(BindingKind.STOCK)) == {b.key for b in many_bindings(10)} | {
        "SKU-NEW@WEB"
    }


def test_given_two_writers_racing_on_one_shard_when_each_retries_its_conflicts_then_no_binding_is_lost(
    aws: AwsClients, table: str
) -> None:
    """Without versions, two read-modify-writes of one shard silently drop each other's bindings."""
    errors: list[BaseException] = []
    conflicts: list[str] = []
    start = threading.Barrier(2)

    def writer(name: str) -> None:
        store = DynamoStateStore(aws.dynamodb, table, "acme", initial_shards=1)
        start.wait()
        try:
            for n in range(25):
                binding = a_binding(f"{name}-{n:02d}", magento_id=n + 1)
                while True:
                    try:
                        store.save_bindings([binding])
                        break
                    except ConcurrentWriteError:
                        conflicts.append(name)  # the other writer got there first: read again
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=writer, args=(name,)) for name in ("a", "b")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    assert errors == []
    loaded = DynamoStateStore(aws.dynamodb, table, "acme").load_bindings(BindingKind.PRODUCT)
    assert set(loaded) == {f"{name}-{n:02d}" for name in "ab" for n in range(25)}
