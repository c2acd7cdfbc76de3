"""SqlCatalogueSource: the push's reads of the Internet-Active catalogue."""

import time
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from kudos_sync.ci_office import schema as s
from kudos_sync.ci_office.catalogue import SqlCatalogueSource
from kudos_sync.domain.errors import RecordError
from sqlalchemy import Engine, insert, update

from sandbox.ci_office import demo_data
from sandbox.ci_office.testing import compares_case_insensitively, engine_for_url, seed_minimal


def test_given_minimal_catalogue_when_read_then_variants_in_size_order(
    ci_office_engine: Engine,
) -> None:
    seed_minimal(ci_office_engine)

    styles = list(SqlCatalogueSource(ci_office_engine).read_styles())

    assert [style.code for style in styles] == ["BAG1", "TEE1"]
    bag, tee = styles
    assert [(v.sku, v.colour, v.size, v.size_order) for v in tee.variants] == [
        ("TEE1-BLK-S", "Black", "S", 20),
        ("TEE1-BLK-M", "Black", "M", 30),
    ]
    assert tee.retail_price == Decimal("49.90") and isinstance(tee.retail_price, Decimal)
    assert [(v.sku, v.colour, v.size) for v in bag.variants] == [("BAG1", None, None)]


def test_given_inactive_style_and_style_without_skus_when_read_then_only_active_with_empty_variants(
    ci_office_engine: Engine,
) -> None:
    seed_minimal(ci_office_engine)
    with ci_office_engine.begin() as conn:
        conn.execute(
            insert(s.styles),
            [
                {
                    "code": "AAA0",
                    "description": "Hidden",
                    "internet_active": False,
                    "updated_at": datetime(2026, 1, 1),
                },
                {
                    "code": "ZZZ9",
                    "description": "No SKUs yet",
                    "internet_active": True,
                    "updated_at": datetime(2026, 1, 1),
                },
            ],
        )

    styles = list(SqlCatalogueSource(ci_office_engine).read_styles())

    assert [style.code for style in styles] == ["BAG1", "TEE1", "ZZZ9"]
    assert styles[-1].variants == ()
    assert styles[-1].retail_price is None


def test_given_messy_rows_when_read_then_nulls_and_negative_stock_passed_through(
    ci_office_engine: Engine,
) -> None:
    seed_minimal(ci_office_engine)
    with ci_office_engine.begin() as conn:
        conn.execute(update(s.styles).where(s.styles.c.code == "TEE1").values(retail_price=None))
        conn.execute(
            update(s.stock_on_hand)
            .where(s.stock_on_hand.c.sku == "TEE1-BLK-S")
            .values(quantity=Decimal("-2"))
        )
    source = SqlCatalogueSource(ci_office_engine)

    tee = next(style for style in source.read_styles() if style.code == "TEE1")
    stock: dict[tuple[str, str], Decimal] = {
        (r.sku, r.branch): r.quantity for r in source.read_stock(["WEB"])
    }

    assert tee.retail_price is None
    assert stock[("TEE1-BLK-S", "WEB")] == Decimal("-2")
    assert all(isinstance(quantity, Decimal) for quantity in stock.values())


def test_given_sale_dates_when_read_then_sale_fields_are_dates(ci_office_engine: Engine) -> None:
    seed_minimal(ci_office_engine)
    demo_data.put_on_sale(ci_office_engine, "TEE1", "29.90", date(2026, 11, 1), date(2026, 11, 30))

    tee = next(style for style in SqlCatalogueSource(ci_office_engine).read_styles() if style.code == "TEE1")

    assert (tee.sale_price, tee.sale_from, tee.sale_to) == (
        Decimal("29.90"),
        date(2026, 11, 1),
        date(2026, 11, 30),
    )


def test_given_stock_in_three_branches_when_two_asked_then_only_those_of_active_styles(
    ci_office_engine: Engine,
) -> None:
    demo_data.generate(ci_office_engine, 120, seed=3)
    inactive = (
        demo_data.pick_style(ci_office_engine, internet_active=False)
        if _has_inactive(ci_office_engine)
        else None
    )
    source = SqlCatalogueSource(ci_office_engine)

    rows = list(source.read_stock(["WEB", "AKL"]))

    assert rows, "demo data has stock"
    assert {row.branch for row in rows} <= {"WEB", "AKL"}
    assert rows == sorted(rows, key=lambda row: (row.sku, row.branch))
    active_skus = {v.sku for style in source.read_styles() for v in style.variants}
    assert {row.sku for row in rows} <= active_skus
    if inactive:
        assert not any(row.sku.startswith(inactive) for row in rows)
    assert list(source.read_stock([])) == []


