"""RestMagentoSales against scripted responses."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from kudos_sync.domain.errors import RecordError
from kudos_sync.magento.errors import AmbiguousWriteError
from kudos_sync.magento.sales import RestMagentoSales, magento_datetime

from tests.magento.conftest import make_client
from tests.magento.stub import Reply, Seen, StubServer


def test_search_documents_filters_sorts_and_pages_in_utc(stub: StubServer) -> None:
    stub.handler = lambda seen: Reply(
        200, {"items": [{"entity_id": 1}], "total_count": 31, "search_criteria": {}}
    )
    sales = RestMagentoSales(make_client(stub.base_url, store_code="nz"))
    nz = timezone(timedelta(hours=13))
    page = sales.search_documents("creditmemos", datetime(2026, 11, 2, 9, 30, tzinfo=nz), 3, 10)
    assert page.total_count == 31 and len(page.documents) == 1
    (read,) = page.documents
    assert isinstance(read.document, RecordError), "a document missing its fields is read as why"
    assert read.document.field == "increment_id"
    assert (read.ref.key, read.ref.entity_id, read.ref.label) == ("1", 1, "credit memo (entity 1)")
    seen = stub.seen[0]
    assert seen.raw_path == "/rest/nz/V1/creditmemos"
    assert seen.params == {
        "searchCriteria[filter_groups][0][filters][0][field]": "created_at",
        "searchCriteria[filter_groups][0][filters][0][value]": "2026-11-01 20:30:00",
        "searchCriteria[filter_groups][0][filters][0][condition_type]": "gteq",
        "searchCriteria[sortOrders][0][field]": "created_at",
        "searchCriteria[sortOrders][0][direction]": "ASC",
        "searchCriteria[sortOrders][1][field]": "entity_id",
        "searchCriteria[sortOrders][1][direction]": "ASC",
        "searchCriteria[pageSize]": "10",
        "searchCriteria[currentPage]": "3",
    }
    with pytest.raises(ValueError):
        sales.search_documents("orders", datetime.now(UTC), 1, 10)  # type: ignore[arg-type]


def test_naive_datetimes_are_taken_as_utc() -> None:
    assert magento_datetime(datetime(2026, 1, 2, 3, 4, 5)) == "2026-01-02 03:04:05"


def test_get_orders_in_chunks_of_the_page_size(stub: StubServer) -> None:
    def handle(seen: Seen) -> Reply:
        ids = seen.params["searchCriteria[filter_groups][0][filters][0][value]"].split(",")
        assert seen.params["searchCriteria[filter_groups][0][filters][0][condition_type]"] == "in"
        assert seen.params["searchCriteria[pageSize]"] == str(len(ids))
        return Reply(
            200,
            {
                "items": [{"entity_id": int(i), "increment_id": f"1000{i}"} for i in ids],
                "total_count": len(ids),
            },
        )

    stub.handler = handle
    sales = RestMagentoSales(make_client(stub.base_url, page_size=100))
    orders = sales.get_orders([*range(1, 251), 5, 5])
    assert len(orders) == 250
    assert all(isinstance(order, RecordError) and order.field == "payment" for order in orders.values())
    assert str(orders[7]).startswith("order 10007 (entity 7): payment: ")
    assert len(stub.seen) == 3
    assert sales.get_orders([]) == {}


def test_add_order_comment_body_and_ambiguous_retry_check(stub: StubServer) -> None:
    stub.handler = lambda seen: Reply(200, True)
    sales = RestMagentoSales(make_client(stub.base_url))
    sales.add_order_comment(42, "Imported to CI Office as INV 1001")
    assert stub.seen[0].raw_path == "/rest/default/V1/orders/42/comments"
    assert stub.seen[0].body == {
        "statusHistory": {
            "comment": "Imported to CI Office as INV 1001",
            "is_customer_notified": 0,
            "is_visible_on_front": 0,
            "parent_id": 42,
        }
    }
    stub.handler = lambda seen: (
        Reply(502, None)
        if seen.method == "POST"
        else Reply(200, {"items": [{"comment": "Imported to CI Office as INV 1001"}], "total_count": 1})
    )
    sales.add_order_comment(42, "Imported to CI Office as INV 1001")  # found: done, no second POST
    posts = [s for s in stub.seen if s.method == "POST"]
    assert len(posts) == 2
    with pytest.raises(AmbiguousWriteError):
        sales.add_order_comment(42, "something else")
