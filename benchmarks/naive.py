"""A naive connector, as typical Magento connectors are written: one request per product, price, stock
item or document, one at a time, over plain signed HTTP (``SandboxClient``, OAuth 1.0a via oauthlib).

It does the same work as our push and pull, not less: a first push saves every product (children and
their configurable parent), links each child to its parent, sets each price and sale price, each
stock item and uploads each image; an update sends one request per changed price or stock item; a
pull reads the document pages and then one order per document. Being naive, it does not batch and
does not run requests side by side.

It is deliberately generous to the naive connector in two ways, so our speed-up is not overstated:
it knows exactly which prices and stock items changed (a real one often re-sends everything), and its
CI Office writes are not timed (only its Magento requests are).

Large runs time a sample of the work and scale it linearly; each result says so in ``scaled_from``.
"""

from __future__ import annotations

import re
import time
from collections.abc import Generator, Iterable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from kudos_sync.ci_office.catalogue import SqlCatalogueSource
from kudos_sync.domain.catalogue import Style
from sqlalchemy import Engine

from benchmarks.cost import MagentoStats, diff_stats
from benchmarks.stores import BenchStore
from sandbox.magento.testing import (
    SandboxClient,
    configurable_product,
    image_entry,
    search_query,
    simple_product,
    sku_path,
)

_SLUG = re.compile(r"[^a-z0-9]+")


@dataclass
class NaiveTiming:
    """What the naive connector did in the sample it ran, and that sample scaled to the whole job."""

    units: str  # what was counted: "skus", "prices", "stock items", "documents"
    sample_units: int
    total_units: int
    sample_seconds: float
    requests: int = 0
    errors: int = 0
    error_examples: list[str] = field(default_factory=list)
    stats: MagentoStats = field(default_factory=dict)

    @property
    def seconds(self) -> float:
        """The sample's time scaled linearly to the whole job."""
        if self.sample_units <= 0:
            return 0.0
        return self.sample_seconds * self.total_units / self.sample_units

    @property
    def scaled(self) -> bool:
        return self.sample_units < self.total_units

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "wall_seconds": round(self.seconds, 3),
            "units": self.units,
            "total_units": self.total_units,
            "requests_in_sample": self.requests,
            "errors_in_sample": self.errors,
            "error_examples": self.error_examples[:3],
            "sample_magento": self.stats,
        }
        if self.scaled:
            out["scaled_from"] = {
                "units": self.sample_units,
                "seconds": round(self.sample_seconds, 3),
                "method": f"linear: sample seconds x {self.total_units} / {self.sample_units} {self.units}",
            }
        return out


