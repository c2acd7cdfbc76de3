"""Property tests for the fingerprints the push compares with its bindings (domain.push_fingerprints),
and for the binding codec: equal desired state gives an equal fingerprint however a value is written,
any change of what a write carries gives another, and a binding survives its packed form."""

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from hypothesis import assume, given, settings
from hypothesis import strategies as st
from kudos_sync.domain.binding_codec import decode_binding, encode_binding
from kudos_sync.domain.catalogue import ImageMeta
from kudos_sync.domain.desired import DesiredProduct, DesiredSpecial, DesiredStock
from kudos_sync.domain.ids import Sku, SourceCode, StyleCode
from kudos_sync.domain.push_fingerprints import (
    image_set_fingerprint,
    price_fingerprint,
    product_fingerprint,
    special_fingerprint,
    stock_fingerprint,
)
from kudos_sync.domain.state import (
    Binding,
    BindingKind,
    BindingStatus,
    ImageGallery,
    PendingWrite,
    ProductLinks,
    SpecialRows,
)

money = st.decimals(min_value=0, max_value=100_000, places=2, allow_nan=False, allow_infinity=False)
stores = st.lists(st.integers(min_value=0, max_value=9), min_size=1, max_size=3, unique=True).map(tuple)
dates = st.none() | st.dates(min_value=date(2020, 1, 1), max_value=date(2035, 12, 31))
texts = st.text(st.characters(codec="utf-8", exclude_characters="\x1f"), max_size=12)
hexes = st.text("0123456789abcdef", min_size=64, max_size=64)


def same_value_written_differently(value: Decimal) -> Decimal:
    """10.5 -> 10.500 (equal, another text)."""
    return value.quantize(Decimal("0.001")) if value.as_tuple().exponent >= -2 else value


@given(money, stores)
def test_price_fingerprint_ignores_how_the_price_is_written(
    price: Decimal, store_ids: tuple[int, ...]
) -> None:
    assert price_fingerprint(price, store_ids) == price_fingerprint(
        same_value_written_differently(price), store_ids
    )
    assert len(price_fingerprint(price, store_ids)) == 32


@given(money, money, stores, stores)
def test_price_fingerprint_changes_with_the_price_or_the_store_views(
    price: Decimal, other: Decimal, store_ids: tuple[int, ...], other_stores: tuple[int, ...]
) -> None:
    assume(price != other and store_ids != other_stores)
    assert price_fingerprint(price, store_ids) != price_fingerprint(other, store_ids)
    assert price_fingerprint(price, store_ids) != price_fingerprint(price, other_stores)


@given(money, dates, dates, stores, st.data())
def test_special_fingerprint_changes_with_every_field_and_only_then(
    price: Decimal, start: date | None, end: date | None, store_ids: tuple[int, ...], data: st.DataObject
) -> None:
    special = DesiredSpecial(price, start, end)
    fp = special_fingerprint(special, store_ids)
    assert fp == special_fingerprint(
        DesiredSpecial(same_value_written_differently(price), start, end), store_ids
    )
    changed = data.draw(
        st.sampled_from(
            [
                DesiredSpecial(price + Decimal("0.01"), start, end),
                DesiredSpecial(price, (start or date(2030, 1, 1)) + timedelta(days=1), end),
                DesiredSpecial(price, start, (end or date(2030, 1, 1)) + timedelta(days=1)),
            ]
        )
    )
    assert special_fingerprint(changed, store_ids) != fp
    assert special_fingerprint(special, (*store_ids, 99)) != fp


@given(st.integers(min_value=0, max_value=10**6), st.booleans())
def test_stock_fingerprint_follows_quantity_and_status(quantity: int, in_stock: bool) -> None:
    row = DesiredStock(Sku("S"), SourceCode("web"), Decimal(quantity), in_stock)
    assert stock_fingerprint(row) == stock_fingerprint(replace(row, quantity=Decimal(f"{quantity}.00")))
    assert stock_fingerprint(row) != stock_fingerprint(replace(row, quantity=Decimal(quantity + 1)))
    assert stock_fingerprint(row) != stock_fingerprint(replace(row, in_stock=not in_stock))
    assert stock_fingerprint(row) == stock_fingerprint(replace(row, sku=Sku("OTHER")))  # the key says which


def a_product(name: str, description: str | None, colour: str | None, parent: str | None) -> DesiredProduct:
    return DesiredProduct(
        sku=Sku("TEE-1"),
        style_code=StyleCode("TEE"),
        type_id="simple",
        visibility=1,
        name=name,
        description=description,
        url_key="crew-tee-tee-1",
        category_path="Womens/Tops",
        colour=colour,
        size="M",
        parent_sku=Sku(parent) if parent else None,
        child_skus=(),
        price=Decimal("10"),
    )


