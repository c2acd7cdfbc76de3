"""Stock on hand (and the catalogue under it) flows CI Office -> Magento through the real adapters."""

from decimal import Decimal
from typing import Any

from kudos_sync.ci_office import schema as ci
from kudos_sync.domain.state import RunStatus
from sqlalchemy import select

from sandbox.ci_office import demo_data
from sandbox.magento.testing import SandboxClient, sku_path
from sandbox.tenant import DEMO_BRANCH_SOURCES
from tests.fakes.state import FakeDeadline
from tests.integration.conftest import LocalTenant

STOCK = "POST /V1/inventory/source-items"


def expected_stock(tenant: LocalTenant) -> dict[tuple[str, str], Decimal]:
    """What Magento's source items should hold, straight from CI Office's rows (not the sync's mapping):
    every SKU of an Internet-Active style at every mapped source, 0 where CI Office has no row."""
    soh, sku, style = ci.stock_on_hand, ci.skus, ci.styles
    active = (
        select(sku.c.sku)
        .join(style, style.c.code == sku.c.style_code)
        .where(style.c.internet_active.is_(True))
    )
    query = (
        select(soh.c.sku, soh.c.branch_code, soh.c.quantity)
        .join(sku, sku.c.sku == soh.c.sku)
        .join(style, style.c.code == sku.c.style_code)
        .where(style.c.internet_active.is_(True))
    )
    with tenant.engine.connect() as conn:
        rows = conn.execute(query).all()
        skus = conn.execute(active).scalars().all()
    on_hand = {(code, source): Decimal(0) for code in skus for source in DEMO_BRANCH_SOURCES.values()}
    return on_hand | {
        (row.sku, DEMO_BRANCH_SOURCES[row.branch_code]): Decimal(int(max(row.quantity, 0)))
        for row in rows
        if row.branch_code in DEMO_BRANCH_SOURCES
    }


def magento_stock(tenant: LocalTenant) -> dict[tuple[str, str], Decimal]:
    with tenant.store.store.lock:
        items = list(tenant.store.store.source_items.values())
    return {
        (item.sku, item.source_code): Decimal(item.quantity)
        for item in items
        if item.source_code != "default"
    }


def writes(requests: dict[str, int]) -> dict[str, int]:
    return {endpoint: count for endpoint, count in requests.items() if not endpoint.startswith("GET")}


def test_given_new_tenant_when_pushed_then_magento_stock_matches_ci_office(local_tenant: LocalTenant) -> None:
    record = local_tenant.push()
    assert record.status is RunStatus.SUCCEEDED, record.error
    assert magento_stock(local_tenant) == expected_stock(local_tenant)
    assert local_tenant.store.schema_violations == []


def test_given_stock_changed_when_pushed_again_then_only_changed_skus_are_sent(
    local_tenant: LocalTenant,
) -> None:
    local_tenant.push()
    changed = {demo_data.pick_sku(local_tenant.engine, seed) for seed in range(3)}
    for n, sku in enumerate(sorted(changed)):
        demo_data.set_stock(local_tenant.engine, sku, "AKL", 70 + n)
    record = local_tenant.push()
    assert record.status is RunStatus.SUCCEEDED
    assert record.items.get(STOCK) == len(changed)
    assert writes(record.requests) == {STOCK: 1}
    assert magento_stock(local_tenant) == expected_stock(local_tenant)


def test_given_unchanged_catalogue_when_pushed_again_then_nothing_is_sent(local_tenant: LocalTenant) -> None:
    local_tenant.push()
    local_tenant.store.reset_stats()
    record = local_tenant.push()
    assert record.status is RunStatus.SUCCEEDED
    assert record.requests == {}
    assert sum(local_tenant.store.stats()["requests"].values()) == 0


def test_given_sku_magento_rejects_when_pushed_then_it_is_parked_and_the_rest_are_sent(
    tenant_factory: Any,
) -> None:
    # A store whose MSI validation also refuses unknown SKUs (2.4.7 itself accepts them).
    local_tenant: LocalTenant = tenant_factory(sandbox={"strict_source_items": True})
    local_tenant.push()
    doomed, *others = sorted({demo_data.pick_sku(local_tenant.engine, seed) for seed in range(4)})
    # The web team deletes a product in Magento; CI Office still has stock movements for it.
    SandboxClient(local_tenant.store.base_url).delete(f"/V1/products/{sku_path(doomed)}")
    for n, sku in enumerate([doomed, *others]):
        demo_data.set_stock(local_tenant.engine, sku, "WLG", 30 + n)
    record = local_tenant.push()
    assert record.status is RunStatus.SUCCEEDED
    parked = {(p.stream, p.key) for p in local_tenant.state.list_parked()}
    assert ("stock", f"{doomed}@wlg") in parked or ("stock", doomed) in parked
    stock = magento_stock(local_tenant)
    for n, sku in enumerate(others, start=1):
        assert stock[(sku, "wlg")] == 30 + n


def test_given_deadline_mid_run_then_partial_and_next_run_completes_without_resending(
    local_tenant: LocalTenant,
) -> None:
    first = local_tenant.push(deadline=FakeDeadline(calls=3))
    assert first.status is RunStatus.PARTIAL
    second = local_tenant.push()
    assert second.status is RunStatus.SUCCEEDED
    assert magento_stock(local_tenant) == expected_stock(local_tenant)
    saves = first.requests.get("POST /V1/products", 0) + second.requests.get("POST /V1/products", 0)
    with local_tenant.store.store.lock:
        products = len(local_tenant.store.store.products)
    assert saves == products
    sent = first.items.get(STOCK, 0) + second.items.get(STOCK, 0)
    assert sent == len(expected_stock(local_tenant))
    assert writes(local_tenant.push().requests) == {}
