"""Binders: the one place per binding kind that makes its bindings and reads its typed payload.

A binding is made *pending* before a write whose effect may outlive this run's state, and *sent* once
Magento confirmed the write; nothing else decides a binding's status.
"""

from collections.abc import Mapping

from kudos_sync.domain.desired import DesiredSpecial
from kudos_sync.domain.ids import Sku
from kudos_sync.domain.state import (
    Binding,
    BindingKind,
    BindingPayload,
    BindingStatus,
    ImageGallery,
    PendingWrite,
    ProductLinks,
    ProductWriteKind,
    SpecialRows,
)
from kudos_sync.sync.ports import PriceRow

SENT = BindingStatus.SENT
PENDING = BindingStatus.PENDING


def sent(
    kind: BindingKind,
    key: str,
    fingerprint: str,
    magento_id: int | None = None,
    payload: BindingPayload | None = None,
) -> Binding:
    return Binding(kind, key, fingerprint, magento_id, SENT, payload)


def pending(
    kind: BindingKind,
    key: str,
    fingerprint: str,
    magento_id: int | None = None,
    payload: BindingPayload | None = None,
) -> Binding:
    return Binding(kind, key, fingerprint, magento_id, PENDING, payload)


def is_pending(binding: Binding | None) -> bool:
    return binding is not None and binding.status is PENDING


# ---------------------------------------------------------------- taxonomy (categories, options)


def named(kind: BindingKind, key: str, magento_id: int) -> Binding:
    """A category path or attribute option label and the id Magento knows it by (no fingerprint)."""
    return Binding(kind, key, "", magento_id)


# ---------------------------------------------------------------- products


def links_of(binding: Binding | None) -> ProductLinks | None:
    return binding.product if binding is not None else None


def pending_write(binding: Binding | None) -> PendingWrite | None:
    """The write-ahead intent of a product binding whose last write is unconfirmed, else None."""
    links = links_of(binding)
    return links.pending if links is not None else None


def pending_kind(binding: Binding | None) -> ProductWriteKind | None:
    intent = pending_write(binding)
    return intent.kind if intent is not None else None


def linked_categories(binding: Binding | None) -> set[int]:
    """Category ids our writes may have linked the product to (see ProductLinks.linked_categories)."""
    links = links_of(binding)
    return links.linked_categories() if links is not None else set()


def is_disabled(binding: Binding | None) -> bool:
    return binding is not None and binding.status is BindingStatus.DISABLED


def product_intent(
    sku: str, kind: ProductWriteKind, fingerprint: str, old: Binding | None, links: ProductLinks
) -> Binding:
    """The pending product binding saved before a write: the links wanted, and every category the
    product may be linked to once the write lands (Magento merges category links)."""
    linked = linked_categories(old)
    if links.category_id is not None:
        linked.add(links.category_id)
    intent = PendingWrite(kind, tuple(sorted(linked)))
    return pending(
        BindingKind.PRODUCT,
        sku,
        fingerprint,
        old.magento_id if old else None,
        ProductLinks(
            links.type_id, links.category_id, links.category_path, links.parent, links.options, intent
        ),
    )


def product_confirmed(
    sku: str, kind: ProductWriteKind, fingerprint: str, magento_id: int | None, links: ProductLinks
) -> Binding:
    """The product binding once Magento confirmed the write; a disable is remembered as such."""
    status = BindingStatus.DISABLED if kind == "disable" else SENT
    return Binding(
        BindingKind.PRODUCT, sku, "" if kind == "disable" else fingerprint, magento_id, status, links
    )


def without_parent(binding: Binding) -> Binding:
    """A child's binding once it was unlinked from its old parent."""
    links = binding.product
    assert links is not None  # only bound children with a parent are unlinked
    return Binding(
        binding.kind,
        binding.key,
        binding.fingerprint,
        binding.magento_id,
        binding.status,
        ProductLinks(
            links.type_id, links.category_id, links.category_path, None, links.options, links.pending
        ),
    )


# ---------------------------------------------------------------- special prices


def special_rows(want: DesiredSpecial, stores: tuple[int, ...]) -> SpecialRows:
    """What a special price binding keeps so its rows can be deleted when the sale ends."""
    return SpecialRows(want.price, want.price_from, want.price_to, stores)


def special_dates_changed(binding: Binding, want: DesiredSpecial) -> bool:
    rows = binding.special
    if rows is None:
        return False
    return (rows.price_from, rows.price_to) != (want.price_from, want.price_to) or rows.store_ids is None


def rows_last_sent(binding: Binding) -> list[PriceRow]:
    """The rows last sent for a special price, rebuilt from the binding (to delete them)."""
    rows = binding.special
    if rows is None:
        return []
    return [
        PriceRow.model_construct(
            sku=Sku(binding.key),
            price=rows.price,
            store_id=store,
            price_from=rows.price_from,
            price_to=rows.price_to,
        )
        for store in (rows.store_ids if rows.store_ids is not None else (0,))
    ]


# ---------------------------------------------------------------- images


def gallery(
    sku: str,
    fingerprint: str,
    complete: bool,
    first: str | None,
    entries: Mapping[str, int],
    shas: Mapping[str, str],
) -> Binding:
    """An image set's binding: INCOMPLETE while a bad image is parked, so the next run tries again."""
    status = SENT if complete else BindingStatus.INCOMPLETE
    return Binding(BindingKind.IMAGES, sku, fingerprint, None, status, ImageGallery(first, entries, shas))
