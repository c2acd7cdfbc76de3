"""Store views, websites, groups and configs (``Magento_Store``) for preflight checks."""

from __future__ import annotations

from sandbox.magento import StoreView


def test_given_extra_store_view_then_listed_with_admin(store_with) -> None:
    with store_with(extra_store_views=(StoreView(2, "nz_en", "NZ English"),)) as (_store, client):
        views = client.get("/V1/store/storeViews").json()
        assert [(v["id"], v["code"]) for v in views] == [(0, "admin"), (1, "default"), (2, "nz_en")]
        assert [w["code"] for w in client.get("/V1/store/websites").json()] == ["admin", "base"]
        groups = client.get("/V1/store/storeGroups").json()
        assert groups[1]["root_category_id"] == 2
        configs = client.get("/V1/store/storeConfigs", params={"storeCodes[0]": "nz_en"}).json()
        assert [(c["code"], c["base_currency_code"]) for c in configs] == [("nz_en", "NZD")]
