"""RestMagentoCatalog against scripted responses: request shapes and failure handling."""

from __future__ import annotations

import threading
from datetime import date
from decimal import Decimal
from typing import Any

import pytest
from kudos_sync.domain.errors import RecordError, TransientError
from kudos_sync.magento.catalog import RestMagentoCatalog, price_failure
from kudos_sync.magento.client import iter_pages
from kudos_sync.magento.errors import AmbiguousWriteError
from kudos_sync.sync.ports import MediaUpload, PriceRow, ProductWrite, SourceItemRow

from tests.magento.conftest import make_client
from tests.magento.stub import Reply, Seen, StubServer


def catalog(stub: StubServer, **kw: Any) -> RestMagentoCatalog:
    return RestMagentoCatalog(make_client(stub.base_url, **kw))


def product_server(stub: StubServer, reject: dict[str, Reply] | None = None) -> dict[str, Any]:
    """Upsert products by SKU; attribute metadata for color/size; search by sku in (...)."""
    products: dict[str, Any] = {}
    lock = threading.Lock()

    def handle(seen: Seen) -> Reply:
        if seen.method == "POST" and seen.raw_path == "/rest/all/V1/products":
            product = seen.body["product"]
            if reject and product["sku"] in reject:
                return reject[product["sku"]]
            with lock:
                existing = products.get(product["sku"])
                product["id"] = existing["id"] if existing else len(products) + 1
                products[product["sku"]] = product
            return Reply(200, product)
        if seen.method == "GET" and seen.raw_path.startswith("/rest/all/V1/products/attributes/"):
            code = seen.raw_path.rsplit("/", 1)[1]
            return Reply(
                200,
                {
                    "attribute_id": {"color": 93, "size": 144}[code],
                    "default_frontend_label": code.title(),
                    "attribute_code": code,
                },
            )
        if seen.method == "GET" and seen.raw_path == "/rest/default/V1/products":
            params = seen.params
            wanted = params["searchCriteria[filter_groups][0][filters][0][value]"].split(",")
            items = [
                {"id": p["id"], "sku": p["sku"]}
                for s, p in products.items()
                if s.lower() in {w.lower() for w in wanted}
            ]
            return Reply(200, {"items": items, "total_count": len(items)})
        return Reply(404, {"message": "Request does not match any route."})

    stub.handler = handle
    return products


def test_product_body_is_global_and_never_touches_the_gallery(stub: StubServer) -> None:
    products = product_server(stub)
    cat = catalog(stub, website_ids=(1, 2), attribute_set_id=9)
    write = ProductWrite(
        sku="TEE-1-RED-M",
        type_id="simple",
        name="Crew Tee",
        enabled=True,
        visibility=1,
        price=Decimal("19.90"),
        url_key="crew-tee-tee-1-red-m",
        options=(("color", 12), ("size", 30)),
        category_ids=(11, 12),
    )
    [outcome] = cat.save_products([write])
    assert outcome.key == "TEE-1-RED-M" and outcome.magento_id == 1 and outcome.error is None
    body = stub.seen[0].body
    assert set(body) == {"product"}
    product = body["product"]
    assert "media_gallery_entries" not in product
    assert product["attribute_set_id"] == 9 and product["price"] == 19.9 and product["name"] == "Crew Tee"
    assert {"attribute_code": "color", "value": "12"} in product["custom_attributes"]
    assert product["extension_attributes"]["website_ids"] == [1, 2]
    assert product["extension_attributes"]["category_links"] == [
        {"category_id": "11", "position": 0},
        {"category_id": "12", "position": 0},
    ]
    assert products["TEE-1-RED-M"]


def test_category_links_are_left_alone_when_not_given(stub: StubServer) -> None:
    product_server(stub)
    catalog(stub).save_products([ProductWrite(sku="A", type_id="simple")])
    assert "category_links" not in stub.seen[0].body["product"]["extension_attributes"]


