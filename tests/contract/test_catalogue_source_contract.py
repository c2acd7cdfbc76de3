"""One behaviour, three implementations of the CatalogueSource port: the in-memory fake the push tests
use, and `SqlCatalogueSource` on SQLite and on PostgreSQL (the reference CI Office schema).

Each case arranges the same catalogue through the harness (styles, Internet Active or not, stock per
branch, images) and asserts exactly what the push reads back.
"""

from collections.abc import Iterator
from dataclasses import asdict
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Protocol

import pytest
from kudos_sync.ci_office import schema as s
from kudos_sync.ci_office.catalogue import SqlCatalogueSource
from kudos_sync.domain.catalogue import StockOnHand, Style, Variant
from kudos_sync.domain.errors import RecordError
from kudos_sync.domain.ids import BranchCode, Sku, StyleCode
from kudos_sync.sync.ports import CatalogueSource
from sqlalchemy import Engine, insert

from sandbox.ci_office.testing import isolated_engine
from tests.fakes.catalogue import FakeCatalogue


class CatalogueHarness(Protocol):
    source: CatalogueSource

    def put(self, style: Style, *, active: bool = True) -> None: ...

    def set_stock(self, sku: str, branch: str, quantity: Decimal) -> None: ...

    def add_image(self, style_code: str, sequence: int, data: bytes, colour: str | None = None) -> int: ...


class FakeHarness:
    def __init__(self) -> None:
        self.fake = FakeCatalogue()
        self.source: CatalogueSource = self.fake

    def put(self, style: Style, *, active: bool = True) -> None:
        if active:
            self.fake.put(style)
        else:
            self.fake.remove(style.code)
            self.fake.inactive_skus.update(v.sku for v in style.variants)

    def set_stock(self, sku: str, branch: str, quantity: Decimal) -> None:
        self.fake.set_stock(sku, branch, quantity)

    def add_image(self, style_code: str, sequence: int, data: bytes, colour: str | None = None) -> int:
        return self.fake.add_image(style_code, sequence, data, colour=colour)


class SqlHarness:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.source: CatalogueSource = SqlCatalogueSource(engine)
        self.colours: dict[str, str] = {}
        self.sizes: dict[str, str] = {}
        with engine.begin() as conn:
            conn.execute(
                insert(s.branches), [{"code": b, "name": b, "is_web": b == "WEB"} for b in ("WEB", "AKL")]
            )

    def _code(self, known: dict[str, str], description: str, table: object, **extra: object) -> str:
        if description not in known:
            known[description] = f"K{len(known) + 1}"
            with self.engine.begin() as conn:
                conn.execute(
                    insert(table), [{"code": known[description], "description": description, **extra}]
                )  # type: ignore[arg-type]
        return known[description]

    def put(self, style: Style, *, active: bool = True) -> None:
        row = {
            name: value
            for name, value in asdict(style).items()
            if name not in {"variants", "category_path", "long_description"}
        }
        row |= {
            "internet_active": active,
            "internet_category": style.category_path,
            "internet_long_description": style.long_description,
            "updated_at": datetime(2026, 11, 1, 9, 0),
        }
        skus = []
        for v in style.variants:
            colour = self._code(self.colours, v.colour, s.colours) if v.colour else None
            size = self._code(self.sizes, v.size, s.sizes, size_order=v.size_order) if v.size else None
            skus.append(
                {
                    "sku": v.sku,
                    "style_code": style.code,
                    "colour_code": colour,
                    "size_code": size,
                    "barcode": v.barcode,
                }
            )
        with self.engine.begin() as conn:
            conn.execute(insert(s.styles), [row])
            conn.execute(insert(s.skus), skus)

    def set_stock(self, sku: str, branch: str, quantity: Decimal) -> None:
        with self.engine.begin() as conn:
            conn.execute(insert(s.stock_on_hand), [{"sku": sku, "branch_code": branch, "quantity": quantity}])

    def add_image(self, style_code: str, sequence: int, data: bytes, colour: str | None = None) -> int:
        row = {
            "style_code": style_code,
            "sequence": sequence,
            "colour_code": self.colours[colour] if colour else None,
            "content_type": "image/jpeg",
            "data": data,
            "byte_length": len(data),
            "updated_at": datetime(2026, 11, 1, 9, 0),
        }
        with self.engine.begin() as conn:
            return int(conn.execute(insert(s.product_images), [row]).inserted_primary_key[0])  # type: ignore[index]


