"""Bad input through the real adapters: CI Office on SQLite, the Magento sandbox over HTTP, state on
local AWS, runs through the composition root (`kudos_sync.service.run_tenant`) as the Lambdas do.

Push: a style without a price, negative stock, two SKUs sharing a barcode, bytes that are not an
image and an oversized image are parked (read back from DynamoDB) naming record and field, while
every other style (one with SQL metacharacters in its description) reaches Magento.
Pull: an order booked with an unmapped payment method, one for a SKU CI Office does not know and an
invoice with a negative quantity are parked by field; an order from a customer whose name and address
are SQL metacharacters and unicode is imported with them intact. No planted string is ever SQL text.
"""

from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import pytest
from kudos_sync.ci_office import schema as s
from kudos_sync.domain.state import Direction, RunStatus
from kudos_sync.service import run_tenant
from sqlalchemy import insert, select, update

from sandbox.aws import LocalAws
from sandbox.ci_office import demo_data
from sandbox.magento.model import Address
from sandbox.magento.testing import SandboxClient, simple_product
from tests.badinput.sql_capture import StatementLog
from tests.chaos.faults import PlentyDeadline
from tests.chaos.world import World, open_world, patched_service

NASTY_NAME = "Robert'); DROP TABLE customers;-- Ōtautahi 🧵"
NASTY_STREET = "1 O'Connell St\"; DELETE FROM invoices; --"
NASTY_DESCRIPTION = "Tee'; UPDATE styles SET retail_price=0; --"


@pytest.fixture
def world(local_aws: LocalAws, tmp_path: Path) -> Iterator[tuple[World, StatementLog]]:
    log = StatementLog()
    with patched_service(), open_world(local_aws, tmp_path, 0, 4242, 30) as built:
        built.engine_hooks.append(log.attach)
        yield built, log


def _run(world: World, direction: Direction) -> RunStatus:
    record = run_tenant(world.tenant, direction, PlentyDeadline(), stack=world.stack, clock=world.clock)
    world.clock.advance(__import__("datetime").timedelta(minutes=17))
    return record.status


def _parked(world: World) -> dict[tuple[str, str], tuple[str, str]]:
    return {(r.stream, r.key): (r.field, r.reason) for r in world.clean_state().list_parked()}


def test_given_bad_ci_rows_when_pushed_then_they_are_parked_by_field_and_the_rest_is_synced(
    world: tuple[World, StatementLog],
) -> None:
    w, log = world
    engine = w.ci
    with engine.connect() as conn:
        counts: dict[str, int] = {}
        for (style_code,) in conn.execute(select(s.skus.c.style_code)):
            counts[style_code] = counts.get(style_code, 0) + 1
    active = set(demo_data.pick_styles(engine, 100, seed=1))
    barcode = min(code for code in active if counts.get(code, 0) >= 2)
    no_price, negative, not_image, huge, nasty = sorted(active - {barcode})[:5]
    demo_data.change_price(engine, no_price, None)
    neg_sku = demo_data.pick_sku(engine, 1, style_code=negative)
    demo_data.set_stock(engine, neg_sku, "WEB", -4)
    with engine.begin() as conn:
        pair = sorted(conn.scalars(select(s.skus.c.sku).where(s.skus.c.style_code == barcode)))[:2]
    with engine.begin() as conn:
        conn.execute(update(s.skus).where(s.skus.c.sku.in_(pair)).values(barcode="9400000000001"))
        for style_code, data, length in (
            (not_image, b"%PDF-1.4 not a photo", 20),
            (huge, b"\xff\xd8\xff" + b"0" * 9, 7 * 1024 * 1024),
        ):
            conn.execute(
                insert(s.product_images).values(
                    style_code=style_code,
                    sequence=99,
                    colour_code=None,
                    content_type="image/jpeg",
                    data=data,
                    byte_length=length,
                    updated_at=demo_data.BASE_TIME,
                )
            )
    demo_data.set_description(engine, nasty, NASTY_DESCRIPTION)

    assert _run(w, Direction.PUSH) is RunStatus.SUCCEEDED

    parked = _parked(w)

    def carrier(code: str) -> str:
        with engine.connect() as conn:
            skus = sorted(conn.scalars(select(s.skus.c.sku).where(s.skus.c.style_code == code)))
        return skus[0] if skus == [code] else code

    expected = {
        ("products", no_price): "retail_price",
        ("stock", f"{neg_sku}@web"): "quantity",
        ("products", pair[0]): "barcode",
        ("products", pair[1]): "barcode",
        ("images", carrier(not_image)): "image",
        ("images", carrier(huge)): "image",
    }
    assert set(parked) == set(expected), sorted(parked)
    for key, field in expected.items():
        got_field, reason = parked[key]
        assert field in got_field, (key, got_field)
        assert key[1].split("@")[0] in reason, reason
    store = w.sandbox.store
    nasty_product = store.product_by_sku(carrier(nasty))
    assert nasty_product is not None and nasty_product.values.get("name") == NASTY_DESCRIPTION
    zeroed = store.source_item(neg_sku, "web")
    assert zeroed is not None and Decimal(zeroed.quantity) == 0  # sent as 0, and parked
    assert not log.in_text("UPDATE styles SET retail_price=0")


