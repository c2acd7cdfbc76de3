"""The push mapping: CI Office styles -> the Magento shape, and the problems that park records."""

from datetime import date
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st
from kudos_sync.config import TenantConfig
from kudos_sync.domain.catalogue import StockOnHand
from kudos_sync.domain.desired import DesiredSpecial, DesiredStock
from kudos_sync.domain.ids import BranchCode, Sku
from kudos_sync.domain.push_fingerprints import (
    price_fingerprint,
    product_fingerprint,
    special_fingerprint,
    stock_fingerprint,
)
from kudos_sync.domain.push_mapping import map_catalogue
from kudos_sync.domain.push_rules import (
    always_owned,
    child_name,
    is_valid_sku,
    normalise_category_path,
    slugify,
    url_key_for,
)

from tests.fakes.catalogue import FakeCatalogue, style, variant
from tests.unit.test_push import make_config

TODAY = date(2026, 11, 1)


def mapped(*styles, config: TenantConfig | None = None, stock=(), images=()):  # type: ignore[no-untyped-def]
    return map_catalogue(list(styles), list(stock), list(images), config or make_config(), TODAY)


def test_given_text_when_slugified_then_lower_case_ascii_words_joined_by_hyphens() -> None:
    assert slugify("Crème Tee / XL") == "creme-tee-xl"
    assert slugify("  --Crew   Tee!!  ") == "crew-tee"
    assert url_key_for("Crew Tee", "T100") == "crew-tee-t100"
    assert url_key_for("!!!", "T100") == "t100"


def test_given_category_paths_when_normalised_then_segments_trimmed_and_empty_ones_dropped() -> None:
    assert normalise_category_path(" Womens / Dresses ") == "Womens/Dresses"
    assert normalise_category_path("Womens//Dresses/") == "Womens/Dresses"
    assert normalise_category_path(" / / ") is None
    assert normalise_category_path(None) is None


@pytest.mark.parametrize(
    ("sku", "valid"),
    [
        ("ABC-123", True),
        ("A B", True),
        ("A/B", False),
        ("A?B", False),
        (" AB", False),
        ("", False),
        ("x" * 65, False),
    ],
)
def test_given_sku_when_checked_then_characters_magento_rejects_are_refused(sku: str, valid: bool) -> None:
    assert is_valid_sku(sku) is valid


def test_given_child_when_named_then_description_colour_and_size() -> None:
    assert child_name("Crew Tee", "Red", "M") == "Crew Tee - Red / M"
    assert child_name("Crew Tee", None, "M") == "Crew Tee - M"
    assert child_name("Crew Tee", "Red", None) == "Crew Tee - Red"


def test_given_configurable_style_when_mapped_then_parent_and_children_with_distinct_url_keys() -> None:
    desired = mapped(style("T1", "Crew Tee", colours=["Red"], sizes=["S", "M"], long_description="Soft."))

    parent = desired.products["T1"]
    assert parent.type_id == "configurable" and parent.visibility == 4 and parent.price is None
    assert parent.child_skus == ("T1-Red-S", "T1-Red-M")  # size order kept
    child = desired.products["T1-Red-M"]
    assert (child.visibility, child.colour, child.size, child.parent_sku) == (1, "Red", "M", "T1")
    assert child.url_key == "crew-tee-red-m-t1-red-m" and child.category_path is None
    assert child.description == "Soft."
    assert set(desired.prices) == {"T1-Red-S", "T1-Red-M"}
    assert desired.option_labels == {"color": {"Red"}, "size": {"S", "M"}}
    assert desired.images == {"T1": ()}


def test_given_size_only_style_when_mapped_then_children_carry_size_only() -> None:
    desired = mapped(style("T1", "Sock", sizes=["S", "M"]))
    assert desired.products["T1-S"].colour is None and desired.products["T1-S"].size == "S"
    assert desired.option_labels["color"] == set()


def test_given_variant_without_colour_in_a_coloured_style_when_mapped_then_that_variant_is_parked() -> None:
    desired = mapped(style("T1", "Tee", variants=[variant("A", "Red", "S"), variant("B", None, "M")]))
    assert {(p.key, p.field) for p in desired.problems} == {("B", "colour")}
    assert "A" in desired.products and "B" not in desired.products and "B" in desired.held_products


def test_given_sale_when_mapped_then_special_for_every_sellable_sku_unless_ended() -> None:
    running = style("S1", "Tee", sale_price=Decimal("5"), sale_from=TODAY, sale_to=date(2026, 11, 30))
    ended = style("S2", "Tee", sale_price=Decimal("5"), sale_to=date(2026, 10, 31))
    future = style("S3", "Tee", sale_price=Decimal("5"), sale_from=date(2027, 1, 1))
    desired = mapped(running, ended, future)
    assert desired.specials["S1-1"] == DesiredSpecial(Decimal("5"), TODAY, date(2026, 11, 30))
    assert "S2-1" not in desired.specials and "S3-1" in desired.specials
    assert desired.problems == []


