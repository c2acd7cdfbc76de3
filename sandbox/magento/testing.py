"""Test helpers for any suite that talks to the sandbox: a signed HTTP client, request builders, fixtures.

Use from another test folder::

    from sandbox.magento.testing import magento_sandbox, sandbox_client  # noqa: F401  (pytest fixtures)

    def test_something(magento_sandbox, sandbox_client):
        sandbox_client.post("/V1/products", json={"product": simple_product("A-1", "Tee", 10)})

or build a fixture with other options: ``recording_store = sandbox_fixture(record=True)``.
The client signs with OAuth 1.0a HMAC-SHA256 (oauthlib), independently of the product's own client.
"""

from __future__ import annotations

import base64
import json as jsonlib
import struct
import zlib
from collections.abc import Callable, Iterator, Mapping
from typing import Any, Literal
from urllib.parse import quote, urlencode

import pytest
import requests
from oauthlib.oauth1 import SIGNATURE_HMAC_SHA256, Client

from .options import DEMO_OAUTH, OAuthCredentials, SandboxOptions
from .runner import MagentoSandbox


def sku_path(sku: str) -> str:
    """A SKU as a path segment: every reserved character escaped, ``/`` as ``%2F``."""
    return quote(sku, safe="")


def search_query(
    filters: list[list[tuple[str, Any, str]]] | None = None,
    sort: list[tuple[str, str]] | None = None,
    page_size: int | None = None,
    current_page: int | None = None,
    camel: bool = False,
) -> dict[str, str]:
    """searchCriteria query parameters; ``filters`` is a list of OR-groups of (field, value, condition)."""
    groups, filters_key, cond_key = (
        ("filterGroups", "filters", "conditionType")
        if camel
        else (
            "filter_groups",
            "filters",
            "condition_type",
        )
    )
    out: dict[str, str] = {}
    for g, group in enumerate(filters or []):
        for f, (field, value, condition) in enumerate(group):
            base = f"searchCriteria[{groups}][{g}][{filters_key}][{f}]"
            out[f"{base}[field]"] = field
            out[f"{base}[value]"] = str(value)
            out[f"{base}[{cond_key}]"] = condition
    for k, (field, direction) in enumerate(sort or []):
        out[f"searchCriteria[{'sortOrders' if camel else 'sort_orders'}][{k}][field]"] = field
        out[f"searchCriteria[{'sortOrders' if camel else 'sort_orders'}][{k}][direction]"] = direction
    if page_size is not None:
        out["searchCriteria[pageSize]"] = str(page_size)
    if current_page is not None:
        out["searchCriteria[currentPage]"] = str(current_page)
    if not out:
        out["searchCriteria"] = ""
    return out