@pytest.fixture(params=["fake", "sqlite", "postgres"])
def harness(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[CatalogueHarness]:
    if request.param == "fake":
        yield FakeHarness()
        return
    with isolated_engine(request.param, tmp_path) as engine:
        yield SqlHarness(engine)


TEE = Style(
    code=StyleCode("TEE1"),
    description="Crew Tee",
    brand="Kudos",
    stock_group="Tops",
    category_path="Womens/Tops",
    long_description="Soft cotton, ünïcode — fine",
    retail_price=Decimal("49.90"),
    sale_price=Decimal("39.90"),
    sale_from=date(2026, 11, 1),
    sale_to=date(2026, 11, 30),
    variants=(
        Variant(sku=Sku("TEE1-BLK-S"), colour="Black", size="S", size_order=20, barcode="9400000000017"),
        Variant(sku=Sku("TEE1-BLK-M"), colour="Black", size="M", size_order=30),
    ),
)
BAG = Style(code=StyleCode("BAG1"), description="Canvas Tote", variants=(Variant(sku=Sku("BAG1")),))
OLD = Style(
    code=StyleCode("OLD1"),
    description="Retired",
    retail_price=Decimal("5"),
    variants=(Variant(sku=Sku("OLD1")),),
)


def arrange(harness: CatalogueHarness) -> None:
    harness.put(TEE)
    harness.put(BAG)  # no price, no category, no colour or size: passed on as CI Office holds it
    harness.put(OLD, active=False)


def test_given_styles_then_only_internet_active_ones_are_read_by_code_with_their_variants(
    harness: CatalogueHarness,
) -> None:
    arrange(harness)
    assert list(harness.source.read_styles()) == [BAG, TEE]


def test_given_stock_then_read_for_active_styles_at_the_branches_asked_by_sku_and_branch(
    harness: CatalogueHarness,
) -> None:
    arrange(harness)
    harness.set_stock("TEE1-BLK-S", "WEB", Decimal(5))
    harness.set_stock("TEE1-BLK-S", "AKL", Decimal(2))
    harness.set_stock("TEE1-BLK-M", "WEB", Decimal(-1))  # negative stock is passed on
    harness.set_stock("OLD1", "WEB", Decimal(9))  # not Internet Active: never read
    web = [
        StockOnHand(sku=Sku(sku), branch=BranchCode(b), quantity=Decimal(q))
        for sku, b, q in [("TEE1-BLK-M", "WEB", -1), ("TEE1-BLK-S", "WEB", 5)]
    ]
    assert list(harness.source.read_stock(["WEB"])) == web
    both = list(harness.source.read_stock(["WEB", "AKL"]))
    assert [(x.sku, x.branch, x.quantity) for x in both] == [
        ("TEE1-BLK-M", "WEB", Decimal(-1)),
        ("TEE1-BLK-S", "AKL", Decimal(2)),
        ("TEE1-BLK-S", "WEB", Decimal(5)),
    ]
    assert list(harness.source.read_stock([])) == []


def test_given_images_then_metadata_by_style_and_sequence_and_bytes_by_id(harness: CatalogueHarness) -> None:
    arrange(harness)
    second = harness.add_image("TEE1", 2, b"\xff\xd8\xff\xe0two", colour="Black")
    first = harness.add_image("TEE1", 1, b"\xff\xd8\xff\xe0one")
    bag = harness.add_image("BAG1", 1, b"\xff\xd8\xff\xe0bag")
    harness.add_image("OLD1", 1, b"\xff\xd8\xff\xe0old")  # not Internet Active: never read
    metas = list(harness.source.read_image_meta())
    assert [(m.image_id, m.style_code, m.sequence, m.colour, m.byte_length) for m in metas] == [
        (bag, "BAG1", 1, None, 7),
        (first, "TEE1", 1, None, 7),
        (second, "TEE1", 2, "Black", 7),
    ]
    assert all(
        m.updated_at.tzinfo is not None and m.updated_at.utcoffset() == UTC.utcoffset(None) for m in metas
    )
    assert harness.source.read_image(second) == b"\xff\xd8\xff\xe0two"


def test_given_an_image_that_is_gone_then_record_error_naming_it(harness: CatalogueHarness) -> None:
    arrange(harness)
    with pytest.raises(RecordError) as gone:
        harness.source.read_image(424242)
    assert gone.value.field == "image_id" and "424242" in str(gone.value)
