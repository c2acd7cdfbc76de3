"""Fixtures for the sandbox's own tests; the reusable ones live in ``sandbox.magento.testing``."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from typing import Any

import pytest

from sandbox.magento import MagentoSandbox, SandboxOptions
from sandbox.magento.testing import SandboxClient, magento_sandbox, sandbox_client

__all__ = ["magento_sandbox", "sandbox_client"]

StoreFactory = Callable[..., AbstractContextManager[tuple[MagentoSandbox, SandboxClient]]]


@pytest.fixture
def store_with() -> StoreFactory:
    """``with store_with(input_limits=True) as (store, client): ...`` for a sandbox with other options."""

    @contextmanager
    def make(**options: Any) -> Iterator[tuple[MagentoSandbox, SandboxClient]]:
        with MagentoSandbox(SandboxOptions(**options)) as store:
            client = SandboxClient(store.base_url, store.options.oauth)
            try:
                yield store, client
            finally:
                client.close()
            assert store.unexpected_errors == [], store.unexpected_errors[0]

    return make
