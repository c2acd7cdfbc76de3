"""The MagentoCatalog port's contract: the same cases against the fake the core tests use and against
the real adapter talking to the Magento sandbox over HTTP, so the fake cannot drift from the adapter.

Only what the port promises is asserted (ids, outcomes, which rows are refused and for which SKU and
source), never the wording of a message: that is Magento's, filled in by the adapter.
"""

from collections.abc import Iterator
from datetime import date
from decimal import Decimal

import pytest
from kudos_sync.config import SyncSettings
from kudos_sync.domain.ids import Sku, SourceCode
from kudos_sync.magento.catalog import RestMagentoCatalog
from kudos_sync.magento.client import MagentoClient
from kudos_sync.sync.ports import (
    MagentoCatalog,
    MediaUpload,
    PriceRow,
    ProductWrite,
    SourceItemRow,
    StoreProduct,
)

from sandbox.magento import MagentoSandbox, SandboxOptions
from tests.fakes.magento_catalog import FakeMagentoCatalog
from tests.magento.conftest import Sleeps, magento_settings

ROOT = 2  # "Default Category" in both
SOURCES = ("default", "shop", "web")
PNG = b"\x89PNG\r\n\x1a\n" + bytes.fromhex(
    "0000000d49484452000000010000000108060000001f15c4890000000d49444154789c6360000002000001e221bc33"
    "0000000049454e44ae426082"
)


@pytest.fixture(params=["fake", "sandbox"])
def catalog(request: pytest.FixtureRequest) -> Iterator[MagentoCatalog]:
    if request.param == "fake":
        yield FakeMagentoCatalog(root_category_id=ROOT, store_ids=(0, 1), sources=SOURCES)
        return
    # Strict source items: Magento's validators refuse stock for a SKU it does not have (as the fake).
    with MagentoSandbox(SandboxOptions(sources=SOURCES, strict_source_items=True)) as store:
        client = MagentoClient(
            magento_settings(store.base_url),
            SyncSettings(concurrency=2, batch_size=20, page_size=50),
            sleep=Sleeps(),
        )
        try:
            yield RestMagentoCatalog(client)
        finally:
            client.close()


def a_simple(sku: str, *, url_key: str | None = None, **changes: object) -> ProductWrite:
    fields: dict[str, object] = {
        "sku": Sku(sku),
        "type_id": "simple",
        "enabled": True,
        "visibility": 4,
        "name": f"Product {sku}",
        "price": Decimal("20.00"),
        "url_key": url_key or sku.lower().replace("/", "-"),
    }
    return ProductWrite.model_validate({**fields, **changes})


def an_image(sha: str, *, main: bool, position: int = 1) -> MediaUpload:
    return MediaUpload(
        sha256=sha,
        title=f"STYLE {position}",
        position=position,
        main=main,
        content_type="image/png",
        file_name=f"style-{position}.png",
        data=PNG,
    )


# ---------------------------------------------------------------- options and categories


def test_given_a_new_label_when_added_twice_then_one_option_with_one_id(catalog: MagentoCatalog) -> None:
    red = catalog.add_attribute_option("color", "Red")

    assert catalog.add_attribute_option("color", "Red") == red
    assert catalog.list_attribute_options("color").get("Red") == red
    assert list(catalog.list_attribute_options("color").values()).count(red) == 1


def test_given_a_category_when_created_twice_under_its_parent_then_one_node(catalog: MagentoCatalog) -> None:
    womens = catalog.create_category(ROOT, "Womens")
    tops = catalog.create_category(womens, "Tops")

    assert catalog.create_category(womens, "Tops") == tops
    nodes = [(node.parent_id, node.name, node.category_id) for node in catalog.list_categories(ROOT)]
    assert (ROOT, "Womens", womens) in nodes and nodes.count((womens, "Tops", tops)) == 1


# ---------------------------------------------------------------- products


def test_given_a_product_when_saved_twice_then_it_is_upserted_by_sku(catalog: MagentoCatalog) -> None:
    [first] = catalog.save_products([a_simple("MUG/1")])
    [again] = catalog.save_products([a_simple("MUG/1", name="Renamed")])

    assert first.error is None and first.magento_id is not None and first.key == "MUG/1"
    assert again.magento_id == first.magento_id
    assert catalog.find_products(["MUG/1", "NOPE"]) == {"MUG/1": first.magento_id}


