"""The demo CI Office: deterministic, believable, and quick at any size."""

import time
from decimal import Decimal
from typing import Any

from hypothesis import given
from hypothesis import strategies as st
from kudos_sync.ci_office import schema as s
from kudos_sync.ci_office.catalogue import SqlCatalogueSource
from sqlalchemy import Engine, func, select

from sandbox.ci_office import demo_data
from sandbox.ci_office.testing import engine_for_url


def _dump(engine: Engine) -> dict[str, list[tuple[Any, ...]]]:
    with engine.connect() as conn:
        return {
            table.name: sorted(
                tuple(row) for row in conn.execute(select(*[c for c in table.c if c.name != "image_id"]))
            )
            for table in s.metadata.sorted_tables
        }


def test_given_same_seed_when_generated_twice_then_same_rows(tmp_path: Any) -> None:
    first = engine_for_url(f"sqlite:///{tmp_path / 'a.db'}")
    second = engine_for_url(f"sqlite:///{tmp_path / 'b.db'}")
    other = engine_for_url(f"sqlite:///{tmp_path / 'c.db'}")
    try:
        summary_a = demo_data.generate(first, 300, seed=42)
        summary_b = demo_data.generate(second, 300, seed=42)
        demo_data.generate(other, 300, seed=43)

        assert summary_a == summary_b
        assert _dump(first) == _dump(second)
        assert _dump(first)["styles"] != _dump(other)["styles"]
    finally:
        for engine in (first, second, other):
            engine.dispose()


def test_given_10_skus_when_generated_then_small_complete_catalogue(ci_office_engine: Engine) -> None:
    summary = demo_data.generate(ci_office_engine, 10)

    assert summary.skus == 10
    assert summary.web_branch == "WEB" and set(summary.branches) == {"WEB", "AKL", "WLG"}
    assert {"CASH", "EFTPOS", "VISA", "MC", "BANK", "PAYPAL", "ONACC"} <= set(summary.tender_types)
    with ci_office_engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(s.skus)).scalar_one() == 10
        web = conn.execute(select(s.branches.c.code).where(s.branches.c.is_web == True)).scalars().all()  # noqa: E712
    assert web == ["WEB"]


def test_given_5000_skus_when_generated_then_believable_and_quick(ci_office_engine: Engine) -> None:
    started = time.perf_counter()
    summary = demo_data.generate(ci_office_engine, 5000, seed=7)
    seconds = time.perf_counter() - started

    assert seconds < 20, f"5,000 SKUs took {seconds:.1f}s"
    assert summary.skus == 5000
    assert 0.8 < summary.internet_active_styles / summary.styles < 0.97
    styles = list(SqlCatalogueSource(ci_office_engine).read_styles())
    categories = {style.category_path for style in styles}
    assert {"Womens/Dresses", "Mens/Shirts", "Kids/Tees", "Accessories/Bags"} <= categories
    names = [style.description for style in styles]
    assert len(set(names)) < len(names)  # "Crew Tee" more than once: url_key collisions are real
    one_size = [
        style for style in styles if style.category_path and style.category_path.startswith("Accessories")
    ]
    assert one_size and all(len(st.variants) == 1 and st.variants[0].colour is None for st in one_size)
    dresses = next(style for style in styles if style.category_path == "Womens/Dresses")
    assert {v.size for v in dresses.variants} <= {"6", "8", "10", "12", "14", "16"}
    orders = [v.size_order for v in dresses.variants if v.colour == dresses.variants[0].colour]
    assert orders == sorted(orders)
    assert all(isinstance(style.retail_price, Decimal) for style in styles)  # no anomalies by default
    barcodes = [v.barcode for style in styles for v in style.variants if v.barcode]
    assert barcodes and all(len(code) == 13 and demo_data.ean13(code[:12]) == code for code in barcodes)
    assert len(set(barcodes)) == len(barcodes)


def test_given_anomalies_when_generated_then_messy_rows_present(ci_office_engine: Engine) -> None:
    demo_data.generate(ci_office_engine, 1500, anomalies=True)
    source = SqlCatalogueSource(ci_office_engine)

    unpriced = [style for style in source.read_styles() if style.retail_price is None]
    negative = [row for row in source.read_stock(["WEB", "AKL", "WLG"]) if row.quantity < 0]

    assert unpriced and negative


def test_ean13_check_digit() -> None:
    assert demo_data.ean13("940000000001") == "9400000000016"
    assert demo_data.ean13("400638133393") == "4006381333931"


def test_given_demo_when_retailer_edits_then_catalogue_follows(ci_office_engine: Engine) -> None:
    engine = ci_office_engine
    demo_data.generate(engine, 400, seed=9)
    source = SqlCatalogueSource(engine)
    style = demo_data.pick_style(engine, seed=1, with_variants=True)
    assert demo_data.pick_style(engine, seed=1, with_variants=True) == style  # deterministic
    sku = demo_data.pick_sku(engine, seed=2, style_code=style)
    colour, size = demo_data.pick_new_variant(engine, style)

    demo_data.change_price(engine, style, "99.90")
    demo_data.move_category(engine, style, "Womens/Sale")
    demo_data.set_stock(engine, sku, "WEB", 17)
    added = demo_data.add_variant(engine, style, colour, size, stock={"WEB": 4})
    demo_data.remove_variant(engine, sku)

    edited = next(st for st in source.read_styles() if st.code == style)
    assert edited.retail_price == Decimal("99.90")
    assert edited.category_path == "Womens/Sale"
    assert added in {v.sku for v in edited.variants}
    assert sku not in {v.sku for v in edited.variants}
    stock: dict[tuple[str, str], Decimal] = {
        (r.sku, r.branch): r.quantity for r in source.read_stock(["WEB"])
    }
    assert stock[(added, "WEB")] == 4 and (sku, "WEB") not in stock

    demo_data.set_internet_active(engine, style, False)
    assert style not in {st.code for st in source.read_styles()}

    demo_data.set_internet_active(engine, style, True)
    demo_data.put_on_sale(engine, style, "59.90")
    assert next(st for st in source.read_styles() if st.code == style).sale_price == Decimal("59.90")
    demo_data.end_sale(engine, style)
    assert next(st for st in source.read_styles() if st.code == style).sale_price is None

    image = demo_data.add_image(engine, style, colour)
    assert image in {m.image_id for m in source.read_image_meta() if m.style_code == style}
    customer = demo_data.pick_customer(engine, seed=3, linked=True)
    assert customer.startswith("C")


@given(st.text(alphabet="0123456789", min_size=12, max_size=12))
def test_ean13_weighted_sum_is_a_multiple_of_ten(first12: str) -> None:
    code = demo_data.ean13(first12)

    assert code[:12] == first12 and len(code) == 13
    assert sum(int(d) * (3 if i % 2 else 1) for i, d in enumerate(code)) % 10 == 0