def test_configurable_parent_links_children_saved_in_the_same_call_and_existing_ones(
    stub: StubServer,
) -> None:
    products = product_server(stub)
    products["OLD-CHILD"] = {"sku": "OLD-CHILD", "id": 500}
    cat = catalog(stub)
    parent = ProductWrite(
        sku="TEE-1",
        type_id="configurable",
        name="Crew Tee",
        configurable_options={"color": (12, 13), "size": (30,)},
        child_skus=("TEE-1-RED", "OLD-CHILD"),
    )
    child = ProductWrite(sku="TEE-1-RED", type_id="simple", options=(("color", 12), ("size", 30)))
    outcomes = cat.save_products([parent, child])
    assert [o.key for o in outcomes] == ["TEE-1", "TEE-1-RED"]
    assert all(o.error is None for o in outcomes)
    ext = products["TEE-1"]["extension_attributes"]
    assert ext["configurable_product_links"] == [products["TEE-1-RED"]["id"], 500]
    assert ext["configurable_product_options"] == [
        {
            "attribute_id": "93",
            "label": "Color",
            "position": 0,
            "values": [{"value_index": 12}, {"value_index": 13}],
        },
        {"attribute_id": "144", "label": "Size", "position": 1, "values": [{"value_index": 30}]},
    ]
    # attribute metadata is fetched once per code
    assert sum(1 for s in stub.seen if "/attributes/" in s.raw_path) == 2
    cat.save_products([parent])
    assert sum(1 for s in stub.seen if "/attributes/" in s.raw_path) == 2


def test_parent_with_a_missing_child_is_a_record_outcome(stub: StubServer) -> None:
    product_server(stub)
    [outcome] = catalog(stub).save_products(
        [
            ProductWrite(
                sku="P", type_id="configurable", configurable_options={"color": (1,)}, child_skus=("NOPE",)
            )
        ]
    )
    assert outcome.error and "NOPE" in outcome.error and outcome.field == "configurable_product_links"


def test_rejected_product_becomes_an_outcome_and_others_are_saved(stub: StubServer) -> None:
    products = product_server(
        stub, reject={"DUP": Reply(400, {"message": "URL key for specified store already exists."})}
    )
    outcomes = catalog(stub).save_products(
        [
            ProductWrite(sku="OK1", type_id="simple"),
            ProductWrite(sku="DUP", type_id="simple"),
            ProductWrite(sku="OK2", type_id="simple"),
        ]
    )
    assert (
        outcomes[1].error == "URL key for specified store already exists." and outcomes[1].field == "url_key"
    )
    assert outcomes[0].magento_id and outcomes[2].magento_id
    assert set(products) == {"OK1", "OK2"}


def test_transient_failure_after_retries_raises(stub: StubServer) -> None:
    product_server(stub, reject={"X": Reply(503, {"message": "busy"})})
    with pytest.raises(TransientError):
        catalog(stub).save_products([ProductWrite(sku="X", type_id="simple")])


def test_find_products_chunks_by_page_size_and_matches_case_insensitively(stub: StubServer) -> None:
    products = product_server(stub)
    for i in range(5):
        products[f"S{i}"] = {"sku": f"S{i}", "id": 100 + i}
    cat = catalog(stub, page_size=2)
    found = cat.find_products(["S0", "s1", "S2", "S3", "S4", "MISSING"])
    assert found == {"S0": 100, "s1": 101, "S2": 102, "S3": 103, "S4": 104}
    searches = [s for s in stub.seen if s.raw_path == "/rest/default/V1/products"]
    assert len(searches) == 3
    assert searches[0].params["fields"] == "items[id,sku],total_count"
    assert searches[0].params["searchCriteria[pageSize]"] == "2"
    assert searches[0].params["searchCriteria[filter_groups][0][filters][0][condition_type]"] == "in"


def test_paging_stops_on_total_count_not_on_an_empty_page() -> None:
    assert list(iter_pages(0, 10)) == []
    assert list(iter_pages(10, 10)) == []
    assert list(iter_pages(11, 10)) == [2]
    assert list(iter_pages(35, 10)) == [2, 3, 4]


def test_attribute_options_skip_the_empty_placeholder(stub: StubServer) -> None:
    stub.handler = lambda seen: Reply(
        200, [{"label": " ", "value": ""}, {"label": "Red", "value": "12"}, {"label": "Blue", "value": "13"}]
    )
    assert catalog(stub).list_attribute_options("color") == {"Red": 12, "Blue": 13}
    assert stub.seen[0].raw_path == "/rest/all/V1/products/attributes/color/options"


def test_option_add_returns_new_id_and_strips_id_prefix(stub: StubServer) -> None:
    stub.handler = lambda seen: Reply(200, "id_57")
    assert catalog(stub).add_attribute_option("color", "Teal") == 57
    assert stub.seen[0].body == {
        "option": {"label": "Teal", "value": "", "sort_order": 0, "is_default": False}
    }


