"""PushSync's write-ahead intent: a product write whose binding was never saved (DynamoDB throttled in
save_bindings after the write, or the run ended right after it) is reconciled by the next run, not
forgotten (docs/reliability.md, "Known weaknesses found by the harness")."""

from collections.abc import Mapping, Sequence
from datetime import date
from decimal import Decimal

import pytest
from kudos_sync.config import TenantConfig
from kudos_sync.domain.catalogue import Style
from kudos_sync.domain.errors import TransientError
from kudos_sync.domain.state import Binding, BindingKind, BindingStatus
from kudos_sync.sync.ports import ProductWrite, WriteOutcome

from tests.fakes.catalogue import style
from tests.fakes.state import InMemoryStateStore
from tests.unit.test_push import Harness, make_config, tee


class ThrottledStateStore(InMemoryStateStore):
    """Refuses the first save of a confirmed (not pending) binding of `kind` for each key in
    `throttle`, as DynamoDB throttling does once botocore's retries are spent."""

    def __init__(self) -> None:
        super().__init__()
        self.throttle: set[str] = set()
        self.kind = BindingKind.PRODUCT

    def save_bindings(self, bindings: Sequence[Binding]) -> None:
        for binding in bindings:
            confirmed = binding.status is not BindingStatus.PENDING
            if binding.kind is self.kind and binding.key in self.throttle and confirmed:
                self.throttle.discard(binding.key)
                raise TransientError("ThrottlingException: rate of requests exceeds the allowed throughput")
        super().save_bindings(bindings)


def harness(*styles: Style, config: TenantConfig | None = None) -> tuple[Harness, ThrottledStateStore]:
    h = Harness(styles, config)
    store = ThrottledStateStore()
    h.state = store
    return h, store


def push_with_binding_save_throttled(h: Harness, store: ThrottledStateStore, *skus: str) -> None:
    store.throttle.update(skus)
    with pytest.raises(TransientError):
        h.push()
    assert not store.throttle, "the throttled save was never reached"


def categories_of(h: Harness, sku: str) -> set[str]:
    return {h.magento.category_path(c) for c in h.magento.products[sku].category_ids}


def assert_steady(h: Harness) -> None:
    """A pending binding became a normal one: the next push sends nothing and asks nothing."""
    result = h.push()
    assert result.status == "succeeded"
    assert h.magento.write_calls() == [] and h.magento.calls_to("find_products") == []
    assert not any(b.product.pending for b in h.bindings(BindingKind.PRODUCT).values())


# ---------------------------------------------------------------- orphan enabled product


def test_given_binding_save_throttled_after_create_when_style_leaves_then_orphan_is_disabled() -> None:
    h, store = harness(style("MUG", "Coffee Mug"), style("CUP", "Tea Cup"))
    push_with_binding_save_throttled(h, store, "MUG-1")
    assert h.magento.products["MUG-1"].status == 1
    assert h.bindings(BindingKind.PRODUCT)["MUG-1"].product.pending.kind == "create"

    h.catalogue.remove("MUG")
    result = h.push()

    assert result.status == "succeeded" and result.counts.products_disabled == 1
    assert h.magento.calls_to("find_products") == [["MUG-1"]]
    assert h.magento.products["MUG-1"].status == 2 and h.magento.products["CUP-1"].status == 1
    mug = h.bindings(BindingKind.PRODUCT)["MUG-1"]
    assert mug.status is BindingStatus.DISABLED and mug.product.pending is None
    assert mug.magento_id == h.magento.products["MUG-1"].entity_id
    assert_steady(h)


def test_given_parent_binding_save_throttled_when_style_leaves_then_parent_and_children_disabled() -> None:
    h, store = harness(tee(), style("MUG", "Coffee Mug"))
    push_with_binding_save_throttled(h, store, "TEE")  # the children were bound, the parent not

    h.catalogue.remove("TEE")
    result = h.push()

    assert result.counts.products_disabled == 5
    assert all(p.status == 2 for sku, p in h.magento.products.items() if sku.startswith("TEE"))
    assert_steady(h)


