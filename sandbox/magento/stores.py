"""``Magento_Store`` reads: store views, websites, store groups and store configuration.

One website (``base``, id 1) with one store group (root category 2) holds every store view; the admin
store, website and group (id 0) are listed too, as ``StoreRepository::getList`` includes them.
"""

from __future__ import annotations

from typing import Any

from .routing import Call, route

STORES = "Magento_Backend::store"


@route("GET", "/V1/store/storeViews", STORES)
def store_views(call: Call) -> Any:
    store = call.store
    views = [
        {"id": 0, "code": "admin", "website_id": 0, "store_group_id": 0, "is_active": 1, "name": "Admin"}
    ]
    for code, store_id in sorted(store.store_codes.items(), key=lambda item: item[1]):
        views.append(
            {
                "id": store_id,
                "code": code,
                "website_id": 1,
                "store_group_id": 1,
                "is_active": 1,
                "name": store.store_names.get(store_id, code),
            }
        )
    return views


@route("GET", "/V1/store/websites", STORES)
def websites(call: Call) -> Any:
    return [
        {"id": 0, "code": "admin", "name": "Admin", "default_group_id": 0},
        {"id": 1, "code": "base", "name": "Main Website", "default_group_id": 1},
    ]


@route("GET", "/V1/store/storeGroups", STORES)
def store_groups(call: Call) -> Any:
    return [
        {
            "id": 0,
            "website_id": 0,
            "root_category_id": 0,
            "default_store_id": 0,
            "name": "Default",
            "code": "default",
        },
        {
            "id": 1,
            "website_id": 1,
            "root_category_id": 2,
            "default_store_id": 1,
            "name": "Main Website Store",
            "code": "main_website_store",
        },
    ]


@route("GET", "/V1/store/storeConfigs", STORES)
def store_configs(call: Call) -> Any:
    store = call.store
    wanted = call.query.get("storeCodes")
    codes = list(wanted.values()) if isinstance(wanted, dict) else None
    out = []
    for code, store_id in sorted(store.store_codes.items(), key=lambda item: item[1]):
        if codes is not None and code not in codes:
            continue
        base = "http://magento.test/"
        out.append(
            {
                "id": store_id,
                "code": code,
                "website_id": 1,
                "locale": "en_NZ",
                "base_currency_code": store.currency,
                "default_display_currency_code": store.currency,
                "timezone": "Pacific/Auckland",
                "weight_unit": "kgs",
                "base_url": base,
                "base_link_url": base,
                "base_static_url": f"{base}static/",
                "base_media_url": f"{base}media/",
                "secure_base_url": base.replace("http:", "https:"),
                "secure_base_link_url": base.replace("http:", "https:"),
                "secure_base_static_url": f"{base.replace('http:', 'https:')}static/",
                "secure_base_media_url": f"{base.replace('http:', 'https:')}media/",
            }
        )
    return out
