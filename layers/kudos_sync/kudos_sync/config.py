"""A tenant's settings: everything one retailer needs, read from its secret `kudos-sync/tenants/<id>`.

A bad secret fails with a ConfigurationError that names the tenant and each bad field, and never
echoes a value (pydantic's own messages include the input, so they are rebuilt here without it).
"""

import json
from decimal import Decimal
from enum import StrEnum
from typing import Annotated, Any, Literal
from urllib.parse import urlsplit

from pydantic import (
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    SecretStr,
    ValidationError,
    field_validator,
    model_validator,
)

from kudos_sync.domain.errors import ConfigurationError
from kudos_sync.domain.ids import TenantId, validate_tenant_id
from kudos_sync.loopback import is_loopback
from kudos_sync.transport_policy import transport_problem, url_parts

SECRET_PREFIX = "kudos-sync/tenants/"


def secret_name(tenant: str) -> str:
    """The Secrets Manager name holding a tenant's settings."""
    return SECRET_PREFIX + validate_tenant_id(tenant)


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class OAuthAuth(_Strict):
    """A Magento integration's four OAuth 1.0a credentials (signed with HMAC-SHA256)."""

    kind: Literal["oauth"] = "oauth"
    consumer_key: SecretStr
    consumer_secret: SecretStr
    access_token: SecretStr
    access_token_secret: SecretStr


class BearerAuth(_Strict):
    """An integration access token used as a bearer token (needs the store's opt-in on 2.4.4+)."""

    kind: Literal["bearer"] = "bearer"
    token: SecretStr


class MagentoSettings(_Strict):
    base_url: str  # https://shop.example.com (the client adds /rest/<scope>/V1)
    store_code: str = "default"
    store_ids: tuple[int, ...] = (0,)  # store ids prices are written for; 0 = global
    website_ids: tuple[int, ...] = (1,)
    root_category_id: int = 2
    colour_attribute: str = "color"
    size_attribute: str = "size"
    attribute_set_id: int = 4
    auth: Annotated[OAuthAuth | BearerAuth, Field(discriminator="kind")]
    verify_tls: bool = True
    ca_bundle_pem: str | None = None  # a private CA's certificate(s), PEM
    timeout_seconds: float = Field(default=30.0, gt=0, le=300)

    @field_validator("base_url")
    @classmethod
    def _https_unless_loopback(cls, value: str) -> str:
        parts = urlsplit(value)
        if parts.scheme not in ("https", "http") or not parts.hostname:
            raise ValueError("must be an absolute http(s) URL")
        # Credentials in the URL would be sent as Basic auth and end up in logs with the URL.
        if "@" in parts.netloc:
            raise ValueError("must not carry credentials (put them in magento.auth)")
        if parts.scheme == "http" and not is_loopback(parts.hostname):
            raise ValueError("must use https (plain http is allowed on loopback only)")
        return value.rstrip("/")

    @model_validator(mode="after")
    def _verify_tls_unless_loopback(self) -> "MagentoSettings":
        host = urlsplit(self.base_url).hostname or ""
        if not self.verify_tls and not is_loopback(host):
            raise ValueError(
                "verify_tls: false is allowed on loopback only; for a private CA set ca_bundle_pem"
            )
        return self


class CiOfficeSettings(_Strict):
    """CI Office's SQL Server, as a SQLAlchemy URL (`mssql+pymssql://user:pass@host:1433/db`).

    TLS is required and the server certificate validated (transport_policy.py, ci_office/transport.py);
    options that weaken it are refused unless the host is loopback."""

    url: SecretStr
    encrypt: bool = True  # TLS to SQL Server; false is refused off loopback
    ca_bundle_pem: str | None = None  # the CA that signed the server's certificate, PEM (private CA)
    web_branch: str = "WEB"  # the branch web sales are booked to
    login_timeout_seconds: int = Field(default=15, gt=0, le=120)
    # How long one statement may wait for a lock a till holds (SET LOCK_TIMEOUT / lock_timeout) and
    # how long any statement may run (pymssql `timeout` / statement_timeout): past either, the run
    # stops with a transient error and the next run retries, instead of waiting until Lambda dies.
    lock_timeout_seconds: int = Field(default=10, gt=0, le=300)
    statement_timeout_seconds: int = Field(default=120, gt=0, le=900)

    @model_validator(mode="after")
    def _lock_wait_fits_in_a_statement(self) -> "CiOfficeSettings":
        if self.lock_timeout_seconds >= self.statement_timeout_seconds:
            raise ValueError("lock_timeout_seconds must be below statement_timeout_seconds")
        return self

    @model_validator(mode="after")
    def _tls_unless_loopback(self) -> "CiOfficeSettings":
        try:
            backend, host, query = url_parts(self.url.get_secret_value())
        except ValueError:
            return self  # reported, without the URL, when the engine is built
        if backend == "mssql":
            problem = transport_problem(host, query, self.encrypt)
            if problem:
                raise ValueError(problem)
        return self


class Ownership(StrEnum):
    ALWAYS = "always"  # CI Office wins every run
    ON_CREATE = "on_create"  # set when the product is created, then the web team owns it
    NEVER = "never"


DEFAULT_OWNERSHIP: dict[str, Ownership] = {
    "name": Ownership.ON_CREATE,
    "description": Ownership.ON_CREATE,
    "url_key": Ownership.ON_CREATE,
    "images": Ownership.ON_CREATE,
    "price": Ownership.ALWAYS,
    "special_price": Ownership.ALWAYS,
    "stock": Ownership.ALWAYS,
    "status": Ownership.ALWAYS,
    "categories": Ownership.ALWAYS,
}


