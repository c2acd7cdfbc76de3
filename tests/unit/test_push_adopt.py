"""Adopt on first contact: a store that already sells some of CI Office's SKUs keeps its web copy.

The store is seeded as the web team left it (names, SEO url keys, descriptions, galleries, extra
category links); the first push binds what it finds, sends only the fields CI Office owns `always`,
and parks conflicts naming both sides without touching either.
"""

import contextlib
from decimal import Decimal

from kudos_sync.domain.state import BindingKind, BindingStatus
from kudos_sync.sync.ports import CategoryNode

from tests.fakes.catalogue import style, variant
from tests.fakes.magento_catalog import FakeCrashError, FakeMedia
from tests.unit.test_push import Harness, make_config, tee


def _store_gallery(h: Harness, sku: str) -> None:
    h.magento.media[sku] = {9001: FakeMedia(9001, "Web team photo", 1, ("image",), b"web")}


def _extra_category(h: Harness, name: str) -> int:
    h.magento.categories[8001] = CategoryNode(
        category_id=8001, parent_id=h.magento.root_category_id, name=name
    )
    return 8001


def test_given_a_store_holding_none_of_the_skus_when_pushed_then_all_created_after_one_search() -> None:
    h = Harness([style("MUG", "Coffee Mug"), style("CUP", "Tea Cup")])

    result = h.push()

    assert result.counts.products_created == 2 and result.counts.products_adopted == 0
    assert [sorted(c) for c in h.magento.calls_to("read_products")] == [["CUP-1", "MUG-1"]]


def test_given_a_store_holding_one_sku_with_web_copy_when_pushed_then_it_is_adopted_and_its_copy_kept() -> (
    None
):
    h = Harness([style("MUG", "Coffee Mug"), style("CUP", "Tea Cup")])
    h.catalogue.set_stock("MUG-1", "SHOP", 7)
    h.catalogue.add_image("MUG", 1)
    held = h.magento.seed_product(
        "MUG-1",
        name="Ceramic Mug, 350 ml",
        url_key="ceramic-mug",
        description="Hand-written",
        price=Decimal(5),
    )
    extra = _extra_category(h, "Gifts")
    held.category_ids.add(extra)
    _store_gallery(h, "MUG-1")

    result = h.push()

    assert result.status == "succeeded" and not h.parked()
    assert result.counts.products_adopted == 1 and result.counts.products_created == 1
    mug = h.magento.products["MUG-1"]
    assert (mug.name, mug.url_key, mug.custom_attributes["description"]) == (
        "Ceramic Mug, 350 ml",
        "ceramic-mug",
        "Hand-written",
    )
    assert mug.entity_id == held.entity_id  # bound, not created again
    # CI Office's category link (categories owned always) is added; the web team's extra one stays.
    assert {h.magento.category_path(c) for c in mug.category_ids} == {"Gifts", "Womens/Tops"}
    assert h.magento.base_prices[("MUG-1", 0)] == Decimal("49.90")  # price is CI Office's (always)
    assert h.magento.source_items[("MUG-1", "shop")][0] == Decimal(7)
    assert list(h.magento.media["MUG-1"]) == [9001]  # the web team's gallery is kept
    # Once bound, the next push is steady: nothing read, nothing written.
    again = h.push()
    assert h.magento.write_calls() == [] and h.magento.calls_to("read_products") == []
    assert again.counts.products_adopted == 0


def test_given_a_store_holding_every_sku_of_a_configurable_when_pushed_then_no_create_and_links_kept() -> (
    None
):
    h = Harness([tee(colours=["Red"], sizes=["S", "M"])])
    for option_id, label in ((501, "Red"),):
        h.magento.options.setdefault("color", {})[label] = option_id
    h.magento.options["size"] = {"S": 502, "M": 503}
    for sku, size in (("TEE-Red-S", 502), ("TEE-Red-M", 503)):
        h.magento.seed_product(sku, name=f"Web {sku}", color=501, size=size)
    parent = h.magento.seed_product("TEE", "configurable", name="Our Crew Tee", url_key="crew-tee")
    parent.child_skus = ("TEE-Red-S", "TEE-Red-M")
    parent.configurable_options = {"color": (501,), "size": (502, 503)}

    result = h.push()

    assert result.status == "succeeded" and not h.parked()
    assert result.counts.products_adopted == 3 and result.counts.products_created == 0
    assert h.magento.calls_to("add_attribute_option") == []
    tee_now = h.magento.products["TEE"]
    assert sorted(tee_now.child_skus) == ["TEE-Red-M", "TEE-Red-S"]  # kept, never duplicated
    assert (tee_now.name, tee_now.url_key) == ("Our Crew Tee", "crew-tee")
    assert h.magento.products["TEE-Red-S"].name == "Web TEE-Red-S"


