"""The HTTP side of the sandbox: dispatch, cost model, faults, statistics and the server itself.

One request goes: raw path -> store scope -> route (404 "Request does not match any route." otherwise) ->
statistics -> fault draw -> [worker slot: cost sleep, then under the store lock: authentication, body
decoding and binding, the service handler] -> ``fields=`` trimming -> response (or an injected failure).
The cost sleep happens inside the worker semaphore but outside the store lock, so ``workers`` bounds the
requests served at once, as PHP-FPM children do, and requests beyond it queue.
"""

from __future__ import annotations

import contextlib
import json
import random
import socket
import threading
import time
import traceback
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from . import (  # noqa: F401  (route registration)
    catalog,
    categories,
    checkout,
    inventory,
    prices,
    product_meta,
    sales,
    stores,
)
from .auth import Authenticator
from .errors import DEADLOCK, NO_ROUTE, MagentoError, bad_request, internal_error, not_found, unauthorized
from .model import Source, Store
from .options import FAULT_KINDS, SandboxOptions
from .routing import ROUTES, Call, Route, Router, route, split_scope
from .schema import Recorder, bind_request
from .search import Limits, apply_fields, parse_fields, parse_php_query
from .values import dumps

JSON_TYPE = "application/json; charset=utf-8"
WRITE_METHODS = frozenset({"POST", "PUT", "DELETE"})


# ---------------------------------------------------------------- admin token (2FA store)


@route("POST", "/V1/integration/admin/token", "anonymous", anonymous=True)
def admin_token(call: Call) -> Any:
    """``Magento_TwoFactorAuth`` replaces this service: right credentials still get no token."""
    body = call.body
    if (
        body.get("username") == call.options.admin_username
        and body.get("password") == call.options.admin_password
    ):
        raise MagentoError(
            400,
            "Please use the 2fa provider-specific endpoints to obtain a token.",
            {"active_providers": ["google"]},
        )
    raise unauthorized(
        "The account sign-in was incorrect or your account is disabled temporarily. "
        "Please wait and try again later."
    )


# ---------------------------------------------------------------- statistics and faults


