"""An in-memory MagentoCatalog that behaves like Magento 2.4 at the port level (see
shared/magento/ENDPOINTS.md sections 2-6):

- products are upserted by sku; a url_key held by another product is an error outcome; category
  links *merge* (removing one takes unlink_category); a configurable's child links are replaced by
  the set sent, and every child must exist and carry the configurable attributes;
- attribute option labels are unique per attribute; categories form a tree under the root;
- base/special prices fail per row for unknown SKUs, configurable parents, negative prices and unknown
  stores (partial success); source items fail per row for unknown SKUs or sources;
- media entries get ids.

Every call is recorded so tests can assert exactly what was sent, and a crash (an exception after a
write was applied) can be injected after N writes.
"""

import copy
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from kudos_sync.domain.errors import RecordError
from kudos_sync.domain.ids import Sku, SourceCode
from kudos_sync.magento.media import media_label, roles_of, sha_in_label
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

WRITE_METHODS = frozenset(
    {
        "add_attribute_option",
        "create_category",
        "save_products",
        "unlink_child",
        "unlink_category",
        "save_base_prices",
        "save_special_prices",
        "delete_special_prices",
        "save_source_items",
        "add_media",
        "delete_media",
    }
)


class FakeCrashError(RuntimeError):
    """The injected crash: the write before it was applied, the caller never heard back."""


@dataclass
class FakeProduct:
    sku: str
    entity_id: int
    type_id: str
    attributes: dict[str, Any] = field(default_factory=dict)
    custom_attributes: dict[str, Any] = field(default_factory=dict)
    category_ids: set[int] = field(default_factory=set)
    child_skus: tuple[str, ...] = ()
    configurable_options: dict[str, tuple[int, ...]] = field(default_factory=dict)

    @property
    def status(self) -> int:
        return int(self.attributes.get("status", 1))

    @property
    def name(self) -> str | None:
        return self.attributes.get("name")

    @property
    def url_key(self) -> str | None:
        return self.custom_attributes.get("url_key")


@dataclass
class FakeMedia:
    entry_id: int
    label: str
    position: int
    roles: tuple[str, ...]
    data: bytes


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