def test_given_stock_when_mapped_then_safety_stock_subtracted_rounded_down_and_branches_summed() -> None:
    config = make_config(safety_stock="1", branch_sources={"SHOP": "shop", "SHOP2": "shop", "WEB": "web"})
    rows = [
        StockOnHand(sku=Sku("S1-1"), branch=BranchCode("SHOP"), quantity=Decimal("2.7")),
        StockOnHand(sku=Sku("S1-1"), branch=BranchCode("SHOP2"), quantity=Decimal("1")),
        StockOnHand(sku=Sku("S1-1"), branch=BranchCode("WEB"), quantity=Decimal("-4")),
        StockOnHand(sku=Sku("S1-1"), branch=BranchCode("OTHER"), quantity=Decimal("50")),
        StockOnHand(sku=Sku("GONE"), branch=BranchCode("SHOP"), quantity=Decimal("50")),
    ]
    desired = mapped(style("S1", "Tee"), config=config, stock=rows)
    assert desired.stock == {
        "S1-1@shop": DesiredStock(Sku("S1-1"), "shop", Decimal(2), True),  # type: ignore[arg-type]
        "S1-1@web": DesiredStock(Sku("S1-1"), "web", Decimal(0), False),  # type: ignore[arg-type]
    }
    assert [(p.stream, p.key, p.field) for p in desired.problems] == [("stock", "S1-1@web", "quantity")]


def test_given_images_when_mapped_then_ordered_by_sequence_on_the_carrier() -> None:
    catalogue = FakeCatalogue([style("T1", "Tee", colours=["Red"]), style("M1", "Mug")])
    second = catalogue.add_image("T1", 2)
    first = catalogue.add_image("T1", 1)
    catalogue.add_image("M1", 1)
    desired = mapped(*catalogue.styles.values(), images=catalogue.read_image_meta())
    assert [i.image_id for i in desired.images["T1"]] == [first, second]
    assert len(desired.images["M1-1"]) == 1


def test_given_on_create_field_changed_when_fingerprinted_then_product_fingerprint_unchanged() -> None:
    default = always_owned(make_config())
    before = mapped(style("M", "Mug", long_description="A")).products["M-1"]
    after = mapped(style("M", "Big Mug", long_description="B")).products["M-1"]
    assert product_fingerprint(before, default) == product_fingerprint(after, default)
    moved = mapped(style("M", "Mug", category="Home/Kitchen")).products["M-1"]
    assert product_fingerprint(before, default) != product_fingerprint(moved, default)
    name_owned = always_owned(make_config(field_ownership={"name": "always"}))
    assert product_fingerprint(before, name_owned) != product_fingerprint(after, name_owned)


@given(st.decimals(min_value=0, max_value=10**5, places=2), st.integers(min_value=0, max_value=4))
def test_given_same_amount_in_any_scale_when_fingerprinted_then_price_fingerprints_match(
    price: Decimal, extra_places: int
) -> None:
    scaled = price.quantize(Decimal(1).scaleb(-(2 + extra_places)))
    assert price_fingerprint(price, (0,)) == price_fingerprint(scaled, (0,))
    assert price_fingerprint(price, (0,)) != price_fingerprint(price + Decimal("0.01"), (0,))
    assert price_fingerprint(price, (0,)) != price_fingerprint(price, (0, 1))
    special = DesiredSpecial(price, TODAY, None)
    assert special_fingerprint(special, (0,)) != special_fingerprint(DesiredSpecial(price, None, None), (0,))
    stock = DesiredStock(Sku("A"), "s", Decimal(1), True)  # type: ignore[arg-type]
    assert stock_fingerprint(stock) != stock_fingerprint(DesiredStock(Sku("A"), "s", Decimal(2), True))  # type: ignore[arg-type]


@pytest.mark.parametrize("other", ["tee1-s", "TEE1-S ", "Tee1-S  "])
def test_given_skus_differing_only_in_case_or_trailing_spaces_then_both_parked_naming_each_other(
    other: str,
) -> None:
    desired = mapped(
        style("T1", "Tee", variants=[variant("TEE1-S")]), style("T2", "Top", variants=[variant(other)])
    )

    problems = {p.key: p.reason for p in desired.problems if p.field == "sku"}
    assert set(problems) == {"TEE1-S", other}
    assert repr(other) in problems["TEE1-S"] and "'TEE1-S'" in problems[other]
    assert "TEE1-S" not in desired.products and other not in desired.products


def test_given_skus_differing_by_an_accent_or_a_leading_space_then_both_are_mapped() -> None:
    # Accents count in a _CI_AS collation; a leading space is a character (refused for other reasons).
    desired = mapped(
        style("T1", "Tee", variants=[variant("TEÉ")]), style("T2", "Top", variants=[variant("TEE")])
    )

    assert {"TEÉ", "TEE"} <= set(desired.products)
    assert not [p for p in desired.problems if p.field == "sku"]