@settings(max_examples=80)
@given(texts, texts, st.none() | texts, st.none() | texts)
def test_product_fingerprint_covers_always_owned_fields_only(
    name: str, other_name: str, colour: str | None, parent: str | None
) -> None:
    assume(name != other_name)
    product = a_product(name, "A tee", colour, parent)
    renamed = replace(product, name=other_name, description="Changed", url_key="changed", price=Decimal(99))
    on_create_only = frozenset({"categories"})
    # A web-team field (on_create) changing in CI Office never causes a write...
    assert product_fingerprint(product, on_create_only) == product_fingerprint(renamed, on_create_only)
    # ...unless the tenant owns it always.
    assert product_fingerprint(product, frozenset({"name"})) != product_fingerprint(
        renamed, frozenset({"name"})
    )
    moved = replace(product, category_path="Mens/Tops")
    assert product_fingerprint(product, on_create_only) != product_fingerprint(moved, on_create_only)
    assert product_fingerprint(product, frozenset()) == product_fingerprint(moved, frozenset())
    assert product_fingerprint(product, frozenset()) != product_fingerprint(
        replace(product, size="L"), frozenset()
    )
    assert product_fingerprint(product, frozenset()) != product_fingerprint(
        replace(product, visibility=4), frozenset()
    )


@given(st.lists(st.integers(min_value=1, max_value=50), min_size=2, max_size=5, unique=True))
def test_image_set_fingerprint_follows_order_and_every_version(ids: list[int]) -> None:
    t0 = datetime(2026, 1, 1, tzinfo=UTC)
    metas = [
        ImageMeta(image_id=i, style_code=StyleCode("TEE"), sequence=n, byte_length=100 + i, updated_at=t0)
        for n, i in enumerate(ids)
    ]
    fp = image_set_fingerprint(metas)
    assert image_set_fingerprint(list(metas)) == fp
    assert image_set_fingerprint(list(reversed(metas))) != fp
    touched = [*metas[:-1], replace(metas[-1], updated_at=t0 + timedelta(seconds=1))]
    assert image_set_fingerprint(touched) != fp
    assert image_set_fingerprint(metas[:-1]) != fp


# ---------------------------------------------------------------- the codec

ids = st.none() | st.integers(min_value=1, max_value=10**9)
statuses = st.sampled_from(list(BindingStatus))
product_links = st.builds(
    ProductLinks,
    type_id=st.sampled_from(["simple", "configurable"]),
    category_id=ids,
    category_path=st.none() | texts,
    parent=st.none() | texts,
    options=st.lists(
        st.tuples(st.sampled_from(["color", "size"]), st.integers(1, 999)),
        max_size=2,
        unique_by=lambda o: o[0],
    ).map(tuple),
    pending=st.none()
    | st.builds(
        PendingWrite,
        kind=st.sampled_from(["create", "update", "enable", "disable"]),
        category_ids=st.lists(st.integers(1, 999), max_size=3).map(lambda c: tuple(sorted(set(c)))),
    ),
)
special_rows = st.builds(
    SpecialRows, price=money, price_from=dates, price_to=dates, store_ids=st.none() | stores
)
galleries = st.builds(
    ImageGallery,
    first=st.none() | hexes,
    entries=st.dictionaries(hexes, st.integers(1, 10**6), max_size=3),
    shas=st.dictionaries(texts, hexes, max_size=3),
)
bindings = st.one_of(
    st.builds(Binding, st.just(BindingKind.PRODUCT), texts, hexes, ids, statuses, st.none() | product_links),
    st.builds(
        Binding,
        st.just(BindingKind.SPECIAL_PRICE),
        texts,
        hexes,
        st.none(),
        statuses,
        st.none() | special_rows,
    ),
    st.builds(Binding, st.just(BindingKind.IMAGES), texts, hexes, st.none(), statuses, st.none() | galleries),
    st.builds(
        Binding, st.sampled_from([BindingKind.PRICE, BindingKind.STOCK]), texts, hexes, st.none(), statuses
    ),
    st.builds(Binding, st.sampled_from([BindingKind.CATEGORY, BindingKind.OPTION]), texts, st.just(""), ids),
)


@settings(max_examples=200)
@given(bindings)
def test_given_any_binding_when_packed_and_read_back_then_it_is_the_same_binding(binding: Binding) -> None:
    packed = encode_binding(binding)
    assert decode_binding(binding.kind, binding.key, packed) == binding
    # A v1 reader's magic strings never come back from a new write.
    assert packed[0] == binding.fingerprint