class NaiveConnector:
    """Serial, one-request-per-record pushes and pulls against one store."""

    def __init__(self, store: BenchStore) -> None:
        self.store = store
        self.client = SandboxClient(store.base_url, store.oauth, timeout=300.0)
        self._requests = 0
        self._errors = 0
        self._examples: list[str] = []
        self._attribute_ids: dict[str, str] = {}
        self._options: dict[str, dict[str, int]] = {}

    def close(self) -> None:
        self.client.close()

    # ------------------------------------------------------------ plumbing

    def _send(self, method: str, path: str, body: Any = None, params: dict[str, Any] | None = None) -> Any:
        response = self.client.request(method, path, json=body, params=params)
        self._requests += 1
        if response.status_code >= 400:
            self._errors += 1
            if len(self._examples) < 3:
                self._examples.append(f"{method} {path}: {response.status_code} {response.text[:160]}")
            return None
        return response.json() if response.content else None

    def _send_price(self, sku: str, price: Decimal) -> None:
        """One base price, as a one-row array."""
        self._send(
            "POST", "/V1/products/base-prices", {"prices": [{"sku": sku, "price": str(price), "store_id": 0}]}
        )

    def _send_stock(self, sku: str, source: str, quantity: Decimal) -> None:
        """One source item, as a one-item array."""
        item = {
            "sku": sku,
            "source_code": source,
            "quantity": float(quantity),
            "status": 1 if quantity > 0 else 0,
        }
        self._send("POST", "/V1/inventory/source-items", {"sourceItems": [item]})

    def _timed(self, units: str, sample: int, total: int, work: Iterable[None]) -> NaiveTiming:
        before = self.store.stats()
        self._requests = self._errors = 0
        self._examples = []
        started = time.perf_counter()
        for _ in work:
            pass
        seconds = time.perf_counter() - started
        return NaiveTiming(
            units=units,
            sample_units=sample,
            total_units=total,
            sample_seconds=seconds,
            requests=self._requests,
            errors=self._errors,
            error_examples=list(self._examples),
            stats=diff_stats(self.store.stats(), before),
        )

    # ------------------------------------------------------------ push

    def first_push(
        self, engine: Engine, branch_sources: dict[str, str], sample_skus: int, total_skus: int
    ) -> NaiveTiming:
        """Create the first styles of the catalogue until ``sample_skus`` SKUs are done, each product,
        price, sale price, stock item, child link and image in a request of its own."""
        catalogue = SqlCatalogueSource(engine)
        styles: list[Style] = []
        count = 0
        for style in catalogue.read_styles():
            if count >= sample_skus:
                break
            styles.append(style)
            count += max(1, len(style.variants))
        wanted = {v.sku for style in styles for v in style.variants}
        stock: dict[str, list[tuple[str, Decimal]]] = {}
        for row in catalogue.read_stock(sorted(branch_sources)):
            if row.sku in wanted:
                stock.setdefault(row.sku, []).append((branch_sources[row.branch], row.quantity))
        codes = {style.code for style in styles}
        images: dict[str, list[tuple[int, int]]] = {}
        for meta in catalogue.read_image_meta():
            if meta.style_code in codes:
                images.setdefault(meta.style_code, []).append((meta.image_id, meta.sequence))

        def work() -> Iterable[None]:
            for style in styles:
                yield from self._push_style(catalogue, style, stock, images.get(style.code, []))

        return self._timed("skus", count, total_skus, work())

    def _push_style(
        self,
        catalogue: SqlCatalogueSource,
        style: Style,
        stock: dict[str, list[tuple[str, Decimal]]],
        images: Sequence[tuple[int, int]],
    ) -> Generator[None, None, None]:
        variants = style.variants
        configurable = len(variants) > 1 or any(v.colour or v.size for v in variants)
        price = style.retail_price
        used: dict[str, set[int]] = {}
        for variant in variants:
            custom: dict[str, Any] = {}
            for attribute, label in (("color", variant.colour), ("size", variant.size)):
                if label:
                    option_id = yield from self._option(attribute, label)
                    custom[attribute] = str(option_id)
                    used.setdefault(attribute, set()).add(option_id)
            product = simple_product(
                variant.sku,
                " ".join(p for p in (style.description, variant.colour, variant.size) if p),
                str(price) if price is not None else None,
                url_key=_slug(f"{style.description}-{variant.sku}"),
                visibility=1 if configurable else 4,
                custom=custom,
            )
            self._send("POST", "/V1/products", {"product": product})
            yield None
            if price is not None:
                self._send_price(variant.sku, price)
                yield None
            if style.sale_price is not None:
                special = {
                    "sku": variant.sku,
                    "price": str(style.sale_price),
                    "store_id": 0,
                    "price_from": f"{style.sale_from} 00:00:00" if style.sale_from else None,
                    "price_to": f"{style.sale_to} 00:00:00" if style.sale_to else None,
                }
                self._send("POST", "/V1/products/special-price", {"prices": [special]})
                yield None
            for source, quantity in stock.get(variant.sku, []):
                self._send_stock(variant.sku, source, max(quantity, Decimal(0)))
                yield None
        carrier = style.code if configurable else variants[0].sku if variants else style.code
        if configurable:
            parent = configurable_product(
                style.code, style.description, url_key=_slug(f"{style.description}-{style.code}")
            )
            self._send("POST", "/V1/products", {"product": parent})
            yield None
            for position, (attribute, option_ids) in enumerate(sorted(used.items())):
                attribute_id = yield from self._attribute_id(attribute)
                option = {
                    "attribute_id": attribute_id,
                    "label": attribute.title(),
                    "position": position,
                    "is_use_default": True,
                    "values": [{"value_index": i} for i in sorted(option_ids)],
                }
                self._send(
                    "POST", f"/V1/configurable-products/{_path(style.code)}/options", {"option": option}
                )
                yield None
            for variant in variants:
                self._send(
                    "POST", f"/V1/configurable-products/{_path(style.code)}/child", {"childSku": variant.sku}
                )
                yield None
        for image_id, sequence in images:
            data = catalogue.read_image(image_id)
            mime = "image/png" if data.startswith(b"\x89PNG") else "image/jpeg"
            entry = image_entry(
                name=f"{style.code}-{sequence}.{'png' if mime == 'image/png' else 'jpg'}",
                data=data,
                mime=mime,
                types=["image", "small_image", "thumbnail"] if sequence == 1 else [],
                label=f"{style.code} {sequence}",
                position=sequence,
            )
            self._send("POST", f"/V1/products/{_path(carrier)}/media", {"entry": entry})
            yield None

    def _attribute_id(self, attribute: str) -> Generator[None, None, str]:
        if attribute not in self._attribute_ids:
            data = self._send("GET", f"/V1/products/attributes/{attribute}")
            yield None
            self._attribute_ids[attribute] = str((data or {}).get("attribute_id", ""))
        return self._attribute_ids[attribute]

    def _option(self, attribute: str, label: str) -> Generator[None, None, int]:
        """The option id of a colour or size label, created on first use (listed once per attribute)."""
        options = self._options.get(attribute)
        if options is None:
            listed = self._send("GET", f"/V1/products/attributes/{attribute}/options") or []
            yield None
            options = {
                str(o.get("label")): int(o["value"]) for o in listed if str(o.get("value") or "").isdigit()
            }
            self._options[attribute] = options
        if label not in options:
            body = {"option": {"label": label, "value": "", "sort_order": 0, "is_default": False}}
            created = self._send("POST", f"/V1/products/attributes/{attribute}/options", body)
            yield None
            text = str(created or "").strip('"').removeprefix("id_")
            if text.isdigit():
                options[label] = int(text)
            else:
                listed = self._send("GET", f"/V1/products/attributes/{attribute}/options") or []
                yield None
                for o in listed:
                    if str(o.get("label")) == label and str(o.get("value") or "").isdigit():
                        options[label] = int(o["value"])
        return options.get(label, 0)

    def price_updates(self, prices: Sequence[tuple[str, Decimal]], total: int) -> NaiveTiming:
        """One ``POST /V1/products/base-prices`` with a one-row array per SKU."""

        def work() -> Iterable[None]:
            for sku, price in prices:
                self._send_price(sku, price)
                yield None

        return self._timed("prices", len(prices), total, work())

    def updates(
        self, prices: Sequence[tuple[str, Decimal]], stock: Sequence[tuple[str, str, Decimal]]
    ) -> NaiveTiming:
        """Prices then stock items, one request each (scenario b: nothing to scale)."""
        total = len(prices) + len(stock)

        def work() -> Iterable[None]:
            for sku, price in prices:
                self._send_price(sku, price)
                yield None
            for sku, source, quantity in stock:
                self._send_stock(sku, source, quantity)
                yield None

        return self._timed("prices and stock items", total, total, work())

    # ------------------------------------------------------------ pull

    def pull(self, sample_documents: int, total_documents: int, page_size: int = 100) -> NaiveTiming:
        """Read invoices then credit memos page by page, and fetch each document's order on its own,
        until ``sample_documents`` documents were handled."""

        def work() -> Iterable[None]:
            handled = 0
            for stream in ("invoices", "creditmemos"):
                page = 1
                while handled < sample_documents:
                    params = search_query(
                        [[("created_at", "1970-01-01 00:00:00", "gteq")]],
                        sort=[("created_at", "ASC"), ("entity_id", "ASC")],
                        page_size=page_size,
                        current_page=page,
                    )
                    body = self._send("GET", f"/V1/{stream}", params=params)
                    yield None
                    items = (body or {}).get("items") or []
                    for document in items:
                        if handled >= sample_documents:
                            break
                        self._send("GET", f"/V1/orders/{int(document['order_id'])}")
                        handled += 1
                        yield None
                    total = int((body or {}).get("total_count") or 0)
                    if not items or page * page_size >= total:
                        break
                    page += 1

        timing = self._timed("documents", 0, total_documents, work())
        timing.sample_units = min(sample_documents, total_documents)
        return timing


def _slug(text: str) -> str:
    return _SLUG.sub("-", text.lower()).strip("-")


def _path(sku: str) -> str:
    return sku_path(sku)
