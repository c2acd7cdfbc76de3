"""Mappers: desired state -> the request shapes of the MagentoCatalog port, one per shape, so no
exporter builds a request by hand. Which fields a write carries follows the tenant's field ownership."""

from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal

from kudos_sync.config import TenantConfig
from kudos_sync.domain.desired import DesiredProduct, DesiredSpecial, DesiredStock
from kudos_sync.domain.errors import RecordError
from kudos_sync.domain.ids import Sku
from kudos_sync.domain.push_rules import owned_always, owned_on_create
from kudos_sync.domain.state import Binding, ProductLinks, ProductWriteKind
from kudos_sync.sync.ports import PriceRow, ProductWrite, SourceItemRow

_NO_LINKS = ProductLinks("simple", None, None, None)


@dataclass(slots=True)
class ProductChange:
    """One product write the diff decided on."""

    kind: ProductWriteKind
    sku: Sku
    fingerprint: str
    product: DesiredProduct | None  # None when disabling
    binding: Binding | None


class ProductMapper:
    """A ProductWrite for one change, and the links its binding keeps once Magento accepted it."""

    def __init__(
        self,
        config: TenantConfig,
        category_ids: Mapping[str, int],
        option_ids: Mapping[tuple[str, str], int],
        bindings: Mapping[str, Binding],
    ) -> None:
        self._config = config
        self._category_ids = category_ids
        self._option_ids = option_ids
        self._bindings = bindings
        self._colour = config.magento.colour_attribute
        self._size = config.magento.size_attribute

    def map(
        self, change: ProductChange, children_of: Mapping[str, tuple[Sku, ...]] | None
    ) -> tuple[ProductWrite, ProductLinks]:
        """Raises RecordError (naming the field) when an option or category it needs is not in Magento."""
        old = change.binding.product if change.binding is not None else None
        old = old or _NO_LINKS
        old = ProductLinks(old.type_id, old.category_id, old.category_path, old.parent, old.options)
        product = change.product
        if product is None:  # disable: only the status, links kept as they were
            return _write(sku=change.sku, type_id=old.type_id, enabled=False), old
        config = self._config
        creating = change.kind == "create"

        def sends(name: str) -> bool:
            return owned_always(config, name) or (creating and owned_on_create(config, name))

        options = self._options(product)
        category_id, category_path = old.category_id, old.category_path
        category_field: tuple[int, ...] | None = None
        if product.category_path is not None and sends("categories"):
            resolved = self._category_ids.get(product.category_path)
            if resolved is None:
                raise RecordError(
                    f"sku {product.sku}: category {product.category_path!r} is not in Magento",
                    record=product.sku,
                    field="category_path",
                )
            category_field = (resolved,)
            category_id, category_path = resolved, product.category_path
        elif product.category_path is None and owned_always(config, "categories"):
            category_id, category_path = None, None  # a child now: its old link is removed
        configurable: dict[str, tuple[int, ...]] | None = None
        child_skus: tuple[Sku, ...] | None = None
        if product.type_id == "configurable":
            child_skus = (children_of or {}).get(product.sku, product.child_skus)
            configurable = self._configurable_options(child_skus)
        write = _write(
            sku=product.sku,
            type_id=product.type_id,
            enabled=True,
            visibility=product.visibility,
            # Magento wants a price on a new simple; later prices go by the price endpoints.
            price=product.price if creating and sends("price") else None,
            name=product.name if sends("name") else None,
            url_key=product.url_key if sends("url_key") else None,
            description=product.description if product.description and sends("description") else None,
            options=options,
            category_ids=category_field,
            configurable_options=configurable,
            child_skus=child_skus,
        )
        links = ProductLinks(product.type_id, category_id, category_path, product.parent_sku, options)
        return write, links

    def _options(self, product: DesiredProduct) -> tuple[tuple[str, int], ...]:
        """(attribute, option id) of the product's colour and size, in that order."""
        options: list[tuple[str, int]] = []
        for attribute, label in ((self._colour, product.colour), (self._size, product.size)):
            if label is None:
                continue
            option_id = self._option_ids.get((attribute, label))
            if option_id is None:
                raise RecordError(
                    f"sku {product.sku}: option {label!r} of {attribute} is not in Magento",
                    record=product.sku,
                    field=attribute,
                )
            options.append((attribute, option_id))
        return tuple(options)

    def _configurable_options(self, child_skus: tuple[Sku, ...]) -> dict[str, tuple[int, ...]]:
        """Attribute -> the option ids the children were saved with (read from their bindings)."""
        collected: dict[str, set[int]] = defaultdict(set)
        for child in child_skus:
            binding = self._bindings.get(child)
            links = binding.product if binding is not None else None
            for attribute, option_id in links.options if links is not None else ():
                collected[attribute].add(option_id)
        return {attribute: tuple(sorted(ids)) for attribute, ids in sorted(collected.items())}


_write = ProductWrite.model_construct  # built by the thousand from values the core made: no validation


def base_price_rows(sku: str, price: Decimal, stores: tuple[int, ...]) -> list[PriceRow]:
    """One row per store view (the tenant's store ids; 0 is the global scope)."""
    return [
        PriceRow.model_construct(sku=Sku(sku), price=price, store_id=store, price_from=None, price_to=None)
        for store in stores
    ]


def special_price_rows(sku: str, want: DesiredSpecial, stores: tuple[int, ...]) -> list[PriceRow]:
    return [
        PriceRow.model_construct(
            sku=Sku(sku), price=want.price, store_id=store, price_from=want.price_from, price_to=want.price_to
        )
        for store in stores
    ]


def source_item(row: DesiredStock) -> SourceItemRow:
    return SourceItemRow.model_construct(
        sku=row.sku, source_code=row.source_code, quantity=row.quantity, in_stock=row.in_stock
    )