def test_option_add_that_already_exists_returns_the_existing_id(stub: StubServer) -> None:
    def handle(seen: Seen) -> Reply:
        if seen.method == "POST":
            return Reply(
                400,
                {
                    "message": 'Admin store attribute option label "%1" already exists.',
                    "parameters": ["Teal"],
                },
            )
        return Reply(200, [{"label": "teal", "value": "57"}])

    stub.handler = handle
    assert catalog(stub).add_attribute_option("color", "Teal") == 57


def test_option_add_with_a_temporary_key_answer_looks_the_option_up(stub: StubServer) -> None:
    stub.handler = lambda seen: (
        Reply(200, "id_new_option")
        if seen.method == "POST"
        else Reply(200, [{"label": "Teal", "value": "58"}])
    )
    assert catalog(stub).add_attribute_option("color", "Teal") == 58


def test_categories_walk_the_tree_and_create_is_guarded(stub: StubServer) -> None:
    tree = {
        "id": 2,
        "parent_id": 1,
        "name": "Default",
        "children_data": [
            {
                "id": 3,
                "parent_id": 2,
                "name": "Womens",
                "children_data": [{"id": 5, "parent_id": 3, "name": "Dresses", "children_data": []}],
            },
            {"id": 4, "parent_id": 2, "name": "Mens", "children_data": []},
        ],
    }
    calls = {"post": 0}

    def handle(seen: Seen) -> Reply:
        if seen.method == "GET":
            return Reply(200, tree)
        calls["post"] += 1
        return Reply(502, None)  # ambiguous: maybe created

    stub.handler = handle
    cat = catalog(stub)
    nodes = cat.list_categories(2)
    assert [(n.category_id, n.parent_id, n.name) for n in nodes] == [
        (3, 2, "Womens"),
        (4, 2, "Mens"),
        (5, 3, "Dresses"),
    ]
    assert stub.seen[0].params == {"rootCategoryId": "2"}
    assert cat.create_category(3, "Dresses") == 5  # found after the ambiguous failure
    assert calls["post"] == 1
    with pytest.raises(AmbiguousWriteError):
        cat.create_category(3, "Skirts")


def test_create_category_body(stub: StubServer) -> None:
    stub.handler = lambda seen: Reply(200, {"id": 77, "name": "Tops"})
    assert catalog(stub).create_category(3, "Tops") == 77
    assert stub.seen[0].body == {
        "category": {"parent_id": 3, "name": "Tops", "is_active": True, "include_in_menu": True}
    }


def test_prices_batched_concurrently_with_failed_rows_parsed(stub: StubServer) -> None:
    def handle(seen: Seen) -> Reply:
        failed = []
        for row in seen.body["prices"]:
            if row["price"] < 0:
                failed.append(
                    {
                        "message": "Invalid attribute Price = %price. Row ID: SKU = %SKU, "
                        "Store ID: %storeId.",
                        "parameters": [str(row["price"]), row["sku"], str(row["store_id"])],
                    }
                )
            if row["sku"].startswith("GONE"):
                failed.append(
                    {
                        "message": "Invalid attribute %fieldName = %fieldValue.",
                        "parameters": ["SKU", row["sku"]],
                    }
                )
        return Reply(200, failed)

    stub.handler = handle
    rows = [PriceRow(sku=f"S{i}", price=Decimal("10.50")) for i in range(7)]
    rows += [PriceRow(sku="NEG", price=Decimal("-1"), store_id=1), PriceRow(sku="GONE-1", price=Decimal("5"))]
    failures = catalog(stub, batch_size=3).save_base_prices(rows)
    assert len(stub.seen) == 3
    assert all(len(s.body["prices"]) == 3 for s in stub.seen)
    assert {f.sku: f.message for f in failures} == {
        "NEG": "Invalid attribute Price = -1.0. Row ID: SKU = NEG, Store ID: 1.",
        "GONE-1": "Invalid attribute SKU = GONE-1.",
    }
    assert stub.seen[0].raw_path == "/rest/default/V1/products/base-prices"