def test_given_a_url_key_taken_by_another_sku_then_that_write_alone_is_refused_naming_url_key(
    catalog: MagentoCatalog,
) -> None:
    outcomes = catalog.save_products(
        [a_simple("A-1", url_key="same"), a_simple("A-2", url_key="same"), a_simple("A-3")]
    )

    # The adapter saves concurrently: which of the two gets the url key first is not promised.
    assert [o.key for o in outcomes] == ["A-1", "A-2", "A-3"]
    refused = [o for o in outcomes if o.error]
    assert len(refused) == 1 and refused[0].key in ("A-1", "A-2") and refused[0].field == "url_key"
    assert refused[0].magento_id is None and outcomes[2].magento_id
    assert set(catalog.find_products(["A-1", "A-2", "A-3"])) == {"A-1", "A-2", "A-3"} - {refused[0].key}


def test_given_a_parent_and_its_children_in_one_call_then_linked_and_unlinking_twice_is_fine(
    catalog: MagentoCatalog,
) -> None:
    red = catalog.add_attribute_option("color", "Red")
    blue = catalog.add_attribute_option("color", "Blue")
    children = [
        a_simple("TEE-RED", visibility=1, options=(("color", red),)),
        a_simple("TEE-BLUE", visibility=1, options=(("color", blue),)),
    ]
    parent = a_simple(
        "TEE",
        type_id="configurable",
        price=None,
        configurable_options={"color": (red, blue)},
        child_skus=(Sku("TEE-RED"), Sku("TEE-BLUE")),
    )

    outcomes = catalog.save_products([parent, *children])

    assert all(o.error is None and o.magento_id for o in outcomes), outcomes
    catalog.unlink_child("TEE", "TEE-RED")
    catalog.unlink_child("TEE", "TEE-RED")
    catalog.unlink_child("TEE", "NEVER-A-CHILD")


def test_given_a_parent_whose_child_is_missing_then_its_write_is_refused(catalog: MagentoCatalog) -> None:
    [outcome] = catalog.save_products(
        [a_simple("P", type_id="configurable", price=None, child_skus=(Sku("NOPE"),))]
    )

    assert outcome.error and outcome.magento_id is None
    assert catalog.find_products(["P"]) == {}


def test_given_category_links_when_unlinked_twice_then_it_is_fine(catalog: MagentoCatalog) -> None:
    womens = catalog.create_category(ROOT, "Womens")
    catalog.save_products([a_simple("MUG-1", category_ids=(womens,))])

    catalog.unlink_category(womens, "MUG-1")
    catalog.unlink_category(womens, "MUG-1")


# ---------------------------------------------------------------- what the store holds (adoption)


def test_given_products_in_the_store_when_read_by_sku_then_their_type_links_and_gallery_come_back(
    catalog: MagentoCatalog,
) -> None:
    womens = catalog.create_category(ROOT, "Womens")
    red = catalog.add_attribute_option("color", "Red")
    catalog.save_products(
        [
            a_simple("TEE-RED", visibility=1, options=(("color", red),), category_ids=(womens,)),
            a_simple(
                "TEE",
                type_id="configurable",
                price=None,
                url_key="tee-seo",
                configurable_options={"color": (red,)},
                child_skus=(Sku("TEE-RED"),),
            ),
        ]
    )
    catalog.add_media("TEE-RED", an_image("a" * 64, main=True))
    ids = catalog.find_products(["TEE", "TEE-RED"])

    held = catalog.read_products(["TEE", "TEE-RED", "NOPE"])

    assert set(held) == {"TEE", "TEE-RED"}
    parent, child = held["TEE"], held["TEE-RED"]
    assert isinstance(parent, StoreProduct) and isinstance(child, StoreProduct)
    assert (parent.sku, parent.magento_id, parent.type_id, parent.url_key) == (
        "TEE",
        ids["TEE"],
        "configurable",
        "tee-seo",
    )
    assert parent.child_ids == (ids["TEE-RED"],) and len(parent.configurable_attributes) == 1
    assert (child.type_id, child.category_ids, child.media_entries) == ("simple", (womens,), 1)
    assert catalog.read_products([]) == {}