class FakeMagentoCatalog:
    def __init__(
        self,
        root_category_id: int = 2,
        store_ids: Sequence[int] = (0, 1),
        sources: Sequence[str] = ("default", "shop", "web"),
    ) -> None:
        self.root_category_id = root_category_id
        self.store_ids = set(store_ids)
        self.sources = set(sources)
        self.products: dict[str, FakeProduct] = {}
        self.url_keys: dict[str, str] = {}
        self.options: dict[str, dict[str, int]] = {}
        self.categories: dict[int, CategoryNode] = {
            root_category_id: CategoryNode(category_id=root_category_id, parent_id=1, name="Default Category")
        }
        self.base_prices: dict[tuple[str, int], Decimal] = {}
        self.special_prices: dict[tuple[str, int], PriceRow] = {}
        self.source_items: dict[tuple[str, str], tuple[Decimal, bool]] = {}
        self.media: dict[str, dict[int, FakeMedia]] = {}
        self.calls: list[tuple[str, Any]] = []
        self.writes = 0
        self.crash_after: int | None = None  # raise FakeCrashError once this many writes were applied
        self.reject_products: dict[str, tuple[str, str]] = {}  # sku -> (message, field)
        self.reject_prices: dict[str, str] = {}  # sku -> message
        self.unreadable: set[str] = set()  # skus read_products cannot parse (a field missing)
        self.page_size = 100  # SKUs per search, as the adapter's page size
        self._next_id = 100

    # ------------------------------------------------------------ helpers for tests

    def _id(self) -> int:
        self._next_id += 1
        return self._next_id

    def _record(self, method: str, payload: Any) -> None:
        self.calls.append((method, payload))

    def _wrote(self) -> None:
        self.writes += 1
        if self.crash_after is not None and self.writes >= self.crash_after:
            self.crash_after = None
            raise FakeCrashError(f"injected crash after write {self.writes}")

    def write_calls(self) -> list[tuple[str, Any]]:
        return [call for call in self.calls if call[0] in WRITE_METHODS]

    def calls_to(self, method: str) -> list[Any]:
        return [payload for name, payload in self.calls if name == method]

    def sent_skus(self) -> list[str]:
        return [write.sku for batch in self.calls_to("save_products") for write in batch]

    def reset_calls(self) -> None:
        self.calls.clear()

    def snapshot(self) -> dict[str, Any]:
        """A deep copy of everything Magento holds (to assert a dry run changed nothing)."""
        return copy.deepcopy(
            {
                "products": self.products,
                "options": self.options,
                "categories": self.categories,
                "base": self.base_prices,
                "special": self.special_prices,
                "stock": self.source_items,
                "media": self.media,
            }
        )

    def category_path(self, category_id: int) -> str:
        names: list[str] = []
        node = self.categories[category_id]
        while node.category_id != self.root_category_id:
            names.append(node.name)
            node = self.categories[node.parent_id]
        return "/".join(reversed(names))

    def option_label(self, attribute: str, option_id: int) -> str:
        return next(label for label, oid in self.options.get(attribute, {}).items() if oid == option_id)

    # ------------------------------------------------------------ options and categories

    def list_attribute_options(self, attribute_code: str) -> dict[str, int]:
        self._record("list_attribute_options", attribute_code)
        return dict(self.options.get(attribute_code, {}))

    def add_attribute_option(self, attribute_code: str, label: str) -> int:
        self._record("add_attribute_option", (attribute_code, label))
        held = self.options.setdefault(attribute_code, {})
        # Magento refuses a duplicate admin label; the adapter answers with the existing option.
        existing = next(
            (oid for known, oid in held.items() if known.casefold() == label.strip().casefold()), None
        )
        if existing is not None:
            return existing
        option_id = self._id()
        held[label] = option_id
        self._wrote()
        return option_id

    def list_categories(self, root_id: int) -> list[CategoryNode]:
        self._record("list_categories", root_id)
        below: list[CategoryNode] = []
        frontier = {root_id}
        while frontier:
            level = [node for node in self.categories.values() if node.parent_id in frontier]
            below.extend(level)
            frontier = {node.category_id for node in level}
        return below

    def create_category(self, parent_id: int, name: str) -> int:
        self._record("create_category", (parent_id, name))
        if parent_id not in self.categories:
            raise RecordError(f"No such entity with id = {parent_id}", record=name, field="parent_id")
        # Magento refuses a second category of that name (its url key); the adapter finds the first.
        for node in self.categories.values():
            if node.parent_id == parent_id and node.name == name:
                return node.category_id
        category_id = self._id()
        self.categories[category_id] = CategoryNode(category_id=category_id, parent_id=parent_id, name=name)
        self._wrote()
        return category_id

    # ------------------------------------------------------------ products

    def find_products(self, skus: Sequence[str]) -> dict[str, int]:
        self._record("find_products", list(skus))
        return {sku: self.products[sku].entity_id for sku in skus if sku in self.products}

    def read_products(self, skus: Sequence[str]) -> dict[str, StoreProduct | RecordError]:
        """As the adapter: a batched search per `page_size` SKUs, matched as Magento matches SKUs
        (case-insensitive, trimmed); `unreadable` SKUs answer with a product missing a field."""
        found: dict[str, StoreProduct | RecordError] = {}
        by_fold = {sku.strip().casefold(): sku for sku in self.products}
        for start in range(0, len(skus), self.page_size):
            chunk = list(skus[start : start + self.page_size])
            self._record("read_products", chunk)
            for asked in chunk:
                held = by_fold.get(asked.strip().casefold())
                if held is None:
                    continue
                product = self.products[held]
                if held in self.unreadable:
                    found[asked] = RecordError(f"sku {held}: no type_id", record=held, field="type_id")
                    continue
                found[asked] = StoreProduct(
                    sku=held,
                    magento_id=product.entity_id,
                    type_id=product.type_id,
                    url_key=product.url_key,
                    category_ids=tuple(sorted(product.category_ids)),
                    child_ids=tuple(
                        self.products[c].entity_id for c in product.child_skus if c in self.products
                    ),
                    configurable_attributes=tuple(sorted(product.configurable_options)),
                    media_entries=len(self.media.get(held, {})),
                )
        return found

    def find_url_keys(self, url_keys: Sequence[str]) -> dict[str, str]:
        found: dict[str, str] = {}
        for start in range(0, len(url_keys), self.page_size):
            chunk = list(url_keys[start : start + self.page_size])
            self._record("find_url_keys", chunk)
            found.update({key: self.url_keys[key] for key in chunk if key in self.url_keys})
        return found

    def count_products(self) -> int:
        self._record("count_products", None)
        return len(self.products)

    def seed_product(
        self,
        sku: str,
        type_id: str = "simple",
        name: str | None = None,
        url_key: str | None = None,
        description: str | None = None,
        price: Decimal | None = None,
        **custom: Any,
    ) -> FakeProduct:
        """A product the web team made before the sync ever ran (not recorded as a call)."""
        product = FakeProduct(sku=sku, entity_id=self._id(), type_id=type_id)
        product.attributes.update({"status": 1, "visibility": 4, "name": name or sku})
        if price is not None:
            product.attributes["price"] = price
        key = url_key or _slug(name or sku)
        product.custom_attributes.update({"url_key": key, **custom})
        if description is not None:
            product.custom_attributes["description"] = description
        self.url_keys[key] = sku
        self.products[sku] = product
        return product

    def save_products(
        self, products: Sequence[ProductWrite], known_ids: Mapping[str, int] | None = None
    ) -> list[WriteOutcome]:
        self._record("save_products", list(products))
        for child, entity_id in (known_ids or {}).items():
            # A caller must only pass ids Magento gave it for these very SKUs.
            assert child in self.products and self.products[child].entity_id == entity_id, child
        # As the adapter: configurable parents with children go after the rest, so children saved in
        # the same call can be linked; the outcomes keep the order of the writes.
        outcomes: dict[int, WriteOutcome] = {}
        parents_last = sorted(
            range(len(products)),
            key=lambda i: products[i].type_id == "configurable" and bool(products[i].child_skus),
        )
        for i in parents_last:
            outcome = self._save_product(products[i])
            outcomes[i] = outcome
            if outcome.error is None:
                self._wrote()
        return [outcomes[i] for i in range(len(products))]

    def _save_product(self, write: ProductWrite) -> WriteOutcome:
        sku = write.sku
        if sku in self.reject_products:
            message, field_name = self.reject_products[sku]
            return WriteOutcome(key=sku, error=message, field=field_name)
        existing = self.products.get(sku)
        attributes, custom = _as_attributes(write)
        url_key = write.url_key
        if url_key is None and existing is None:
            url_key = _slug(write.name or sku)
        if url_key is not None:
            owner = self.url_keys.get(url_key)
            if owner is not None and owner != sku:
                return WriteOutcome(
                    key=sku, error="URL key for specified store already exists.", field="url_key"
                )
        if write.type_id == "configurable" and write.child_skus is not None:
            for child in write.child_skus:
                child_product = self.products.get(child)
                if child_product is None:
                    return WriteOutcome(
                        key=sku, error=f'The product with SKU "{child}" does not exist.', field="child_skus"
                    )
                for attribute in write.configurable_options or {}:
                    if attribute not in child_product.custom_attributes:
                        return WriteOutcome(
                            key=sku,
                            error=f'The child product doesn\'t have the "{attribute}" attribute value. '
                            f"Verify the value and try again.",
                            field="configurable_options",
                        )
        if existing is None:
            existing = FakeProduct(sku=sku, entity_id=self._id(), type_id=write.type_id)
            self.products[sku] = existing
        existing.type_id = write.type_id
        existing.attributes.update(attributes)
        if url_key is not None and existing.url_key != url_key:
            if existing.url_key is not None:
                self.url_keys.pop(existing.url_key, None)
            self.url_keys[url_key] = sku
        existing.custom_attributes.update(custom)
        if url_key is not None:
            existing.custom_attributes["url_key"] = url_key
        if write.category_ids is not None:
            if write.category_ids:
                existing.category_ids.update(write.category_ids)  # category_links merge
            else:
                existing.category_ids.clear()
        if write.child_skus is not None:
            existing.child_skus = tuple(write.child_skus)
        if write.configurable_options is not None:
            existing.configurable_options = dict(write.configurable_options)
        return WriteOutcome(key=sku, magento_id=existing.entity_id)

    def unlink_child(self, parent_sku: str, child_sku: str) -> None:
        self._record("unlink_child", (parent_sku, child_sku))
        parent = self.products.get(parent_sku)
        if parent is not None:
            parent.child_skus = tuple(c for c in parent.child_skus if c != child_sku)
        self._wrote()

    def unlink_category(self, category_id: int, sku: str) -> None:
        self._record("unlink_category", (category_id, sku))
        product = self.products.get(sku)
        if product is not None:
            product.category_ids.discard(category_id)
        self._wrote()

    # ------------------------------------------------------------ prices

    def _price_failure(self, row: PriceRow) -> RowFailure | None:
        sku = row.sku
        if sku in self.reject_prices:
            return RowFailure(sku=sku, message=self.reject_prices[sku])
        product = self.products.get(sku)
        if product is None:
            return RowFailure(
                sku=sku,
                message=f"Requested product doesn't exist. Row ID: SKU = {sku}, Store ID: {row.store_id}.",
            )
        if product.type_id == "configurable":
            return RowFailure(sku=sku, message=f"Invalid attribute SKU = {sku}. Row ID: SKU = {sku}.")
        if row.price < 0:
            return RowFailure(
                sku=sku,
                message=f"Invalid attribute Price = {row.price}. "
                f"Row ID: SKU = {sku}, Store ID: {row.store_id}.",
            )
        if row.store_id not in self.store_ids:
            return RowFailure(
                sku=sku,
                message=f"Requested store is not found. Row ID: SKU = {sku}, Store ID: {row.store_id}.",
            )
        return None

    def save_base_prices(self, rows: Sequence[PriceRow]) -> list[RowFailure]:
        self._record("save_base_prices", list(rows))
        failures: list[RowFailure] = []
        for row in rows:
            failure = self._price_failure(row)
            if failure:
                failures.append(failure)
                continue
            self.base_prices[(row.sku, row.store_id)] = row.price
            self._wrote()
        return failures

    def save_special_prices(self, rows: Sequence[PriceRow]) -> list[RowFailure]:
        self._record("save_special_prices", list(rows))
        failures: list[RowFailure] = []
        for row in rows:
            failure = self._price_failure(row)
            if failure:
                failures.append(failure)
                continue
            self.special_prices[(row.sku, row.store_id)] = row
            self._wrote()
        return failures

    def delete_special_prices(self, rows: Sequence[PriceRow]) -> list[RowFailure]:
        self._record("delete_special_prices", list(rows))
        for row in rows:
            held = self.special_prices.get((row.sku, row.store_id))
            if held is not None and (held.price_from, held.price_to) == (row.price_from, row.price_to):
                del self.special_prices[(row.sku, row.store_id)]
        self._wrote()
        return []

    # ------------------------------------------------------------ stock

    def save_source_items(self, rows: Sequence[SourceItemRow]) -> list[RowFailure]:
        self._record("save_source_items", list(rows))
        failures: list[RowFailure] = []
        for row in rows:
            if row.sku not in self.products:
                failures.append(
                    RowFailure(
                        sku=row.sku,
                        source_code=row.source_code,
                        message=f'Validation Failed: Product with SKU "{row.sku}" does not exist.',
                    )
                )
            elif row.source_code not in self.sources:
                failures.append(
                    RowFailure(
                        sku=row.sku,
                        source_code=row.source_code,
                        message=f'Validation Failed: Source with code "{row.source_code}" does not exist.',
                    )
                )
            else:
                self.source_items[(row.sku, row.source_code)] = (row.quantity, row.in_stock)
        if len(failures) < len(rows):
            self._wrote()
        return failures

    # ------------------------------------------------------------ what the store holds (drift reads)

    def _held(self, skus: Sequence[str]) -> dict[str, FakeProduct]:
        by_fold = {p.casefold(): p for p in self.products}
        return {sku: self.products[by_fold[sku.casefold()]] for sku in skus if sku.casefold() in by_fold}

    def read_product_states(self, skus: Sequence[str]) -> dict[str, ProductState]:
        self._record("read_product_states", list(skus))
        ids = {p.sku: p.entity_id for p in self.products.values()}
        return {
            sku: ProductState(
                sku=Sku(sku),
                magento_id=p.entity_id,
                type_id=p.type_id,
                enabled=p.status == 1,
                category_ids=tuple(sorted(p.category_ids)),
                child_ids=tuple(sorted(ids[c] for c in p.child_skus if c in ids)),
            )
            for sku, p in self._held(skus).items()
        }

    def read_base_prices(self, skus: Sequence[str]) -> list[PriceRow]:
        self._record("read_base_prices", list(skus))
        held = self._held(skus)
        return [
            PriceRow(sku=Sku(sku), price=price, store_id=store_id)
            for sku, p in held.items()
            for (stored, store_id), price in sorted(self.base_prices.items())
            if stored == p.sku and p.type_id != "configurable"
        ]

    def read_special_prices(self, skus: Sequence[str]) -> list[PriceRow]:
        self._record("read_special_prices", list(skus))
        held = self._held(skus)
        return [
            row.model_copy(update={"sku": Sku(sku)})
            for sku, p in held.items()
            for (stored, _), row in sorted(self.special_prices.items())
            if stored == p.sku
        ]

    def read_source_items(self, skus: Sequence[str]) -> list[SourceItemRow]:
        self._record("read_source_items", list(skus))
        held = self._held(skus)
        return [
            SourceItemRow(sku=Sku(sku), source_code=SourceCode(source), quantity=quantity, in_stock=in_stock)
            for sku, p in held.items()
            for (stored, source), (quantity, in_stock) in sorted(self.source_items.items())
            if stored == p.sku
        ]

    # ------------------------------------------------------------ media

    def list_media(self, sku: str) -> list[MediaEntry]:
        self._record("list_media", sku)
        return [
            MediaEntry(entry_id=m.entry_id, sha256=sha_in_label(m.label), position=m.position)
            for m in sorted(self.media.get(sku, {}).values(), key=lambda m: m.position)
        ]

    def add_media(self, sku: str, upload: MediaUpload) -> int:
        self._record("add_media", (sku, upload))
        if sku not in self.products:
            raise RecordError(f'The product that was requested doesn\'t exist. SKU "{sku}"', record=sku)
        entry_id = self._id()
        self.media.setdefault(sku, {})[entry_id] = FakeMedia(
            entry_id,
            media_label(upload.title, upload.sha256),
            upload.position,
            roles_of(upload.main),
            upload.data,
        )
        self._wrote()
        return entry_id

    def delete_media(self, sku: str, entry_id: int) -> None:
        self._record("delete_media", (sku, entry_id))
        self.media.get(sku, {}).pop(entry_id, None)
        self._wrote()


def _as_attributes(write: ProductWrite) -> tuple[dict[str, Any], dict[str, Any]]:
    """The write as Magento stores it: product attributes (status 1 enabled, 2 disabled) and custom
    attributes; fields the write leaves out are not touched."""
    attributes: dict[str, Any] = {}
    if write.enabled is not None:
        attributes["status"] = 1 if write.enabled else 2
    for key, value in (("visibility", write.visibility), ("name", write.name), ("price", write.price)):
        if value is not None:
            attributes[key] = value
    custom: dict[str, Any] = {
        code: value
        for code, value in (("url_key", write.url_key), ("description", write.description))
        if value
    }
    custom.update(write.options)
    return attributes, custom


def as_sku(value: str) -> Sku:
    return Sku(value)