def test_special_prices_carry_dates_or_null(stub: StubServer) -> None:
    stub.handler = lambda seen: Reply(200, [])
    cat = catalog(stub)
    cat.save_special_prices(
        [
            PriceRow(sku="A", price=Decimal("8"), price_from=date(2026, 12, 1), price_to=date(2026, 12, 24)),
            PriceRow(sku="B", price=Decimal("9")),
        ]
    )
    cat.delete_special_prices([PriceRow(sku="A", price=Decimal("8"))])
    a, b = stub.seen[0].body["prices"]
    assert a == {
        "sku": "A",
        "price": 8.0,
        "store_id": 0,
        "price_from": "2026-12-01 00:00:00",
        "price_to": "2026-12-24 00:00:00",
    }
    assert b == {"sku": "B", "price": 9.0, "store_id": 0, "price_from": None, "price_to": None}
    assert stub.seen[1].raw_path == "/rest/default/V1/products/special-price-delete"


def test_price_failure_falls_back_to_a_batch_sku_in_the_parameters() -> None:
    batch = [PriceRow(sku="A", price=Decimal(1)), PriceRow(sku="B", price=Decimal(1))]
    failure = price_failure({"message": "Product %1 is not simple", "parameters": ["B"]}, batch)
    assert failure.sku == "B" and failure.message == "Product B is not simple"


def test_source_items_split_a_rejected_batch_to_isolate_the_bad_item(stub: StubServer) -> None:
    saved: dict[tuple[str, str], Any] = {}
    lock = threading.Lock()

    def handle(seen: Seen) -> Reply:
        items = seen.body["sourceItems"]
        assert items, "an empty list must never be sent"
        bad = [i for i in items if i["sku"] == "BAD"]
        if bad:
            return Reply(
                400,
                {
                    "message": "Validation Failed",
                    "errors": [
                        {"message": 'Product with SKU "%sku" does not exist.', "parameters": {"sku": "BAD"}}
                    ],
                },
            )
        with lock:
            for i in items:
                saved[(i["sku"], i["source_code"])] = (i["quantity"], i["status"])
        return Reply(200, None)

    stub.handler = handle
    rows = [
        SourceItemRow(sku=f"S{i}", source_code="web", quantity=Decimal(i), in_stock=i > 0) for i in range(9)
    ]
    rows.insert(4, SourceItemRow(sku="BAD", source_code="web", quantity=Decimal(3), in_stock=True))
    failures = catalog(stub, batch_size=5).save_source_items(rows)
    assert [(f.sku, f.source_code) for f in failures] == [("BAD", "web")]
    assert failures[0].message == 'Validation Failed: Product with SKU "BAD" does not exist.'
    assert len(saved) == 9 and saved[("S0", "web")] == (0.0, 0) and saved[("S8", "web")] == (8.0, 1)
    assert len(stub.seen) <= 2 + 2 * 3  # two batches, one split down to the bad item
    assert catalog(stub).save_source_items([]) == []


def test_media_add_body_and_ambiguous_add_found_by_label(stub: StubServer) -> None:
    upload = MediaUpload(
        sha256="aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
        title="TEE 1",
        position=1,
        main=True,
        content_type="image/jpeg",
        file_name="tee.jpg",
        data=b"\xff\xd8jpeg",
    )
    stub.handler = lambda seen: Reply(200, "3418")
    cat = catalog(stub)
    assert cat.add_media("TEE/1", upload) == 3418
    seen = stub.seen[0]
    assert seen.raw_path == "/rest/all/V1/products/TEE%2F1/media"
    assert seen.body == {
        "entry": {
            "media_type": "image",
            "label": "TEE 1 sha256:aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
            "position": 1,
            "disabled": False,
            "types": ["image", "small_image", "thumbnail"],
            "content": {"base64_encoded_data": "/9hqcGVn", "type": "image/jpeg", "name": "tee.jpg"},
        }
    }
    stub.handler = lambda seen: (
        Reply(504, None)
        if seen.method == "POST"
        else Reply(
            200,
            [
                {"id": 9, "label": "other", "position": 1},
                {
                    "id": 10,
                    "label": "TEE 1 sha256:aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
                    "position": 2,
                },
            ],
        )
    )
    assert cat.add_media("TEE/1", upload) == 10
    assert [m.entry_id for m in cat.list_media("TEE/1")] == [9, 10]
    stub.handler = lambda seen: Reply(504, None) if seen.method == "POST" else Reply(200, [])
    with pytest.raises(AmbiguousWriteError):
        cat.add_media("TEE/1", upload)


