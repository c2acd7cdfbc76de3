"""A store that already sells: the first push adopts what it holds and keeps the web team's copy.

The store is made as a retailer's would be: part of the catalogue is in Magento (made by an earlier
system, then given web copy, SEO url keys, galleries and extra category links by the web team), part
is not. The tenant has never pushed. Checked against Magento's own records, not our mapping.
"""

from typing import Any

from kudos_sync.domain.state import BindingKind, RunStatus

from sandbox.magento.testing import SandboxClient, image_entry, sku_path
from tests.integration.conftest import LocalTenant


def _forget_every_binding(tenant: LocalTenant) -> None:
    """The store keeps its products; the sync knows nothing of them (a tenant onboarded today)."""
    for kind in BindingKind:
        tenant.state.delete_bindings(kind)


def _product(store: Any, sku: str) -> Any:
    product = store.product_by_sku(sku)
    assert product is not None, sku
    return product


def _web_copy(product: Any) -> dict[str, Any]:
    return {
        "name": product.value("name"),
        "url_key": product.value("url_key"),
        "description": product.value("description"),
        "categories": {link.category_id for link in product.category_links},
        "media": sorted(entry.label or "" for entry in product.media),
        "children": sorted(product.configurable_links),
    }


def test_given_a_store_holding_part_of_the_catalogue_with_web_copy_when_first_pushed_then_all_kept(
    local_tenant: LocalTenant,
) -> None:
    assert local_tenant.push().status is RunStatus.SUCCEEDED  # an earlier system filled the store
    _forget_every_binding(local_tenant)
    store = local_tenant.store.store
    with store.lock:
        by_type: dict[str, list[str]] = {}
        for product in sorted(store.products.values(), key=lambda p: p.sku):
            by_type.setdefault(product.type_id, []).append(product.sku)
        total = len(store.products)
    parents = by_type["configurable"]
    with store.lock:
        children = {
            p: [store.products[i].sku for i in _product(store, p).configurable_links] for p in parents
        }
    edited = [parents[0], parents[1], *sorted(children[parents[0]])[:2]]
    removed = sorted(children[parents[-1]])[:2]  # not in the store yet: these are created and linked
    assert len(edited) == 4 and len(removed) == 2 and parents[-1] not in edited
    gifts = local_tenant.store.catalog.add_category("Gifts").id
    client = SandboxClient(local_tenant.store.base_url)
    try:
        for n, sku in enumerate(edited):
            body = {
                "product": {
                    "sku": sku,
                    "name": f"Web name {n}",
                    "custom_attributes": [
                        {"attribute_code": "url_key", "value": f"web-seo-{n}"},
                        {"attribute_code": "description", "value": f"<p>Web copy {n}</p>"},
                    ],
                    "extension_attributes": {"category_links": [{"category_id": str(gifts), "position": 0}]},
                }
            }
            assert client.put(f"/V1/products/{sku_path(sku)}", json=body).ok
            entry = image_entry(label=f"Web photo {n}", types=[])
            assert client.post(f"/V1/products/{sku_path(sku)}/media", json={"entry": entry}).ok
        for sku in removed:
            assert client.delete(f"/V1/products/{sku_path(sku)}").ok
    finally:
        client.close()
    with store.lock:
        before = {sku: _web_copy(_product(store, sku)) for sku in edited}
        ids_before = {p.sku: p.id for p in store.products.values()}

    record = local_tenant.push()

    assert record.status is RunStatus.SUCCEEDED, record.error
    assert record.counts["products_adopted"] == total - len(removed)
    assert record.counts["products_created"] == len(removed)
    assert local_tenant.state.list_parked() == []
    with store.lock:
        after = {sku: _web_copy(_product(store, sku)) for sku in edited}
        ids_after = {p.sku: p.id for p in store.products.values()}
    assert after == before  # names, SEO url keys, descriptions, galleries, extra categories, links
    assert gifts in after[edited[0]]["categories"]
    assert {sku: ids_after[sku] for sku in ids_before} == ids_before  # bound, never re-created
    assert set(ids_after) - set(ids_before) == set(removed)
    with store.lock:
        relinked = {store.products[i].sku for i in _product(store, parents[-1]).configurable_links}
    assert relinked == set(children[parents[-1]])  # repaired, never duplicated
    assert local_tenant.store.schema_violations == []
    assert local_tenant.push().counts.get("products_adopted") == 0
