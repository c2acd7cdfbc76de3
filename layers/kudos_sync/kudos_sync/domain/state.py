"""What the sync remembers between runs (ARCHITECTURE section 3), independent of where it is kept."""

from datetime import datetime
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from kudos_sync.domain.ids import RunId, TenantId


class Direction(StrEnum):
    PUSH = "push"  # CI Office -> Magento
    PULL = "pull"  # Magento -> CI Office


class BindingKind(StrEnum):
    """Concerns fingerprinted separately, so only what changed is sent."""

    PRODUCT = "product"
    PRICE = "price"
    SPECIAL_PRICE = "special"
    STOCK = "stock"  # key: "<sku>@<source_code>"
    IMAGES = "images"  # key: parent/simple sku of a style
    CATEGORY = "category"  # key: category path, magento_id: category id
    OPTION = "option"  # key: "<attribute_code>:<label>", magento_id: option id
    CUSTOMER = "customer"  # pull: key: Magento customer id or guest e-mail


class Binding(BaseModel):
    """Links a CI Office key to a Magento id and remembers the fingerprint last sent."""

    model_config = ConfigDict(frozen=True)

    kind: BindingKind
    key: str
    fingerprint: str
    magento_id: int | None = None
    extra: dict[str, Any] = Field(default_factory=dict)  # e.g. media entry ids by image version


class Cursor(BaseModel):
    """Position in a Magento document stream, on (created_at, entity_id)."""

    model_config = ConfigDict(frozen=True)

    stream: str  # "invoices" | "creditmemos"
    created_at: datetime
    entity_id: int
    # Entity ids already imported at or after (created_at - overlap): the boundary de-duplication set.
    seen_ids: tuple[int, ...] = ()


class ParkedRecord(BaseModel):
    """A record that could not be synced, kept with its payload and reason until retried or dropped."""

    stream: str  # "products" | "prices" | "special_prices" | "stock" | "images" | "invoices" | "creditmemos"
    key: str
    reason: str
    field: str = ""
    payload: dict[str, Any] = Field(default_factory=dict)
    attempts: int = 1
    first_seen: datetime
    last_seen: datetime


class RunStatus(StrEnum):
    SUCCEEDED = "succeeded"
    PARTIAL = "partial"  # deadline reached: checkpointed, the next run continues
    FAILED = "failed"
    SKIPPED = "skipped"  # lease held by another run


class RunRecord(BaseModel):
    """What one run did; kept with a TTL for `kudos-sync status`."""

    tenant: TenantId
    direction: Direction
    run_id: RunId
    started_at: datetime
    finished_at: datetime | None = None
    status: RunStatus
    counts: dict[str, int] = Field(default_factory=dict)  # e.g. {"stock_sent": 12, "parked": 1}
    requests: dict[str, int] = Field(default_factory=dict)  # Magento requests per endpoint
    items: dict[str, int] = Field(default_factory=dict)  # Magento array items per endpoint
    seconds: dict[str, float] = Field(default_factory=dict)  # per step of the run, e.g. {"products": 41.2}
    error: str | None = None