def test_deletes_treat_already_gone_as_done(stub: StubServer) -> None:
    stub.handler = lambda seen: Reply(404, {"message": "No image with the provided ID was found."})
    cat = catalog(stub)
    cat.delete_media("A", 5)
    cat.unlink_child("P", "C/1")
    stub.handler = lambda seen: Reply(400, {"message": "The category doesn't contain the specified product."})
    cat.unlink_category(4, "A")
    paths = [s.raw_path for s in stub.seen]
    assert paths == [
        "/rest/all/V1/products/A/media/5",
        "/rest/all/V1/configurable-products/P/children/C%2F1",
        "/rest/all/V1/categories/4/products/A",
    ]
    stub.handler = lambda seen: Reply(400, {"message": "Something else went wrong"})
    with pytest.raises(RecordError):
        cat.unlink_category(4, "A")


def test_price_failures_that_do_not_name_the_row_are_isolated_by_splitting(stub: StubServer) -> None:
    applied: dict[str, float] = {}
    lock = threading.Lock()

    def handle(seen: Seen) -> Reply:
        failed = []
        for row in seen.body["prices"]:
            if row["price"] < 0:
                failed.append(
                    {
                        "message": "Invalid attribute %fieldName = %fieldValue.",
                        "parameters": ["Price", str(row["price"])],
                    }
                )
            else:
                with lock:
                    applied[row["sku"]] = row["price"]
        return Reply(200, failed)

    stub.handler = handle
    rows = [PriceRow(sku=f"S{i}", price=Decimal(i)) for i in range(8)]
    rows[5] = PriceRow(sku="S5", price=Decimal("-2"))
    failures = catalog(stub, batch_size=8).save_base_prices(rows)
    assert [(f.sku, f.message) for f in failures] == [("S5", "Invalid attribute Price = -2.0.")]
    assert len(applied) == 7
    assert len(stub.seen) == 1 + 2 + 2 + 2  # 8 -> 4+4 -> 2+2 -> 1+1 (only halves holding the bad row split)


def test_configurable_links_are_left_alone_when_children_are_not_given_and_cleared_when_empty(
    stub: StubServer,
) -> None:
    products = product_server(stub)
    cat = catalog(stub)
    cat.save_products([ProductWrite(sku="P1", type_id="configurable", configurable_options={"color": (1,)})])
    assert "configurable_product_links" not in products["P1"]["extension_attributes"]
    cat.save_products([ProductWrite(sku="P2", type_id="configurable", child_skus=())])
    assert products["P2"]["extension_attributes"]["configurable_product_links"] == []


def test_settings_can_come_from_the_tenant_config(stub: StubServer) -> None:
    from kudos_sync.config import TenantConfig

    from tests.magento.conftest import magento_settings

    config = TenantConfig(
        tenant="acme",
        magento=magento_settings(stub.base_url, website_ids=(3,), attribute_set_id=11),
        ci_office={"url": "mssql+pymssql://u:p@h/db"},
        branch_sources={"WEB": "web"},
        sync={"batch_size": 7, "page_size": 9, "concurrency": 2},
    )
    cat = RestMagentoCatalog(make_client(stub.base_url), config)
    assert (cat.website_ids, cat.attribute_set_id, cat.batch_size, cat.page_size, cat.workers) == (
        (3,),
        11,
        7,
        9,
        2,
    )


def test_media_add_after_magentos_own_500_and_no_entry_is_sent_once_more(stub: StubServer) -> None:
    upload = MediaUpload(
        sha256="aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
        title="A 1",
        position=1,
        main=False,
        content_type="image/png",
        file_name="a.png",
        data=b"png",
    )
    posts: list[int] = []

    def handle(seen: Seen) -> Reply:
        if seen.method == "GET":
            return Reply(200, [])
        posts.append(1)
        return (
            Reply(500, {"message": "Internal Error. Report ID: webapi-1"})
            if len(posts) == 1
            else Reply(200, "77")
        )

    stub.handler = handle
    assert catalog(stub).add_media("A", upload) == 77
    assert len(posts) == 2
    posts.clear()
    stub.handler = lambda seen: (
        Reply(200, []) if seen.method == "GET" else Reply(500, {"message": "Internal Error"})
    )
    with pytest.raises(AmbiguousWriteError):
        catalog(stub).add_media("A", upload)