class SandboxClient:
    """A small signed client: ``client.get("/V1/products/SKU", scope="default")``."""

    def __init__(
        self,
        base_url: str,
        oauth: OAuthCredentials | None = DEMO_OAUTH,
        scope: str = "all",
        timeout: float = 30.0,
        signature_method: str = SIGNATURE_HMAC_SHA256,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.oauth = oauth
        self.scope = scope
        self.timeout = timeout
        self.signature_method = signature_method
        self.session = requests.Session()

    def url(self, path: str, scope: str | None = None, params: Mapping[str, Any] | None = None) -> str:
        scope = self.scope if scope is None else scope
        prefix = "/rest" if scope == "" else f"/rest/{scope}"
        url = f"{self.base_url}{prefix}{path}"
        if params:
            url += "?" + urlencode({k: str(v) for k, v in params.items()})
        return url

    def sign(self, method: str, url: str) -> dict[str, str]:
        if self.oauth is None:
            return {}
        client = Client(
            self.oauth.consumer_key,
            client_secret=self.oauth.consumer_secret,
            resource_owner_key=self.oauth.access_token,
            resource_owner_secret=self.oauth.token_secret,
            signature_method=self.signature_method,
        )
        _, headers, _ = client.sign(url, http_method=method)
        return {"Authorization": headers["Authorization"]}

    def request(
        self,
        method: str,
        path: str,
        json: Any = None,
        params: Mapping[str, Any] | None = None,
        scope: str | None = None,
        headers: Mapping[str, str] | None = None,
        timeout: float | None = None,
    ) -> requests.Response:
        url = self.url(path, scope, params)
        all_headers = {"Accept": "application/json", **self.sign(method, url), **(headers or {})}
        data = None
        if json is not None:
            data = jsonlib.dumps(json)
            all_headers.setdefault("Content-Type", "application/json")
        return self.session.request(
            method, url, data=data, headers=all_headers, timeout=timeout or self.timeout
        )

    def get(self, path: str, **kw: Any) -> requests.Response:
        return self.request("GET", path, **kw)

    def post(self, path: str, json: Any = None, **kw: Any) -> requests.Response:
        return self.request("POST", path, json=json, **kw)

    def put(self, path: str, json: Any = None, **kw: Any) -> requests.Response:
        return self.request("PUT", path, json=json, **kw)

    def delete(self, path: str, **kw: Any) -> requests.Response:
        return self.request("DELETE", path, **kw)

    def close(self) -> None:
        self.session.close()


# ---------------------------------------------------------------- request builders


def simple_product(
    sku: str,
    name: str,
    price: float | int | str | None = 10,
    *,
    url_key: str | None = None,
    visibility: int = 4,
    status: int = 1,
    custom: Mapping[str, Any] | None = None,
    **extra: Any,
) -> dict[str, Any]:
    """A ``product`` object for ``POST /V1/products``."""
    product: dict[str, Any] = {
        "sku": sku,
        "name": name,
        "attribute_set_id": 4,
        "type_id": "simple",
        "status": status,
        "visibility": visibility,
    }
    if price is not None:
        product["price"] = price
    attributes = dict(custom or {})
    if url_key is not None:
        attributes["url_key"] = url_key
    if attributes:
        product["custom_attributes"] = [{"attribute_code": k, "value": v} for k, v in attributes.items()]
    product.update(extra)
    return product


def configurable_product(sku: str, name: str, **extra: Any) -> dict[str, Any]:
    product = simple_product(sku, name, None, **extra)
    product["type_id"] = "configurable"
    return product


def _png_bytes(width: int = 1, height: int = 1) -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data))
            + kind
            + data
            + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
        )

    raw = b"".join(b"\x00" + b"\xff\x00\x00" * width for _ in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(raw))
        + chunk(b"IEND", b"")
    )


def tiny_jpeg() -> bytes:
    """Bytes that start like a JPEG (magic and JFIF header): enough for the sandbox's content check."""
    return (
        b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00" + b"\x00" * 16 + b"\xff\xd9"
    )


def image_entry(
    name: str = "tee.png",
    data: bytes | None = None,
    mime: str = "image/png",
    types: list[str] | None = None,
    label: str = "Tee",
    position: int = 1,
) -> dict[str, Any]:
    """An ``entry`` for ``POST /V1/products/{sku}/media``."""
    payload = data if data is not None else (_png_bytes() if mime == "image/png" else tiny_jpeg())
    return {
        "media_type": "image",
        "label": label,
        "position": position,
        "disabled": False,
        "types": types if types is not None else ["image", "small_image", "thumbnail"],
        "content": {"base64_encoded_data": base64.b64encode(payload).decode(), "type": mime, "name": name},
    }


# ---------------------------------------------------------------- fixtures


FixtureScope = Literal["session", "package", "module", "class", "function"]


def sandbox_fixture(
    scope: FixtureScope = "function", **options: Any
) -> Callable[..., Iterator[MagentoSandbox]]:
    """A pytest fixture starting a sandbox with ``SandboxOptions(**options)`` on a free port.

    Teardown fails the test if the sandbox itself crashed (``unexpected_errors``)."""

    @pytest.fixture(scope=scope)
    def _fixture() -> Iterator[MagentoSandbox]:
        with MagentoSandbox(SandboxOptions(**options)) as store:
            yield store
            # A crash inside the sandbox is answered as Magento's masked 500; never let one pass unnoticed.
            assert store.unexpected_errors == [], store.unexpected_errors[0]

    return _fixture


magento_sandbox = sandbox_fixture()
"""Function-scoped sandbox with the demo OAuth credentials and no cost model or faults."""


@pytest.fixture
def sandbox_client(magento_sandbox: MagentoSandbox) -> Iterator[SandboxClient]:
    """A signed client for ``magento_sandbox``, scope ``all``."""
    client = SandboxClient(magento_sandbox.base_url, magento_sandbox.options.oauth)
    yield client
    client.close()
