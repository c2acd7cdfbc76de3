"""One behaviour, two implementations of the MagentoSales port: the in-memory fake the pull tests use,
and `RestMagentoSales` against the Magento sandbox over real HTTP.

Each case arranges orders, invoices and credit memos in a sandbox store (as checkout and the admin
would); the fake is then given exactly the JSON the store serves, so both sides answer from the same
documents and any difference is a difference in behaviour: filtering and ordering, paging, parsing into
domain types, batched order reads, re-reading a parked payload, comments.
"""

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from kudos_sync.config import SyncSettings
from kudos_sync.domain.errors import RecordError
from kudos_sync.domain.sales import MagentoCreditMemo, MagentoInvoice, MagentoOrder
from kudos_sync.magento.client import MagentoClient
from kudos_sync.magento.sales import RestMagentoSales
from kudos_sync.magento.search import SearchCriteria, encode_search_criteria
from kudos_sync.sync.ports import MagentoSales, ReadDocument

from sandbox.magento import MagentoSandbox, SandboxOptions
from tests.fakes.sales import Built, FakeMagentoSales
from tests.magento.conftest import magento_settings

START = datetime(2026, 11, 1, 9, 0, tzinfo=UTC)


@dataclass
class SalesHarness:
    name: str
    store: MagentoSandbox
    sales: MagentoSales
    publish: Callable[[], None]  # after arranging: the fake learns what the store holds
    comments: Callable[[int], list[str]]  # comments on an order


def _client(store: MagentoSandbox, page_size: int = 2) -> MagentoClient:
    return MagentoClient(magento_settings(store.base_url), SyncSettings(page_size=page_size))


def _everything(client: MagentoClient, path: str) -> list[dict[str, Any]]:
    body = client.get(path, query=encode_search_criteria(SearchCriteria(page_size=1000, current_page=1)))
    return [dict(item) for item in body["items"]]  # type: ignore[index]


@pytest.fixture(params=["fake", "sandbox"])
def harness(request: pytest.FixtureRequest) -> Iterator[SalesHarness]:
    with MagentoSandbox(SandboxOptions()) as store:
        store.catalog.add_product("TEE-1", "Crew Tee", 20)
        store.catalog.add_product("BAG-1", "Canvas Tote", 30)
        if request.param == "sandbox":
            with _client(store) as client:
                sales = RestMagentoSales(client)

                def comments(order_id: int) -> list[str]:
                    history = client.get(f"/V1/orders/{order_id}")["status_histories"]  # type: ignore[index]
                    return [entry["comment"] for entry in history]

                yield SalesHarness("sandbox", store, sales, lambda: None, comments)
            return
        fake = FakeMagentoSales(order_batch_size=2)

        def publish() -> None:
            with _client(store) as client:
                orders = {order["entity_id"]: order for order in _everything(client, "/V1/orders")}
                for stream in ("invoices", "creditmemos"):
                    for document in _everything(client, f"/V1/{stream}"):
                        fake.add(Built(stream, document, orders[document["order_id"]]))  # type: ignore[arg-type]

        def fake_comments(order_id: int) -> list[str]:
            return [comment for order, comment in fake.comments if order == order_id]

        yield SalesHarness("fake", store, fake, publish, fake_comments)


def place_invoiced_orders(store: MagentoSandbox, count: int) -> list[int]:
    order_ids = []
    for i in range(count):
        order = store.sales.place_order(
            [("TEE-1", 1), ("BAG-1", 2)], f"guest{i}@example.com", created_at=START + timedelta(minutes=i)
        )
        store.sales.invoice(order.entity_id, created_at=START + timedelta(minutes=i, seconds=30))
        order_ids.append(order.entity_id)
    return order_ids


def read_all(sales: MagentoSales, stream: Any, created_from: datetime, page_size: int) -> list[ReadDocument]:
    found: list[ReadDocument] = []
    page = 1
    while True:
        result = sales.search_documents(stream, created_from, page, page_size)
        found += result.documents
        if not result.documents or page * page_size >= result.total_count:
            return found
        page += 1


def test_given_invoices_then_read_from_a_time_in_created_order_page_by_page_as_domain_documents(
    harness: SalesHarness,
) -> None:
    order_ids = place_invoiced_orders(harness.store, 5)
    harness.publish()
    first = harness.sales.search_documents("invoices", START + timedelta(minutes=1), 1, 2)
    assert first.total_count == 4, "created_at >= the time asked"
    read = read_all(harness.sales, "invoices", START + timedelta(minutes=1), 2)
    documents = [r.document for r in read]
    assert all(isinstance(d, MagentoInvoice) for d in documents)
    assert [d.order_id for d in documents] == order_ids[1:]  # type: ignore[union-attr]
    assert [(r.ref.created_at, r.ref.entity_id) for r in read] == sorted(
        (d.created_at, d.entity_id)
        for d in documents  # type: ignore[union-attr]
    )
    assert all(r.ref.created_at and r.ref.created_at.tzinfo is UTC for r in read)
    assert [r.ref.key for r in read] == [str(d.entity_id) for d in documents]  # type: ignore[union-attr]
    invoice = documents[0]
    assert isinstance(invoice, MagentoInvoice)
    assert read[0].ref.label == invoice.label
    assert {item.sku for item in invoice.items} == {"TEE-1", "BAG-1"}
    beyond = harness.sales.search_documents("invoices", START + timedelta(minutes=1), 9, 2)
    assert beyond.documents == [] and beyond.total_count == 4, "a page past the end is empty"


def test_given_a_refund_then_credit_memos_are_their_own_stream(harness: SalesHarness) -> None:
    order_ids = place_invoiced_orders(harness.store, 2)
    harness.store.sales.refund(order_ids[0], created_at=START + timedelta(hours=1))
    harness.publish()
    (memo,) = read_all(harness.sales, "creditmemos", START, 10)
    assert isinstance(memo.document, MagentoCreditMemo) and memo.document.order_id == order_ids[0]
    assert read_all(harness.sales, "creditmemos", START + timedelta(hours=2), 10) == []


def test_given_order_ids_then_orders_read_in_batches_and_unknown_ids_absent(harness: SalesHarness) -> None:
    order_ids = place_invoiced_orders(harness.store, 3)
    harness.publish()
    orders = harness.sales.get_orders([*order_ids, 999_999, order_ids[0]])
    assert sorted(orders) == sorted(order_ids)
    assert all(isinstance(order, MagentoOrder) and order.entity_id == key for key, order in orders.items())
    assert harness.sales.get_orders([]) == {}


def test_given_a_kept_payload_then_reread_gives_the_same_document_without_a_search(
    harness: SalesHarness,
) -> None:
    place_invoiced_orders(harness.store, 1)
    harness.publish()
    (read,) = read_all(harness.sales, "invoices", START, 10)
    again = harness.sales.reread_parked("invoices", read.payload)
    assert again.document == read.document and again.ref == read.ref
    broken = dict(read.payload, items=[{**read.payload["items"][0], "qty": "two"}])
    reread = harness.sales.reread_parked("invoices", broken)
    assert isinstance(reread.document, RecordError) and reread.document.field == "items[0].qty"
    assert reread.ref.key == read.ref.key, "a broken document keeps its place and its parking key"


def test_given_an_imported_document_then_a_comment_is_added_to_its_order(harness: SalesHarness) -> None:
    (order_id,) = place_invoiced_orders(harness.store, 1)
    harness.publish()
    harness.sales.add_order_comment(order_id, "Imported into CI Office as invoice W000001")
    assert "Imported into CI Office as invoice W000001" in harness.comments(order_id)
