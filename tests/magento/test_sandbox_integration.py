"""The Magento adapter against the Magento sandbox over real HTTP, with the schema recorder on.

Every test builds its own sandbox (parallel-safe) and ends by asserting that no request it sent broke
the 2.4.7 schema.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
import requests
from kudos_sync.config import BearerAuth, OAuthAuth, SyncSettings
from kudos_sync.domain.errors import ConfigurationError
from kudos_sync.magento.catalog import RestMagentoCatalog
from kudos_sync.magento.client import MagentoClient, RetryPolicy
from kudos_sync.magento.sales import RestMagentoSales
from kudos_sync.sync.ports import MediaUpload, PriceRow, ProductWrite, SourceItemRow

from sandbox.magento import MagentoSandbox, SandboxOptions
from tests.magento.conftest import Sleeps, magento_settings

JPEG = bytes.fromhex(
    "ffd8ffe000104a46494600010100000100010000ffdb004300080606070605080707070909080a0c140d0c0b0b0c1912130f141d1a"
    "1f1e1d1a1c1c20242e2720222c231c1c2837292c30313434341f27393d38323c2e333432ffc0000b080001000101011100ffc4001f"
    "0000010501010101010100000000000000000102030405060708090a0bffc400b5100002010303020403050504040000017d01020300"
    "041105122131410613516107227114328191a1082342b1c11552d1f02433627282090a161718191a25262728292a3435363738393a"
    "434445464748494a535455565758595a636465666768696a737475767778797a838485868788898a92939495969798999aa2a3a4a5"
    "a6a7a8a9aab2b3b4b5b6b7b8b9bac2c3c4c5c6c7c8c9cad2d3d4d5d6d7d8d9dae1e2e3e4e5e6e7e8e9eaf1f2f3f4f5f6f7f8f9faffda"
    "0008010100003f00fbd3ffd9"
)


class RecordingSession(requests.Session):
    """A session that keeps the Authorization header of every request it sends."""

    def __init__(self) -> None:
        super().__init__()
        self.authorizations: list[str] = []
        self._lock = threading.Lock()

    def send(self, request: requests.PreparedRequest, **kwargs: Any) -> requests.Response:  # type: ignore[override]
        with self._lock:
            self.authorizations.append(str(request.headers.get("Authorization", "")))
        return super().send(request, **kwargs)


class FaultOnceSession(requests.Session):
    """Turns the store's injected faults off once the next request has been answered (or dropped)."""

    def __init__(self, store: Any) -> None:
        super().__init__()
        self.store = store

    def send(self, request: requests.PreparedRequest, **kwargs: Any) -> requests.Response:  # type: ignore[override]
        try:
            return super().send(request, **kwargs)
        finally:
            self.store.set_faults(0.0)


@pytest.fixture
def store() -> Iterator[Any]:
    with MagentoSandbox(SandboxOptions(record=True, sources=("web", "akl"))) as running:
        yield running
        requests_violations = [v for v in running.schema_violations if v["direction"] == "request"]
        assert requests_violations == []


def client_for(
    store: Any,
    *,
    sleep: Callable[[float], None] | None = None,
    concurrency: int = 4,
    batch_size: int = 50,
    page_size: int = 50,
    session: requests.Session | None = None,
    retry: RetryPolicy | None = None,
    **settings: Any,
) -> MagentoClient:
    return MagentoClient(
        magento_settings(store.base_url, **settings),
        SyncSettings(concurrency=concurrency, batch_size=batch_size, page_size=page_size),
        session=session,
        sleep=sleep or Sleeps(),
        retry=retry,
    )


def simple(sku: str, name: str, url_key: str | None = None, **options: int) -> ProductWrite:
    url_key = url_key or sku.lower().replace("/", "-")
    return ProductWrite(
        sku=sku,
        type_id="simple",
        name=name,
        enabled=True,
        visibility=4,
        price=Decimal("20.00"),
        url_key=url_key,
        options=tuple(options.items()),
    )


