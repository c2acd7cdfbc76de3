"""Which routes of the official 2.4.7 schema the sandbox serves, for the modules the product touches.

``route_table()`` joins the schema's paths (selected per module by path prefix) with the sandbox's route
registry; ``python -m sandbox.magento.coverage > sandbox/magento/ROUTES.md`` writes it as Markdown, and a
test keeps that file equal to the generated one. ``CLIENT_ROUTES`` lists every call the product's own
Magento client makes and ``COMMON_ROUTES`` the ones general-purpose clients commonly use; both must be
served (a test fails otherwise).
"""

from __future__ import annotations

import sys
from dataclasses import dataclass

from . import server  # noqa: F401  (registers every route)
from .routing import ROUTES
from .schema import load_schema

MODULES: dict[str, tuple[str, ...]] = {
    "catalog": ("/V1/products", "/V1/categories", "/V1/stockItems", "/V1/stockStatuses"),
    "configurable": ("/V1/configurable-products",),
    "inventory (MSI)": ("/V1/inventory/",),
    "sales": ("/V1/orders", "/V1/order/", "/V1/invoices", "/V1/invoice/", "/V1/creditmemo", "/V1/shipment"),
    "customers": ("/V1/customers", "/V1/customerGroups"),
    "store": ("/V1/store/",),
    "integration": ("/V1/integration/",),
    "checkout (quote)": ("/V1/carts", "/V1/guest-carts"),
}
"""Schema path prefixes per module (``/V1/products-render-info`` and bundle or downloadable paths aside)."""

_NOT_OURS = (
    "/V1/products-render-info",
    "/V1/carts/licence",
    "/V1/carts/guest-carts/",
    "/V1/customers/companies",
)

CLIENT_ROUTES: tuple[tuple[str, str], ...] = (
    ("GET", "/V1/store/storeViews"),
    ("GET", "/V1/products/attributes/{attributeCode}"),
    ("GET", "/V1/products/attributes/{attributeCode}/options"),
    ("POST", "/V1/products/attributes/{attributeCode}/options"),
    ("GET", "/V1/categories"),
    ("GET", "/V1/categories/{categoryId}"),
    ("POST", "/V1/categories"),
    ("DELETE", "/V1/categories/{categoryId}/products/{sku}"),
    ("GET", "/V1/products"),
    ("POST", "/V1/products"),
    ("DELETE", "/V1/configurable-products/{sku}/children/{childSku}"),
    ("POST", "/V1/products/base-prices"),
    ("POST", "/V1/products/special-price"),
    ("POST", "/V1/products/special-price-delete"),
    ("POST", "/V1/products/base-prices-information"),
    ("POST", "/V1/products/special-price-information"),
    ("POST", "/V1/inventory/source-items"),
    ("GET", "/V1/inventory/sources"),
    ("GET", "/V1/products/{sku}/media"),
    ("POST", "/V1/products/{sku}/media"),
    ("DELETE", "/V1/products/{sku}/media/{entryId}"),
    ("GET", "/V1/orders"),
    ("GET", "/V1/invoices"),
    ("GET", "/V1/creditmemos"),
    ("POST", "/V1/orders/{id}/comments"),
    ("GET", "/V1/orders/{id}/comments"),
)
"""Every call of ``kudos_sync.magento`` and ``kudos_sync.preflight`` (a test checks the source for others)."""

