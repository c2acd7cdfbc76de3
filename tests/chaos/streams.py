"""Which stream a fault met: the fault-by-stream table of the harness's report.

Each injector knows what it hit (a Magento route, a CI Office table, a DynamoDB item key); this maps
that to one of the sync's streams. A fault that names no stream of its own (a lease call, a deadline
check, a rival run) is put on the stream the run was last seen working on. With several requests in
flight that is approximate, which is all a coverage table needs.
"""

from __future__ import annotations

import random
import threading
from collections import Counter, defaultdict
from collections.abc import Iterator
from typing import Any

PUSH_STREAMS: tuple[str, ...] = ("products", "prices", "special_prices", "stock", "images")
PULL_STREAMS: tuple[str, ...] = ("invoices", "creditmemos")
STREAMS: tuple[str, ...] = (*PUSH_STREAMS, *PULL_STREAMS)

# Order matters: the first fragment found wins ("special-price" before "price").
_ROUTES: tuple[tuple[str, str], ...] = (
    ("special-price", "special_prices"),
    ("base-prices", "prices"),
    ("source-items", "stock"),
    ("inventory", "stock"),
    ("media", "images"),
    ("creditmemo", "creditmemos"),
    ("invoice", "invoices"),
    ("/products", "products"),
    ("/categories", "products"),
    ("/configurable-products", "products"),
    ("/attributes", "products"),
)
_TABLES: tuple[tuple[str, str], ...] = (
    ("credit_note", "creditmemos"),
    ("refunds", "creditmemos"),
    ("invoice", "invoices"),
    ("payments", "invoices"),
    ("product_images", "images"),
    ("styles", "products"),
    ("skus", "products"),
)
_KEYS: tuple[tuple[str, str], ...] = (
    ("BIND#special", "special_prices"),
    ("BIND#price", "prices"),
    ("BIND#stock", "stock"),
    ("BIND#images", "images"),
    ("BIND#product", "products"),
    ("BIND#category", "products"),
    ("BIND#option", "products"),
    ("creditmemo", "creditmemos"),
    ("invoice", "invoices"),
    ("PARKED#products", "products"),
    ("PARKED#prices", "prices"),
    ("PARKED#special", "special_prices"),
    ("PARKED#stock", "stock"),
    ("PARKED#images", "images"),
)


def _first(text: str, table: tuple[tuple[str, str], ...]) -> str | None:
    lowered = text.lower()
    for fragment, stream in table:
        if fragment.lower() in lowered:
            return stream
    return None


def _string_values(value: Any, depth: int = 0) -> Iterator[str]:
    """The DynamoDB string attributes in a request (item keys, key conditions), not binary shards."""
    if depth > 8:
        return
    if isinstance(value, dict):
        for name, inner in value.items():
            if name == "S" and isinstance(inner, str):
                yield inner[:200]
            elif name != "B":
                yield from _string_values(inner, depth + 1)
    elif isinstance(value, list):
        for inner in value[:50]:
            yield from _string_values(inner, depth + 1)