def rest_get(store: Any, path: str) -> Any:
    """Read back through the sandbox's own REST surface with a fresh client."""
    with client_for(store) as reader:
        return reader.get(path)


# ------------------------------------------------------------------ auth


def test_oauth_requests_are_accepted_and_never_signed_with_sha1(store: Any) -> None:
    session = RecordingSession()
    with client_for(store, session=session) as client:
        catalog = RestMagentoCatalog(client)
        assert catalog.save_products([simple("A-1", "Alpha")])[0].magento_id
        assert catalog.find_products(["A-1", "nope"]).keys() == {"A-1"}
        catalog.list_categories(2)
    assert len(session.authorizations) >= 3
    assert all("HMAC-SHA256" in a for a in session.authorizations)
    assert not any("SHA1" in a.replace("SHA256", "") for a in session.authorizations)


def test_wrong_oauth_secret_is_a_configuration_error(store: Any) -> None:
    bad = OAuthAuth(
        consumer_key="demo-consumer-key",
        consumer_secret="wrong",
        access_token="demo-access-token",
        access_token_secret="demo-token-secret",
    )
    with client_for(store, auth=bad) as client, pytest.raises(ConfigurationError) as caught:
        RestMagentoCatalog(client).find_products(["A"])
    assert "wrong" not in str(caught.value)
    assert sum(store.stats()["requests"].values()) == 1  # no retry


def test_bearer_token_refused_by_default_since_2_4_4(store: Any) -> None:
    with (
        client_for(store, auth=BearerAuth(token="demo-access-token")) as client,
        pytest.raises(ConfigurationError) as caught,
    ):
        RestMagentoSales(client).get_orders([1])
    message = str(caught.value)
    assert "2.4.4" in message and "enable_integration_as_bearer" in message
    assert "demo-access-token" not in message


def test_bearer_token_works_when_the_store_allows_it() -> None:
    with (
        MagentoSandbox(SandboxOptions(allow_bearer=True)) as running,
        client_for(running, auth=BearerAuth(token="demo-access-token")) as client,
    ):
        assert RestMagentoSales(client).get_orders([1]) == {}


# ------------------------------------------------------------------ retries


def test_429_retry_after_is_honoured_then_the_call_succeeds(store: Any) -> None:
    slept: list[float] = []

    def sleep(seconds: float) -> None:
        slept.append(seconds)
        store.set_faults(0.0)  # the store recovers while we wait

    store.set_faults(1.0, ["429"])
    with client_for(store, sleep=sleep) as client:
        failures = RestMagentoCatalog(client).save_source_items(
            [SourceItemRow(sku="X-1", source_code="web", quantity=Decimal(3), in_stock=True)]
        )
        assert client.limiter.limit < client.limiter.maximum
    assert failures == []
    assert slept and slept[0] >= 1.0  # the sandbox sends Retry-After: 1
    assert store.stats()["faults"] == {"429": 1}
    assert store.store.source_item("X-1", "web").quantity == 3


def test_deadlock_400_is_retried_and_the_product_saved_once(store: Any) -> None:
    store.set_faults(1.0, ["deadlock"])
    with client_for(store, sleep=lambda s: store.set_faults(0.0)) as client:
        [outcome] = RestMagentoCatalog(client).save_products([simple("D-1", "Delta")])
    assert outcome.error is None and outcome.magento_id
    assert store.stats()["faults"] == {"deadlock": 1}
    assert [p.sku for p in store.store.products.values()] == ["D-1"]


def test_dropped_connection_after_a_product_save_is_retried_safely(store: Any) -> None:
    store.set_faults(1.0, ["drop_after"])
    with client_for(store, sleep=lambda s: store.set_faults(0.0)) as client:
        [outcome] = RestMagentoCatalog(client).save_products([simple("U-1", "Upsert")])
    assert outcome.magento_id
    assert len(store.store.products) == 1  # the repeat updated the same product