def test_given_a_sku_the_store_spells_in_another_case_then_parked_naming_both_and_neither_touched() -> None:
    h = Harness([style("MUG", "Coffee Mug")])
    h.magento.seed_product("mug-1", name="Web Mug")

    result = h.push()

    parked = h.parked()[("products", "MUG-1")]
    assert parked.field == "sku" and "'MUG-1'" in parked.reason and "'mug-1'" in parked.reason
    assert h.magento.sent_skus() == [] and set(h.magento.products) == {"mug-1"}
    assert result.counts.products_created == 0 and "MUG-1" not in h.bindings(BindingKind.PRODUCT)
    assert h.magento.calls_to("save_base_prices") == [] and h.magento.calls_to("save_source_items") == []


def test_given_ci_has_a_configurable_and_the_store_a_simple_with_that_sku_then_parked_not_forced() -> None:
    h = Harness([tee(colours=["Red"], sizes=["S"])])
    h.magento.seed_product("TEE", "simple", name="Web Tee")

    h.push()

    parked = h.parked()[("products", "TEE")]
    assert parked.field == "type_id" and "configurable" in parked.reason and "simple" in parked.reason
    assert h.magento.products["TEE"].type_id == "simple" and h.magento.products["TEE"].name == "Web Tee"
    assert "TEE" not in h.magento.sent_skus() and "TEE-Red-S" in h.magento.products  # the child goes on


def test_given_a_product_the_store_holds_but_we_cannot_read_then_reported_and_left_alone() -> None:
    h = Harness([style("MUG", "Coffee Mug"), style("BOX", "Gift Box")])
    h.magento.seed_product("MUG-1", name="Web Mug")
    h.magento.unreadable.add("MUG-1")
    h.magento.seed_product("BOX-1", "bundle", name="Web Box")

    h.push()

    assert "cannot be read" in h.parked()[("products", "MUG-1")].reason
    assert "bundle" in h.parked()[("products", "BOX-1")].reason
    assert h.magento.sent_skus() == [] and h.magento.products["MUG-1"].name == "Web Mug"


def test_given_a_configurable_without_options_in_the_store_then_reported_and_left_alone() -> None:
    h = Harness([tee(colours=["Red"], sizes=["S"])])
    h.magento.seed_product("TEE", "configurable", name="Web Tee")

    h.push()

    assert h.parked()[("products", "TEE")].field == "configurable_options"
    assert "TEE" not in h.magento.sent_skus()


def test_given_store_categories_and_labels_in_another_case_then_matched_not_created_again() -> None:
    h = Harness([tee(colours=["Red"], sizes=["S"], category="Womens/Tops")])
    magento = h.magento
    root = magento.root_category_id
    magento.categories[601] = CategoryNode(category_id=601, parent_id=root, name=" WOMENS ")
    magento.categories[602] = CategoryNode(category_id=602, parent_id=601, name="tops")
    magento.options = {"color": {"RED": 701}, "size": {"s": 702}}

    result = h.push()

    assert result.counts.categories_created == 0 and result.counts.options_created == 0
    assert magento.calls_to("create_category") == [] and magento.calls_to("add_attribute_option") == []
    assert magento.products["TEE"].category_ids == {602}
    assert magento.products["TEE-Red-S"].custom_attributes["color"] == 701


def test_given_a_store_with_foreign_products_when_adopt_runs_then_counted_and_never_touched() -> None:
    h = Harness([style("MUG", "Coffee Mug"), style("CUP", "Tea Cup")])
    h.magento.seed_product("MUG-1", name="Web Mug")
    for i in range(5):
        h.magento.seed_product(f"FOREIGN-{i}", name=f"Web only {i}")
    before = h.magento.snapshot()

    report = h.sync().adopt()

    assert (report.matched, report.to_create, report.foreign) == (["MUG-1"], ["CUP-1"], 5)
    assert h.magento.snapshot() == before and h.bindings(BindingKind.PRODUCT) == {}  # a dry run
    h.push()
    assert not any(sku.startswith("FOREIGN") for sku in h.magento.sent_skus())
    assert h.magento.snapshot()["products"]["FOREIGN-0"] == before["products"]["FOREIGN-0"]


