"""The product's promises at their exact edges, end to end: the Magento sandbox over HTTP, moto, a
SQLite CI Office, `run_tenant`. The same edges on the pure core: tests/unit/test_promise_boundaries.py.
"""

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from kudos_sync.ci_office import schema as ci
from kudos_sync.domain.state import RunStatus
from sqlalchemy import select

from sandbox.ci_office import demo_data
from sandbox.magento import sales as magento_sales
from sandbox.magento.model import Invoice, source_item_key
from tests.integration.conftest import LocalTenant

D = Decimal
MAGENTO_TIME = "%Y-%m-%d %H:%M:%S"


def report_totals_off(monkeypatch: pytest.MonkeyPatch, offsets: dict[int, Decimal]) -> None:
    """Magento reports these invoices' grand totals off their rows by the given amounts (a rounding
    extension, a tax module or a hand-edited database row do this on real stores)."""
    original: Callable[[Any], dict[str, Decimal]] = magento_sales.document_totals

    def reported(doc: Any) -> dict[str, Decimal]:
        totals = dict(original(doc))
        if isinstance(doc, Invoice) and doc.entity_id in offsets:
            totals["grand_total"] += offsets[doc.entity_id]
        return totals

    monkeypatch.setattr(magento_sales, "document_totals", reported)


def ci_totals(tenant: LocalTenant) -> tuple[dict[int, Decimal], dict[int, Decimal]]:
    """(invoice total, payment amount) per Magento entity id."""
    inv, pay = ci.invoices, ci.payments
    with tenant.engine.connect() as conn:
        rows = conn.execute(
            select(inv.c.magento_entity_id, inv.c.total, pay.c.amount).select_from(
                inv.join(pay, pay.c.invoice_number == inv.c.number)
            )
        ).all()
    return {int(e): D(t) for e, t, _ in rows}, {int(e): D(a) for e, _, a in rows}


def test_given_magento_totals_a_cent_and_two_cents_off_when_pulled_then_the_cent_imports_and_two_park(
    local_tenant: LocalTenant, monkeypatch: pytest.MonkeyPatch
) -> None:
    local_tenant.push()
    sales = local_tenant.store.sales
    sku = demo_data.pick_sku(local_tenant.engine, 1)
    invoices = [
        sales.invoice(sales.place_order([(sku, 1)], f"cents{i}@example.com").entity_id) for i in range(4)
    ]
    offsets = dict(
        zip((i.entity_id for i in invoices), map(D, ("0.01", "-0.01", "0.02", "-1.00")), strict=True)
    )
    report_totals_off(monkeypatch, offsets)
    reported = {i.entity_id: magento_sales.document_totals(i)["grand_total"] for i in invoices}

    record = local_tenant.pull()

    assert record.status is RunStatus.SUCCEEDED, record.error
    totals, paid = ci_totals(local_tenant)
    one_cent = [i.entity_id for i in invoices[:2]]
    assert sorted(totals) == sorted(one_cent)
    for entity_id in one_cent:
        assert totals[entity_id] == paid[entity_id] == reported[entity_id]
    parked = {(p.key, p.field) for p in local_tenant.state.list_parked("invoices")}
    assert parked == {(str(i.entity_id), "grand_total") for i in invoices[2:]}


def test_given_documents_committed_late_when_pulled_then_one_exactly_at_the_window_start_is_imported(
    local_tenant: LocalTenant,
) -> None:
    local_tenant.push()
    sales = local_tenant.store.sales
    sku = demo_data.pick_sku(local_tenant.engine, 2)
    last = datetime.now(UTC).replace(microsecond=0) - timedelta(hours=1)
    overlap = timedelta(minutes=10)  # the shipped overlap window

    def invoiced(email: str, created: datetime) -> int:
        order = sales.place_order([(sku, 1)], email, created_at=created.strftime(MAGENTO_TIME))
        return sales.invoice(order.entity_id, created_at=created.strftime(MAGENTO_TIME)).entity_id

    first = invoiced("first@example.com", last)
    assert local_tenant.pull().counts["invoices_imported"] == 1
    cursor = local_tenant.state.get_cursor("invoices")
    assert cursor is not None and cursor.created_at == last
    # Committed after that pull, stamped earlier: at the window's first second, and one second before it.
    at_edge = invoiced("edge@example.com", last - overlap)
    outside = invoiced("outside@example.com", last - overlap - timedelta(seconds=1))

    record = local_tenant.pull()

    assert record.counts["invoices_imported"] == 1
    totals, _ = ci_totals(local_tenant)
    assert sorted(totals) == [first, at_edge]  # outside the window: read only by a resync
    assert outside not in totals


@pytest.mark.parametrize(("on_hand", "sent"), [("2.5", 0), ("3.5", 1), ("3.499", 0), ("12", 9), ("-1", 0)])
def test_given_safety_stock_when_pushed_then_magento_gets_whole_units_above_it(
    tenant_factory: Any, on_hand: str, sent: int
) -> None:
    tenant: LocalTenant = tenant_factory(safety_stock="2.5", skus=8)
    sku = demo_data.pick_sku(tenant.engine, 3)
    demo_data.set_stock(tenant.engine, sku, "WEB", on_hand)

    record = tenant.push()

    item = tenant.store.store.source_items[source_item_key("web", sku)]
    assert (item.quantity, item.status) == (D(sent), int(sent > 0)), record.counts


def test_given_the_web_team_renamed_a_product_when_ci_renames_it_then_the_web_teams_name_stays(
    local_tenant: LocalTenant,
) -> None:
    local_tenant.push()  # shipped ownership: name on_create, price always
    style = demo_data.pick_style(local_tenant.engine, 4)
    store = local_tenant.store.store
    with store.lock:
        renamed = {
            p.sku: f"Named by the web team {p.id}"
            for p in store.products.values()
            if p.sku == style or p.sku.startswith(f"{style}-")
        }
        for sku, name in renamed.items():
            store.product_by_sku(sku).values["name"] = name  # type: ignore[union-attr]
        priced = next(sku for sku in renamed if sku != style)
    demo_data.set_description(local_tenant.engine, style, "Renamed in CI Office")
    demo_data.change_price(local_tenant.engine, style, D("77.70"))

    record = local_tenant.push()

    assert record.status is RunStatus.SUCCEEDED, record.error
    with store.lock:
        now = {sku: store.product_by_sku(sku).values["name"] for sku in renamed}  # type: ignore[union-attr]
        assert now == renamed
        product = store.product_by_sku(priced)
        assert product is not None and D(str(product.values["price"])) == D("77.70")
