"""Builders for Magento client tests: settings, a client that never really sleeps, the stub server."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from kudos_sync.config import BearerAuth, MagentoSettings, OAuthAuth, SyncSettings
from kudos_sync.magento.client import MagentoClient, RetryPolicy

from tests.magento.stub import StubServer

CONSUMER_KEY = "demo-consumer-key"
CONSUMER_SECRET = "demo-consumer-secret"
ACCESS_TOKEN = "demo-access-token"
TOKEN_SECRET = "demo-token-secret"


def oauth_auth() -> OAuthAuth:
    return OAuthAuth(
        consumer_key=CONSUMER_KEY,
        consumer_secret=CONSUMER_SECRET,
        access_token=ACCESS_TOKEN,
        access_token_secret=TOKEN_SECRET,
    )


def bearer_auth(token: str = "integration-token-secret") -> BearerAuth:
    return BearerAuth(token=token)


def magento_settings(base_url: str = "http://127.0.0.1:8080", **overrides: Any) -> MagentoSettings:
    values: dict[str, Any] = {"base_url": base_url, "auth": oauth_auth(), "timeout_seconds": 5.0}
    values.update(overrides)
    return MagentoSettings(**values)


class Sleeps:
    """Records requested sleeps instead of sleeping."""

    def __init__(self) -> None:
        self.calls: list[float] = []

    def __call__(self, seconds: float) -> None:
        self.calls.append(seconds)


def make_client(
    base_url: str,
    *,
    sleeps: Sleeps | None = None,
    concurrency: int = 4,
    batch_size: int = 100,
    page_size: int = 100,
    retry: RetryPolicy | None = None,
    **settings: Any,
) -> MagentoClient:
    return MagentoClient(
        magento_settings(base_url, **settings),
        SyncSettings(concurrency=concurrency, batch_size=batch_size, page_size=page_size),
        sleep=sleeps if sleeps is not None else Sleeps(),
        retry=retry,
    )


@pytest.fixture
def stub() -> Iterator[StubServer]:
    with StubServer() as server:
        yield server
