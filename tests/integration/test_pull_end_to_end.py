"""Magento invoices and credit memos land in CI Office exactly once, through the real adapters."""

from decimal import Decimal
from typing import Any

from kudos_sync.ci_office import schema as ci
from kudos_sync.domain.state import RunStatus
from sqlalchemy import func, select

from sandbox.ci_office import demo_data
from sandbox.magento.testing import SandboxClient
from tests.integration.conftest import LocalTenant


def count(tenant: LocalTenant, table: object) -> int:
    with tenant.engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(table)).scalar_one())  # type: ignore[arg-type]


def test_given_web_sales_when_pulled_twice_then_each_document_is_in_ci_office_once(
    local_tenant: LocalTenant,
) -> None:
    local_tenant.push()  # the products exist in Magento before anyone can buy them
    skus = [demo_data.pick_sku(local_tenant.engine, seed) for seed in range(4)]
    sales = local_tenant.store.sales
    member = sales.create_customer("mere.tane@example.co.nz", "Mere", "Tane")
    orders = [
        sales.place_order([(skus[0], 2)], member, payment_method="checkmo"),
        sales.place_order(
            [(skus[1], 1), (skus[2], 1)],
            "guest.one@example.com",
            payment_method="banktransfer",
            discount_percent=10,
        ),
        sales.place_order(
            [(skus[3], 1)], member, payment_method="cashondelivery", shipping_amount=Decimal("7.50")
        ),
    ]
    invoices = [sales.invoice(order.entity_id) for order in orders]
    sales.refund(orders[1].entity_id, adjustment_negative=Decimal("2.00"))
    web_before = demo_data.get_stock(local_tenant.engine, skus[0], "WEB") or Decimal(0)

    first = local_tenant.pull()
    assert first.status is RunStatus.SUCCEEDED, first.error
    assert first.counts["invoices_imported"] == len(invoices)
    assert first.counts["creditmemos_imported"] == 1
    assert count(local_tenant, ci.invoices) == len(invoices)
    assert count(local_tenant, ci.payments) == len(invoices)
    assert count(local_tenant, ci.credit_notes) == 1 and count(local_tenant, ci.refunds) == 1
    with local_tenant.engine.connect() as conn:
        totals = dict(conn.execute(select(ci.invoices.c.magento_entity_id, ci.invoices.c.total)).all())
        paid = dict(conn.execute(select(ci.payments.c.invoice_number, ci.payments.c.amount)).all())
        numbers = dict(conn.execute(select(ci.invoices.c.magento_entity_id, ci.invoices.c.number)).all())
        members = conn.execute(
            select(func.count())
            .select_from(ci.customers)
            .where(ci.customers.c.email == "mere.tane@example.co.nz")
        ).scalar_one()
    magento = SandboxClient(local_tenant.store.base_url)
    for invoice in invoices:
        grand_total = Decimal(str(magento.get(f"/V1/invoices/{invoice.entity_id}").json()["grand_total"]))
        assert Decimal(totals[invoice.entity_id]) == grand_total
        assert Decimal(paid[numbers[invoice.entity_id]]) == grand_total
    assert members == 1  # two orders, one customer
    assert demo_data.get_stock(local_tenant.engine, skus[0], "WEB") == web_before - 2

    second = local_tenant.pull()
    assert second.status is RunStatus.SUCCEEDED
    assert second.counts.get("imported_total", 0) == 0
    assert count(local_tenant, ci.invoices) == len(invoices)
    assert count(local_tenant, ci.credit_notes) == 1
    assert "GET /V1/orders" not in second.requests  # nothing new: no order fetch


def test_given_go_live_time_then_older_documents_are_never_pulled(tenant_factory: Any) -> None:
    tenant: LocalTenant = tenant_factory(pull_from="2026-06-01T00:00:00Z")
    tenant.push()
    sku = demo_data.pick_sku(tenant.engine, 0)
    sales = tenant.store.sales
    old = sales.place_order([(sku, 1)], "before.golive@example.com", created_at="2026-05-01 10:00:00")
    sales.invoice(old.entity_id, created_at="2026-05-01 10:05:00")
    new = sales.place_order([(sku, 1)], "after.golive@example.com")
    sales.invoice(new.entity_id)
    record = tenant.pull()
    assert record.counts["invoices_imported"] == 1
    with tenant.engine.connect() as conn:
        imported = conn.execute(select(ci.invoices.c.order_increment_id)).scalars().all()
    assert imported == [new.increment_id]
