"""What the sync remembers between runs (ARCHITECTURE section 3), independent of where it is kept."""

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any, Literal

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


class BindingStatus(StrEnum):
    """Where a binding's item stands; only SENT means Magento holds what the fingerprint describes."""

    SENT = "sent"
    PENDING = "pending"  # written ahead: a write was about to be sent, whether Magento applied it is unknown
    INCOMPLETE = "incomplete"  # an image set partly synced (a bad image is parked): retried next run
    DISABLED = "disabled"  # the product left Internet Active and was disabled
    RESYNC = "resync"  # an operator asked for this item to be sent again


type ProductWriteKind = Literal["create", "update", "enable", "disable"]


@dataclass(frozen=True, slots=True)
class PendingWrite:
    """A product write whose outcome is unknown: its kind, and every category id the product may now be
    linked to (Magento merges category links, so an unconfirmed write may have added one)."""

    kind: ProductWriteKind
    category_ids: tuple[int, ...]


@dataclass(frozen=True, slots=True)
class ProductLinks:
    """What a product binding keeps beyond its fingerprint: its type and the links our writes made."""

    type_id: Literal["simple", "configurable"]
    category_id: int | None
    category_path: str | None
    parent: str | None
    options: tuple[tuple[str, int], ...] = ()  # (attribute code, option id) the product was saved with
    pending: PendingWrite | None = None

    def linked_categories(self) -> set[int]:
        """Category ids our writes may have linked the product to: the one last confirmed and, while a
        write is pending, every one that write carried."""
        linked = set(self.pending.category_ids) if self.pending is not None else set()
        if self.category_id is not None:
            linked.add(self.category_id)
        return linked


@dataclass(frozen=True, slots=True)
class SpecialRows:
    """The rows a special price was sent as, so they can be deleted when the sale ends or moves."""

    price: Decimal
    price_from: date | None
    price_to: date | None
    store_ids: tuple[int, ...] | None  # None: kept by a release that did not record store views


@dataclass(frozen=True, slots=True)
class ImageGallery:
    """The media entries our uploads made: by content hash, and each image version's hash."""

    first: str | None  # sha256 of the image that carries the roles
    entries: Mapping[str, int]  # sha256 -> media entry id
    shas: Mapping[str, str]  # ImageMeta.version -> sha256


type BindingPayload = ProductLinks | SpecialRows | ImageGallery


@dataclass(slots=True)  # not frozen: loaded by the hundred thousand, and frozen __init__ is slow
class Binding:
    """Links a CI Office key to a Magento id and remembers the fingerprint last sent (or about to be:
    see `status`). The payload's type follows the kind: ProductLinks for products, SpecialRows for
    special prices, ImageGallery for images, none for the others. Never changed once built: a new
    state is a new binding (`dataclasses.replace`), since bindings are shared with the writer thread."""

    kind: BindingKind
    key: str
    fingerprint: str
    magento_id: int | None = None
    status: BindingStatus = BindingStatus.SENT
    payload: BindingPayload | None = None

    def in_step(self, fingerprint: str) -> bool:
        """Magento holds exactly what `fingerprint` describes."""
        return self.status is BindingStatus.SENT and self.fingerprint == fingerprint

    @property
    def product(self) -> ProductLinks | None:
        return self.payload if isinstance(self.payload, ProductLinks) else None

    @property
    def special(self) -> SpecialRows | None:
        return self.payload if isinstance(self.payload, SpecialRows) else None

    @property
    def gallery(self) -> ImageGallery | None:
        return self.payload if isinstance(self.payload, ImageGallery) else None


class Cursor(BaseModel):
    """Position in a Magento document stream, on (created_at, entity_id)."""

    model_config = ConfigDict(frozen=True)

    stream: str  # "invoices" | "creditmemos"
    created_at: datetime
    entity_id: int
    # Entity ids already imported at or after (created_at - overlap): the boundary de-duplication set.
    seen_ids: tuple[int, ...] = ()


# The streams a push parks records under (the pull parks under "invoices" and "creditmemos").
PUSH_STREAMS = frozenset({"products", "prices", "special_prices", "stock", "images"})


def direction_of_stream(stream: str) -> Direction:
    """The direction whose runs write (and retry) a parked stream: the pull's are invoices and credit
    memos, every other stream is the push's."""
    return Direction.PUSH if stream in PUSH_STREAMS else Direction.PULL


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