class Stats:
    """Requests and array items per route template, and injected faults per kind."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.requests: Counter[str] = Counter()
        self.items: Counter[str] = Counter()
        self.faults: Counter[str] = Counter()

    def count(self, key: str, items: int) -> None:
        with self._lock:
            self.requests[key] += 1
            if items:
                self.items[key] += items

    def fault(self, kind: str) -> None:
        with self._lock:
            self.faults[kind] += 1

    def snapshot(self) -> dict[str, dict[str, int]]:
        with self._lock:
            return {"requests": dict(self.requests), "items": dict(self.items), "faults": dict(self.faults)}

    def reset(self) -> None:
        with self._lock:
            self.requests.clear()
            self.items.clear()
            self.faults.clear()


class Faults:
    """Seeded fault injection for ``/V1`` routes: ``random.Random(seed)``, one draw per request."""

    def __init__(self, rate: float, kinds: tuple[str, ...], seed: int, slow_s: float) -> None:
        self._lock = threading.Lock()
        self.rate = rate
        self.kinds = tuple(kinds)
        self.slow_s = slow_s
        self._rng = random.Random(seed)

    def configure(
        self,
        rate: float,
        kinds: tuple[str, ...] | None = None,
        seed: int | None = None,
        slow_s: float | None = None,
    ) -> None:
        unknown = set(kinds or ()) - set(FAULT_KINDS)
        if unknown:
            raise ValueError(f"unknown fault kinds: {sorted(unknown)}")
        if not 0 <= rate <= 1:
            raise ValueError("fault rate must be within 0..1")
        with self._lock:
            self.rate = rate
            if kinds is not None:
                self.kinds = tuple(kinds)
            if seed is not None:
                self._rng = random.Random(seed)
            if slow_s is not None:
                self.slow_s = slow_s

    def draw(self, method: str) -> str | None:
        with self._lock:
            if self.rate <= 0 or not self.kinds:
                return None
            if self._rng.random() >= self.rate:
                return None
            applicable = [k for k in self.kinds if k != "deadlock" or method in WRITE_METHODS]
            if not applicable:
                return None
            return self._rng.choice(applicable)

    def describe(self) -> dict[str, Any]:
        with self._lock:
            return {"rate": self.rate, "kinds": list(self.kinds), "slow_s": self.slow_s}


# ---------------------------------------------------------------- dispatch


@dataclass
class Reply:
    status: int = 200
    body: bytes = b""
    content_type: str = JSON_TYPE
    headers: dict[str, str] = field(default_factory=dict)
    drop: bool = False
    """Close the connection without answering."""
    delay_s: float = 0.0
    """Answer only after this long (a response slower than the client's timeout)."""


def _json_reply(status: int, value: Any, headers: dict[str, str] | None = None) -> Reply:
    return Reply(status=status, body=dumps(value), headers=headers or {})


def _html_reply(status: int, title: str) -> Reply:
    page = f"<html>\r\n<head><title>{title}</title></head>\r\n<body>\r\n<center><h1>{title}</h1></center>\r\n"
    page += "<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n"
    return Reply(status=status, body=page.encode(), content_type="text/html")


def count_items(body: Any) -> int:
    """Items in the request's top array: ``prices``, ``sourceItems``, ``skus`` or a bare list."""
    if isinstance(body, list):
        return len(body)
    if isinstance(body, dict):
        for value in body.values():
            if isinstance(value, list):
                return len(value)
    return 0


class App:
    """Everything behind the socket: routes, store, auth, limits, cost model, faults and statistics."""

    def __init__(self, options: SandboxOptions, store: Store) -> None:
        self.options = options
        self.store = store
        self.router = Router(ROUTES)
        self.auth = Authenticator(options)
        self.limits = Limits(options.input_limits, options.max_page_size, options.default_page_size)
        self.stats = Stats()
        self.faults = Faults(options.fault_rate, options.fault_kinds, options.seed, options.slow_s)
        self.recorder = Recorder() if options.record else None
        workers = options.effective_workers()
        self.workers = threading.BoundedSemaphore(workers) if workers else None
        self.on_write: Callable[[], None] = lambda: None
        self.unexpected_errors: list[str] = []
        """Tracebacks of handler crashes (answered as masked 500s): sandbox bugs, not Magento behaviour."""
        self._errors_lock = threading.Lock()

    # ------------------------------------------------------------ entry point

    def handle(self, method: str, raw_path: str, headers: dict[str, str], body: bytes, url: str) -> Reply:
        path, _, query_text = raw_path.partition("?")
        if path.startswith("/__sandbox"):
            return self.control(method, path, body)
        if path == "/magento_version" and method == "GET":
            # Magento_Version's storefront page: only major.minor and the edition, never the patch level
            return Reply(body=b"Magento/2.4 (Community)", content_type="text/html; charset=UTF-8")
        scoped = split_scope(path, self.store.store_codes)
        if scoped is None:
            self.stats.count(f"{method} (no route)", 0)
            return _json_reply(404, {"message": NO_ROUTE})
        scope, service_path = scoped
        match = self.router.match(method, service_path)
        try:
            parsed: Any = json.loads(body) if body.strip() else None
        except ValueError:
            parsed = ValueError
        items = count_items(parsed) if parsed is not ValueError else 0
        if match is None:
            self.stats.count(f"{method} (no route)", items)
            return _json_reply(404, {"message": NO_ROUTE})
        matched_route, params = match
        self.stats.count(matched_route.key, items)
        fault = self.faults.draw(method)
        if fault is not None:
            self.stats.fault(fault)
            early = self._early_fault(fault)
            if early is not None:
                return early
        if self.workers is not None:
            self.workers.acquire()
        try:
            cost = self.options.latency_ms + self.options.item_ms * items
            if cost > 0:
                time.sleep(cost / 1000.0)
            if fault == "500":
                return _json_reply(500, internal_error().body())
            if fault == "deadlock":
                return _json_reply(400, {"message": DEADLOCK})
            reply = self._serve(method, matched_route, params, scope, query_text, headers, body, parsed, url)
        finally:
            if self.workers is not None:
                self.workers.release()
        if fault == "drop_after":
            reply.drop = True
        elif fault == "slow":
            reply.delay_s = self.faults.slow_s
        return reply

    def _early_fault(self, fault: str) -> Reply | None:
        if fault == "429":
            return _json_reply(429, {"message": "Too Many Requests", "trace": None}, {"Retry-After": "1"})
        if fault == "502":
            return _html_reply(502, "502 Bad Gateway")
        if fault == "503":
            return _html_reply(503, "503 Service Temporarily Unavailable")
        if fault == "drop_before":
            return Reply(drop=True)
        return None

    # ------------------------------------------------------------ one service call

    def _serve(
        self,
        method: str,
        matched_route: Route,
        params: dict[str, str],
        scope: Any,
        query_text: str,
        headers: dict[str, str],
        raw_body: bytes,
        parsed: Any,
        url: str,
    ) -> Reply:
        recorder = self.recorder
        template = matched_route.template
        if recorder is not None and method in WRITE_METHODS and parsed is not ValueError:
            recorder.request(method, template, parsed if parsed is not None else {})
        query = parse_php_query(query_text)
        try:
            with self.store.lock:
                if not matched_route.anonymous:
                    self.auth.check(method, url, headers, matched_route.resource)
                body = self._decode(method, headers, raw_body, parsed)
                body = bind_request(
                    method,
                    template,
                    body,
                    self.options.array_limit if self.options.input_limits else None,
                    unknown_field_crashes=self.options.before("2.4.7"),
                )
                call = Call(
                    method, template, params, query, body, scope, self.store, self.options, self.limits
                )
                result = matched_route.handler(call)
            if method in WRITE_METHODS:
                self.on_write()
            status, payload = 200, result
            if isinstance(query.get("fields"), str) and isinstance(payload, dict | list):
                payload = apply_fields(payload, parse_fields(query["fields"]))
        except MagentoError as error:
            status, payload = error.status, error.body()
        except Exception:  # an unexpected error is masked, as Magento's ErrorProcessor does
            status, payload = 500, internal_error().body()
            with self._errors_lock:
                self.unexpected_errors.append(f"{method} {template}\n{traceback.format_exc()}")
        if recorder is not None and "fields" not in query:
            recorder.response(method, template, status, payload)
        return _json_reply(status, payload)

    def _decode(self, method: str, headers: dict[str, str], raw: bytes, parsed: Any) -> Any:
        if method not in ("POST", "PUT") or not raw.strip():
            return {}
        content_type = headers.get("Content-Type") or headers.get("content-type") or ""
        if not content_type:
            raise bad_request("Content-Type header is empty.")
        media = content_type.split(";")[0].strip().lower()
        if media not in ("application/json", "text/json"):
            raise MagentoError(
                400, "Server cannot understand Content-Type HTTP header media type %1", [media]
            )
        if parsed is ValueError:
            raise bad_request("Decoding error.")
        return parsed if isinstance(parsed, dict) else {}

    # ------------------------------------------------------------ /__sandbox

    def control(self, method: str, path: str, body: bytes) -> Reply:
        if path == "/__sandbox/stats" and method == "GET":
            return _json_reply(200, self.stats.snapshot())
        if path == "/__sandbox/reset" and method == "POST":
            self.stats.reset()
            return _json_reply(200, {"reset": True})
        if path == "/__sandbox/faults" and method == "GET":
            return _json_reply(200, self.faults.describe())
        if path == "/__sandbox/faults" and method == "POST":
            try:
                data = json.loads(body or b"{}")
                kinds = data.get("kinds")
                self.faults.configure(
                    float(data.get("rate", 0)),
                    tuple(kinds) if kinds is not None else None,
                    data.get("seed"),
                    data.get("slow_s"),
                )
            except (ValueError, TypeError, AttributeError) as error:
                return _json_reply(400, {"message": str(error)})
            return _json_reply(200, self.faults.describe())
        if path == "/__sandbox/violations" and method == "GET":
            return _json_reply(200, self.recorder.violations if self.recorder else [])
        if path == "/__sandbox/errors" and method == "GET":
            return _json_reply(200, self.unexpected_errors)
        return _json_reply(404, not_found(NO_ROUTE).body())


# ---------------------------------------------------------------- HTTP server


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True
    timeout = 300
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:
        if self.server.verbose:
            super().log_message(format, *args)

    def _read_body(self) -> bytes:
        if "chunked" in (self.headers.get("Transfer-Encoding") or "").lower():
            chunks: list[bytes] = []
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass  # trailers
                    return b"".join(chunks)
                chunks.append(self.rfile.read(size))
                self.rfile.readline()
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length > 0 else b""

    def _any(self) -> None:
        body = self._read_body()
        address = self.server.server_address
        host = self.headers.get("Host") or f"{address[0]!s}:{address[1]}"
        url = f"http://{host}{self.path}"
        headers = {k: v for k, v in self.headers.items()}
        reply = self.server.app.handle(self.command, self.path, headers, body, url)
        if reply.drop:
            self.close_connection = True
            with contextlib.suppress(OSError):
                self.connection.shutdown(socket.SHUT_RDWR)
            return
        if reply.delay_s > 0:
            time.sleep(reply.delay_s)
        head = [f"HTTP/1.1 {reply.status} {self.responses.get(reply.status, ('',))[0]}"]
        head.append(f"Content-Type: {reply.content_type}")
        head.append(f"Content-Length: {len(reply.body)}")
        for name, value in reply.headers.items():
            head.append(f"{name}: {value}")
        if self.close_connection:
            head.append("Connection: close")
        body = b"" if getattr(self, "_head_only", False) else reply.body
        data = ("\r\n".join(head) + "\r\n\r\n").encode("latin-1") + body
        try:
            self.wfile.write(data)
            self.wfile.flush()
        except OSError:
            self.close_connection = True

    def do_HEAD(self) -> None:
        self._head_only = True
        self._any()

    do_GET = do_POST = do_PUT = do_DELETE = _any

    def __getattr__(self, name: str) -> Any:
        # Any other method reaches routing and gets "Request does not match any route.", as in Magento.
        if name.startswith("do_"):
            return self._any
        raise AttributeError(name)


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128

    def __init__(self, address: tuple[str, int], app: App, verbose: bool = False) -> None:
        self.app = app
        self.verbose = verbose
        self._open: set[socket.socket] = set()
        self._open_lock = threading.Lock()
        super().__init__(address, _Handler)

    def process_request(self, request: Any, client_address: Any) -> None:
        with self._open_lock:
            self._open.add(request)
        super().process_request(request, client_address)

    def shutdown_request(self, request: Any) -> None:
        with self._open_lock:
            self._open.discard(request)
        super().shutdown_request(request)

    def close_all(self) -> None:
        with self._open_lock:
            sockets = list(self._open)
            self._open.clear()
        for sock in sockets:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
            with contextlib.suppress(OSError):
                sock.close()


def prepare_store(options: SandboxOptions, store: Store | None = None) -> Store:
    """Load or create the store and apply the configured store views and sources."""
    if store is None:
        path = options.state_file
        store = (
            Store.load(path) if path is not None and Path(path).exists() else Store(currency=options.currency)
        )
    for view in options.store_views():
        store.store_codes[view.code] = view.store_id
        store.store_names[view.store_id] = view.name
    for code in options.sources:
        if code not in store.sources:
            store.sources[code] = Source(source_code=code, name=code)
    store.reindex()
    return store
