"""MagentoCatalog over Magento's admin REST API (the push side).

Scopes: catalogue writes go through ``/rest/all/V1`` so they set global values rather than store-view
overrides; the attribute-option and category reads use it too, so labels and names are the admin
ones the writes compare against. Price and stock calls carry their store or source in each row.

Which writes are safe to repeat (and so retried by the client after an ambiguous failure):
- product save: ``POST /V1/products`` is an upsert by SKU (ProductRepository::save), the body is the
  desired state; repeating it changes nothing. Chosen over ``PUT /V1/products/{sku}`` (also a save)
  because the SKU stays out of the URL, so SKUs with ``/`` need no encoded-slash support on the server;
- base, special and special-delete prices, MSI source items: set values, repeatable;
- DELETE links and media entries: a repeat finds nothing and 404 (or "doesn't contain") counts as done;
- attribute option add: Magento refuses a duplicate admin label ("already exists"); that answer is
  resolved by re-listing, so a repeat can never create a second option;
- not repeatable: media add and category create. After an ambiguous failure they re-list and return the
  entry or category when it is there (media by its label, which carries the content hash; category by
  name under its parent). Not there after Magento's own 500: sent once more. Not there after a dropped
  connection or a proxy timeout (Magento may still be working on it): TransientError, the run ends and
  the next run lists again before it uploads.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping, Sequence
from typing import Any

from kudos_sync.batches import chunks
from kudos_sync.config import TenantConfig
from kudos_sync.domain.errors import RecordError
from kudos_sync.fanout import in_order
from kudos_sync.magento.catalog_reads import CatalogReader
from kudos_sync.magento.catalog_rows import (
    RowWriter,
    delete_if_present,
    price_failure,
    record_detail,
    record_reason,
)
from kudos_sync.magento.client import MagentoClient, guarded_write, iter_pages
from kudos_sync.magento.media import Gallery
from kudos_sync.magento.product_body import product_body
from kudos_sync.magento.search import SearchCriteria, any_of, encode_search_criteria
from kudos_sync.magento.store_products import StoreProducts
from kudos_sync.sync.ports import (
    CategoryNode,
    MediaEntry,
    MediaUpload,
    PriceRow,
    ProductState,
    ProductWrite,
    RowFailure,
    SourceItemRow,
    StoreProduct,
    WriteOutcome,
)


class RestMagentoCatalog:
    """MagentoCatalog for one tenant. Thread-safe; bounded by the client's concurrency limiter."""

    def __init__(
        self,
        client: MagentoClient,
        config: TenantConfig | None = None,
        *,
        website_ids: Sequence[int] | None = None,
        attribute_set_id: int | None = None,
        batch_size: int | None = None,
        page_size: int | None = None,
    ) -> None:
        """Settings come from ``config`` (the tenant's), else from the client's own; keywords win."""
        magento = config.magento if config is not None else client.settings
        sync = config.sync if config is not None else client.sync
        self.client = client
        self.website_ids = tuple(website_ids if website_ids is not None else magento.website_ids)
        self.attribute_set_id = attribute_set_id or magento.attribute_set_id
        self.batch_size = batch_size or sync.batch_size
        self.page_size = page_size or sync.page_size
        self.workers = min(sync.concurrency, client.sync.concurrency)
        self._attributes: dict[str, dict[str, Any]] = {}
        self._attributes_lock = threading.Lock()
        self._rows = RowWriter(client, self.batch_size, self.workers)
        self._media = Gallery(client)
        self._reads = CatalogReader(client, self.batch_size, self.workers)
        self._store = StoreProducts(client, self.page_size, self.workers)

    # ------------------------------------------------------------ attribute options

    def list_attribute_options(self, attribute_code: str) -> dict[str, int]:
        """Admin label -> option id; the empty placeholder option Magento lists first is skipped."""
        items = self.client.get(
            "/V1/products/attributes/{code}/options",
            path={"code": attribute_code},
            scope="all",
            record=attribute_code,
        )
        options: dict[str, int] = {}
        for item in items or []:
            label = str(item.get("label") or "").strip()
            value = str(item.get("value") or "").strip()
            if label and value.isdigit():
                options.setdefault(label, int(value))
        return options

    def _find_option(self, attribute_code: str, label: str) -> int | None:
        options = self.list_attribute_options(attribute_code)
        if label in options:
            return options[label]
        folded = label.strip().casefold()
        for existing, option_id in options.items():
            if existing.casefold() == folded:
                return option_id
        return None

    def add_attribute_option(self, attribute_code: str, label: str) -> int:
        """Create an option (admin label) and return its id; an existing label returns the existing id."""
        body = {"option": {"label": label, "value": "", "sort_order": 0, "is_default": False}}
        try:
            # Safe to repeat: a repeat of an applied add gets "already exists", resolved below.
            result = self.client.call(
                "POST",
                "/V1/products/attributes/{code}/options",
                path={"code": attribute_code},
                body=body,
                scope="all",
                idempotent=True,
                record=f"{attribute_code} option {label!r}",
            )
        except RecordError as exc:
            if record_reason(exc) == "already_exists":
                found = self._find_option(attribute_code, label)
                if found is not None:
                    return found
            raise
        text = str(result if result is not None else "").strip().strip('"')
        if text.startswith("id_"):
            text = text[3:]
        if text.isdigit():
            return int(text)
        # Older releases answer with the temporary key ("id_new_option"): look the option up.
        found = self._find_option(attribute_code, label)
        if found is None:
            raise RecordError(
                f"Magento did not return an id for option {label!r} of {attribute_code}",
                record=label,
                field=attribute_code,
            )
        return found

    def _attribute(self, attribute_code: str) -> dict[str, Any]:
        # Held across the fetch: concurrent product saves then ask Magento once per attribute, not once each.
        with self._attributes_lock:
            cached = self._attributes.get(attribute_code)
            if cached is not None:
                return cached
            data = self.client.get(
                "/V1/products/attributes/{code}",
                path={"code": attribute_code},
                scope="all",
                record=attribute_code,
            )
            if not isinstance(data, Mapping) or data.get("attribute_id") in (None, ""):
                raise RecordError(
                    f"Magento attribute {attribute_code} has no attribute_id", field=attribute_code
                )
            meta = {
                "attribute_id": str(data["attribute_id"]),
                "label": str(
                    data.get("default_frontend_label") or data.get("frontend_label") or attribute_code
                ),
            }
            self._attributes[attribute_code] = meta
            return meta

    # ------------------------------------------------------------ categories

    def list_categories(self, root_id: int) -> list[CategoryNode]:
        """Every category below ``root_id`` (the root itself excluded), parents before children."""
        tree = self.client.get(
            "/V1/categories",
            query=[("rootCategoryId", str(root_id))],
            scope="all",
            record=f"category {root_id}",
        )
        nodes: list[CategoryNode] = []
        stack: list[Mapping[str, Any]] = [tree] if isinstance(tree, Mapping) else []
        while stack:
            node = stack.pop(0)
            for child in node.get("children_data") or []:
                if isinstance(child, Mapping) and child.get("id") is not None:
                    nodes.append(
                        CategoryNode(
                            category_id=int(child["id"]),
                            parent_id=int(child.get("parent_id") or node.get("id") or 0),
                            name=str(child.get("name") or ""),
                        )
                    )
                    stack.append(child)
        return nodes

    def _find_category(self, parent_id: int, name: str) -> int | None:
        for node in self.list_categories(parent_id):
            if node.parent_id == parent_id and node.name == name:
                return node.category_id
        return None

    def create_category(self, parent_id: int, name: str) -> int:
        """Create an active, in-menu category. Not repeatable: after an ambiguous failure, or when
        Magento says it exists (a crashed run made it), the category is looked up by name."""
        body = {
            "category": {"parent_id": parent_id, "name": name, "is_active": True, "include_in_menu": True}
        }

        def send() -> int:
            result = self.client.call(
                "POST",
                "/V1/categories",
                body=body,
                scope="all",
                idempotent=False,
                record=f"category {name!r} under {parent_id}",
            )
            return int(result["id"])

        try:
            return guarded_write(send, lambda: self._find_category(parent_id, name))
        except RecordError as exc:
            if record_reason(exc) in ("url_key_conflict", "already_exists"):
                found = self._find_category(parent_id, name)
                if found is not None:
                    return found
            raise

    # ------------------------------------------------------------ products

    def read_products(self, skus: Sequence[str]) -> dict[str, StoreProduct | RecordError]:
        """What the store holds for these SKUs (see magento.store_products)."""
        return self._store.read_products(skus)

    def find_url_keys(self, url_keys: Sequence[str]) -> dict[str, str]:
        return self._store.find_url_keys(url_keys)

    def count_products(self) -> int:
        return self._store.count_products()

    def find_products(self, skus: Sequence[str]) -> dict[str, int]:
        """Magento ids of the SKUs that exist, keyed by the SKU as asked (Magento matches SKUs
        case-insensitively)."""
        wanted = list(dict.fromkeys(s for s in skus if s))
        by_fold = {s.casefold(): s for s in wanted}
        found: dict[str, int] = {}
        for chunk in chunks(wanted, self.page_size):
            criteria = SearchCriteria(
                filter_groups=(any_of("sku", chunk),),
                page_size=len(chunk),
                current_page=1,
                extra=(("fields", "items[id,sku],total_count"),),
            )
            page = self._search_products(criteria)
            items = list(page.get("items") or [])
            for number in iter_pages(int(page.get("total_count") or 0), len(chunk)):
                items += self._search_products(criteria.with_page(number, len(chunk))).get("items") or []
            for item in items:
                sku = str(item.get("sku", ""))
                asked = sku if sku in by_fold.values() else by_fold.get(sku.casefold())
                if asked is not None and item.get("id") is not None:
                    found[asked] = int(item["id"])
        return found

    def _search_products(self, criteria: SearchCriteria) -> Mapping[str, Any]:
        result = self.client.get(
            "/V1/products", query=encode_search_criteria(criteria), items=criteria.page_size or 1
        )
        return result if isinstance(result, Mapping) else {}

    def product_body(self, write: ProductWrite, child_ids: Sequence[int] | None = None) -> dict[str, Any]:
        """Magento's product object for one write (see magento.product_body)."""
        return product_body(write, child_ids, self.attribute_set_id, self.website_ids, self._attribute)

    def _save_one(self, write: ProductWrite, child_ids: Sequence[int] | None) -> WriteOutcome:
        try:
            body = self.product_body(write, child_ids)
            result = self.client.call(
                "POST",
                "/V1/products",
                body={"product": body},
                scope="all",
                idempotent=True,
                record=write.sku,
            )
        except RecordError as exc:
            return WriteOutcome(key=write.sku, error=record_detail(exc), field=exc.field)
        magento_id = result.get("id") if isinstance(result, Mapping) else None
        return WriteOutcome(key=write.sku, magento_id=int(magento_id) if magento_id is not None else None)

    def save_products(
        self, products: Sequence[ProductWrite], known_ids: Mapping[str, int] | None = None
    ) -> list[WriteOutcome]:
        """Upsert each product; one outcome per product, in order. Configurable parents with
        children go after the rest, so children saved in the same call can be linked by id;
        `known_ids` are children's ids the caller already holds, the rest are looked up.
        A rejected product is an outcome with an error; a transient failure (after retries) raises."""
        outcomes: dict[int, WriteOutcome] = {}
        first = [i for i, p in enumerate(products) if not (p.type_id == "configurable" and p.child_skus)]
        later = [i for i, p in enumerate(products) if p.type_id == "configurable" and p.child_skus]

        def save_plain(i: int) -> WriteOutcome:
            write = products[i]
            # child_skus=() on a configurable means "no children": send an empty link list.
            empty = write.type_id == "configurable" and write.child_skus is not None
            return self._save_one(write, [] if empty else None)

        results = in_order(save_plain, first, self.workers, name="magento")
        outcomes.update(zip(first, results, strict=True))
        if later:
            known: dict[str, int | None] = dict(known_ids or {})
            known.update({o.key: o.magento_id for o in outcomes.values() if o.magento_id is not None})
            missing = sorted({c for i in later for c in products[i].child_skus or () if c not in known})
            if missing:
                known.update(self.find_products(missing))

            def save_parent(i: int) -> WriteOutcome:
                write = products[i]
                children = list(write.child_skus or ())
                absent = [c for c in children if known.get(c) is None]
                if absent:
                    return WriteOutcome(
                        key=write.sku,
                        error=f"child SKU(s) not in Magento: {', '.join(absent[:10])}",
                        field="configurable_product_links",
                    )
                return self._save_one(write, [int(known[c] or 0) for c in children])

            results = in_order(save_parent, later, self.workers, name="magento")
            outcomes.update(zip(later, results, strict=True))
        return [outcomes[i] for i in range(len(products))]

    def unlink_child(self, parent_sku: str, child_sku: str) -> None:
        """Remove one child from a configurable; a child already gone is fine."""
        delete_if_present(
            self.client,
            "/V1/configurable-products/{sku}/children/{child}",
            {"sku": parent_sku, "child": child_sku},
            f"{parent_sku} child {child_sku}",
            ("not_found", "not_linked"),
        )

    def unlink_category(self, category_id: int, sku: str) -> None:
        """Remove one category link; a link already gone is fine."""
        delete_if_present(
            self.client,
            "/V1/categories/{id}/products/{sku}",
            {"id": category_id, "sku": sku},
            f"{sku} in category {category_id}",
            ("not_found", "not_linked"),
        )

    # ------------------------------------------------------------ prices and stock (catalog_rows)

    def save_base_prices(self, rows: Sequence[PriceRow]) -> list[RowFailure]:
        return self._rows.save_base_prices(rows)

    def save_special_prices(self, rows: Sequence[PriceRow]) -> list[RowFailure]:
        return self._rows.save_special_prices(rows)

    def delete_special_prices(self, rows: Sequence[PriceRow]) -> list[RowFailure]:
        return self._rows.delete_special_prices(rows)

    def save_source_items(self, rows: Sequence[SourceItemRow]) -> list[RowFailure]:
        return self._rows.save_source_items(rows)

    # ------------------------------------------------------------ what the store holds (catalog_reads)

    def read_product_states(self, skus: Sequence[str]) -> dict[str, ProductState]:
        return self._reads.read_product_states(skus)

    def read_base_prices(self, skus: Sequence[str]) -> list[PriceRow]:
        return self._reads.read_base_prices(skus)

    def read_special_prices(self, skus: Sequence[str]) -> list[PriceRow]:
        return self._reads.read_special_prices(skus)

    def read_source_items(self, skus: Sequence[str]) -> list[SourceItemRow]:
        return self._reads.read_source_items(skus)

    # ------------------------------------------------------------ media (media.py)

    def list_media(self, sku: str) -> list[MediaEntry]:
        return self._media.list(sku)

    def add_media(self, sku: str, upload: MediaUpload) -> int:
        return self._media.add(sku, upload)

    def delete_media(self, sku: str, entry_id: int) -> None:
        self._media.delete(sku, entry_id)


__all__ = ["RestMagentoCatalog", "price_failure"]