class GuestPolicy(StrEnum):
    PER_EMAIL = "per_email"  # one CI customer per guest e-mail
    CASH_SALE = "cash_sale"  # every guest sale goes to one cash-sale customer


class SyncSettings(_Strict):
    batch_size: int = Field(default=100, ge=1, le=5000)  # items per array request
    page_size: int = Field(default=100, ge=1, le=1000)  # documents per search page
    concurrency: int = Field(default=4, ge=1, le=32)  # Magento requests in flight
    overlap_minutes: int = Field(default=10, ge=0, le=1440)  # pull re-read window
    # Time kept back to checkpoint: a chunk of 100 product saves can take ~25 s on a real store.
    deadline_margin_seconds: int = Field(default=60, ge=5, le=600)


class ReconcileSettings(_Strict):
    """The push's own reading of what Magento holds (drift), on a schedule per kind. Each run spends at
    most `max_requests` reads and `max_seconds` on it, then the scan resumes where it stopped next run."""

    enabled: bool = True
    stock_every_minutes: int = Field(default=60, ge=5, le=10080)  # MSI deducts stock at every shipment
    others_every_minutes: int = Field(default=1440, ge=5, le=10080)  # prices, status, categories, links
    max_requests: int = Field(default=200, ge=1, le=100_000)  # Magento reads per run, every kind together
    max_seconds: int = Field(default=120, ge=1, le=840)  # inside a 900-s invocation, with its margin

    @model_validator(mode="after")
    def _stock_at_least_as_often(self) -> "ReconcileSettings":
        if self.stock_every_minutes > self.others_every_minutes:
            raise ValueError("stock_every_minutes must not exceed others_every_minutes")
        return self


class TenantConfig(_Strict):
    tenant: TenantId
    magento: MagentoSettings
    ci_office: CiOfficeSettings
    branch_sources: dict[str, str] = Field(min_length=1)  # CI branch code -> MSI source code
    sync: SyncSettings = SyncSettings()
    reconcile: ReconcileSettings = ReconcileSettings()
    field_ownership: dict[str, Ownership] = Field(default_factory=lambda: dict(DEFAULT_OWNERSHIP))
    payment_mapping: dict[str, str] = Field(default_factory=dict)  # Magento method -> CI tender code
    guest_policy: GuestPolicy = GuestPolicy.PER_EMAIL
    cash_sale_customer_code: str | None = None
    safety_stock: Decimal = Field(default=Decimal("0"), ge=0)
    base_currency: str = Field(default="NZD", min_length=3, max_length=3)
    accepted_currencies: tuple[str, ...] = ()  # further currencies the tenant books as-is
    prices_include_tax: bool = True
    shipping_charge_code: str = "FREIGHT"
    adjustment_charge_code: str = "ADJUST"
    credit_note_returns_stock: bool = True
    write_back_comments: bool = False
    # Invoices and credit memos created before this (UTC) are never pulled: set it to the go-live time so
    # a new tenant does not import years of history. None pulls everything Magento has.
    pull_from: AwareDatetime | None = None

    @field_validator("field_ownership")
    @classmethod
    def _known_fields(cls, value: dict[str, Ownership]) -> dict[str, Ownership]:
        unknown = sorted(set(value) - set(DEFAULT_OWNERSHIP))
        if unknown:
            raise ValueError(f"unknown field(s) {unknown}; known: {sorted(DEFAULT_OWNERSHIP)}")
        return {**DEFAULT_OWNERSHIP, **value}

    @model_validator(mode="after")
    def _cash_sale_needs_customer(self) -> "TenantConfig":
        if self.guest_policy is GuestPolicy.CASH_SALE and not self.cash_sale_customer_code:
            raise ValueError("guest_policy 'cash_sale' needs cash_sale_customer_code")
        return self

    def owns(self, field: str) -> Ownership:
        return self.field_ownership.get(field, Ownership.ALWAYS)

    def source_for(self, branch: str) -> str | None:
        return self.branch_sources.get(branch)

    @classmethod
    def from_secret(cls, tenant: str, secret: str | bytes | dict[str, Any]) -> "TenantConfig":
        """Parse a tenant's secret; errors name the tenant and the fields, never the values."""
        tenant = validate_tenant_id(tenant)
        if isinstance(secret, dict):
            payload = secret
        else:
            try:
                payload = json.loads(secret)
            except (ValueError, TypeError):
                raise ConfigurationError(
                    f"tenant {tenant}: secret {secret_name(tenant)} is not JSON"
                ) from None
        if not isinstance(payload, dict):
            raise ConfigurationError(f"tenant {tenant}: secret {secret_name(tenant)} must be a JSON object")
        stated = payload.get("tenant", tenant)
        if stated != tenant:
            raise ConfigurationError(f"tenant {tenant}: secret names another tenant in field 'tenant'")
        try:
            return cls.model_validate({**payload, "tenant": tenant})
        except ValidationError as exc:
            problems = "; ".join(
                f"{'.'.join(str(p) for p in err['loc']) or '<root>'}: {err['msg']}" for err in exc.errors()
            )
            raise ConfigurationError(
                f"tenant {tenant}: bad settings in {secret_name(tenant)}: {problems}"
            ) from None