def test_given_a_sku_asked_in_another_case_then_it_is_found_under_the_asked_sku_spelled_as_magento_has_it(
    catalog: MagentoCatalog,
) -> None:
    catalog.save_products([a_simple("Mug-1")])

    held = catalog.read_products(["MUG-1"])

    assert list(held) == ["MUG-1"]
    found = held["MUG-1"]
    assert isinstance(found, StoreProduct) and found.sku == "Mug-1"


def test_given_more_skus_than_a_page_when_read_then_every_held_one_comes_back(
    catalog: MagentoCatalog,
) -> None:
    skus = [f"BULK-{i:03}" for i in range(60)]  # the sandbox client pages by 50
    catalog.save_products([a_simple(sku) for sku in skus[::2]])

    held = catalog.read_products(skus)

    assert sorted(held) == skus[::2]


def test_given_url_keys_when_looked_up_then_the_sku_holding_each_taken_one_is_named(
    catalog: MagentoCatalog,
) -> None:
    catalog.save_products([a_simple("A-1", url_key="blue-mug"), a_simple("A-2", url_key="red-mug")])

    assert catalog.find_url_keys(["blue-mug", "free-key", "red-mug"]) == {"blue-mug": "A-1", "red-mug": "A-2"}
    assert catalog.find_url_keys([]) == {}


def test_given_products_when_counted_then_every_one_the_store_holds_is_counted(
    catalog: MagentoCatalog,
) -> None:
    before = catalog.count_products()
    catalog.save_products([a_simple("C-1"), a_simple("C-2")])

    assert catalog.count_products() == before + 2


# ---------------------------------------------------------------- prices and stock


def test_given_price_rows_then_only_the_unknown_sku_is_refused(catalog: MagentoCatalog) -> None:
    catalog.save_products([a_simple("MUG-1")])
    rows = [
        PriceRow(sku=Sku("MUG-1"), price=Decimal("12.50"), store_id=0),
        PriceRow(sku=Sku("GHOST"), price=Decimal("9.00"), store_id=0),
    ]

    failures = catalog.save_base_prices(rows)

    assert [(f.sku, f.source_code) for f in failures] == [("GHOST", None)] and failures[0].message


def test_given_a_special_price_when_saved_and_deleted_twice_then_no_row_is_refused(
    catalog: MagentoCatalog,
) -> None:
    catalog.save_products([a_simple("MUG-1")])
    row = PriceRow(
        sku=Sku("MUG-1"),
        price=Decimal("9.90"),
        store_id=0,
        price_from=date(2026, 11, 1),
        price_to=date(2026, 11, 30),
    )

    assert catalog.save_special_prices([row]) == []
    assert catalog.delete_special_prices([row]) == []
    assert catalog.delete_special_prices([row]) == []


def test_given_source_items_then_unknown_products_and_sources_are_refused_row_by_row(
    catalog: MagentoCatalog,
) -> None:
    catalog.save_products([a_simple("MUG-1")])
    rows = [
        SourceItemRow(sku=Sku("MUG-1"), source_code=SourceCode("web"), quantity=Decimal(3), in_stock=True),
        SourceItemRow(sku=Sku("MUG-1"), source_code=SourceCode("moon"), quantity=Decimal(1), in_stock=True),
        SourceItemRow(sku=Sku("GHOST"), source_code=SourceCode("shop"), quantity=Decimal(0), in_stock=False),
    ]

    failures = catalog.save_source_items(rows)

    assert sorted((f.sku, f.source_code) for f in failures) == [("GHOST", "shop"), ("MUG-1", "moon")]
    assert all(f.message for f in failures)
    assert catalog.save_source_items([]) == []


# ---------------------------------------------------------------- what the store holds (drift reads)