def test_given_adopt_applied_then_matched_bound_and_the_first_push_updates_without_web_copy() -> None:
    h = Harness([style("MUG", "Coffee Mug"), style("CUP", "Tea Cup")])
    h.magento.seed_product("MUG-1", name="Web Mug", url_key="web-mug")
    h.magento.seed_product("CUP-1", type_id="virtual", name="Web Cup")

    report = h.sync().adopt(apply=True)

    assert report.matched == ["MUG-1"] and list(report.conflicts) == ["unreadable"]
    assert report.conflicts["unreadable"][0].startswith("CUP-1: ")
    binding = h.bindings(BindingKind.PRODUCT)["MUG-1"]
    assert (
        binding.status is BindingStatus.RESYNC and binding.magento_id == h.magento.products["MUG-1"].entity_id
    )
    assert h.magento.write_calls() == []
    result = h.push()
    assert result.counts.products_updated == 1 and result.counts.products_created == 0
    [write] = [w for w in h.magento.calls_to("save_products")[0] if w.sku == "MUG-1"]
    assert write.name is None and write.url_key is None and write.description is None


def test_given_a_url_key_taken_by_another_sku_when_adopt_dry_runs_then_the_conflict_names_both() -> None:
    h = Harness([style("MUG", "Coffee Mug")])
    h.magento.seed_product("WEB-9", name="Other", url_key="coffee-mug-mug-1")

    report = h.sync().adopt()

    assert report.conflicts == {
        "url_key": ["MUG-1: url key 'coffee-mug-mug-1' is already used by SKU 'WEB-9'"]
    }
    assert report.to_create == [] and report.foreign == 1


def test_given_a_tenant_that_never_pushed_when_planned_then_the_plan_shows_the_adoption() -> None:
    h = Harness([style("MUG", "Coffee Mug"), style("CUP", "Tea Cup")])
    h.magento.seed_product("MUG-1", name="Web Mug")

    plan = h.sync().plan()

    assert plan.adopt is not None and plan.adopt.matched == ["MUG-1"]
    assert plan.create == ["CUP-1"] and plan.update == ["MUG-1"]
    assert h.magento.write_calls() == []


def test_given_price_owned_on_create_when_a_product_is_adopted_then_the_store_price_stays() -> None:
    h = Harness([style("MUG", "Coffee Mug")], make_config(field_ownership={"price": "on_create"}))
    h.magento.seed_product("MUG-1", name="Web Mug")
    h.magento.base_prices[("MUG-1", 0)] = Decimal("9.99")

    h.push_until_done()

    assert h.magento.base_prices[("MUG-1", 0)] == Decimal("9.99")


def test_given_a_store_sku_with_a_trailing_blank_then_parked_and_the_other_skus_go_on() -> None:
    h = Harness([style("MUG", "Coffee Mug"), style("CUP", "Tea Cup", variants=[variant("CUP-2")])])
    h.magento.seed_product("MUG-1 ", name="Trailing blank")

    h.push()

    assert h.parked()[("products", "MUG-1")].field == "sku"
    assert "CUP-2" in h.magento.products and "MUG-1" not in h.magento.products


def test_given_a_crash_after_an_adopted_update_then_the_next_run_finds_it_again_and_keeps_the_copy() -> None:
    h = Harness([style("MUG", "Coffee Mug"), style("CUP", "Tea Cup")])
    h.magento.seed_product("MUG-1", name="Web Mug", url_key="web-mug")
    h.magento.crash_after = 1  # the first product save is applied, then the connection drops
    with contextlib.suppress(FakeCrashError):
        h.push()

    result = h.push_until_done()

    assert result.status == "succeeded" and not h.parked()
    mug = h.magento.products["MUG-1"]
    assert (mug.name, mug.url_key) == ("Web Mug", "web-mug")
    assert len(h.magento.products) == 2 and "CUP-1" in h.magento.products
    assert h.bindings(BindingKind.PRODUCT)["MUG-1"].status is BindingStatus.SENT
