"""The ports the sync core talks to. Adapters implement them; only handlers and the CLI build adapters.

Every adapter instance is bound to one tenant when it is built, so the core cannot reach another
tenant's state, images or credentials by passing the wrong id.
"""

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any, Literal, Protocol

from pydantic import BaseModel, ConfigDict

from kudos_sync.domain.catalogue import ImageMeta, StockOnHand, Style
from kudos_sync.domain.errors import RecordError
from kudos_sync.domain.ids import Sku, SourceCode
from kudos_sync.domain.ledger import ImportOutcome, LedgerDocument
from kudos_sync.domain.sales import MagentoDocument, MagentoOrder
from kudos_sync.domain.state import Binding, BindingKind, Cursor, ParkedRecord, RunRecord

# ---------------------------------------------------------------- time


class Clock(Protocol):
    def now(self) -> datetime:
        """Timezone-aware UTC now."""
        ...


class Deadline(Protocol):
    def remaining_seconds(self) -> float:
        """Seconds left before the run must checkpoint and end as partial."""
        ...


# ---------------------------------------------------------------- CI Office


class CatalogueSource(Protocol):
    """CI Office, read side (push). Set-based reads of the current Internet-Active catalogue."""

    def read_styles(self) -> Iterator[Style]:
        """Every Internet-Active style with its variants, ordered by style code."""
        ...

    def read_stock(self, branches: Sequence[str]) -> Iterator[StockOnHand]:
        """Stock on hand per SKU of Internet-Active styles, for the given branches."""
        ...

    def read_image_meta(self) -> Iterator[ImageMeta]:
        """Image metadata (no bytes) of Internet-Active styles, ordered by style and sequence."""
        ...

    def read_image(self, image_id: int) -> bytes:
        """The bytes of one image."""
        ...


class Ledger(Protocol):
    """CI Office, write side (pull)."""

    def known_skus(self, skus: Sequence[str]) -> set[str]:
        """Which of these SKUs exist in CI Office."""
        ...

    def import_document(self, document: LedgerDocument) -> ImportOutcome:
        """Write the document in one transaction (customer, header, lines, payment or refund, stock,
        Magento entity id under a unique constraint). A replay returns ALREADY_IMPORTED.
        Raises RecordError (e.g. unknown SKU) or TransientError (deadlock, connection lost)."""
        ...


# ---------------------------------------------------------------- Magento


class ProductWrite(BaseModel):
    """One product save. A field left None is not written (Magento keeps what it holds); the adapter
    turns the rest into Magento's product object (status codes, attribute set, custom attributes)."""

    model_config = ConfigDict(frozen=True)

    sku: Sku
    type_id: Literal["simple", "configurable"]
    enabled: bool | None = None
    visibility: int | None = None  # Magento's visibility: 1 not visible alone, 4 catalogue and search
    name: str | None = None
    price: Decimal | None = None  # sent with a new simple only: prices go by the price endpoints
    url_key: str | None = None
    description: str | None = None
    options: tuple[tuple[str, int], ...] = ()  # (attribute code, option id): the colour and size
    category_ids: tuple[int, ...] | None = None  # None: leave category links alone
    # Configurable parents: attribute code -> option ids used by the children, and the children.
    configurable_options: dict[str, tuple[int, ...]] | None = None
    child_skus: tuple[Sku, ...] | None = None


class WriteOutcome(BaseModel):
    model_config = ConfigDict(frozen=True)

    key: str
    magento_id: int | None = None
    error: str | None = None  # filled-in Magento message when the record was rejected
    field: str = ""


class PriceRow(BaseModel):
    model_config = ConfigDict(frozen=True)

    sku: Sku
    price: Decimal
    store_id: int = 0
    price_from: date | None = None
    price_to: date | None = None


class SourceItemRow(BaseModel):
    model_config = ConfigDict(frozen=True)

    sku: Sku
    source_code: SourceCode
    quantity: Decimal
    in_stock: bool


class RowFailure(BaseModel):
    """A row Magento refused, with Magento's message filled in."""

    model_config = ConfigDict(frozen=True)

    sku: Sku
    message: str
    source_code: str | None = None