class StreamTracker:
    """Counts faults per (kind, stream); remembers the stream each direction was last working on."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._local = threading.local()
        self.direction = "push"
        self._current = {"push": "products", "pull": "invoices"}
        self.matrix: Counter[tuple[str, str]] = Counter()
        # (kind, stream) pairs to inject at the first chance, each once: how the fixed catalogue makes
        # sure that every kind meets every stream. Empty outside the faulty rounds.
        self.aims: set[tuple[str, str]] = set()
        self.touched: set[str] = set()  # streams the current run has worked on (cleared per run)
        self.attempts: defaultdict[tuple[str, str], float] = defaultdict(float)  # turns each aimed pair had

    # ------------------------------------------------------------ where the run is

    @property
    def current(self) -> str:
        return self._current[self.direction]

    def touch(self, stream: str | None) -> None:
        if stream is None:
            return
        direction = "pull" if stream in PULL_STREAMS else "push"
        if direction == self.direction:
            self._current[direction] = stream
            self.touched.add(stream)

    def fault(self, kind: str, stream: str | None = None) -> None:
        with self._lock:
            pair = (kind, stream or self.current)
            self.matrix[pair] += 1
            self.aims.discard(pair)

    def aimed(self, kind: str, stream: str | None) -> bool:
        """True when a `kind` fault is to be injected on `stream` now (it is disarmed once counted)."""
        return stream is not None and (kind, stream) in self.aims

    def aimed_stream(
        self, kinds: tuple[str, ...], direction: str, rng: random.Random
    ) -> tuple[str, str] | None:
        """An armed (kind, stream) among `kinds` on a stream of `direction`, drawn among those tried the
        fewest times so far (a run may end before it reaches its stream: every pair gets its turns)."""
        streams = PULL_STREAMS if direction == "pull" else PUSH_STREAMS
        armed = sorted((k, s) for k, s in self.aims if k in kinds and s in streams)
        if not armed:
            return None
        fewest = min(self.attempts[p] for p in armed)
        pair = rng.choice([p for p in armed if self.attempts[p] == fewest])
        self.attempts[pair] += 1
        return pair

    def route_stream(self) -> str | None:
        """The stream of the request this thread is serving (the sandbox's side)."""
        route = getattr(self._local, "route", "")
        return _first(route, _ROUTES) or (self.current if self.direction == "pull" else None)

    # ------------------------------------------------------------ what each injector hit

    def route(self, key: str) -> str | None:
        stream = _first(key, _ROUTES)
        if stream is None and self.direction == "pull":
            stream = self.current  # orders and customers read for the documents being pulled
        self.touch(stream)
        return stream

    def statement(self, statement: str) -> str | None:
        if "stock_on_hand" in statement:  # read by the push (stock), written by the pull (its documents)
            stream: str | None = "stock" if self.direction == "push" else self.current
        else:
            stream = _first(statement, _TABLES)
        self.touch(stream)
        return stream

    def dynamo(self, params: Any) -> str | None:
        stream = _first(" ".join(_string_values(params)), _KEYS)
        self.touch(stream)
        return stream

    # ------------------------------------------------------------ the sandbox's request statistics

    def attach_sandbox(self, app: Any) -> None:
        """Wrap the sandbox app's statistics: a fault is drawn right after its request is counted, on
        the same thread, so the route counted last on a thread is the route the fault hit."""
        tracker, inner = self, app.stats

        class _TrackingStats:
            def count(self, key: str, items: int) -> None:
                tracker._local.route = key
                tracker.route(key)
                inner.count(key, items)

            def fault(self, kind: str) -> None:
                route = getattr(tracker._local, "route", "")
                tracker.fault(kind, _first(route, _ROUTES) or tracker.current)
                inner.fault(kind)

            def __getattr__(self, name: str) -> Any:
                return getattr(inner, name)

        app.stats = _TrackingStats()
        faults = app.faults

        class _AimedFaults:
            """The sandbox's seeded fault draw, preceded by the armed pairs for this request's stream."""

            def draw(self, method: str) -> str | None:
                stream = tracker.route_stream()
                for kind in faults.kinds:
                    if tracker.aimed(kind, stream) and (kind != "deadlock" or method != "GET"):
                        return str(kind)
                result: str | None = faults.draw(method)
                return result

            def __getattr__(self, name: str) -> Any:
                return getattr(faults, name)

        app.faults = _AimedFaults()

    def table(self, kinds: tuple[str, ...]) -> list[str]:
        """The fault-by-stream table as text lines (kinds down, streams across)."""
        width = max(len(k) for k in kinds) if kinds else 4
        lines = [" " * width + " | " + " | ".join(STREAMS)]
        for kind in kinds:
            cells = [str(self.matrix.get((kind, stream), 0)).rjust(len(stream)) for stream in STREAMS]
            lines.append(kind.ljust(width) + " | " + " | ".join(cells))
        return lines

    def gaps(self, kinds: tuple[str, ...], streams_of: dict[str, tuple[str, ...]]) -> list[str]:
        """(kind, stream) pairs that never met: `streams_of[kind]` are the streams a kind can meet."""
        return [
            f"{kind}/{stream}"
            for kind in kinds
            for stream in streams_of.get(kind, STREAMS)
            if not self.matrix.get((kind, stream), 0)
        ]
