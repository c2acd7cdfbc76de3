"""Drift: the push reads what Magento holds of the fields CI Office owns `always`, lists what differs,
and sends exactly that; web-owned fields are never read nor written, nothing is deleted in Magento."""

from datetime import date
from decimal import Decimal

import pytest
from kudos_sync.config import ReconcileSettings
from kudos_sync.domain.state import BindingKind, BindingStatus
from kudos_sync.sync.push.drift import DRIFT_KINDS, DriftKind, DriftScan
from kudos_sync.sync.push.drift_schedule import cursor_stream
from kudos_sync.sync.push.results import PushResult
from pydantic import ValidationError

from tests.fakes.catalogue import style
from tests.unit.test_push import Harness, make_config, tee


def drift(h: Harness, *kinds: DriftKind, repair: bool = False) -> tuple[DriftScan, PushResult | None]:
    h.magento.reset_calls()
    return h.sync().drift(list(kinds or DRIFT_KINDS), repair=repair)


def found(scan: DriftScan) -> set[tuple[str, str, str, str]]:
    return {(d.kind, d.key, d.ci, d.magento) for d in scan.drifts}


def mug_store(**config: object) -> Harness:
    h = Harness([style("MUG", "Coffee Mug")], config=make_config(**config))
    h.catalogue.set_stock("MUG-1", "SHOP", 5)
    h.push()
    return h


# ---------------------------------------------------------------- finding


def test_given_nothing_drifted_when_scanned_then_no_difference_one_read_per_batch_and_no_write() -> None:
    h = Harness([tee("TEE"), style("MUG", "Coffee Mug")], config=make_config(sync={"batch_size": 2}))
    h.catalogue.set_stock("TEE-Red-S", "SHOP", 5)
    h.catalogue.set_stock("MUG-1", "WEB", 1)
    h.push()

    scan, repaired = drift(h)

    assert scan.drifts == [] and repaired is None and h.magento.write_calls() == []
    # 5 sellable SKUs (4 children, the mug: stock rows at every source, prices), 6 products: batches of 2.
    assert scan.scanned == {"stock": 5, "prices": 5, "products": 6}
    assert scan.requests == 3 + 3 + 3
    asked = [sku for call in h.magento.calls_to("read_product_states") for sku in call]
    assert sorted(asked) == sorted(set(asked)) and len(asked) == 6  # each product read once


def test_given_a_drift_of_exactly_the_safety_stock_then_found_and_repaired_to_ci_figure() -> None:
    h = mug_store(safety_stock="2")
    assert h.magento.source_items[("MUG-1", "shop")] == (Decimal(3), True)
    h.magento.source_items[("MUG-1", "shop")] = (Decimal(5), True)  # an admin typed the shelf count

    scan, repaired = drift(h, "stock", repair=True)

    assert found(scan) == {("stock", "MUG-1@shop", "3 in stock", "5 in stock")}
    assert h.magento.source_items[("MUG-1", "shop")] == (Decimal(3), True)
    assert repaired is not None and repaired.counts.stock_sent == 1
    assert h.bindings(BindingKind.STOCK)["MUG-1@shop"].status is BindingStatus.SENT
    assert drift(h, "stock")[0].drifts == []


def test_given_a_shipment_deducted_one_unit_then_found_and_the_same_figure_left_is_not() -> None:
    h = mug_store()
    h.magento.source_items[("MUG-1", "shop")] = (Decimal(4), True)

    assert found(drift(h, "stock")[0]) == {("stock", "MUG-1@shop", "5 in stock", "4 in stock")}
    h.magento.source_items[("MUG-1", "shop")] = (Decimal(5), True)
    assert drift(h, "stock")[0].drifts == []


def test_given_a_price_edited_in_admin_then_repaired_and_nothing_else_is_sent() -> None:
    h = mug_store()
    h.magento.base_prices[("MUG-1", 0)] = Decimal("1.00")

    scan, _ = drift(h, repair=True)

    assert [(d.kind, d.key, d.magento) for d in scan.drifts] == [("prices", "MUG-1", "1.00")]
    assert [call for call, _ in h.magento.write_calls()] == ["save_base_prices"]
    assert h.magento.base_prices[("MUG-1", 0)] == Decimal(scan.drifts[0].ci)


def test_given_a_sale_ended_in_magento_while_ci_office_still_runs_it_then_it_is_sent_again() -> None:
    h = Harness([style("MUG", "Coffee Mug")])
    h.catalogue.sale("MUG", "9.90", date(2026, 10, 1), date(2026, 12, 31))
    h.push()
    h.magento.special_prices.clear()  # the web team ended the sale

    scan, _ = drift(h, "special-prices", repair=True)

    assert [(d.kind, d.magento) for d in scan.drifts] == [("special-prices", "missing")]
    row = h.magento.special_prices[("MUG-1", 0)]
    assert (row.price, row.price_from, row.price_to) == (
        Decimal("9.90"),
        date(2026, 10, 1),
        date(2026, 12, 31),
    )


def test_given_a_product_disabled_by_the_web_team_while_ci_says_active_then_enabled_web_copy_kept() -> None:
    h = mug_store()
    product = h.magento.products["MUG-1"]
    product.attributes["status"] = 2
    product.attributes["name"] = "The web team's mug"  # on_create: theirs now

    scan, _ = drift(h, repair=True)

    assert found(scan) == {("status", "MUG-1", "enabled", "disabled")}
    assert product.status == 1 and product.name == "The web team's mug"


