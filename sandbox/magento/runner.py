"""``MagentoSandbox``: the sandbox store as a context manager, in-process and on its own port."""

from __future__ import annotations

import threading
import time
from types import TracebackType
from typing import Any

from .model import Store
from .options import SandboxOptions
from .sales import SalesHelper
from .seeding import CatalogHelper
from .server import App, _Server, prepare_store
from .store_changes import Warehouse, WebTeam


class MagentoSandbox:
    """A Magento 2.4 REST store on 127.0.0.1.

    >>> with MagentoSandbox(SandboxOptions()) as store:
    ...     store.base_url        # "http://127.0.0.1:<port>"; clients append /rest/<scope>/V1/...
    ...     store.store           # the in-memory model, for seeding and inspection
    ...     store.catalog.add_product("SKU-1", "Crew Tee", 29.95, qty=5)
    ...     store.sales.place_order([("SKU-1", 2)], "guest@example.com")
    ...     store.stats()         # same as GET /__sandbox/stats
    """

    def __init__(
        self, options: SandboxOptions | None = None, store: Store | None = None, verbose: bool = False
    ):
        self.options = options or SandboxOptions()
        self.store = prepare_store(self.options, store)
        self.app = App(self.options, self.store)
        self.app.on_write = self._mark_dirty
        self.sales = SalesHelper(self.store, on_write=self._mark_dirty)
        self.catalog = CatalogHelper(self.store, self.options, on_write=self._mark_dirty)
        self.web_team = WebTeam(self.catalog)  # the store changing behind the sync (store_changes)
        self.warehouse = Warehouse(self.catalog)
        self._verbose = verbose
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None
        self._dirty = threading.Event()
        self._stopping = threading.Event()
        self._saver: threading.Thread | None = None

    # ------------------------------------------------------------ lifecycle

    def start(self) -> MagentoSandbox:
        if self._server is not None:
            return self
        self._server = _Server((self.options.host, self.options.port), self.app, verbose=self._verbose)
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.05},
            name="magento-sandbox",
            daemon=True,
        )
        self._thread.start()
        if self.options.state_file is not None:
            self._saver = threading.Thread(target=self._save_loop, name="magento-sandbox-state", daemon=True)
            self._saver.start()
        return self

    def stop(self) -> None:
        server = self._server
        if server is None:
            return
        server.shutdown()
        server.close_all()
        server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._server = None
        self._stopping.set()
        self._dirty.set()
        if self._saver is not None:
            self._saver.join(timeout=10)
        self.save_state()

    def __enter__(self) -> MagentoSandbox:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    # ------------------------------------------------------------ addresses

    @property
    def port(self) -> int:
        if self._server is None:
            raise RuntimeError("sandbox not started")
        return int(self._server.server_address[1])

    @property
    def base_url(self) -> str:
        return f"http://{self.options.host}:{self.port}"

    def rest_url(self, path: str, scope: str = "all") -> str:
        """``rest_url("/V1/products")`` -> ``http://127.0.0.1:<port>/rest/all/V1/products``."""
        prefix = "/rest" if scope in ("", None) else f"/rest/{scope}"
        return f"{self.base_url}{prefix}{path}"

    # ------------------------------------------------------------ control

    def stats(self) -> dict[str, dict[str, int]]:
        return self.app.stats.snapshot()

    def reset_stats(self) -> None:
        self.app.stats.reset()

    def set_faults(
        self,
        rate: float,
        kinds: tuple[str, ...] | list[str] | None = None,
        *,
        seed: int | None = None,
        slow_s: float | None = None,
    ) -> None:
        """Change the fault rate (0..1) and, optionally, restrict the kinds injected."""
        self.app.faults.configure(rate, tuple(kinds) if kinds is not None else None, seed, slow_s)

    @property
    def unexpected_errors(self) -> list[str]:
        """Tracebacks of sandbox crashes (answered as masked 500s); tests should expect none."""
        return self.app.unexpected_errors

    @property
    def schema_violations(self) -> list[dict[str, Any]]:
        """Schema violations seen while ``record=True`` (requests received and responses given)."""
        return self.app.recorder.violations if self.app.recorder is not None else []

    # ------------------------------------------------------------ persistence

    def _mark_dirty(self) -> None:
        self._dirty.set()

    def _save_loop(self) -> None:
        pause = 0.5
        while not self._stopping.is_set():
            self._dirty.wait()
            if self._stopping.is_set():
                break
            # Debounce a burst of writes; a big store (slow to dump under the lock) is saved less often.
            self._stopping.wait(pause)
            self._dirty.clear()
            started = time.monotonic()
            self.save_state()
            pause = max(0.5, 5 * (time.monotonic() - started))

    def save_state(self) -> None:
        if self.options.state_file is not None:
            self.store.save(self.options.state_file)