def test_given_bad_magento_documents_when_pulled_then_they_are_parked_by_field_and_good_ones_imported(
    world: tuple[World, StatementLog],
) -> None:
    w, log = world
    assert _run(w, Direction.PUSH) is RunStatus.SUCCEEDED
    store, sales = w.sandbox.store, w.sandbox.sales
    sellable = sorted(p.sku for p in store.products.values() if p.type_id == "simple")
    client = SandboxClient(w.sandbox.base_url, w.oauth)
    assert client.post("/V1/products", json={"product": simple_product("WEB-ONLY-1", "Gift Card", 50)}).ok
    client.close()

    unmapped = sales.invoice(
        sales.place_order([(sellable[0], 1)], "a@example.com", payment_method="purchaseorder").entity_id
    )
    unknown = sales.invoice(sales.place_order([("WEB-ONLY-1", 1)], "b@example.com").entity_id)
    negative = sales.invoice(sales.place_order([(sellable[1], 1)], "c@example.com").entity_id)
    with store.lock:
        store.invoices[negative.entity_id].items[0].qty = Decimal(-1)
    address = Address(firstname=NASTY_NAME, lastname="Ngā-Tūāhine", street=[NASTY_STREET], city="Ōtautahi")
    good = sales.invoice(
        sales.place_order(
            [(sellable[2], 1)],
            "nasty@example.com",
            firstname=NASTY_NAME,
            lastname="Ngā-Tūāhine",
            address=address,
        ).entity_id
    )

    assert _run(w, Direction.PULL) is RunStatus.SUCCEEDED

    parked = _parked(w)
    assert set(parked) == {("invoices", str(i.entity_id)) for i in (unmapped, unknown, negative)}, parked
    assert "payment" in parked[("invoices", str(unmapped.entity_id))][0]
    assert "sku" in parked[("invoices", str(unknown.entity_id))][0]
    assert "qty" in parked[("invoices", str(negative.entity_id))][0]
    for key, (_, reason) in parked.items():
        assert key[1] in reason  # names the document
    with w.ci.connect() as conn:
        imported = conn.execute(
            select(s.customers.c.first_name, s.customers.c.address1)
            .join(s.invoices, s.invoices.c.customer_code == s.customers.c.code)
            .where(s.invoices.c.magento_entity_id == good.entity_id)
        ).one()
    assert imported.first_name == NASTY_NAME
    assert imported.address1 == NASTY_STREET
    assert not log.in_text("DROP TABLE customers") and not log.in_text("DELETE FROM invoices")
    assert log.in_parameters(NASTY_NAME)
