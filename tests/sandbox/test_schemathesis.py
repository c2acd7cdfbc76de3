"""Property-based conformance: schemathesis drives every route the sandbox serves from the 2.4.7 schema.

Faults are off; a 5xx or a response outside the schema fails. The schema given to schemathesis is the
patched one the sandbox validates against (``KNOWN_DEVIATIONS``), with two test-only adjustments:
required properties may be ``null`` (``x-nullable``: Magento prints them as null when empty) and
searchCriteria field names are drawn from real columns (an unknown column is a masked 500 in Magento).
"""

from __future__ import annotations

import copy
from collections.abc import Iterator
from typing import Any

import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, Phase, settings
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)

from sandbox.magento import DEMO_OAUTH, MagentoSandbox, SandboxOptions
from sandbox.magento.routing import ROUTES
from sandbox.magento.schema import load_schema
from sandbox.magento.testing import SandboxClient

COLUMNS = {
    "/V1/products": ["sku", "name", "price", "status", "type_id", "created_at", "updated_at"],
    "/V1/categories/list": ["name", "parent_id", "level", "is_active"],
    "/V1/orders": ["entity_id", "increment_id", "created_at", "updated_at", "status", "customer_email"],
    "/V1/invoices": ["entity_id", "order_id", "created_at", "updated_at", "state"],
    "/V1/creditmemos": ["entity_id", "order_id", "created_at", "updated_at", "state"],
    "/V1/customers/search": ["email", "firstname", "lastname", "entity_id", "created_at", "updated_at"],
    "/V1/inventory/source-items": ["sku", "source_code", "quantity", "status"],
    "/V1/inventory/sources": ["source_code", "name", "enabled"],
    "/V1/orders/items": ["item_id", "order_id", "sku", "name", "product_type", "created_at", "updated_at"],
    "/V1/products/attribute-sets/sets/list": ["attribute_set_id", "attribute_set_name", "sort_order"],
}


def project_schema() -> dict[str, Any]:
    raw = copy.deepcopy(load_schema())
    served: dict[str, set[str]] = {}
    for r in ROUTES:
        served.setdefault(r.template, set()).add(r.method.lower())
    raw["paths"] = {
        path: {m: op for m, op in ops.items() if m in served[path]}
        for path, ops in raw["paths"].items()
        if path in served
    }
    for definition in raw["definitions"].values():
        for name in definition.get("required", []):
            prop = definition.get("properties", {}).get(name)
            if isinstance(prop, dict):
                prop["x-nullable"] = True
    for path, columns in COLUMNS.items():
        for param in raw["paths"][path]["get"].get("parameters", []):
            if param["name"].endswith("[field]"):
                param["enum"] = columns
    return raw


schema = schemathesis.openapi.from_dict(project_schema())
# The coverage phase enumerates boundary cases of every property (hundreds of requests for a product);
# random positive and negative fuzzing keeps the suite within its time budget.
schema.config.phases.coverage.enabled = False


def unknown_column(case: schemathesis.Case) -> bool:
    """A filter or sort on a column the collection lacks: Magento's SQL error, masked as a 500."""
    columns = COLUMNS.get(case.operation.path)
    if columns is None or not case.query:
        return False
    return any(k.endswith("[field]") and v not in columns for k, v in case.query.items())


@schemathesis.check
def no_server_error_but_unknown_columns(ctx: Any, response: Any, case: schemathesis.Case) -> bool | None:
    """``not_a_server_error``, except the deliberate 500 for an unknown searchCriteria column."""
    if response.status_code == 500 and unknown_column(case):
        return True
    return not_a_server_error(ctx, response, case)


class SignedAuth(requests.auth.AuthBase):
    """OAuth 1.0a HMAC-SHA256 over the final URL, as an integration would sign."""

    def __init__(self, base_url: str) -> None:
        self.client = SandboxClient(base_url, DEMO_OAUTH)

    def __call__(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        request.headers.update(self.client.sign(str(request.method), str(request.url)))
        return request


@pytest.fixture(scope="module")
def fuzzed_store() -> Iterator[MagentoSandbox]:
    with MagentoSandbox(SandboxOptions(sources=("akl",))) as store:
        yield store


@schema.parametrize()
@settings(
    max_examples=10,
    deadline=None,
    database=None,
    derandomize=True,
    phases=[Phase.explicit, Phase.generate],
    suppress_health_check=list(HealthCheck),
)
def test_schema_conformance(case: schemathesis.Case, fuzzed_store: MagentoSandbox) -> None:
    before = len(fuzzed_store.unexpected_errors)
    case.call_and_validate(
        base_url=f"{fuzzed_store.base_url}/rest/default",
        auth=SignedAuth(fuzzed_store.base_url),
        timeout=10,
        checks=[
            no_server_error_but_unknown_columns,
            status_code_conformance,
            content_type_conformance,
            response_schema_conformance,
        ],
    )
    assert fuzzed_store.unexpected_errors[before:] == []