def test_dropped_connection_after_a_media_upload_finds_the_entry_instead_of_uploading_twice(
    store: Any,
) -> None:
    with client_for(store) as setup:
        RestMagentoCatalog(setup).save_products([simple("M-1", "Media")])
    with client_for(store, session=FaultOnceSession(store)) as client:
        catalog = RestMagentoCatalog(client)
        upload = MediaUpload(
            sha256="ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff",
            title="M-1 1",
            position=1,
            main=True,
            content_type="image/jpeg",
            file_name="m1.jpg",
            data=JPEG,
        )
        store.set_faults(1.0, ["drop_after"])
        entry_id = catalog.add_media("M-1", upload)
        entries = catalog.list_media("M-1")
    assert store.stats()["faults"] == {"drop_after": 1}
    assert store.stats()["requests"]["POST /V1/products/{sku}/media"] == 1
    assert [(e.entry_id, e.sha256) for e in entries] == [
        (entry_id, "ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff")
    ]


# ------------------------------------------------------------------ catalogue


def test_catalogue_round_trip_with_configurable_products_categories_and_a_slash_sku(store: Any) -> None:
    with client_for(store) as client:
        catalog = RestMagentoCatalog(client)
        red = catalog.add_attribute_option("color", "Red")
        assert catalog.add_attribute_option("color", "Red") == red  # existing label, no duplicate
        small = catalog.add_attribute_option("size", "S")
        assert catalog.list_attribute_options("color")["Red"] == red

        womens = catalog.create_category(2, "Womens")
        dresses = catalog.create_category(womens, "Dresses")
        nodes = {(n.name, n.parent_id) for n in catalog.list_categories(2)}
        assert {("Womens", 2), ("Dresses", womens)} <= nodes

        child = simple("TEE/1-RED-S", "Crew Tee Red S", color=red, size=small)
        child = child.model_copy(update={"visibility": 1, "category_ids": (dresses,)})
        parent = ProductWrite(
            sku="TEE/1",
            type_id="configurable",
            name="Crew Tee",
            enabled=True,
            visibility=4,
            url_key="crew-tee-tee-1",
            category_ids=(womens, dresses),
            configurable_options={"color": (red,), "size": (small,)},
            child_skus=("TEE/1-RED-S",),
        )
        outcomes = catalog.save_products([parent, child])
        assert all(o.error is None and o.magento_id for o in outcomes), outcomes
        found = catalog.find_products(["TEE/1", "TEE/1-RED-S"])
        assert found == {"TEE/1": outcomes[0].magento_id, "TEE/1-RED-S": outcomes[1].magento_id}

        product = rest_get(store, "/V1/products/TEE%2F1")
        assert product["sku"] == "TEE/1"
        ext = product["extension_attributes"]
        assert ext["configurable_product_links"] == [outcomes[1].magento_id]
        assert {int(link["category_id"]) for link in ext["category_links"]} == {womens, dresses}

        upload = MediaUpload(
            sha256="aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
            title="TEE/1 1",
            position=1,
            main=True,
            content_type="image/jpeg",
            file_name="tee.jpg",
            data=JPEG,
        )
        entry = catalog.add_media("TEE/1", upload)
        assert [(m.entry_id, m.sha256) for m in catalog.list_media("TEE/1")] == [
            (entry, "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa")
        ]
        catalog.delete_media("TEE/1", entry)
        catalog.delete_media("TEE/1", entry)  # already gone: fine
        assert catalog.list_media("TEE/1") == []

        catalog.unlink_category(dresses, "TEE/1")
        catalog.unlink_category(dresses, "TEE/1")  # already gone: fine
        catalog.unlink_child("TEE/1", "TEE/1-RED-S")
        catalog.unlink_child("TEE/1", "TEE/1-RED-S")
        product = rest_get(store, "/V1/products/TEE%2F1")
        assert product["extension_attributes"].get("configurable_product_links", []) == []
        assert {int(link["category_id"]) for link in product["extension_attributes"]["category_links"]} == {
            womens
        }
        # The repeat save of an unchanged product is an upsert, not a duplicate.
        again = catalog.save_products([child])
        assert again[0].magento_id == outcomes[1].magento_id
    assert len(store.store.products) == 2


