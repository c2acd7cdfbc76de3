"""One behaviour, two implementations: the in-memory fake the core tests use and DynamoDB on moto.

If the fake passes and the adapter passes, core tests written against the fake hold in production.
Assertions that only make sense for one side (write counts, TTL attributes) say so explicitly.
"""

import threading
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass, replace
from datetime import timedelta
from typing import Any

import pytest
from kudos_sync.aws.clients import AwsClients
from kudos_sync.aws.state import DynamoStateStore
from kudos_sync.domain.errors import LeaseLostError
from kudos_sync.domain.state import (
    BindingKind,
    BindingStatus,
    Direction,
    ImageGallery,
    PendingWrite,
    ProductLinks,
    RunStatus,
)
from kudos_sync.sync.lease import Lease, LeasedState
from kudos_sync.sync.ports import StateStore

from sandbox.aws import LocalAws
from tests.contract.builders import T0, a_binding, a_cursor, a_parked, a_run, many_bindings
from tests.fakes.state import FakeClock, InMemoryStateStore

TENANT = "acme"
OTHER_TENANT = "globex"


@dataclass
class StateHarness:
    name: str
    open_store: Callable[[str], StateStore]  # another connection to the same backing store
    count_writes: Callable[[], AbstractContextManager[list[str]]] | None = None  # Dynamo: sort keys
    raw_item: Callable[[str, str], dict[str, Any] | None] | None = None  # Dynamo: (tenant, sk) -> item

    @property
    def store(self) -> StateStore:
        return self.open_store(TENANT)


@contextmanager
def counting_dynamo_writes(client: Any) -> Iterator[list[str]]:
    """The sort key of every item written (put, update, delete, batch) while the block runs."""
    written: list[str] = []

    def record(params: dict[str, Any], model: Any, **_: Any) -> None:
        if model.name == "PutItem":
            written.append(params["Item"]["sk"]["S"])
        elif model.name in ("UpdateItem", "DeleteItem"):
            written.append(params["Key"]["sk"]["S"])
        elif model.name == "TransactWriteItems":  # a ConditionCheck reads, it does not write
            for action in params["TransactItems"]:
                if "Put" in action:
                    written.append(action["Put"]["Item"]["sk"]["S"])
                elif "Delete" in action or "Update" in action:
                    written.append((action.get("Delete") or action["Update"])["Key"]["sk"]["S"])
        elif model.name == "BatchWriteItem":
            for requests in params["RequestItems"].values():
                for request in requests:
                    body = request.get("PutRequest", {}).get("Item") or request["DeleteRequest"]["Key"]
                    written.append(body["sk"]["S"])

    client.meta.events.register("before-parameter-build.dynamodb", record, unique_id="count-writes")
    try:
        yield written
    finally:
        client.meta.events.unregister("before-parameter-build.dynamodb", unique_id="count-writes")


@pytest.fixture(params=["memory", "dynamo"])
def harness(request: pytest.FixtureRequest) -> StateHarness:
    if request.param == "memory":
        stores: dict[str, InMemoryStateStore] = {}
        return StateHarness("memory", lambda tenant: stores.setdefault(tenant, InMemoryStateStore()))
    local_aws: LocalAws = request.getfixturevalue("local_aws")
    aws: AwsClients = request.getfixturevalue("aws")
    table = local_aws.new_table()

    def raw_item(tenant: str, sk: str) -> dict[str, Any] | None:
        key = {"pk": {"S": f"TENANT#{tenant}"}, "sk": {"S": sk}}
        item: dict[str, Any] | None = aws.dynamodb.get_item(
            TableName=table, Key=key, ConsistentRead=True
        ).get("Item")
        return item

    return StateHarness(
        "dynamo",
        lambda tenant: DynamoStateStore(aws.dynamodb, table, tenant),
        count_writes=lambda: counting_dynamo_writes(aws.dynamodb),
        raw_item=raw_item,
    )


# ---------------------------------------------------------------- leases


