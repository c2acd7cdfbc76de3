"""Categories: tree, flat list, create/update/move and product assignments.

Seeded with 1 "Root Catalog" (level 0) and 2 "Default Category" (level 1, the store root). URL keys are
generated from the name and must be unique per store among siblings' request paths (``parent/child.html``),
which also collide with products' ``url_key.html``. Without ``rootCategoryId`` the tree starts at the store
root (2), or at 1 through ``/rest/all``. Errors follow ``CategoryRepository`` and ``CategoryLinkRepository``.
"""

from __future__ import annotations

from typing import Any

from .catalog import format_url_key, require_product
from .errors import bad_request, no_such_entity
from .model import Category, CategoryLink, Store
from .routing import Call, route
from .search import Collection, parse_search_criteria, search
from .values import eav_text, now_text, to_bool, to_int

CATEGORIES = "Magento_Catalog::categories"
SCOPED = frozenset({"name", "url_key", "is_active", "include_in_menu", "description", "meta_title"})

CATEGORY_COLLECTION = Collection(
    fields=frozenset(),
    numeric=frozenset({"id", "entity_id", "parent_id", "level", "position", "is_active", "include_in_menu"}),
    default_sort=("entity_id",),
    open_fields=True,
)


def require_category(store: Store, category_id: Any) -> Category:
    category = store.categories.get(to_int(category_id) or -1)
    if category is None:
        raise no_such_entity("id", to_int(category_id) if to_int(category_id) is not None else category_id)
    return category


def children_of(store: Store, category_id: int) -> list[Category]:
    return sorted(
        (c for c in store.categories.values() if c.parent_id == category_id), key=lambda c: (c.position, c.id)
    )


def category_members(store: Store) -> dict[int, set[int]]:
    """Product ids linked to each category, gathered in one pass over the catalogue."""
    members: dict[int, set[int]] = {}
    for product in store.products.values():
        for link in product.category_links:
            members.setdefault(link.category_id, set()).add(product.id)
    return members


def product_count(store: Store, category_id: int, members: dict[int, set[int]] | None = None) -> int:
    """Products in the category or, as categories are anchors by default, in any category below it.

    ``members`` (``category_members``) lets a whole tree be counted without a pass over the catalogue for
    every node."""
    category = store.categories[category_id]
    wanted = {category_id}
    if str(category.custom.get("is_anchor", "1")) not in ("0", "False", "false"):
        wanted |= {c.id for c in store.categories.values() if c.path.startswith(category.path + "/")}
    if members is None:
        members = category_members(store)
    found: set[int] = set()
    for wanted_id in wanted:
        found |= members.get(wanted_id, set())
    return len(found)


def render_tree(
    store: Store,
    category: Category,
    store_id: int,
    depth: int | None,
    members: dict[int, set[int]] | None = None,
) -> dict[str, Any]:
    if members is None:
        members = category_members(store)
    children = children_of(store, category.id) if depth is None or depth > 0 else []
    return {
        "id": category.id,
        "parent_id": category.parent_id,
        "name": category.value("name", store_id),
        "is_active": bool(category.value("is_active", store_id)),
        "position": category.position,
        "level": category.level,
        "product_count": product_count(store, category.id, members),
        "children_data": [
            render_tree(store, child, store_id, None if depth is None else depth - 1, members)
            for child in children
        ],
    }


def render_category(store: Store, category: Category, store_id: int) -> dict[str, Any]:
    children = children_of(store, category.id)
    custom: dict[str, Any] = {}
    for code, value in category.custom.items():
        custom[code] = eav_text(value)
    for code, value in category.store_values.get(store_id, {}).items():
        if code not in ("name", "is_active", "include_in_menu", "position"):
            custom[code] = eav_text(value)
    url_key = category.value("url_key", store_id)
    if url_key:
        custom["url_key"] = url_key
        url_path = store.category_url_path(category, store_id)
        if url_path:
            custom["url_path"] = url_path
    custom["children_count"] = str(
        sum(1 for c in store.categories.values() if c.path.startswith(category.path + "/"))
    )
    custom["path"] = category.path
    custom.setdefault("display_mode", "PRODUCTS")
    custom.setdefault("is_anchor", "1")
    return {
        "id": category.id,
        "parent_id": category.parent_id,
        "name": category.value("name", store_id),
        "is_active": bool(category.value("is_active", store_id)),
        "position": category.position,
        "level": category.level,
        "children": ",".join(str(c.id) for c in children),
        "created_at": category.created_at,
        "updated_at": category.updated_at,
        "path": category.path,
        "available_sort_by": [],
        "include_in_menu": bool(category.value("include_in_menu", store_id)),
        "custom_attributes": [{"attribute_code": k, "value": v} for k, v in custom.items()],
    }