def test_given_ci_says_inactive_then_a_product_disabled_is_left_and_one_re_enabled_is_disabled() -> None:
    h = mug_store()
    h.catalogue.remove("MUG")
    h.push()
    assert h.magento.products["MUG-1"].status == 2

    scan, _ = drift(h, repair=True)
    assert scan.drifts == [] and h.magento.write_calls() == []

    h.magento.products["MUG-1"].attributes["status"] = 1  # re-enabled by hand
    scan, _ = drift(h, repair=True)
    assert found(scan) == {("status", "MUG-1", "disabled", "enabled")}
    assert h.magento.products["MUG-1"].status == 2 and "MUG-1" in h.magento.products


def test_given_a_web_owned_name_and_extra_category_changed_then_no_drift_and_nothing_sent() -> None:
    h = mug_store()
    product = h.magento.products["MUG-1"]
    product.attributes["name"] = "Renamed"
    product.custom_attributes["url_key"] = "seo-mug"
    product.category_ids.add(99)  # merchandising: the web team's own link

    scan, _ = drift(h, repair=True)

    assert scan.drifts == [] and h.magento.write_calls() == []
    assert (product.name, product.url_key) == ("Renamed", "seo-mug") and 99 in product.category_ids


def test_given_prices_owned_on_create_then_a_price_edited_in_admin_is_never_read_nor_sent() -> None:
    h = mug_store(field_ownership={"price": "on_create"})
    h.magento.base_prices[("MUG-1", 0)] = Decimal("1.00")

    scan, _ = drift(h, repair=True)

    assert scan.drifts == [] and h.magento.calls_to("read_base_prices") == []
    assert h.magento.base_prices[("MUG-1", 0)] == Decimal("1.00")


def test_given_a_child_unlinked_and_a_category_link_removed_then_both_relinked() -> None:
    h = Harness([tee("TEE")])
    h.push()
    parent = h.magento.products["TEE"]
    category = next(iter(parent.category_ids))
    parent.child_skus = tuple(c for c in parent.child_skus if c != "TEE-Red-S")
    parent.category_ids.clear()

    scan, _ = drift(h, repair=True)

    assert {(d.kind, d.key) for d in scan.drifts} == {("links", "TEE"), ("categories", "TEE")}
    assert "TEE-Red-S" in parent.child_skus and category in parent.category_ids


def test_given_a_product_deleted_in_magento_then_created_again_with_its_rows_and_nothing_deleted() -> None:
    h = mug_store()
    del h.magento.products["MUG-1"]
    h.magento.base_prices.clear()
    h.magento.source_items.clear()

    scan, _ = drift(h, repair=True)

    assert ("status", "MUG-1", "enabled", "missing") in found(scan)
    assert {d.kind for d in scan.drifts} == {"status", "prices", "stock"}  # its rows went with it
    assert h.magento.products["MUG-1"].status == 1
    assert h.magento.source_items[("MUG-1", "shop")] == (Decimal(5), True)
    assert ("MUG-1", 0) in h.magento.base_prices
    assert not any(
        call.startswith("delete") or call.startswith("unlink") for call, _ in h.magento.write_calls()
    )


# ---------------------------------------------------------------- the scheduled reconcile


def test_given_the_schedule_then_stock_is_read_hourly_and_the_rest_daily() -> None:
    h = mug_store()
    h.clock.advance(minutes=59)
    assert h.push().counts.drift_scanned == 0

    h.clock.advance(minutes=1)
    counts = h.push().counts
    assert counts.drift_scanned == 1 and h.magento.calls_to("read_base_prices") == []

    h.clock.advance(hours=23)
    h.push()
    assert len(h.magento.calls_to("read_base_prices")) == 1


def test_given_a_request_bound_then_a_pass_resumes_across_runs_and_covers_every_sku_once() -> None:
    styles = [style(f"S{i:02d}", "Thing") for i in range(7)]
    h = Harness(styles, config=make_config(sync={"batch_size": 2}, reconcile={"max_requests": 2}))
    for i in range(7):
        h.catalogue.set_stock(f"S{i:02d}-1", "SHOP", 3)
    h.push()  # creates the products: nothing bound yet to read
    h.clock.advance(hours=1)  # stock is due: each run's budget reads 2 batches of 2 SKUs
    for i in range(7):
        h.magento.source_items[(f"S{i:02d}-1", "shop")] = (Decimal(1), True)

    read: list[str] = []
    drifted = 0
    positions: list[int] = []
    for _ in range(2):
        counts = h.push().counts
        drifted += counts.drift_stock
        read += [sku for batch in h.magento.calls_to("read_source_items") for sku in batch]
        cursor = h.state.get_cursor(cursor_stream("stock"))
        assert cursor is not None
        positions.append(cursor.entity_id)

    assert positions == [4, 0]  # part way, then the pass is done
    assert sorted(read) == sorted(f"S{i:02d}-1" for i in range(7))  # each once, across two runs
    assert drifted == 7
    assert all(h.magento.source_items[(f"S{i:02d}-1", "shop")] == (Decimal(3), True) for i in range(7))


def test_given_the_reconcile_disabled_then_nothing_is_read() -> None:
    h = mug_store(reconcile={"enabled": False})
    h.clock.advance(days=2)

    h.push()

    assert not any(call.startswith("read_") for call, _ in h.magento.calls)


@pytest.mark.parametrize(
    "settings",
    [
        {"stock_every_minutes": 4},
        {"stock_every_minutes": 120, "others_every_minutes": 60},
        {"max_requests": 0},
        {"max_seconds": 841},
    ],
)
def test_given_bad_reconcile_settings_then_refused(settings: dict[str, int]) -> None:
    with pytest.raises(ValidationError):
        ReconcileSettings.model_validate(settings)


def test_given_default_reconcile_settings_then_stock_hourly_and_the_rest_daily() -> None:
    settings = ReconcileSettings()
    assert (settings.stock_every_minutes, settings.others_every_minutes) == (60, 1440)
