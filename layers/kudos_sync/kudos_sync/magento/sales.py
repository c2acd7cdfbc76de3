"""MagentoSales over Magento's admin REST API (the pull side).

Magento keeps ``created_at`` as a UTC string without a zone ("YYYY-MM-DD HH:MM:SS"); the cursor is
timezone-aware UTC and is converted here, at the edge. Lists are read in (created_at, entity_id) order
so a cursor with an overlap window can de-duplicate its boundary. Documents and orders are read into
the domain's types by `magento.documents`: the core never sees Magento's JSON.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any, Literal

from kudos_sync.batches import chunks
from kudos_sync.config import TenantConfig
from kudos_sync.domain.errors import RecordError
from kudos_sync.domain.sales import MagentoOrder
from kudos_sync.magento.client import MagentoClient, guarded_write, iter_pages
from kudos_sync.magento.documents import read_document, read_order
from kudos_sync.magento.search import (
    MAGENTO_DATETIME,
    Filter,
    SearchCriteria,
    SortOrder,
    encode_search_criteria,
)
from kudos_sync.sync.ports import DocumentPage, ReadDocument

Stream = Literal["invoices", "creditmemos"]


def magento_datetime(value: datetime) -> str:
    """A datetime as Magento stores it: UTC, no zone. A naive value is taken to be UTC already."""
    if value.tzinfo is not None:
        value = value.astimezone(UTC)
    return value.strftime(MAGENTO_DATETIME)


def document_criteria(created_from: datetime, page: int, page_size: int) -> SearchCriteria:
    return SearchCriteria(
        filter_groups=((Filter("created_at", magento_datetime(created_from), "gteq"),),),
        sort_orders=(SortOrder("created_at", "ASC"), SortOrder("entity_id", "ASC")),
        page_size=page_size,
        current_page=page,
    )


class RestMagentoSales:
    """MagentoSales for one tenant."""

    def __init__(
        self, client: MagentoClient, config: TenantConfig | None = None, *, page_size: int | None = None
    ) -> None:
        self.client = client
        self.page_size = page_size or (config.sync.page_size if config is not None else client.sync.page_size)

    def search_documents(
        self, stream: Stream, created_from: datetime, page: int, page_size: int
    ) -> DocumentPage:
        """One page of invoices or credit memos with created_at >= created_from, ascending by
        (created_at, entity_id). The caller stops when page * page_size >= total_count."""
        if stream not in ("invoices", "creditmemos"):
            raise ValueError(f"unknown stream {stream!r}")
        result = self.client.get(
            f"/V1/{stream}", query=encode_search_criteria(document_criteria(created_from, page, page_size))
        )
        body: Mapping[str, Any] = result if isinstance(result, Mapping) else {}
        items = body.get("items")
        documents = [read_document(stream, item) for item in items] if isinstance(items, list) else []
        return DocumentPage(documents=documents, total_count=int(body.get("total_count") or 0))

    def reread_parked(self, stream: Stream, payload: dict[str, Any]) -> ReadDocument:
        """A parked document read again from its kept payload: no request."""
        return read_document(stream, payload)

    def get_orders(self, order_ids: Sequence[int]) -> dict[int, MagentoOrder | RecordError]:
        """Orders by entity id: ``entity_id in (...)`` in chunks of the page size."""
        wanted = list(dict.fromkeys(int(i) for i in order_ids))
        orders: dict[int, MagentoOrder | RecordError] = {}
        for chunk in chunks(wanted, self.page_size):
            criteria = SearchCriteria(
                filter_groups=((Filter.of("entity_id", chunk, "in"),),),
                page_size=len(chunk),
                current_page=1,
            )
            page = self._search_orders(criteria)
            items = list(page.get("items") or [])
            for number in iter_pages(int(page.get("total_count") or 0), len(chunk)):
                items += self._search_orders(criteria.with_page(number, len(chunk))).get("items") or []
            for item in items:
                if isinstance(item, Mapping) and item.get("entity_id") is not None:
                    orders[int(item["entity_id"])] = read_order(dict(item))
        return orders

    def _search_orders(self, criteria: SearchCriteria) -> Mapping[str, Any]:
        result = self.client.get(
            "/V1/orders", query=encode_search_criteria(criteria), items=criteria.page_size or 1
        )
        return result if isinstance(result, Mapping) else {}

    def add_order_comment(self, order_id: int, comment: str) -> None:
        """Add a private comment to the order history. Not repeatable (a repeat adds a second comment):
        after an ambiguous failure the order's comments are read and the call counts as done when the
        same comment is there (see ``guarded_write``)."""
        body = {
            "statusHistory": {
                "comment": comment,
                "is_customer_notified": 0,
                "is_visible_on_front": 0,
                "parent_id": order_id,
            }
        }

        def send() -> bool:
            self.client.call(
                "POST",
                "/V1/orders/{id}/comments",
                path={"id": order_id},
                body=body,
                idempotent=False,
                record=f"order {order_id}",
            )
            return True

        def find() -> bool | None:
            history = self.client.get(
                "/V1/orders/{id}/comments", path={"id": order_id}, record=f"order {order_id}"
            )
            items = history.get("items") if isinstance(history, Mapping) else None
            if any(isinstance(i, Mapping) and i.get("comment") == comment for i in items or []):
                return True
            return None

        guarded_write(send, find)