class MediaUpload(BaseModel):
    """One image for a product's gallery. The adapter marks the entry with its content hash (so a
    re-run recognises an entry it already made) and gives the main image the image roles."""

    model_config = ConfigDict(frozen=True)

    sha256: str
    title: str  # "<style> <sequence>": what a person sees in the admin
    position: int
    main: bool  # the product's main image (base, small and thumbnail)
    content_type: str
    file_name: str
    data: bytes


class MediaEntry(BaseModel):
    model_config = ConfigDict(frozen=True)

    entry_id: int
    sha256: str | None  # the content hash of an entry our uploads made; None for anyone else's
    position: int


class CategoryNode(BaseModel):
    model_config = ConfigDict(frozen=True)

    category_id: int
    parent_id: int
    name: str


class ProductState(BaseModel):
    """What Magento holds of a product's CI-owned fields (a drift scan reads these, nothing else)."""

    model_config = ConfigDict(frozen=True)

    sku: Sku
    magento_id: int
    type_id: str
    enabled: bool
    category_ids: tuple[int, ...] = ()
    child_ids: tuple[int, ...] = ()  # a configurable's linked children


class StoreProduct(BaseModel):
    """A product as the store holds it, read before adopting it: only what adoption compares."""

    model_config = ConfigDict(frozen=True)

    sku: str  # as Magento spells it (its SKU lookup ignores case and surrounding blanks)
    magento_id: int
    type_id: str  # any Magento type: simple, configurable, bundle, virtual, ...
    url_key: str | None = None
    category_ids: tuple[int, ...] = ()
    child_ids: tuple[int, ...] = ()  # a configurable's linked children
    configurable_attributes: tuple[str, ...] = ()  # a configurable's option attributes (ids as text)
    media_entries: int = 0  # entries in its gallery


class MagentoCatalog(Protocol):
    """Magento, catalogue side (push). Writes go to the global scope. Implementations bound the
    requests in flight, retry transient failures and split rejected all-or-nothing batches."""

    def list_attribute_options(self, attribute_code: str) -> dict[str, int]: ...

    def add_attribute_option(self, attribute_code: str, label: str) -> int: ...

    def list_categories(self, root_id: int) -> list[CategoryNode]: ...

    def create_category(self, parent_id: int, name: str) -> int: ...

    def find_products(self, skus: Sequence[str]) -> dict[str, int]:
        """Magento ids of the SKUs that already exist."""
        ...

    def read_products(self, skus: Sequence[str]) -> dict[str, StoreProduct | RecordError]:
        """What the store holds for these SKUs, keyed by the SKU as asked, in batched searches
        (`sku in (...)`, fields limited). Matched as Magento matches SKUs: case-insensitive, trimmed.
        A product that cannot be read (a field missing) is a RecordError naming it; absent SKUs are absent."""
        ...

    def find_url_keys(self, url_keys: Sequence[str]) -> dict[str, str]:
        """url key -> the SKU of the product holding it, for those already taken (batched searches)."""
        ...

    def count_products(self) -> int:
        """How many products the store holds (one search, no items)."""
        ...

    def save_products(
        self, products: Sequence[ProductWrite], known_ids: Mapping[str, int] | None = None
    ) -> list[WriteOutcome]:
        """One outcome per product, in order; `known_ids`: Magento ids of children the caller holds."""

    def unlink_child(self, parent_sku: str, child_sku: str) -> None: ...

    def unlink_category(self, category_id: int, sku: str) -> None: ...

    def save_base_prices(self, rows: Sequence[PriceRow]) -> list[RowFailure]: ...

    def save_special_prices(self, rows: Sequence[PriceRow]) -> list[RowFailure]: ...

    def delete_special_prices(self, rows: Sequence[PriceRow]) -> list[RowFailure]: ...

    def save_source_items(self, rows: Sequence[SourceItemRow]) -> list[RowFailure]: ...

    def list_media(self, sku: str) -> list[MediaEntry]: ...

    # Reads of what the store holds now, in batches (a drift scan). SKUs Magento does not have are
    # absent from the answer; SKUs come back as asked (Magento matches them case-insensitively).

    def read_product_states(self, skus: Sequence[str]) -> dict[str, ProductState]: ...

    def read_base_prices(self, skus: Sequence[str]) -> list[PriceRow]: ...

    def read_special_prices(self, skus: Sequence[str]) -> list[PriceRow]: ...

    def read_source_items(self, skus: Sequence[str]) -> list[SourceItemRow]: ...

    def add_media(self, sku: str, upload: MediaUpload) -> int: ...

    def delete_media(self, sku: str, entry_id: int) -> None: ...


