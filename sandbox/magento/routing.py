"""Route table, store-code scopes and the per-request context handed to service handlers.

Route templates are the schema's own paths (``/V1/products/{sku}``), so statistics, schema checks and
handlers all speak of the same route. Matching splits the raw path before decoding, so a SKU sent as
``A%2FB`` arrives as one segment ``A/B`` (Apache ``AllowEncodedSlashes NoDecode``); each path value is then
decoded as PHP's ``urldecode`` does in ``Webapi\\Controller\\Rest\\Router\\Route::match`` (``+`` is a space,
so a literal plus travels as ``%2B``). Among matching routes the one with most literal segments wins
(``/V1/orders/items`` before ``/V1/orders/{id}``), which is the route Magento's ``Router::match`` keeps.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote_plus

if TYPE_CHECKING:
    from .model import Store
    from .options import SandboxOptions
    from .search import Limits


@dataclass(frozen=True)
class Scope:
    """The store a request runs in: ``all`` is the admin store 0 (global values)."""

    code: str
    store_id: int

    @property
    def is_global(self) -> bool:
        return self.store_id == 0


@dataclass
class Call:
    """One service call: the route, its decoded path parameters, query, bound body and scope."""

    method: str
    route: str
    params: dict[str, str]
    query: dict[str, Any]
    body: Any
    scope: Scope
    store: Store
    options: SandboxOptions
    limits: Limits
    extras: dict[str, Any] = field(default_factory=dict)

    def param(self, name: str) -> str:
        return self.params[name]


Handler = Callable[[Call], Any]


@dataclass(frozen=True)
class Route:
    method: str
    template: str
    handler: Handler
    resource: str
    anonymous: bool = False

    @property
    def key(self) -> str:
        return f"{self.method} {self.template}"

    @property
    def segments(self) -> list[str]:
        return self.template.strip("/").split("/")


ROUTES: list[Route] = []


def route(method: str, template: str, resource: str, anonymous: bool = False) -> Callable[[Handler], Handler]:
    """Register a service handler for ``METHOD template``."""

    def register(handler: Handler) -> Handler:
        ROUTES.append(Route(method.upper(), template, handler, resource, anonymous))
        return handler

    return register


class Router:
    def __init__(self, routes: list[Route]) -> None:
        self._by_method: dict[str, list[tuple[int, Route]]] = {}
        for r in routes:
            literal = sum(1 for s in r.segments if not s.startswith("{"))
            self._by_method.setdefault(r.method, []).append((literal, r))
        for entries in self._by_method.values():
            entries.sort(key=lambda e: -e[0])

    def match(self, method: str, path: str) -> tuple[Route, dict[str, str]] | None:
        raw = path.strip("/").split("/")
        for _, r in self._by_method.get(method.upper(), []):
            segs = r.segments
            if len(segs) != len(raw):
                continue
            params: dict[str, str] = {}
            for tmpl, seg in zip(segs, raw, strict=True):
                if tmpl.startswith("{"):
                    if seg == "":
                        break
                    params[tmpl[1:-1]] = unquote_plus(seg)
                elif tmpl != seg:
                    break
            else:
                return r, params
        return None


def split_scope(path: str, store_codes: dict[str, int]) -> tuple[Scope, str] | None:
    """``/rest/<code>/V1/...`` -> (scope, ``/V1/...``); None when the path is not a REST route."""
    if not path.startswith("/rest/"):
        return None
    rest = path[len("/rest") :]
    parts = rest.split("/", 2)  # ["", first, remainder]
    first = parts[1] if len(parts) > 1 else ""
    if first == "V1":
        return Scope("default", 1), rest
    if first == "all":
        return Scope("all", 0), "/" + (parts[2] if len(parts) > 2 else "")
    if first in store_codes:
        return Scope(first, store_codes[first]), "/" + (parts[2] if len(parts) > 2 else "")
    # Magento keeps an unknown first segment as part of the route, which then matches nothing.
    return Scope("default", 1), rest