COMMON_ROUTES: tuple[tuple[str, str], ...] = (
    ("GET", "/V1/products/{sku}"),
    ("PUT", "/V1/products/{sku}"),
    ("DELETE", "/V1/products/{sku}"),
    ("GET", "/V1/products/types"),
    ("GET", "/V1/products/attribute-sets/sets/list"),
    ("GET", "/V1/products/attribute-sets/{attributeSetId}"),
    ("GET", "/V1/products/attribute-sets/{attributeSetId}/attributes"),
    ("GET", "/V1/products/links/types"),
    ("GET", "/V1/products/{sku}/links/{type}"),
    ("POST", "/V1/products/{sku}/links"),
    ("DELETE", "/V1/products/{sku}/links/{type}/{linkedProductSku}"),
    ("GET", "/V1/stockItems/{productSku}"),
    ("PUT", "/V1/products/{productSku}/stockItems/{itemId}"),
    ("GET", "/V1/stockStatuses/{productSku}"),
    ("GET", "/V1/configurable-products/{sku}/children"),
    ("POST", "/V1/configurable-products/{sku}/child"),
    ("GET", "/V1/configurable-products/{sku}/options/all"),
    ("POST", "/V1/configurable-products/{sku}/options"),
    ("GET", "/V1/categories/list"),
    ("GET", "/V1/categories/{categoryId}/products"),
    ("GET", "/V1/inventory/source-items"),
    ("GET", "/V1/orders/{id}"),
    ("GET", "/V1/orders/items"),
    ("GET", "/V1/orders/items/{id}"),
    ("GET", "/V1/invoices/{id}"),
    ("GET", "/V1/invoices/{id}/comments"),
    ("GET", "/V1/creditmemo/{id}"),
    ("GET", "/V1/creditmemo/{id}/comments"),
    ("POST", "/V1/order/{orderId}/invoice"),
    ("POST", "/V1/order/{orderId}/refund"),
    ("GET", "/V1/customers/search"),
    ("GET", "/V1/customers/{customerId}"),
    ("POST", "/V1/customers"),
    ("GET", "/V1/store/websites"),
    ("GET", "/V1/store/storeGroups"),
    ("GET", "/V1/store/storeConfigs"),
    ("POST", "/V1/integration/admin/token"),
    # the storefront checkout
    ("POST", "/V1/guest-carts"),
    ("GET", "/V1/guest-carts/{cartId}"),
    ("POST", "/V1/guest-carts/{cartId}/items"),
    ("GET", "/V1/guest-carts/{cartId}/items"),
    ("POST", "/V1/guest-carts/{cartId}/estimate-shipping-methods"),
    ("POST", "/V1/guest-carts/{cartId}/shipping-information"),
    ("GET", "/V1/guest-carts/{cartId}/payment-methods"),
    ("GET", "/V1/guest-carts/{cartId}/totals"),
    ("POST", "/V1/guest-carts/{cartId}/payment-information"),
    ("PUT", "/V1/guest-carts/{cartId}/coupons/{couponCode}"),
    ("POST", "/V1/customers/{customerId}/carts"),
    ("GET", "/V1/carts/{cartId}"),
    ("POST", "/V1/carts/{quoteId}/items"),
    ("POST", "/V1/carts/{cartId}/shipping-information"),
    ("GET", "/V1/carts/{cartId}/totals"),
    ("PUT", "/V1/carts/{cartId}/order"),
)
"""Routes general-purpose Magento clients commonly call."""


@dataclass(frozen=True)
class RouteRow:
    module: str
    method: str
    template: str
    served: bool
    why: str
    """``client`` (our client calls it), ``common`` (general-purpose clients do), or empty."""


def module_of(template: str) -> str | None:
    if template.startswith(_NOT_OURS):
        return None
    for module, prefixes in MODULES.items():
        if template.startswith(prefixes):
            return module
    return None


def served_routes() -> set[tuple[str, str]]:
    return {(r.method, r.template) for r in ROUTES}


def route_table() -> list[RouteRow]:
    """Every schema route of the modules above, with whether the sandbox serves it and who needs it."""
    served = served_routes()
    client, common = set(CLIENT_ROUTES), set(COMMON_ROUTES)
    rows: list[RouteRow] = []
    for template, operations in load_schema()["paths"].items():
        module = module_of(template)
        if module is None:
            continue
        for method in operations:
            key = (method.upper(), template)
            why = "client" if key in client else "common" if key in common else ""
            rows.append(RouteRow(module, key[0], template, key in served, why))
    order = list(MODULES)
    rows.sort(key=lambda r: (order.index(r.module), r.template, r.method))
    return rows


def render_markdown(rows: list[RouteRow]) -> str:
    served = sum(1 for r in rows if r.served)
    lines = [
        "# Routes of the 2.4.7 schema the sandbox serves",
        "",
        "Generated by `python -m sandbox.magento.coverage > sandbox/magento/ROUTES.md` from the schema and",
        "the sandbox's route registry; `tests/sandbox/test_routes.py` fails when it is out of date or when",
        "a route marked `client` or `common` is not served.",
        "",
        f"{served} of {len(rows)} routes of these modules are served.",
        "",
        "| Module | Method | Route | Served | Needed by |",
        "|---|---|---|---|---|",
    ]
    for r in rows:
        lines.append(f"| {r.module} | {r.method} | `{r.template}` | {'yes' if r.served else '-'} | {r.why} |")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    sys.stdout.write(render_markdown(route_table()))