def test_given_create_that_never_reached_magento_when_style_leaves_then_binding_dropped_and_nothing_written(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    h, _ = harness(style("MUG", "Coffee Mug"))

    def connection_reset(
        products: Sequence[ProductWrite], known_ids: Mapping[str, int] | None = None
    ) -> list[WriteOutcome]:
        raise TransientError("connection reset before the request was sent")

    monkeypatch.setattr(h.magento, "save_products", connection_reset)
    with pytest.raises(TransientError):
        h.push()
    monkeypatch.undo()
    assert "MUG-1" not in h.magento.products
    assert h.bindings(BindingKind.PRODUCT)["MUG-1"].status is BindingStatus.PENDING

    h.catalogue.remove("MUG")
    result = h.push()

    assert result.status == "succeeded" and result.counts.products_disabled == 0
    assert h.magento.calls_to("find_products") == [["MUG-1"]]
    assert h.magento.calls_to("save_products") == [] and "MUG-1" not in h.magento.products
    assert "MUG-1" not in h.bindings(BindingKind.PRODUCT)
    assert_steady(h)


def test_given_binding_save_throttled_after_enable_when_style_leaves_again_then_disabled_again() -> None:
    h, store = harness(style("MUG", "Coffee Mug"))
    h.push()
    h.catalogue.remove("MUG")
    h.push()
    h.catalogue.put(style("MUG", "Coffee Mug"))
    push_with_binding_save_throttled(h, store, "MUG-1")
    assert h.magento.products["MUG-1"].status == 1

    h.catalogue.remove("MUG")
    result = h.push()

    assert result.counts.products_disabled == 1 and h.magento.products["MUG-1"].status == 2
    assert h.magento.calls_to("find_products") == []  # it was bound before: Magento has it
    assert_steady(h)


def test_given_binding_save_throttled_after_disable_when_style_returns_then_enabled_again() -> None:
    h, store = harness(style("MUG", "Coffee Mug"))
    h.push()
    h.catalogue.remove("MUG")
    push_with_binding_save_throttled(h, store, "MUG-1")
    assert h.magento.products["MUG-1"].status == 2
    assert h.bindings(BindingKind.PRODUCT)["MUG-1"].product.pending.kind == "disable"

    h.catalogue.put(style("MUG", "Coffee Mug"))
    result = h.push()

    assert result.counts.products_enabled == 1 and h.magento.products["MUG-1"].status == 1
    assert_steady(h)


def test_given_binding_save_throttled_after_create_when_still_desired_then_resent_once_and_bound() -> None:
    h, store = harness(style("MUG", "Coffee Mug"))
    push_with_binding_save_throttled(h, store, "MUG-1")

    result = h.push()

    assert result.status == "succeeded" and h.magento.sent_skus() == ["MUG-1"]  # an upsert
    assert len(h.magento.products) == 1 and h.magento.products["MUG-1"].status == 1
    assert h.bindings(BindingKind.PRODUCT)["MUG-1"].magento_id == h.magento.products["MUG-1"].entity_id
    assert_steady(h)


# ---------------------------------------------------------------- stale category link


def test_given_binding_save_throttled_after_create_when_style_moves_category_then_old_category_unlinked() -> (
    None
):
    h, store = harness(style("MUG", "Coffee Mug"))
    push_with_binding_save_throttled(h, store, "MUG-1")
    assert categories_of(h, "MUG-1") == {"Womens/Tops"}

    h.catalogue.edit("MUG", category_path="Home/Kitchen")
    result = h.push()

    assert result.status == "succeeded" and result.counts.categories_unlinked == 1
    assert categories_of(h, "MUG-1") == {"Home/Kitchen"}
    assert h.bindings(BindingKind.PRODUCT)["MUG-1"].product.category_path == "Home/Kitchen"
    assert_steady(h)


def test_given_binding_save_throttled_after_category_move_when_moved_again_then_both_old_links_go() -> None:
    h, store = harness(style("MUG", "Coffee Mug"))
    h.push()
    h.catalogue.edit("MUG", category_path="Mens/Tees")
    push_with_binding_save_throttled(h, store, "MUG-1")

    h.catalogue.edit("MUG", category_path="Home/Kitchen")
    h.push()

    assert categories_of(h, "MUG-1") == {"Home/Kitchen"}
    assert_steady(h)


def test_given_binding_save_throttled_after_category_move_when_style_moves_back_then_the_move_is_undone() -> (
    None
):
    h, store = harness(style("MUG", "Coffee Mug"))
    h.push()
    h.catalogue.edit("MUG", category_path="Mens/Tees")
    push_with_binding_save_throttled(h, store, "MUG-1")

    h.catalogue.edit("MUG", category_path="Womens/Tops")  # the fingerprint last confirmed
    h.push()

    assert categories_of(h, "MUG-1") == {"Womens/Tops"}
    assert_steady(h)


# ---------------------------------------------------------------- state stays honest


def test_given_create_refused_by_magento_then_no_pending_binding_is_left_behind() -> None:
    h, _ = harness(style("MUG", "Coffee Mug"))
    h.magento.reject_products["MUG-1"] = ("URL key for specified store already exists.", "url_key")

    h.push()

    assert "MUG-1" not in h.bindings(BindingKind.PRODUCT)


def test_given_update_refused_by_magento_then_the_confirmed_binding_is_kept() -> None:
    h, _ = harness(style("MUG", "Coffee Mug"))
    h.push()
    before = h.bindings(BindingKind.PRODUCT)["MUG-1"]
    h.catalogue.edit("MUG", category_path="Home/Kitchen")
    h.magento.reject_products["MUG-1"] = ("Invalid product data.", "")

    h.push()

    assert h.bindings(BindingKind.PRODUCT)["MUG-1"] == before


def test_given_pending_binding_when_planned_then_listed_and_nothing_is_written_or_asked() -> None:
    h, store = harness(style("MUG", "Coffee Mug"), style("CUP", "Tea Cup"))
    push_with_binding_save_throttled(h, store, "MUG-1")
    h.catalogue.remove("MUG")
    bindings_before = {k: dict(v) for k, v in store.bindings.items()}
    magento_before = h.magento.snapshot()
    h.magento.reset_calls()

    plan = h.sync().plan()

    assert plan.disable == ["MUG-1"]
    assert h.magento.calls == [] and h.magento.snapshot() == magento_before
    assert {k: dict(v) for k, v in store.bindings.items()} == bindings_before


def test_given_plain_changes_when_pushed_then_no_intent_is_written_for_updates_that_keep_their_links() -> (
    None
):
    h, store = harness(style("MUG", "Coffee Mug"), config=make_config(field_ownership={"name": "always"}))
    h.push()
    saves: list[list[Binding]] = []
    original = store.save_bindings

    def recording(bindings: Sequence[Binding]) -> None:
        saves.append(list(bindings))
        original(bindings)

    store.save_bindings = recording  # type: ignore[method-assign]
    h.catalogue.edit("MUG", description="Big Coffee Mug")

    assert h.push().counts.products_updated == 1

    product_saves = [b for batch in saves for b in batch if b.kind is BindingKind.PRODUCT]
    assert [b.status is BindingStatus.PENDING for b in product_saves] == [False]


# ---------------------------------------------------------------- prices, sales and stock


def test_given_stock_confirmation_lost_when_ci_goes_back_to_the_old_quantity_then_it_is_sent_again() -> None:
    h, store = harness(style("MUG", "Coffee Mug"))
    h.catalogue.set_stock("MUG-1", "SHOP", 6)
    h.push()
    h.catalogue.set_stock("MUG-1", "SHOP", 7)
    store.kind = BindingKind.STOCK
    push_with_binding_save_throttled(h, store, "MUG-1@shop")
    assert h.magento.source_items[("MUG-1", "shop")] == (Decimal(7), True)

    h.catalogue.set_stock("MUG-1", "SHOP", 6)  # back to what the surviving binding would say
    result = h.push()

    assert result.status == "succeeded" and result.counts.stock_sent == 1
    assert h.magento.source_items[("MUG-1", "shop")] == (Decimal(6), True)


def test_given_price_confirmation_lost_when_ci_goes_back_to_the_old_price_then_it_is_sent_again() -> None:
    h, store = harness(style("MUG", "Coffee Mug", retail="10.00"))
    h.push()
    h.catalogue.edit("MUG", retail_price="12.00")
    store.kind = BindingKind.PRICE
    push_with_binding_save_throttled(h, store, "MUG-1")
    assert h.magento.base_prices[("MUG-1", 0)] == Decimal("12.00")

    h.catalogue.edit("MUG", retail_price="10.00")
    assert h.push().counts.prices_sent == 1
    assert h.magento.base_prices[("MUG-1", 0)] == Decimal("10.00")


def test_given_new_sale_confirmation_lost_when_sale_ends_in_ci_then_it_is_deleted() -> None:
    h, store = harness(style("MUG", "Coffee Mug", retail="10.00"))
    h.push()
    h.catalogue.sale("MUG", "8.00", date(2026, 11, 1), None)
    store.kind = BindingKind.SPECIAL_PRICE
    push_with_binding_save_throttled(h, store, "MUG-1")
    assert ("MUG-1", 0) in h.magento.special_prices

    h.catalogue.sale("MUG", None)
    result = h.push()

    assert result.status == "succeeded" and result.counts.special_prices_deleted == 1
    assert h.magento.special_prices == {}
