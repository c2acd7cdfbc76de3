"""Configuration of one sandbox store: credentials, input limits, cost model and faults."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

FAULT_KINDS: tuple[str, ...] = (
    "429",
    "500",
    "502",
    "503",
    "deadlock",
    "slow",
    "drop_before",
    "drop_after",
)
"""Injected failures: rate limit, masked internal error, proxy errors, a deadlock 400 raised before the write,
a response slower than a client timeout (the write is applied), and a connection closed without a response
before or after the write is applied."""


MAGENTO_VERSIONS: tuple[str, ...] = ("2.4.2", "2.4.3", "2.4.4", "2.4.5", "2.4.6", "2.4.7")
"""The releases the sandbox can behave as (``--magento-version``); the product supports this range."""


def version_key(version: str) -> tuple[int, ...]:
    return tuple(int(part) for part in version.split("-")[0].split("."))


@dataclass(frozen=True)
class OAuthCredentials:
    """The four secrets of a Magento integration (System > Extensions > Integrations)."""

    consumer_key: str
    consumer_secret: str
    access_token: str
    token_secret: str

    @classmethod
    def parse(cls, text: str) -> OAuthCredentials:
        """Parse ``CONSUMER_KEY:CONSUMER_SECRET:ACCESS_TOKEN:TOKEN_SECRET``."""
        parts = text.split(":")
        if len(parts) != 4 or not all(parts):
            raise ValueError("expected CONSUMER_KEY:CONSUMER_SECRET:ACCESS_TOKEN:TOKEN_SECRET")
        return cls(*parts)

    def __str__(self) -> str:
        return f"{self.consumer_key}:{self.consumer_secret}:{self.access_token}:{self.token_secret}"


DEMO_OAUTH = OAuthCredentials(
    consumer_key="demo-consumer-key",
    consumer_secret="demo-consumer-secret",
    access_token="demo-access-token",
    token_secret="demo-token-secret",
)


@dataclass(frozen=True)
class StoreView:
    """A store view of the single website (id 1)."""

    store_id: int
    code: str
    name: str


@dataclass
class SandboxOptions:
    """Everything that shapes one sandbox store. CLI flags map one to one onto these fields."""

    host: str = "127.0.0.1"
    port: int = 0
    oauth: OAuthCredentials | None = DEMO_OAUTH
    bearer_token: str | None = None
    """An extra token accepted as ``Authorization: Bearer``; the integration access token always is."""
    allow_bearer: bool = False
    """``oauth/consumer/enable_integration_as_bearer`` switched on (2.4.4+; before 2.4.4 always allowed)."""
    magento_version: str = "2.4.7"
    """The release to behave as where releases differ for us (see ``MAGENTO_VERSIONS``)."""
    admin_username: str = "admin"
    admin_password: str = "admin123"

    input_limits: bool = False
    """``webapi/validation/input_limit_enabled``."""
    array_limit: int = 20
    max_page_size: int = 300
    default_page_size: int = 20

    latency_ms: float = 0.0
    item_ms: float = 0.0
    workers: int | None = None
    """Requests processed at once; the rest queue. None: 4 when a cost model is on, else unbounded."""

    fault_rate: float = 0.0
    fault_kinds: tuple[str, ...] = FAULT_KINDS
    seed: int = 0
    slow_s: float = 35.0

    state_file: Path | None = None
    record: bool = False
    """Validate every request and response against the 2.4.7 schema; see ``store.schema_violations``."""

    extra_store_views: tuple[StoreView, ...] = ()
    sources: tuple[str, ...] = ()
    """Extra MSI source codes seeded beside ``default``."""
    strict_source_items: bool = False
    """Also reject unknown SKUs and negative quantities in ``POST /V1/inventory/source-items``. Magento 2.4.7
    accepts both (MSI validates only emptiness, whitespace, numeric quantity and status); off by default."""
    max_timestamp_age_s: int = 600
    """OAuth timestamps further than this from now are refused (Magento refuses only future ones)."""
    currency: str = "NZD"

    def __post_init__(self) -> None:
        if self.magento_version not in MAGENTO_VERSIONS:
            raise ValueError(f"magento_version must be one of {', '.join(MAGENTO_VERSIONS)}")

    def before(self, version: str) -> bool:
        """Whether the emulated release is older than ``version``."""
        return version_key(self.magento_version) < version_key(version)

    @property
    def bearer_allowed(self) -> bool:
        """Integration access tokens work as bearer tokens: always before 2.4.4, by opt-in since."""
        return self.allow_bearer or self.before("2.4.4")

    @property
    def signature_methods(self) -> tuple[str, ...]:
        """OAuth signature methods accepted: HMAC-SHA1 was dropped in 2.4.4."""
        return ("HMAC-SHA1", "HMAC-SHA256") if self.before("2.4.4") else ("HMAC-SHA256",)

    def effective_workers(self) -> int | None:
        if self.workers is not None:
            return self.workers if self.workers > 0 else None
        if self.latency_ms > 0 or self.item_ms > 0:
            return 4
        return None

    def store_views(self) -> tuple[StoreView, ...]:
        return (StoreView(1, "default", "Default Store View"), *self.extra_store_views)
