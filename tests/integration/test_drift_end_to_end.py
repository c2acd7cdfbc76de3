"""The store changes too: the web team and the warehouse change the sandbox behind the sync, and one
scheduled push later every field CI Office owns is back, the web team's own fields are as they left
them, and nothing was deleted. Checked on the store's own state (what the first push left there), not
through the sync's mapping."""

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from kudos_sync.clock import WallClockDeadline
from kudos_sync.domain.state import Direction, RunStatus
from kudos_sync.service import run_tenant

from sandbox.magento.model import Product
from tests.fakes.state import FakeClock
from tests.integration.conftest import LocalTenant


def snapshot(product: Product) -> dict[str, Any]:
    return {
        "status": int(product.values.get("status", 1)),
        "price": Decimal(str(product.values.get("price")))
        if product.values.get("price") is not None
        else None,
        "categories": {link.category_id for link in product.category_links},
        "children": set(product.configurable_links),
    }


def test_given_the_web_team_and_the_warehouse_changed_the_store_then_one_reconcile_converges(
    local_tenant: LocalTenant,
) -> None:
    clock = FakeClock(datetime.now(UTC))
    first = run_tenant(
        local_tenant.tenant, Direction.PUSH, WallClockDeadline(300), stack=local_tenant.stack, clock=clock
    )
    assert first.status is RunStatus.SUCCEEDED, first.error
    store = local_tenant.store
    with store.store.lock:
        by_id = {p.id: p for p in store.store.products.values()}
        parents = sorted(
            (p for p in by_id.values() if p.type_id == "configurable" and len(p.configurable_links) >= 3),
            key=lambda p: p.sku,
        )
        assert len(parents) >= 2, "the demo catalogue has configurables"
        one, other = parents[0], parents[1]
        unlinked, disabled, repriced = (by_id[i].sku for i in sorted(one.configurable_links)[:3])
        deleted = by_id[sorted(other.configurable_links)[0]].sku
        shipped = next(
            i
            for i in sorted(store.store.source_items.values(), key=lambda i: (i.sku, i.source_code))
            if i.quantity > 1 and i.source_code != "default"
        )
        before = {p.sku: snapshot(p) for p in by_id.values()}
        stock_before = shipped.quantity
        category = sorted(before[one.sku]["categories"])[0]

    store.web_team.unlink_child(one.sku, unlinked)
    store.web_team.disable(disabled)
    store.web_team.rename(disabled, "Renamed by the web team")  # on_create: theirs
    store.web_team.set_url_key(repriced, "the-web-teams-url")
    store.web_team.set_price(repriced, "1.00")
    store.web_team.unlink_category(one.sku, category)
    store.web_team.delete(deleted)
    left = store.warehouse.ship(shipped.sku, shipped.source_code, 1)
    assert left == stock_before - 1

    clock.advance(days=1)  # every kind is due
    record = run_tenant(
        local_tenant.tenant, Direction.PUSH, WallClockDeadline(300), stack=local_tenant.stack, clock=clock
    )

    assert record.status is RunStatus.SUCCEEDED, record.error
    assert record.counts["drift_links"] >= 1 and record.counts["drift_status"] >= 2
    assert record.counts["drift_prices"] >= 1 and record.counts["drift_stock"] >= 1
    assert record.counts["drift_categories"] >= 1
    with store.store.lock:
        after = {p.sku: snapshot(p) for p in store.store.products.values()}
        item = store.store.source_item(shipped.sku, shipped.source_code)
        renamed = store.store.product_by_sku(disabled)
        url_product = store.store.product_by_sku(repriced)
        assert renamed is not None and url_product is not None
        name, url_key = renamed.values.get("name"), url_product.value("url_key")
        by_sku = {p.sku: p for p in store.store.products.values()}
        recreated_id = by_sku[deleted].id
    # CI-owned fields converged within one reconcile.
    assert after[disabled]["status"] == 1
    assert after[repriced]["price"] == before[repriced]["price"]
    assert category in after[one.sku]["categories"]
    assert by_sku[unlinked].id in after[one.sku]["children"]
    assert item is not None and item.quantity == stock_before
    assert deleted in after and recreated_id in after[other.sku]["children"]
    # The web team's fields are theirs; nothing the store held was deleted.
    assert name == "Renamed by the web team" and url_key == "the-web-teams-url"
    assert set(before) <= set(after)
    assert store.schema_violations == []

    clock.advance(days=1)
    again = run_tenant(
        local_tenant.tenant, Direction.PUSH, WallClockDeadline(300), stack=local_tenant.stack, clock=clock
    )
    assert not any(
        again.counts.get(f"drift_{kind}") for kind in ("stock", "prices", "status", "categories", "links")
    )