def test_given_products_when_read_then_status_category_and_child_links_as_held_and_unknown_absent(
    catalog: MagentoCatalog,
) -> None:
    red = catalog.add_attribute_option("color", "Red")
    womens = catalog.create_category(ROOT, "Womens")
    child = a_simple("TEE-RED", visibility=1, options=(("color", red),))
    parent = a_simple(
        "TEE",
        type_id="configurable",
        price=None,
        category_ids=(womens,),
        configurable_options={"color": (red,)},
        child_skus=(Sku("TEE-RED"),),
    )
    ids = {
        o.key: o.magento_id for o in catalog.save_products([child, parent, a_simple("OFF", enabled=False)])
    }

    held = catalog.read_product_states(["TEE", "TEE-RED", "off", "GHOST"])

    assert set(held) == {"TEE", "TEE-RED", "off"}  # as asked: Magento matches SKUs case-insensitively
    assert held["TEE"].type_id == "configurable" and held["TEE"].enabled
    assert held["TEE"].category_ids == (womens,) and held["TEE"].child_ids == (ids["TEE-RED"],)
    assert held["TEE-RED"].child_ids == () and held["TEE-RED"].magento_id == ids["TEE-RED"]
    assert not held["off"].enabled
    catalog.unlink_child("TEE", "TEE-RED")
    assert catalog.read_product_states(["TEE"])["TEE"].child_ids == ()


def test_given_base_and_special_prices_when_read_then_the_rows_held_come_back_with_their_dates(
    catalog: MagentoCatalog,
) -> None:
    catalog.save_products([a_simple("MUG-1"), a_simple("MUG-2")])
    catalog.save_base_prices([PriceRow(sku=Sku("MUG-1"), price=Decimal("12.50"), store_id=0)])
    sale = PriceRow(
        sku=Sku("MUG-1"),
        price=Decimal("9.90"),
        store_id=0,
        price_from=date(2026, 11, 1),
        price_to=date(2026, 11, 30),
    )
    catalog.save_special_prices([sale])

    base = catalog.read_base_prices(["MUG-1", "GHOST"])
    special = catalog.read_special_prices(["MUG-1", "MUG-2", "GHOST"])

    assert [(r.sku, r.price, r.store_id) for r in base] == [("MUG-1", Decimal("12.50"), 0)]
    assert [(r.sku, r.price, r.store_id, r.price_from, r.price_to) for r in special] == [
        ("MUG-1", Decimal("9.90"), 0, date(2026, 11, 1), date(2026, 11, 30))
    ]
    catalog.delete_special_prices([sale])
    assert catalog.read_special_prices(["MUG-1"]) == []


def test_given_source_items_when_read_then_quantity_and_status_per_source_and_unknown_absent(
    catalog: MagentoCatalog,
) -> None:
    catalog.save_products([a_simple("MUG-1"), a_simple("MUG-2")])
    catalog.save_source_items(
        [
            SourceItemRow(
                sku=Sku("MUG-1"), source_code=SourceCode("web"), quantity=Decimal(3), in_stock=True
            ),
            SourceItemRow(
                sku=Sku("MUG-1"), source_code=SourceCode("shop"), quantity=Decimal(0), in_stock=False
            ),
        ]
    )

    rows = catalog.read_source_items(["MUG-1", "GHOST"])

    held = {(r.sku, r.source_code): (r.quantity, r.in_stock) for r in rows}
    assert held[("MUG-1", "web")] == (Decimal(3), True)
    assert held[("MUG-1", "shop")] == (Decimal(0), False)
    assert {sku for sku, _ in held} == {"MUG-1"}


# ---------------------------------------------------------------- media


def test_given_uploads_then_listed_by_content_hash_and_position_and_deleting_twice_is_fine(
    catalog: MagentoCatalog,
) -> None:
    catalog.save_products([a_simple("MUG-1")])
    first, second = "a" * 64, "b" * 64

    first_id = catalog.add_media("MUG-1", an_image(first, main=True, position=1))
    second_id = catalog.add_media("MUG-1", an_image(second, main=False, position=2))

    listed = sorted(catalog.list_media("MUG-1"), key=lambda entry: entry.position)
    assert [(e.entry_id, e.sha256, e.position) for e in listed] == [
        (first_id, first, 1),
        (second_id, second, 2),
    ]
    catalog.delete_media("MUG-1", first_id)
    catalog.delete_media("MUG-1", first_id)
    assert [e.entry_id for e in catalog.list_media("MUG-1")] == [second_id]