@dataclass(frozen=True, slots=True)
class DocumentRef:
    """Where a sales document sits in its stream, as far as its own fields tell (a broken document
    may lack an entity id or a readable created_at)."""

    key: str  # what it is parked under: the entity id, or a digest of an unidentifiable document
    label: str  # "invoice 000000042 (entity 17)", however broken the document is
    entity_id: int | None
    created_at: datetime | None


@dataclass(frozen=True, slots=True)
class ReadDocument:
    """One invoice or credit memo as the adapter read it."""

    ref: DocumentRef
    document: MagentoDocument | RecordError  # parsed, or why it cannot be
    # Kept with a parked record and handed back to `reread_parked`: the core does not look inside.
    payload: dict[str, Any]


@dataclass(frozen=True, slots=True)
class DocumentPage:
    documents: list[ReadDocument]
    total_count: int


class MagentoSales(Protocol):
    """Magento, sales side (pull). Documents arrive parsed into domain types (`domain.sales`)."""

    def search_documents(
        self, stream: Literal["invoices", "creditmemos"], created_from: datetime, page: int, page_size: int
    ) -> DocumentPage:
        """Documents with created_at >= created_from, ascending by (created_at, entity_id)."""
        ...

    def reread_parked(
        self, stream: Literal["invoices", "creditmemos"], payload: dict[str, Any]
    ) -> ReadDocument:
        """A document again from the payload kept with its parked record (no request: Magento
        documents do not change once created)."""
        ...

    def get_orders(self, order_ids: Sequence[int]) -> dict[int, MagentoOrder | RecordError]:
        """Orders by entity id (or the RecordError naming what is wrong with one), fetched in batches
        (entity_id in ...), never one by one. Orders Magento does not return are absent."""
        ...

    def add_order_comment(self, order_id: int, comment: str) -> None: ...


# ---------------------------------------------------------------- AWS


class LeaseHolder(BaseModel):
    """Who holds (or last held) the lease of a tenant and direction, and until when."""

    model_config = ConfigDict(frozen=True)

    holder: str
    until: datetime


class StateStore(Protocol):
    """Leases, bindings, cursors, parked records and run records of one tenant.

    Binding writes are conditional on what was read: a writer that finds the state changed under it
    (it lost its lease to another) raises ConcurrentWriteError rather than overwrite."""

    def acquire_lease(self, direction: str, holder: str, now: datetime, until: datetime) -> bool:
        """Take the lease if free or expired; False when another holder has it."""
        ...

    def current_lease(self, direction: str) -> LeaseHolder | None:
        """The lease as stored (it may have expired); None when nobody holds it."""
        ...

    def renew_lease(self, direction: str, holder: str, until: datetime) -> bool:
        """Extend the holder's lease; False when the holder no longer has it."""
        ...

    def release_lease(self, direction: str, holder: str) -> None: ...

    def load_bindings(self, kind: BindingKind) -> dict[str, Binding]: ...

    def save_bindings(self, bindings: Sequence[Binding]) -> None: ...

    def delete_bindings(self, kind: BindingKind, keys: Sequence[str] | None = None) -> int:
        """Forget bindings (all of a kind when keys is None); returns how many went."""
        ...

    def get_cursor(self, stream: str) -> Cursor | None: ...

    def save_cursor(self, cursor: Cursor) -> None: ...

    def park(self, record: ParkedRecord) -> None:
        """Upsert: a record parked again keeps first_seen and counts one more attempt."""
        ...

    def unpark(self, stream: str, key: str) -> None: ...

    def list_parked(self, stream: str | None = None) -> list[ParkedRecord]: ...

    def save_run(self, run: RunRecord) -> None: ...

    def list_runs(self, direction: str | None = None, limit: int = 20) -> list[RunRecord]: ...


class ImageStage(Protocol):
    """Content-addressed image staging (S3 under tenants/<tenant>/images/<sha256>.<ext>)."""

    def stage(self, sha256: str, extension: str, data: bytes) -> bool:
        """Store unless already there (HEAD before PUT); True when it was uploaded now."""
        ...

    def fetch(self, sha256: str, extension: str) -> bytes: ...