def _apply(category: Category, data: dict[str, Any], store_id: int, creating: bool) -> None:
    fields: dict[str, Any] = {}
    for key in ("name", "is_active", "include_in_menu"):
        if data.get(key) is not None:
            fields[key] = data[key]
    for attribute in data.get("custom_attributes") or []:
        code = str(attribute.get("attribute_code") or "")
        if code and code not in ("path", "children_count", "url_path", "level"):
            fields[code] = attribute.get("value")
    for code, value in fields.items():
        if code in ("is_active", "include_in_menu"):
            value = to_bool(value)
        elif code == "url_key":
            value = format_url_key(str(value or "")) or None
        if store_id and not creating and code in SCOPED:
            category.store_values.setdefault(store_id, {})[code] = value
            continue
        if code in ("name", "is_active", "include_in_menu", "url_key"):
            setattr(category, code, value)
        else:
            category.custom[code] = value


def _save(store: Store, category: Category, creating: bool) -> Category:
    if not str(category.name or "").strip():
        raise bad_request(
            "Could not save category: %1",
            ['The "Name" attribute value is empty. Set the attribute and try again.'],
        )
    if not category.url_key:
        category.url_key = format_url_key(category.name) or None
    paths = store.category_request_paths(category)
    if store.url_conflict("category", category.id, paths):
        raise bad_request("URL key for specified store already exists.")
    if creating:
        category.id = store.next_id("category")
        parent = store.categories[category.parent_id]
        category.path = f"{parent.path}/{category.id}"
    category.updated_at = now_text()
    store.categories[category.id] = category
    store.index_urls("category", category.id, store.category_request_paths(category))
    return category


@route("POST", "/V1/categories", CATEGORIES)
def create_category(call: Call) -> Any:
    store = call.store
    data = call.body["category"]
    parent_id = to_int(data.get("parent_id"), 2) or 2
    parent = require_category(store, parent_id)
    now = now_text()
    siblings = children_of(store, parent.id)
    position = to_int(data.get("position"))
    category = Category(
        id=0,
        parent_id=parent.id,
        name=str(data.get("name") or ""),
        is_active=to_bool(data.get("is_active"), True),
        include_in_menu=to_bool(data.get("include_in_menu"), True),
        position=position if position is not None else (max((c.position for c in siblings), default=0) + 1),
        level=parent.level + 1,
        created_at=now,
        updated_at=now,
    )
    _apply(category, data, 0, creating=True)
    _save(store, category, creating=True)
    return render_category(store, category, call.scope.store_id)


@route("PUT", "/V1/categories/{id}", CATEGORIES)
def update_category(call: Call) -> Any:
    store = call.store
    current = require_category(store, call.param("id"))
    category = current.model_copy(deep=True)
    data = call.body["category"]
    if data.get("position") is not None:
        category.position = to_int(data["position"], category.position) or 0
    _apply(category, data, call.scope.store_id, creating=False)
    _save(store, category, creating=False)
    return render_category(store, category, call.scope.store_id)


@route("GET", "/V1/categories/{categoryId}", CATEGORIES)
def get_category(call: Call) -> Any:
    category = require_category(call.store, call.param("categoryId"))
    return render_category(call.store, category, call.scope.store_id)


@route("DELETE", "/V1/categories/{categoryId}", CATEGORIES)
def delete_category(call: Call) -> Any:
    store = call.store
    category = require_category(store, call.param("categoryId"))
    if category.level < 2:
        raise bad_request("Cannot delete category with id %1", [category.id])
    doomed = {
        c.id
        for c in store.categories.values()
        if c.id == category.id or c.path.startswith(category.path + "/")
    }
    for category_id in doomed:
        del store.categories[category_id]
        store.index_urls("category", category_id, set())
    for product in store.products.values():
        product.category_links = [link for link in product.category_links if link.category_id not in doomed]
    return True


