"""What the store holds now of the fields CI Office owns, read in batches (a drift scan; part of
RestMagentoCatalog). Reads only: every call is safe to retry.

- products: one search per batch of SKUs (``sku in (...)``) with ``fields=`` limited to id, type,
  status, category links and configurable links, so a 20,000-SKU scan moves kilobytes, not pages;
- base and special prices: the price-information endpoints, one POST per batch of SKUs;
- MSI source items: one search per batch of SKUs, every source at once.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date
from decimal import Decimal
from typing import Any

from kudos_sync.batches import chunks
from kudos_sync.domain.ids import Sku, SourceCode
from kudos_sync.fanout import in_order
from kudos_sync.magento.client import MagentoClient, iter_pages
from kudos_sync.magento.search import SearchCriteria, any_of, encode_search_criteria
from kudos_sync.sync.ports import PriceRow, ProductState, SourceItemRow

_PRODUCT_FIELDS = (
    "items[id,sku,type_id,status,extension_attributes[category_links[category_id],"
    "configurable_product_links]],total_count"
)
_ENABLED = 1  # Magento's status code of an enabled product


def _as_asked(skus: Sequence[str]) -> dict[str, str]:
    """Magento matches SKUs case-insensitively and answers with its own spelling."""
    return {sku.casefold(): sku for sku in skus}


def _date_of(value: Any) -> date | None:
    """Magento's "Y-m-d H:i:s" (or a bare date) as the day it names."""
    if not value:
        return None
    return date.fromisoformat(str(value)[:10])


class CatalogReader:
    """Batched reads for one tenant's store, `workers` requests in flight."""

    def __init__(self, client: MagentoClient, batch_size: int, workers: int) -> None:
        self.client = client
        self.batch_size = batch_size
        self.workers = workers

    def _batches(self, skus: Sequence[str]) -> list[list[str]]:
        return [list(batch) for batch in chunks(list(dict.fromkeys(s for s in skus if s)), self.batch_size)]

    def _search(self, template: str, criteria: SearchCriteria, size: int) -> list[Mapping[str, Any]]:
        """Every item of a search: page 1, then the pages its total_count says remain."""
        first = self.client.get(template, query=encode_search_criteria(criteria), scope="all", items=size)
        page = first if isinstance(first, Mapping) else {}
        items = list(page.get("items") or [])
        for number in iter_pages(int(page.get("total_count") or 0), size):
            more = self.client.get(
                template,
                query=encode_search_criteria(criteria.with_page(number, size)),
                scope="all",
                items=size,
            )
            items += (more.get("items") or []) if isinstance(more, Mapping) else []
        return [item for item in items if isinstance(item, Mapping)]

    # ------------------------------------------------------------ products

    def read_product_states(self, skus: Sequence[str]) -> dict[str, ProductState]:
        def read(batch: list[str]) -> dict[str, ProductState]:
            asked = _as_asked(batch)
            criteria = SearchCriteria(
                filter_groups=(any_of("sku", batch),),
                page_size=len(batch),
                current_page=1,
                extra=(("fields", _PRODUCT_FIELDS),),
            )
            found: dict[str, ProductState] = {}
            for item in self._search("/V1/products", criteria, len(batch)):
                sku = asked.get(str(item.get("sku", "")).casefold())
                if sku is None or item.get("id") is None:
                    continue
                extension = item.get("extension_attributes") or {}
                links = extension.get("category_links") or []
                found[sku] = ProductState(
                    sku=Sku(sku),
                    magento_id=int(item["id"]),
                    type_id=str(item.get("type_id") or ""),
                    enabled=int(item.get("status") or 0) == _ENABLED,
                    category_ids=tuple(sorted(int(link["category_id"]) for link in links)),
                    child_ids=tuple(
                        sorted(int(i) for i in extension.get("configurable_product_links") or [])
                    ),
                )
            return found

        merged: dict[str, ProductState] = {}
        for found in in_order(read, self._batches(skus), self.workers, name="magento"):
            merged.update(found)
        return merged

    # ------------------------------------------------------------ prices

    def read_base_prices(self, skus: Sequence[str]) -> list[PriceRow]:
        return self._read_prices("/V1/products/base-prices-information", skus)

    def read_special_prices(self, skus: Sequence[str]) -> list[PriceRow]:
        return self._read_prices("/V1/products/special-price-information", skus)

    def _read_prices(self, template: str, skus: Sequence[str]) -> list[PriceRow]:
        def read(batch: list[str]) -> list[PriceRow]:
            asked = _as_asked(batch)
            result = self.client.call(
                "POST", template, body={"skus": batch}, scope="all", idempotent=True, items=len(batch)
            )
            rows: list[PriceRow] = []
            for item in result or []:
                sku = asked.get(str(item.get("sku", "")).casefold()) if isinstance(item, Mapping) else None
                if sku is None or item.get("price") is None:
                    continue
                rows.append(
                    PriceRow(
                        sku=Sku(sku),
                        price=Decimal(str(item["price"])),
                        store_id=int(item.get("store_id") or 0),
                        price_from=_date_of(item.get("price_from")),
                        price_to=_date_of(item.get("price_to")),
                    )
                )
            return rows

        return [
            row for rows in in_order(read, self._batches(skus), self.workers, name="magento") for row in rows
        ]

    # ------------------------------------------------------------ stock

    def read_source_items(self, skus: Sequence[str]) -> list[SourceItemRow]:
        def read(batch: list[str]) -> list[SourceItemRow]:
            asked = _as_asked(batch)
            # A SKU has one row per source: a page of a few sources per SKU keeps it to one request.
            size = min(len(batch) * 4, 1000)
            criteria = SearchCriteria(filter_groups=(any_of("sku", batch),), page_size=size, current_page=1)
            rows: list[SourceItemRow] = []
            for item in self._search("/V1/inventory/source-items", criteria, size):
                sku = asked.get(str(item.get("sku", "")).casefold())
                if sku is None:
                    continue
                rows.append(
                    SourceItemRow(
                        sku=Sku(sku),
                        source_code=SourceCode(str(item.get("source_code", ""))),
                        quantity=Decimal(str(item.get("quantity") or 0)),
                        in_stock=int(item.get("status") or 0) == 1,
                    )
                )
            return rows

        return [
            row for rows in in_order(read, self._batches(skus), self.workers, name="magento") for row in rows
        ]