def test_product_writes_are_global_scope(store: Any) -> None:
    with client_for(store) as client:
        RestMagentoCatalog(client).save_products([simple("G-1", "Global Name")])
    product = store.store.product_by_sku("G-1")
    assert product.values["name"] == "Global Name" and product.store_values == {}


def test_url_key_conflict_is_a_record_outcome_naming_url_key(store: Any) -> None:
    with client_for(store) as client:
        outcomes = RestMagentoCatalog(client).save_products(
            [simple("C-1", "Crew Tee", url_key="crew-tee"), simple("C-2", "Crew Tee", url_key="crew-tee")]
        )
    errors = [o for o in outcomes if o.error]
    assert len(errors) == 1 and errors[0].field == "url_key"
    assert "URL key" in (errors[0].error or "") and "%" not in (errors[0].error or "")


def test_price_failure_rows_become_row_failures_with_filled_messages(store: Any) -> None:
    with client_for(store, batch_size=3) as client:
        catalog = RestMagentoCatalog(client)
        catalog.save_products([simple(f"P-{i}", f"Priced {i}") for i in range(5)])
        rows = [PriceRow(sku=f"P-{i}", price=Decimal("12.50")) for i in range(5)]
        rows += [
            PriceRow(sku="UNKNOWN", price=Decimal("1")),
            PriceRow(sku="P-1", price=Decimal("-3")),
            PriceRow(sku="P-2", price=Decimal("9"), store_id=99),
        ]
        failures = catalog.save_base_prices(rows)
    by_sku = {f.sku: f.message for f in failures}
    assert set(by_sku) == {"UNKNOWN", "P-1", "P-2"}
    assert all("%" not in m for m in by_sku.values())
    assert "UNKNOWN" in by_sku["UNKNOWN"] and "99" in by_sku["P-2"]
    assert store.store.product_by_sku("P-0").values["price"] == Decimal("12.50")
    assert store.store.product_by_sku("P-4").values["price"] == Decimal("12.50")


def test_special_prices_save_and_delete(store: Any) -> None:
    with client_for(store) as client:
        catalog = RestMagentoCatalog(client)
        catalog.save_products([simple("S-1", "Sale"), simple("S-2", "Sale Two")])
        rows = [
            PriceRow(
                sku="S-1", price=Decimal("15"), price_from=date(2026, 12, 1), price_to=date(2026, 12, 31)
            ),
            PriceRow(sku="S-2", price=Decimal("16")),
        ]
        assert catalog.save_special_prices(rows) == []
        assert len(store.store.special_prices) == 2
        assert catalog.delete_special_prices(rows) == []
        assert store.store.special_prices == {}


def test_one_bad_sku_in_a_source_items_batch_fails_alone_and_the_rest_are_saved() -> None:
    with MagentoSandbox(SandboxOptions(record=True, sources=("web",), strict_source_items=True)) as running:
        with client_for(running, batch_size=8) as client:
            catalog = RestMagentoCatalog(client)
            catalog.save_products([simple(f"Q-{i}", f"Stocked {i}") for i in range(11)])
            rows = [
                SourceItemRow(sku=f"Q-{i}", source_code="web", quantity=Decimal(i), in_stock=i > 0)
                for i in range(11)
            ]
            rows.insert(
                5, SourceItemRow(sku="NOT-THERE", source_code="web", quantity=Decimal(1), in_stock=True)
            )
            running.reset_stats()
            failures = catalog.save_source_items(rows)
        assert [(f.sku, f.source_code) for f in failures] == [("NOT-THERE", "web")]
        assert "NOT-THERE" in failures[0].message and "%" not in failures[0].message
        for i in range(11):
            item = running.store.source_item(f"Q-{i}", "web")
            assert item is not None and item.quantity == i and item.status == (1 if i > 0 else 0)
        assert running.store.source_item("NOT-THERE", "web") is None
        # 2 batches; the bad one (8 items) splits 8 -> 4+4 -> 2+2 -> 1+1: 2 + 2 + 2 + 2 requests
        assert running.stats()["requests"]["POST /V1/inventory/source-items"] <= 8
        assert [v for v in running.schema_violations if v["direction"] == "request"] == []


