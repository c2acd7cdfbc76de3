"""What the store already holds, read to adopt it: products by SKU and url keys, in batched searches.

Each search asks for a page of SKUs (`sku in (...)`) with only the fields adoption compares
(`fields=`), so a store of 20,000 products is read in 20,000 / page_size requests. Magento matches
SKUs case-insensitively and ignores trailing blanks (MySQL collation): an answer is keyed by the SKU
that was asked for and carries the SKU as Magento spells it, so the caller can tell them apart.
"""

from collections.abc import Mapping, Sequence
from typing import Any

from kudos_sync.batches import chunks
from kudos_sync.domain.errors import RecordError
from kudos_sync.fanout import in_order
from kudos_sync.magento.client import MagentoClient, iter_pages
from kudos_sync.magento.search import SearchCriteria, any_of, encode_search_criteria
from kudos_sync.sync.ports import StoreProduct

_PRODUCT_FIELDS = (
    "items[id,sku,type_id,custom_attributes,media_gallery_entries[id],"
    "extension_attributes[category_links,configurable_product_links,configurable_product_options]],"
    "total_count"
)
_URL_KEY_FIELDS = "items[sku,custom_attributes],total_count"


class StoreProducts:
    """The read side of adoption, over `GET /V1/products`."""

    def __init__(self, client: MagentoClient, page_size: int, workers: int = 1) -> None:
        self.client = client
        self.page_size = max(1, page_size)
        self.workers = max(1, workers)  # searches in flight: a 20,000-SKU survey is 200 of them

    def read_products(self, skus: Sequence[str]) -> dict[str, StoreProduct | RecordError]:
        wanted = list(dict.fromkeys(s for s in skus if s))
        by_fold = {_fold(s): s for s in wanted}
        found: dict[str, StoreProduct | RecordError] = {}
        for page in self._search_all("sku", wanted, _PRODUCT_FIELDS):
            for item in page:
                sku = str(item.get("sku") or "")
                asked = by_fold.get(_fold(sku))
                held = found.get(asked) if asked is not None else None
                # Two store SKUs folding alike: the one spelled as asked wins.
                if asked is not None and not (isinstance(held, StoreProduct) and held.sku == asked):
                    found[asked] = store_product(item, asked)
        return found

    def find_url_keys(self, url_keys: Sequence[str]) -> dict[str, str]:
        wanted = list(dict.fromkeys(k for k in url_keys if k))
        asked = set(wanted)
        found: dict[str, str] = {}
        for page in self._search_all("url_key", wanted, _URL_KEY_FIELDS):
            for item in page:
                url_key = custom_attribute(item, "url_key")
                if url_key in asked and item.get("sku"):
                    found[str(url_key)] = str(item["sku"])
        return found

    def count_products(self) -> int:
        criteria = SearchCriteria(page_size=1, current_page=1, extra=(("fields", "total_count"),))
        return int(self._get(criteria).get("total_count") or 0)

    def _search_all(self, field: str, values: Sequence[str], fields: str) -> list[list[Mapping[str, Any]]]:
        """One search per page of values, several in flight; the answers in order."""
        pages = list(chunks(list(values), self.page_size))
        return in_order(lambda chunk: self._search(field, chunk, fields), pages, self.workers, name="magento")

    def _search(self, field: str, values: Sequence[str], fields: str) -> list[Mapping[str, Any]]:
        criteria = SearchCriteria(
            filter_groups=(any_of(field, values),),
            page_size=len(values),
            current_page=1,
            extra=(("fields", fields),),
        )
        page = self._get(criteria)
        items = list(page.get("items") or [])
        # A case-insensitive match may answer more items than were asked for: read every page.
        for number in iter_pages(int(page.get("total_count") or 0), len(values)):
            items += self._get(criteria.with_page(number, len(values))).get("items") or []
        return [item for item in items if isinstance(item, Mapping)]

    def _get(self, criteria: SearchCriteria) -> Mapping[str, Any]:
        result = self.client.get(
            "/V1/products", query=encode_search_criteria(criteria), items=criteria.page_size or 1
        )
        return result if isinstance(result, Mapping) else {}


def _fold(sku: str) -> str:
    return sku.strip().casefold()


def custom_attribute(item: Mapping[str, Any], code: str) -> Any:
    for attribute in item.get("custom_attributes") or ():
        if isinstance(attribute, Mapping) and attribute.get("attribute_code") == code:
            return attribute.get("value")
    return None


def store_product(item: Mapping[str, Any], asked: str) -> StoreProduct | RecordError:
    """One search item as adoption reads it, or the RecordError naming the field it lacks."""
    for required in ("id", "sku", "type_id"):
        if item.get(required) in (None, ""):
            return RecordError(
                f"sku {asked}: Magento's product has no {required}", record=asked, field=required
            )
    extension = item.get("extension_attributes") or {}
    try:
        categories = tuple(int(link["category_id"]) for link in extension.get("category_links") or ())
        children = tuple(int(child) for child in extension.get("configurable_product_links") or ())
        attributes = tuple(
            str(option.get("attribute_id") or option.get("label") or "")
            for option in extension.get("configurable_product_options") or ()
        )
        magento_id = int(item["id"])
    except (KeyError, TypeError, ValueError, AttributeError):
        return RecordError(
            f"sku {asked}: Magento's product links cannot be read", record=asked, field="links"
        )
    url_key = custom_attribute(item, "url_key")
    return StoreProduct(
        sku=str(item["sku"]),
        magento_id=magento_id,
        type_id=str(item["type_id"]),
        url_key=str(url_key) if url_key else None,
        category_ids=categories,
        child_ids=children,
        configurable_attributes=attributes,
        media_entries=len(item.get("media_gallery_entries") or ()),
    )