def test_given_free_lease_when_two_runs_acquire_at_once_then_exactly_one_wins(harness: StateHarness) -> None:
    def race(direction: str) -> dict[str, bool]:
        stores = [harness.open_store(TENANT), harness.open_store(TENANT)]
        barrier = threading.Barrier(2)
        results: dict[str, bool] = {}

        def acquire(holder: str, store: StateStore) -> None:
            barrier.wait()
            results[holder] = store.acquire_lease(direction, holder, T0, T0 + timedelta(minutes=14))

        threads = [threading.Thread(target=acquire, args=(f"run-{i}", s)) for i, s in enumerate(stores)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        return results

    for attempt in range(5):
        results = race(f"push{attempt}")
        assert sorted(results.values()) == [False, True], results


def test_given_held_lease_when_another_run_acquires_then_refused_and_holder_may_reacquire(
    harness: StateHarness,
) -> None:
    store = harness.store
    assert store.acquire_lease("push", "run-a", T0, T0 + timedelta(minutes=14))
    assert not harness.open_store(TENANT).acquire_lease("push", "run-b", T0 + timedelta(minutes=5), T0)
    assert store.acquire_lease("push", "run-a", T0 + timedelta(minutes=1), T0 + timedelta(minutes=20))
    assert store.acquire_lease("pull", "run-b", T0, T0 + timedelta(minutes=14)), "directions are independent"


def test_given_expired_lease_when_another_run_acquires_then_it_takes_it(harness: StateHarness) -> None:
    store = harness.store
    assert store.acquire_lease("push", "run-a", T0, T0 + timedelta(minutes=14))
    later = T0 + timedelta(minutes=15)
    assert store.acquire_lease("push", "run-b", later, later + timedelta(minutes=14))
    assert not store.renew_lease("push", "run-a", later + timedelta(minutes=30)), "the old holder lost it"
    assert store.renew_lease("push", "run-b", later + timedelta(minutes=30))


def test_given_lease_at_exact_expiry_then_it_is_free(harness: StateHarness) -> None:
    store = harness.store
    until = T0 + timedelta(minutes=14)
    assert store.acquire_lease("push", "run-a", T0, until)
    assert store.acquire_lease("push", "run-b", until, until + timedelta(minutes=14))


def test_given_held_lease_when_non_holder_releases_then_nothing_changes(harness: StateHarness) -> None:
    store = harness.store
    assert store.acquire_lease("push", "run-a", T0, T0 + timedelta(minutes=14))
    store.release_lease("push", "run-b")
    store.release_lease("pull", "run-a")  # a lease never taken: nothing to do, no error
    assert not store.acquire_lease("push", "run-b", T0 + timedelta(minutes=1), T0 + timedelta(minutes=14))
    store.release_lease("push", "run-a")
    assert store.acquire_lease("push", "run-b", T0 + timedelta(minutes=1), T0 + timedelta(minutes=14))


def test_given_lease_then_current_lease_names_its_holder_and_end_until_released(
    harness: StateHarness,
) -> None:
    store = harness.store
    assert store.current_lease("push") is None
    assert store.acquire_lease("push", "run-a", T0, T0 + timedelta(minutes=14))
    assert store.renew_lease("push", "run-a", T0 + timedelta(minutes=16))
    lease = harness.open_store(TENANT).current_lease("push")
    assert lease is not None and (lease.holder, lease.until) == ("run-a", T0 + timedelta(minutes=16))
    assert store.current_lease("pull") is None
    store.release_lease("push", "run-a")
    assert store.current_lease("push") is None


def test_given_no_lease_when_renewing_then_refused(harness: StateHarness) -> None:
    assert not harness.store.renew_lease("push", "run-a", T0 + timedelta(minutes=14))


# ---------------------------------------------------------------- bindings


def test_given_bindings_when_saved_then_loaded_back_with_ids_and_extra(harness: StateHarness) -> None:
    store = harness.store
    saved = [
        a_binding("STYLE-1", magento_id=101),
        a_binding("STYLE-2"),
        a_binding(
            "STYLE-3",
            kind=BindingKind.IMAGES,
            magento_id=None,
            status=BindingStatus.INCOMPLETE,
            payload=ImageGallery(
                first="ab12", entries={"ab12": 7, "cd34": 8}, shas={"1:10:ünïcode ✓": "ab12"}
            ),
        ),
        a_binding("size:XL", kind=BindingKind.OPTION, magento_id=55),
    ]
    store.save_bindings(saved)
    assert store.load_bindings(BindingKind.PRODUCT) == {b.key: b for b in saved[:2]}
    assert store.load_bindings(BindingKind.IMAGES) == {"STYLE-3": saved[2]}
    assert store.load_bindings(BindingKind.OPTION) == {"size:XL": saved[3]}
    assert store.load_bindings(BindingKind.PRICE) == {}


def test_given_bindings_when_saved_again_then_the_latest_wins(harness: StateHarness) -> None:
    store = harness.store
    store.save_bindings([a_binding("STYLE-1", fingerprint="v1", magento_id=1)])
    links = ProductLinks("simple", 12, "Womens/Tops", None, (("color", 4),), PendingWrite("create", (12,)))
    store.save_bindings([a_binding("STYLE-1", fingerprint="v2", magento_id=1, payload=links)])
    assert store.load_bindings(BindingKind.PRODUCT)["STYLE-1"] == a_binding(
        "STYLE-1", fingerprint="v2", magento_id=1, payload=links
    )


def test_given_many_bindings_when_few_change_then_only_their_shards_are_rewritten(
    harness: StateHarness,
) -> None:
    store = harness.store
    first = many_bindings(1_000)
    store.save_bindings(first)
    changed = [replace(b, fingerprint="changed") for b in first[10:13]]
    second = first[:10] + changed + first[13:]

    if harness.count_writes is None:
        store.save_bindings(second)
    else:
        with harness.count_writes() as written:
            store.save_bindings(second)
        shard_writes = [sk for sk in written if "#S" in sk]
        assert 1 <= len(shard_writes) <= 3, written
        assert written == shard_writes, "no header or other item is touched"
        with harness.count_writes() as written:
            store.save_bindings(second)
        assert written == [], "saving unchanged bindings writes nothing"

    assert store.load_bindings(BindingKind.STOCK) == {b.key: b for b in second}


def test_given_bindings_when_all_of_a_kind_deleted_then_none_left_and_count_returned(
    harness: StateHarness,
) -> None:
    store = harness.store
    store.save_bindings(many_bindings(300))
    store.save_bindings([a_binding("STYLE-1")])
    assert store.delete_bindings(BindingKind.STOCK) == 300
    assert store.load_bindings(BindingKind.STOCK) == {}
    assert store.load_bindings(BindingKind.PRODUCT) == {"STYLE-1": a_binding("STYLE-1")}
    assert store.delete_bindings(BindingKind.STOCK) == 0
    store.save_bindings(many_bindings(5))
    assert len(store.load_bindings(BindingKind.STOCK)) == 5, "a deleted kind can be written again"


def test_given_bindings_when_some_deleted_then_only_those_go(harness: StateHarness) -> None:
    store = harness.store
    bindings = many_bindings(200)
    store.save_bindings(bindings)
    doomed = [b.key for b in bindings[:50]] + ["NOT-THERE"]
    assert store.delete_bindings(BindingKind.STOCK, doomed) == 50
    assert store.load_bindings(BindingKind.STOCK) == {b.key: b for b in bindings[50:]}
    assert store.delete_bindings(BindingKind.STOCK, []) == 0
    assert store.delete_bindings(BindingKind.PRICE, ["SKU-000060@WEB"]) == 0


def test_given_twenty_thousand_bindings_when_saved_then_all_load_back(harness: StateHarness) -> None:
    store = harness.store
    bindings = many_bindings(20_000)
    store.save_bindings(bindings)
    assert store.load_bindings(BindingKind.STOCK) == {b.key: b for b in bindings}
    newer = many_bindings(20_000, version=2)
    store.save_bindings(newer)
    assert store.load_bindings(BindingKind.STOCK) == {b.key: b for b in newer}


# ---------------------------------------------------------------- cursors


def test_given_no_cursor_then_none_and_a_saved_cursor_round_trips(harness: StateHarness) -> None:
    store = harness.store
    assert store.get_cursor("invoices") is None
    store.save_cursor(a_cursor("invoices", minutes=5, entity_id=41, seen=(40, 41)))
    store.save_cursor(a_cursor("creditmemos", minutes=1, entity_id=7))
    store.save_cursor(a_cursor("invoices", minutes=9, entity_id=45, seen=(44, 45)))
    assert store.get_cursor("invoices") == a_cursor("invoices", minutes=9, entity_id=45, seen=(44, 45))
    assert store.get_cursor("creditmemos") == a_cursor("creditmemos", minutes=1, entity_id=7)


# ---------------------------------------------------------------- parked records


def test_given_record_parked_again_then_first_seen_kept_and_attempts_counted(harness: StateHarness) -> None:
    store = harness.store
    store.park(a_parked("products", "STYLE-1", at=T0))
    store.park(a_parked("products", "STYLE-1", at=T0 + timedelta(minutes=15), reason="still broken"))
    store.park(a_parked("products", "STYLE-1", at=T0 + timedelta(minutes=30), reason="broken again"))
    (record,) = store.list_parked()
    assert record.attempts == 3
    assert record.first_seen == T0
    assert record.last_seen == T0 + timedelta(minutes=30)
    assert record.reason == "broken again"
    assert record.payload == {"sku": "STYLE-1", "price": "12.50"}


def test_given_new_record_parked_with_attempts_then_its_count_is_kept(harness: StateHarness) -> None:
    store = harness.store
    store.park(a_parked("invoices", "INV-9", attempts=4))
    assert store.list_parked("invoices")[0].attempts == 4
    store.park(a_parked("invoices", "INV-9", attempts=1))
    assert store.list_parked("invoices")[0].attempts == 5


def test_given_parked_records_then_listed_by_stream_in_key_order(harness: StateHarness) -> None:
    store = harness.store
    parked = [("stock", "B@WEB"), ("products", "STYLE-2"), ("stock", "A@WEB"), ("products", "STYLE-1")]
    for stream, key in parked:
        store.park(a_parked(stream, key))
    assert [(r.stream, r.key) for r in store.list_parked("stock")] == [("stock", "A@WEB"), ("stock", "B@WEB")]
    assert [(r.stream, r.key) for r in store.list_parked()] == [
        ("products", "STYLE-1"),
        ("products", "STYLE-2"),
        ("stock", "A@WEB"),
        ("stock", "B@WEB"),
    ]
    assert store.list_parked("invoices") == []


def test_given_parked_record_when_unparked_then_gone(harness: StateHarness) -> None:
    store = harness.store
    store.park(a_parked("products", "STYLE-1"))
    store.park(a_parked("products", "STYLE-2"))
    store.unpark("products", "STYLE-1")
    store.unpark("products", "NEVER-PARKED")
    assert [r.key for r in store.list_parked("products")] == ["STYLE-2"]
    store.park(a_parked("products", "STYLE-1", at=T0 + timedelta(hours=1)))
    fresh = next(r for r in store.list_parked() if r.key == "STYLE-1")
    assert (fresh.attempts, fresh.first_seen) == (1, T0 + timedelta(hours=1)), "parking again starts afresh"


# ---------------------------------------------------------------- runs


def test_given_runs_then_listed_newest_first_with_limit_and_direction(harness: StateHarness) -> None:
    store = harness.store
    for minutes in (0, 30, 15, 45):
        store.save_run(a_run(TENANT, direction=Direction.PUSH, minutes=minutes))
    for minutes in (10, 50):
        store.save_run(a_run(TENANT, direction=Direction.PULL, minutes=minutes))
    assert [r.started_at for r in store.list_runs("push", limit=3)] == [
        T0 + timedelta(minutes=m) for m in (45, 30, 15)
    ]
    assert [(r.direction, r.started_at) for r in store.list_runs(limit=3)] == [
        (Direction.PULL, T0 + timedelta(minutes=50)),
        (Direction.PUSH, T0 + timedelta(minutes=45)),
        (Direction.PUSH, T0 + timedelta(minutes=30)),
    ]
    assert len(store.list_runs()) == 6
    assert store.list_runs("pull")[0] == a_run(TENANT, direction=Direction.PULL, minutes=50)


def test_given_run_saved_twice_then_the_later_state_replaces_it(harness: StateHarness) -> None:
    store = harness.store
    store.save_run(a_run(TENANT, minutes=5, run_id="r-1", status=RunStatus.PARTIAL))
    store.save_run(a_run(TENANT, minutes=5, run_id="r-1", status=RunStatus.SUCCEEDED))
    (run,) = store.list_runs()
    assert run.status is RunStatus.SUCCEEDED


def test_given_saved_run_then_it_expires_after_thirty_days(harness: StateHarness) -> None:
    if harness.raw_item is None:
        pytest.skip("the in-memory fake keeps runs for the life of the process; TTL is DynamoDB's")
    run = a_run(TENANT, minutes=5, run_id="r-ttl")
    harness.store.save_run(run)
    assert run.finished_at is not None
    sk = f"RUN#push#{run.started_at.strftime('%Y-%m-%dT%H:%M:%S.%fZ')}#r-ttl"
    item = harness.raw_item(TENANT, sk)
    assert item is not None
    expected = int((run.finished_at + timedelta(days=30)).timestamp())
    assert int(item["expires_at"]["N"]) == expected


# ---------------------------------------------------------------- tenants


def test_given_two_tenants_on_one_table_then_neither_sees_the_other(harness: StateHarness) -> None:
    acme, globex = harness.open_store(TENANT), harness.open_store(OTHER_TENANT)
    acme.save_bindings([*many_bindings(50), a_binding("STYLE-1", magento_id=1)])
    acme.save_cursor(a_cursor("invoices", minutes=3))
    acme.park(a_parked("products", "STYLE-1"))
    acme.save_run(a_run(TENANT))
    assert acme.acquire_lease("push", "run-a", T0, T0 + timedelta(minutes=14))

    assert globex.load_bindings(BindingKind.STOCK) == {}
    assert globex.load_bindings(BindingKind.PRODUCT) == {}
    assert globex.get_cursor("invoices") is None
    assert globex.list_parked() == []
    assert globex.list_runs() == []
    assert globex.acquire_lease("push", "run-b", T0, T0 + timedelta(minutes=14))
    assert globex.delete_bindings(BindingKind.STOCK) == 0
    globex.unpark("products", "STYLE-1")
    globex.release_lease("push", "run-a")

    assert len(acme.load_bindings(BindingKind.STOCK)) == 50
    assert len(acme.list_parked()) == 1
    assert not acme.acquire_lease("push", "run-c", T0, T0 + timedelta(minutes=14))


def test_given_a_run_keeping_its_lease_then_renewed_and_once_taken_over_its_writes_stop(
    harness: StateHarness,
) -> None:
    clock = FakeClock(T0)
    lease = Lease(harness.store, TENANT, Direction.PUSH, "run-a", clock, 960)
    assert lease.acquire()
    clock.advance(seconds=320)  # a third of the lease
    assert lease.keep() and lease.renewals == 1
    renewed = harness.open_store(TENANT).current_lease("push")
    assert renewed is not None and renewed.until == clock.current + timedelta(seconds=960)
    clock.advance(seconds=961)  # stalled past its lease: another run takes it
    later = clock.current
    assert harness.open_store(TENANT).acquire_lease("push", "run-b", later, later + timedelta(minutes=16))
    with pytest.raises(LeaseLostError):
        LeasedState(harness.store, lease).save_bindings([a_binding("STYLE-1")])
    assert harness.store.load_bindings(BindingKind.PRODUCT) == {}
    current = harness.store.current_lease("push")
    assert current is not None and current.holder == "run-b"