@route("GET", "/V1/categories", CATEGORIES)
def category_tree(call: Call) -> Any:
    store = call.store
    root_id = to_int(call.query.get("rootCategoryId"))
    if root_id is None:
        root_id = 1 if call.scope.is_global else 2
    root = require_category(store, root_id)
    depth = to_int(call.query.get("depth"))
    return render_tree(store, root, call.scope.store_id, depth)


@route("GET", "/V1/categories/list", CATEGORIES)
def list_categories(call: Call) -> Any:
    criteria = parse_search_criteria(call.query, call.limits)
    store, store_id = call.store, call.scope.store_id

    def row(c: Category) -> dict[str, Any]:
        out: dict[str, Any] = dict(c.custom)
        out.update(
            {
                "id": c.id,
                "entity_id": c.id,
                "parent_id": c.parent_id,
                "name": c.value("name", store_id),
                "is_active": int(bool(c.value("is_active", store_id))),
                "include_in_menu": int(bool(c.value("include_in_menu", store_id))),
                "position": c.position,
                "level": c.level,
                "path": c.path,
                "url_key": c.value("url_key", store_id),
                "created_at": c.created_at,
                "updated_at": c.updated_at,
            }
        )
        return out

    items, total = search(
        store.categories.values(),
        row,
        criteria,
        CATEGORY_COLLECTION,
        on_unknown=lambda name: bad_request("Invalid attribute name: %1", [name]),
    )
    return {
        "items": [render_category(store, c, store_id) for c in items],
        "search_criteria": criteria.echo(),
        "total_count": total,
    }


@route("PUT", "/V1/categories/{categoryId}/move", CATEGORIES)
def move_category(call: Call) -> Any:
    store = call.store
    category = require_category(store, call.param("categoryId"))
    parent = require_category(store, call.body["parentId"])
    if parent.id == category.id or parent.path.startswith(category.path + "/"):
        raise bad_request("Operation do not allow to move a parent category to any of children category")
    after_id = to_int(call.body.get("afterId"))
    siblings = [c for c in children_of(store, parent.id) if c.id != category.id]
    if after_id is None:
        index = len(siblings)
    elif after_id == 0:
        index = 0
    else:
        ids = [c.id for c in siblings]
        index = ids.index(after_id) + 1 if after_id in ids else len(siblings)
    siblings.insert(index, category)
    old_path = category.path
    category.parent_id = parent.id
    category.path = f"{parent.path}/{category.id}"
    delta = parent.level + 1 - category.level
    category.level = parent.level + 1
    for position, sibling in enumerate(siblings, start=1):
        sibling.position = position
    for other in store.categories.values():
        if other.path.startswith(old_path + "/"):
            other.path = category.path + other.path[len(old_path) :]
            other.level += delta
    category.updated_at = now_text()
    for other in store.categories.values():
        store.index_urls("category", other.id, store.category_request_paths(other))
    return True


@route("GET", "/V1/categories/{categoryId}/products", CATEGORIES)
def category_products(call: Call) -> Any:
    store = call.store
    category = require_category(store, call.param("categoryId"))
    out = []
    for product in sorted(store.products.values(), key=lambda p: p.id):
        for link in product.category_links:
            if link.category_id == category.id:
                out.append({"sku": product.sku, "position": link.position, "category_id": str(category.id)})
    return out


def _assign(call: Call) -> Any:
    store = call.store
    category = require_category(store, call.param("categoryId"))
    link = call.body["productLink"]
    product = require_product(store, str(link.get("sku") or ""))
    position = to_int(link.get("position"), 0) or 0
    for existing in product.category_links:
        if existing.category_id == category.id:
            existing.position = position
            break
    else:
        product.category_links.append(CategoryLink(category_id=category.id, position=position))
    product.updated_at = now_text()
    return True


route("POST", "/V1/categories/{categoryId}/products", CATEGORIES)(_assign)
route("PUT", "/V1/categories/{categoryId}/products", CATEGORIES)(_assign)


@route("DELETE", "/V1/categories/{categoryId}/products/{sku}", CATEGORIES)
def unassign(call: Call) -> Any:
    store = call.store
    category = require_category(store, call.param("categoryId"))
    product = require_product(store, call.param("sku"))
    if not any(link.category_id == category.id for link in product.category_links):
        raise bad_request("The category doesn't contain the specified product.")
    product.category_links = [link for link in product.category_links if link.category_id != category.id]
    product.updated_at = now_text()
    return True