def _has_inactive(engine: Engine) -> bool:
    try:
        demo_data.pick_style(engine, internet_active=False)
    except LookupError:
        return False
    return True


def test_given_images_when_meta_read_then_ordered_without_bytes_and_bytes_on_request(
    ci_office_engine: Engine,
) -> None:
    summary = demo_data.generate(ci_office_engine, 60, seed=5)
    source = SqlCatalogueSource(ci_office_engine)

    metas = list(source.read_image_meta())

    assert 0 < len(metas) <= summary.images
    assert metas == sorted(metas, key=lambda m: (m.style_code, m.sequence, m.image_id))
    first = metas[0]
    assert first.updated_at.tzinfo is UTC
    data = source.read_image(first.image_id)
    assert len(data) == first.byte_length
    assert data[:3] == b"\xff\xd8\xff" or data[:8] == b"\x89PNG\r\n\x1a\n"
    with pytest.raises(RecordError) as missing:
        source.read_image(999_999)
    assert missing.value.field == "image_id"


def test_given_replaced_image_when_meta_read_again_then_version_changes(ci_office_engine: Engine) -> None:
    demo_data.generate(ci_office_engine, 30, seed=5)
    source = SqlCatalogueSource(ci_office_engine)
    image_id = demo_data.pick_image(ci_office_engine, seed=1)
    before = {m.image_id: m.version for m in source.read_image_meta()}
    old = source.read_image(image_id)

    demo_data.replace_image(ci_office_engine, image_id, now=datetime(2026, 12, 1, tzinfo=UTC))

    after = {m.image_id: m.version for m in source.read_image_meta()}
    assert after[image_id] != before[image_id]
    assert source.read_image(image_id) != old
    assert {k: v for k, v in after.items() if k != image_id} == {
        k: v for k, v in before.items() if k != image_id
    }


def test_given_50k_skus_when_styles_read_then_well_under_two_seconds() -> None:
    # In memory: this measures the adapter, not the disk of a busy CI machine. CPU time, not wall
    # time, for the same reason (other test workers share the cores).
    engine = engine_for_url("sqlite://")
    try:
        demo_data.generate(engine, 50_000, seed=11)
        source = SqlCatalogueSource(engine)

        started, cpu_started = time.perf_counter(), time.process_time()
        variants = sum(len(style.variants) for style in source.read_styles())
        seconds, cpu = time.perf_counter() - started, time.process_time() - cpu_started
    finally:
        engine.dispose()

    assert 40_000 < variants <= 50_000  # ~90% of styles are Internet Active
    assert cpu < 2.0, f"reading {variants} variants took {cpu:.2f}s of CPU ({seconds:.2f}s wall)"


def test_given_sku_and_stock_naming_style_and_sku_in_another_case_when_read_then_nothing_is_dropped(
    ci_office_engine: Engine,
) -> None:
    seed_minimal(ci_office_engine)
    if not compares_case_insensitively(ci_office_engine):
        pytest.skip("a case-sensitive database refuses a SKU naming its style in another case")
    with ci_office_engine.begin() as conn:  # as a till might write them; the collation accepts it
        conn.execute(insert(s.skus).values(sku="TEE1-BLK-L", style_code="tee1", colour_code="BLK"))
        conn.execute(insert(s.stock_on_hand).values(sku="tee1-blk-l", branch_code="web", quantity=4))
    source = SqlCatalogueSource(ci_office_engine)

    tee = next(style for style in source.read_styles() if style.code == "TEE1")
    stock = [(row.sku, row.branch, row.quantity) for row in source.read_stock(["WEB"])]

    assert {v.sku for v in tee.variants} == {"TEE1-BLK-S", "TEE1-BLK-M", "TEE1-BLK-L"}
    assert ("TEE1-BLK-L", "WEB", Decimal(4)) in stock  # spelt as `skus` and the caller spell them


def test_given_an_image_over_the_limit_then_a_record_error_names_its_size_without_reading_it(
    ci_office_engine: Engine,
) -> None:
    demo_data.generate(ci_office_engine, 10, seed=3)
    source = SqlCatalogueSource(ci_office_engine)
    meta = next(iter(source.read_image_meta()))
    assert len(source.read_image(meta.image_id, limit=meta.byte_length)) == meta.byte_length
    with pytest.raises(RecordError) as too_big:
        source.read_image(meta.image_id, limit=meta.byte_length - 1)
    assert f"{meta.byte_length} bytes" in str(too_big.value)
    assert f"{meta.byte_length - 1}-byte limit" in str(too_big.value)
    assert too_big.value.record == f"image {meta.image_id}"
