"""The order-comment write-back and its recovery after an ambiguous failure, against the sandbox.

``RestMagentoSales.add_order_comment`` is not repeatable; when the answer is lost it reads
``GET /V1/orders/{id}/comments`` and counts the write as done when the comment is there.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import requests
from kudos_sync.config import SyncSettings
from kudos_sync.magento.client import AmbiguousWriteError, MagentoClient
from kudos_sync.magento.sales import RestMagentoSales

from sandbox.magento import MagentoSandbox, SandboxOptions
from tests.magento.conftest import Sleeps, magento_settings

COMMENT = "Imported to CI Office as invoice 1001"


class FaultsOffAfterOne(requests.Session):
    """Turns the store's injected faults off once the next request has been answered (or dropped)."""

    def __init__(self, store: MagentoSandbox) -> None:
        super().__init__()
        self.store = store

    def send(self, request: requests.PreparedRequest, **kwargs: Any) -> requests.Response:  # type: ignore[override]
        try:
            return super().send(request, **kwargs)
        finally:
            self.store.set_faults(0.0)


@pytest.fixture
def store() -> Iterator[MagentoSandbox]:
    with MagentoSandbox(SandboxOptions(record=True)) as running:
        yield running
        assert running.schema_violations == []
        assert running.unexpected_errors == []


def sales_client(store: MagentoSandbox, session: requests.Session | None = None) -> MagentoClient:
    return MagentoClient(
        magento_settings(store.base_url),
        SyncSettings(concurrency=1, batch_size=10, page_size=10),
        session=session,
        sleep=Sleeps(),
    )


def an_order(store: MagentoSandbox) -> int:
    store.catalog.add_product("TEE-1", "Tee", 20, qty=5)
    return store.sales.place_order([("TEE-1", 1)], "guest@example.com").entity_id


def comments(store: MagentoSandbox, order_id: int) -> list[str]:
    with store.store.lock:
        return [h.comment for h in store.store.orders[order_id].status_histories if h.comment]


def test_when_the_answer_is_lost_after_the_comment_was_saved_then_it_is_found_not_repeated(
    store: MagentoSandbox,
) -> None:
    order_id = an_order(store)
    with sales_client(store, FaultsOffAfterOne(store)) as client:
        store.set_faults(1.0, ["drop_after"])
        RestMagentoSales(client).add_order_comment(order_id, COMMENT)
    assert comments(store, order_id).count(COMMENT) == 1
    requests_seen = store.stats()["requests"]
    assert requests_seen["POST /V1/orders/{id}/comments"] == 1
    assert requests_seen["GET /V1/orders/{id}/comments"] == 1


def test_when_the_connection_drops_before_the_save_then_the_miss_is_reported(store: MagentoSandbox) -> None:
    order_id = an_order(store)
    with sales_client(store, FaultsOffAfterOne(store)) as client:
        store.set_faults(1.0, ["drop_before"])
        with pytest.raises(AmbiguousWriteError):
            RestMagentoSales(client).add_order_comment(order_id, COMMENT)
    assert COMMENT not in comments(store, order_id)
    assert store.stats()["requests"]["GET /V1/orders/{id}/comments"] == 1


def test_when_magento_answers_500_without_saving_then_the_comment_is_sent_again_once(
    store: MagentoSandbox,
) -> None:
    order_id = an_order(store)
    with sales_client(store, FaultsOffAfterOne(store)) as client:
        store.set_faults(1.0, ["500"])
        RestMagentoSales(client).add_order_comment(order_id, COMMENT)
    assert comments(store, order_id).count(COMMENT) == 1
    assert store.stats()["requests"]["POST /V1/orders/{id}/comments"] == 2
