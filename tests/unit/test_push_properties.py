"""Property: any sequence of catalogue edits converges. After a push Magento holds exactly the mapped
desired state, and a second push sends nothing."""

import hashlib
from datetime import date
from decimal import Decimal
from typing import Any

from hypothesis import HealthCheck, given, note, settings
from hypothesis import strategies as st
from kudos_sync.domain.push_mapping import map_catalogue
from kudos_sync.domain.state import BindingKind, BindingStatus

from tests.fakes.catalogue import style
from tests.fakes.magento_catalog import FakeCrashError
from tests.unit.test_push import Harness, make_config

CODES = ["A1", "B2", "C3", "D4"]
COLOURS = ["Red", "Blue", "Green"]
SIZES = ["S", "M", "L"]
CATEGORIES = ["Womens/Tops", "Mens/Tees", "Sale", "Womens/Tops/Summer"]

style_shapes = st.fixed_dictionaries(
    {
        "code": st.sampled_from(CODES),
        "description": st.sampled_from(["Crew Tee", "Polo", "Crew Tee"]),
        "colours": st.lists(st.sampled_from(COLOURS), unique=True, max_size=3),
        "sizes": st.lists(st.sampled_from(SIZES), unique=True, max_size=3),
        "retail": st.sampled_from(["10", "19.90", "25.00"]),
        "category": st.sampled_from(CATEGORIES),
        "sale": st.sampled_from([None, ("5.00", None, None), ("7.50", date(2026, 10, 1), date(2026, 12, 1))]),
    }
)
edits = st.one_of(
    st.tuples(st.just("put"), style_shapes),
    st.tuples(st.just("remove"), st.sampled_from(CODES)),
    st.tuples(
        st.just("stock"),
        st.sampled_from(CODES),
        st.sampled_from(["SHOP", "WEB", "OTHER"]),
        st.integers(-2, 9),
    ),
    st.tuples(st.just("image"), st.sampled_from(CODES), st.integers(1, 3)),
    st.tuples(st.just("unimage"), st.integers(1, 8)),
    st.tuples(st.just("crash"), st.integers(1, 12)),
)


def apply(h: Harness, edit: tuple[Any, ...]) -> None:
    kind = edit[0]
    if kind == "put":
        shape = edit[1]
        sale = shape["sale"]
        h.catalogue.put(
            style(
                shape["code"],
                shape["description"],
                colours=shape["colours"],
                sizes=shape["sizes"],
                retail=shape["retail"],
                category=shape["category"],
                sale_price=Decimal(sale[0]) if sale else None,
                sale_from=sale[1] if sale else None,
                sale_to=sale[2] if sale else None,
            )
        )
    elif kind == "remove":
        h.catalogue.remove(edit[1])
    elif kind == "stock":
        style_ = h.catalogue.styles.get(edit[1])
        if style_ is not None:
            h.catalogue.set_stock(style_.variants[0].sku, edit[2], edit[3])
    elif kind == "image":
        h.catalogue.add_image(edit[1], edit[2])  # distinct bytes per image
    elif kind == "unimage":
        h.catalogue.remove_image(edit[1])
    elif kind == "crash":
        h.magento.crash_after = h.magento.writes + edit[1]


def assert_converged(h: Harness) -> None:
    desired = map_catalogue(
        h.catalogue.read_styles(),
        h.catalogue.read_stock(sorted(h.config.branch_sources)),
        h.catalogue.read_image_meta(),
        h.config,
        h.clock.now().date(),
    )
    m = h.magento
    for sku, want in desired.products.items():
        got = m.products[sku]
        assert (
            got.status == 1
            and got.type_id == want.type_id
            and got.attributes["visibility"] == want.visibility
        )
        if want.category_path is not None:
            assert {m.category_path(c) for c in got.category_ids} == {want.category_path}, sku
        else:
            assert got.category_ids == set(), sku
        if want.type_id == "configurable":
            assert set(got.child_skus) == set(want.child_skus)
        for attribute, label in (("color", want.colour), ("size", want.size)):
            if label is not None:
                assert m.option_label(attribute, got.custom_attributes[attribute]) == label
    for sku, binding in h.state.load_bindings(BindingKind.PRODUCT).items():
        if sku not in desired.products:
            assert m.products[sku].status == 2 and binding.status is BindingStatus.DISABLED
    for sku, price in desired.prices.items():
        assert m.base_prices[(sku, 0)] == price
    sellable = {s for s, p in desired.products.items() if p.sellable}
    specials = {sku for (sku, _), row in m.special_prices.items() if sku in sellable}
    assert specials == set(desired.specials)
    for sku, special in desired.specials.items():
        row = m.special_prices[(sku, 0)]
        assert (row.price, row.price_from, row.price_to) == (
            special.price,
            special.price_from,
            special.price_to,
        )
    for key, stock in desired.stock.items():
        assert m.source_items[(stock.sku, stock.source_code)] == (stock.quantity, stock.in_stock), key
    for sku, metas in desired.images.items():
        held = sorted(hashlib.sha256(e.data).hexdigest() for e in m.media.get(sku, {}).values())
        wanted = sorted({hashlib.sha256(h.catalogue.image_bytes[m_.image_id]).hexdigest() for m_ in metas})
        assert held == wanted, sku
    assert not any(s == "products" for s, _ in h.parked())


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.lists(edits, min_size=1, max_size=6), min_size=1, max_size=4))
def test_given_any_sequence_of_catalogue_edits_when_pushed_then_converged_and_a_second_push_sends_nothing(
    rounds: list[list[tuple[Any, ...]]],
) -> None:
    note(repr(rounds))
    h = Harness(config=make_config(field_ownership={"images": "always"}))
    for round_ in rounds:
        for edit in round_:
            apply(h, edit)
        for _ in range(5):
            try:
                h.push()
                break
            except FakeCrashError:
                continue
        h.magento.crash_after = None
        if h.push().status != "succeeded":  # pragma: no cover
            raise AssertionError("push did not finish")
        assert_converged(h)
        h.magento.reset_calls()
        h.push()
        assert h.magento.write_calls() == []