def test_client_stats_agree_with_what_the_store_served(store: Any) -> None:
    with client_for(store, batch_size=4) as client:
        catalog = RestMagentoCatalog(client)
        catalog.save_products([simple(f"T-{i}", f"Counted {i}") for i in range(6)])
        catalog.save_base_prices([PriceRow(sku=f"T-{i}", price=Decimal(5)) for i in range(6)])
        catalog.find_products([f"T-{i}" for i in range(6)])
        ours = client.stats.details()
    theirs = store.stats()
    for endpoint in ("POST /V1/products", "POST /V1/products/base-prices", "GET /V1/products"):
        assert ours[endpoint].requests == theirs["requests"][endpoint], endpoint
    assert (
        ours["POST /V1/products/base-prices"].items == theirs["items"]["POST /V1/products/base-prices"] == 6
    )
    assert ours["POST /V1/products"].requests == 6


def test_concurrency_never_exceeds_the_limit_against_a_slow_store() -> None:
    with (
        MagentoSandbox(SandboxOptions(latency_ms=20, workers=16)) as running,
        client_for(running, concurrency=3) as client,
    ):
        RestMagentoCatalog(client).save_products([simple(f"L-{i}", f"Limited {i}") for i in range(12)])
        assert 1 <= client.limiter.peak <= 3


# ------------------------------------------------------------------ sales


def test_documents_are_paged_in_order_and_orders_fetched_in_batches(store: Any) -> None:
    with client_for(store) as client:
        RestMagentoCatalog(client).save_products([simple("O-1", "Orderable")])
    start = datetime(2026, 11, 1, 9, 0, tzinfo=UTC)
    order_ids = []
    for i in range(5):
        order = store.sales.place_order(
            [("O-1", 1)], f"guest{i}@example.com", created_at=start + timedelta(minutes=i)
        )
        store.sales.invoice(order.entity_id, created_at=start + timedelta(minutes=i, seconds=30))
        order_ids.append(order.entity_id)
    store.sales.refund(order_ids[0], created_at=start + timedelta(hours=1))

    with client_for(store, page_size=2) as client:
        sales = RestMagentoSales(client)
        seen: list[Any] = []
        page = 1
        while True:
            result = sales.search_documents("invoices", start + timedelta(minutes=1), page, 2)
            seen += [read.document for read in result.documents]
            if page * 2 >= result.total_count:
                break
            page += 1
        assert [d.order_id for d in seen] == order_ids[1:]  # parsed: domain documents, not JSON
        created = [(d.created_at, d.entity_id) for d in seen]
        assert created == sorted(created)
        memos = sales.search_documents("creditmemos", start, 1, 10)
        assert memos.total_count == 1 and memos.documents[0].document.order_id == order_ids[0]  # type: ignore[union-attr]

        orders = sales.get_orders([*order_ids, 999_999])
        assert sorted(orders) == sorted(order_ids)
        assert all(order.entity_id == key for key, order in orders.items())  # type: ignore[union-attr]
        assert client.stats.details()["GET /V1/orders"].requests == 3  # 6 ids in chunks of 2

        sales.add_order_comment(order_ids[0], "Imported to CI Office as invoice 1001")
        history = rest_get(store, f"/V1/orders/{order_ids[0]}")["status_histories"]
        assert any(h["comment"] == "Imported to CI Office as invoice 1001" for h in history)
