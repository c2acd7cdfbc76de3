"""Pull: Magento invoices and credit memos -> CI Office invoices and credit notes, each exactly once.

For each stream ("invoices", then "creditmemos"):

1. **Parked records first.** Documents parked on earlier runs are retried from the payload kept with
   them (the raw document, trimmed by `trim_document`); their orders are re-fetched in one batch, so a
   fix made since (a payment mapping, a SKU created in CI Office, an accepted currency) takes effect.
   Magento documents do not change after they are created, so the kept payload is as good as a
   re-fetch and costs no search request. A record is retried when it is due: 5 minutes after it was
   last parked, doubling with every attempt up to 6 hours. It is unparked when it imports; while it
   stays parked, the read below skips it when it meets it again.
2. **New documents.** Read ascending by (created_at, entity_id) from `cursor.created_at -
   overlap_minutes` (first run: from `pull_start`, default the epoch, i.e. everything: pass
   `pull_start` when a tenant goes live so years of history are not imported by accident), page by
   page until `current_page * page_size >= total_count`. The orders of a page are fetched in one
   `get_orders` call. Each document is parsed, mapped and written by `ledger.import_document` (one SQL
   transaction, the Magento entity id under a unique constraint: a replay is ALREADY_IMPORTED).

The cursor:
- holds the last document handled (imported, already imported or parked: parked is recorded) and the
  `seen_ids` of documents handled within the overlap window, so re-reading the window costs no SQL;
- is saved after each page, only after the writes it covers (and on deadline or transient failure,
  up to the last document handled in order);
- never passes the run's start time: documents created after `clock.now()` at run start are left for
  the next run, even when Magento already returns them;
- never passes a document that failed transiently: the stream stops there and the run ends FAILED;
  the next run repeats from that document.

A `RecordError` (bad document, missing order, unmapped payment, foreign currency, totals that do not
add up, unknown SKU) parks the document and the stream goes on. A `TransientError` stops its stream
(the other stream still runs) and the run ends FAILED. The deadline is checked before every page and
every document (out of time: `remaining_seconds() <= sync.deadline_margin_seconds`); when it runs out
the cursor is saved and the run ends PARTIAL. A `ConfigurationError` propagates, cursor saved.
"""

import hashlib
import json
import logging
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from enum import Enum
from typing import Any, Literal

from kudos_sync.config import TenantConfig
from kudos_sync.domain.errors import RecordError, TransientError
from kudos_sync.domain.ledger import ImportOutcome, ImportStatus
from kudos_sync.domain.magento_documents import (
    MagentoDocument,
    MagentoInvoice,
    document_label,
    parse_document,
    parse_magento_time,
    parse_order,
    trim_document,
)
from kudos_sync.domain.pull_mapping import build_ledger_document
from kudos_sync.domain.state import Cursor, ParkedRecord, RunStatus
from kudos_sync.sync.ports import Clock, Deadline, Ledger, MagentoSales, StateStore

logger = logging.getLogger(__name__)

Stream = Literal["invoices", "creditmemos"]
STREAMS: tuple[Stream, ...] = ("invoices", "creditmemos")
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
PARKED_RETRY_BASE = timedelta(minutes=5)
PARKED_RETRY_MAX = timedelta(hours=6)


@dataclass
class StreamCounts:
    """What a run did to one stream."""

    imported: int = 0
    already_imported: int = 0  # the ledger's unique constraint met a replay
    parked: int = 0  # newly parked by this run
    still_parked: int = 0  # parked earlier, retried, parked again (its `attempts` grows)
    unparked: int = 0  # parked earlier, imported now
    customers_created: int = 0
    payments: int = 0  # invoices imported: one payment each
    refunds: int = 0  # credit notes imported: one refund each
    skipped_seen: int = 0  # re-read inside the overlap window, already handled
    skipped_parked: int = 0  # met again while parked: left to the parked retry
    deferred: int = 0  # created after the run started: left for the next run
    comments_added: int = 0
    comment_failures: int = 0


@dataclass
class PullResult:
    """The outcome of one pull run. Magento requests are counted by the adapter, not here."""

    status: RunStatus
    started_at: datetime
    finished_at: datetime | None = None
    streams: dict[str, StreamCounts] = field(default_factory=lambda: {s: StreamCounts() for s in STREAMS})
    error: str | None = None

    def summary_counts(self) -> dict[str, int]:
        """Flat counts for the RunRecord: per stream ("invoices_imported") and over both streams
        ("imported_total", "parked_total", ...)."""
        flat: dict[str, int] = {}
        for stream, counts in self.streams.items():
            for name, value in asdict(counts).items():
                flat[f"{stream}_{name}"] = value
                flat[f"{name}_total"] = flat.get(f"{name}_total", 0) + value
        return flat

    def summary_seconds(self) -> dict[str, float]:
        """Seconds per step: the pull's time is its streams' (the run record's start and end)."""
        return {}


class _End(Enum):
    DONE = "done"
    DEADLINE = "deadline"


@dataclass(frozen=True)
class _Position:
    created_at: datetime
    entity_id: int


class _Progress:
    """Where a stream stands in this run: the last document handled, and the ids handled with their
    created_at, from which the cursor (position + overlap de-duplication set) is derived."""

    def __init__(self, stream: Stream, cursor: Cursor | None, overlap: timedelta) -> None:
        self.stream = stream
        self.previous = cursor
        self.overlap = overlap
        self.position: _Position | None = (
            _Position(cursor.created_at, cursor.entity_id) if cursor is not None else None
        )
        self.seen_before = set(cursor.seen_ids) if cursor is not None else set()
        self.handled: dict[int, datetime] = {}
        self.saved = cursor

    def is_seen(self, entity_id: int) -> bool:
        return entity_id in self.seen_before or entity_id in self.handled

    def mark(self, entity_id: int | None, created_at: datetime | None) -> None:
        if entity_id is None or created_at is None:
            return  # unidentifiable (parked under a digest): cannot place it in the stream
        self.handled[entity_id] = created_at
        candidate = _Position(created_at, entity_id)
        if self.position is None or (candidate.created_at, candidate.entity_id) > (
            self.position.created_at,
            self.position.entity_id,
        ):
            self.position = candidate

    def cursor(self) -> Cursor | None:
        if self.position is None:
            return None
        window_start = self.position.created_at - self.overlap
        seen = {i for i, created in self.handled.items() if created >= window_start}
        # Ids from the previous cursor not met again this run: keep while they may still be in the window.
        if self.previous is not None and self.previous.created_at >= window_start:
            seen |= self.seen_before - self.handled.keys()
        return Cursor(
            stream=self.stream,
            created_at=self.position.created_at,
            entity_id=self.position.entity_id,
            seen_ids=tuple(sorted(seen)),
        )


def _identity(raw: object) -> tuple[int | None, datetime | None]:
    """Entity id and created_at of a raw document, as far as they can be read."""
    if not isinstance(raw, dict):
        return None, None
    entity = raw.get("entity_id")
    entity_id = entity if isinstance(entity, int) and not isinstance(entity, bool) and entity > 0 else None
    try:
        created_at: datetime | None = parse_magento_time(raw.get("created_at"))
    except ValueError:
        created_at = None
    return entity_id, created_at


def _park_key(raw: object) -> str:
    entity_id, _ = _identity(raw)
    if entity_id is not None:
        return str(entity_id)
    digest = hashlib.sha256(json.dumps(raw, sort_keys=True, default=str).encode()).hexdigest()[:16]
    return f"unidentified-{digest}"


class PullSync:
    """Magento -> CI Office for one tenant. Build one per run; `run()` once."""

    def __init__(
        self,
        config: TenantConfig,
        magento: MagentoSales,
        ledger: Ledger,
        state: StateStore,
        clock: Clock,
        deadline: Deadline,
        pull_start: datetime | None = None,
    ) -> None:
        """`pull_start`: where a stream with no cursor starts (aware UTC); None reads everything."""
        if pull_start is not None and pull_start.tzinfo is None:
            raise ValueError("pull_start must be timezone-aware (UTC)")
        self.config = config
        self.magento = magento
        self.ledger = ledger
        self.state = state
        self.clock = clock
        self.deadline = deadline
        self.pull_start = pull_start
        self._log_extra = {"tenant": config.tenant, "direction": "pull"}

    # ------------------------------------------------------------ run

    def run(self) -> PullResult:
        """Pull both streams; SUCCEEDED, PARTIAL (deadline: checkpointed) or FAILED (transient error:
        cursors kept at the last document handled in order; the next run repeats the rest)."""
        run_start = self.clock.now()
        result = PullResult(status=RunStatus.SUCCEEDED, started_at=run_start)
        errors: list[str] = []
        for stream in STREAMS:
            counts = result.streams[stream]
            try:
                end = self._pull_stream(stream, run_start, counts)
            except TransientError as exc:
                logger.warning("pull %s stopped by a transient error: %s", stream, exc, extra=self._log_extra)
                errors.append(f"{stream}: {exc}")
                continue  # the other stream may still work (e.g. one deadlocked transaction)
            if end is _End.DEADLINE:
                logger.info("pull reached its deadline in %s; checkpointed", stream, extra=self._log_extra)
                if not errors:
                    result.status = RunStatus.PARTIAL
                break
        if errors:
            result.status = RunStatus.FAILED
            result.error = "; ".join(errors)
        result.finished_at = self.clock.now()
        return result

    def _out_of_time(self) -> bool:
        return self.deadline.remaining_seconds() <= self.config.sync.deadline_margin_seconds

    def _pull_stream(self, stream: Stream, run_start: datetime, counts: StreamCounts) -> _End:
        parked = self.state.list_parked(stream)
        parked_keys = {record.key for record in parked}  # still parked; the read skips these
        if self._retry_parked(stream, parked, parked_keys, run_start, counts) is _End.DEADLINE:
            return _End.DEADLINE
        return self._read_new(stream, parked_keys, run_start, counts)

    # ------------------------------------------------------------ new documents

    def _read_new(
        self, stream: Stream, parked_keys: set[str], run_start: datetime, counts: StreamCounts
    ) -> _End:
        overlap = timedelta(minutes=self.config.sync.overlap_minutes)
        cursor = self.state.get_cursor(stream)
        created_from = cursor.created_at - overlap if cursor is not None else (self.pull_start or EPOCH)
        progress = _Progress(stream, cursor, overlap)
        page_size = self.config.sync.page_size
        page_number = 1
        try:
            while True:
                if self._out_of_time():
                    return _End.DEADLINE
                page = self.magento.search_documents(stream, created_from, page_number, page_size)
                end, reached_run_start = self._handle_page(
                    stream, page.items, parked_keys, run_start, progress, counts
                )
                self._save_cursor(progress)
                if end is _End.DEADLINE:
                    return _End.DEADLINE
                if reached_run_start or not page.items or page_number * page_size >= page.total_count:
                    return _End.DONE
                page_number += 1
        finally:
            # Deadline, transient error or done: the cursor covers exactly the documents handled.
            self._save_cursor(progress)

    def _save_cursor(self, progress: _Progress) -> None:
        cursor = progress.cursor()
        if cursor is not None and cursor != progress.saved:
            self.state.save_cursor(cursor)
            progress.saved = cursor

    def _handle_page(
        self,
        stream: Stream,
        items: Sequence[dict[str, Any]],
        parked_keys: set[str],
        run_start: datetime,
        progress: _Progress,
        counts: StreamCounts,
    ) -> tuple[_End, bool]:
        """Handle one page in order. Returns (DEADLINE or DONE, whether the run's start was reached)."""
        todo: list[tuple[dict[str, Any], MagentoDocument | RecordError]] = []
        queued: set[int] = set()
        reached_run_start = False
        for index, raw in enumerate(items):
            entity_id, created_at = _identity(raw)
            if created_at is not None and created_at > run_start:
                counts.deferred += len(items) - index
                reached_run_start = True
                break
            if entity_id is not None and progress.is_seen(entity_id):
                counts.skipped_seen += 1
                progress.mark(entity_id, created_at)  # learn its time: it leaves `seen_ids` with the window
                continue
            if entity_id is not None and entity_id in queued:
                counts.skipped_seen += 1  # twice on one page (a row shifted by a concurrent commit)
                continue
            if _park_key(raw) in parked_keys:
                counts.skipped_parked += 1  # recorded; the parked retry owns it
                progress.mark(entity_id, created_at)
                continue
            if entity_id is not None:
                queued.add(entity_id)
            try:
                todo.append((raw, parse_document(stream, raw)))
            except RecordError as exc:
                todo.append((raw, exc))

        orders = self._fetch_orders([d for _, d in todo if not isinstance(d, RecordError)])
        for raw, parsed in todo:
            if self._out_of_time():
                return _End.DEADLINE, reached_run_start
            entity_id, created_at = _identity(raw)
            self._import_one(stream, raw, parsed, orders, counts, parked=None)
            progress.mark(entity_id, created_at)
        return _End.DONE, reached_run_start

    def _fetch_orders(self, documents: Sequence[MagentoDocument]) -> dict[int, dict[str, Any]]:
        order_ids = sorted({d.order_id for d in documents})
        return self.magento.get_orders(order_ids) if order_ids else {}

    # ------------------------------------------------------------ one document

    def _import_one(
        self,
        stream: Stream,
        raw: dict[str, Any],
        parsed: MagentoDocument | RecordError,
        orders: dict[int, dict[str, Any]],
        counts: StreamCounts,
        parked: ParkedRecord | None,
    ) -> bool:
        """Parse, map and write one document; park it on a RecordError (`parked`: the record being
        retried, unparked when it imports). True when the document is in the ledger.
        A TransientError propagates: the cursor stops before the document."""
        try:
            if isinstance(parsed, RecordError):
                raise parsed
            document = parsed
            raw_order = orders.get(document.order_id)
            if raw_order is None:
                raise RecordError(
                    f"{document.label}: order_id: order {document.order_id} was not found in Magento",
                    record=document.label,
                    field="order_id",
                )
            try:
                order = parse_order(raw_order)
            except RecordError as exc:
                raise RecordError(
                    f"{document.label}: {exc}", record=document.label, field=f"order.{exc.field}"
                ) from None
            try:
                ledger_document = build_ledger_document(document, order, self.config)
            except (ValueError, ArithmeticError) as exc:  # a value the rules did not foresee: park, not crash
                raise RecordError(
                    f"{document.label}: cannot be mapped ({type(exc).__name__})", record=document.label
                ) from exc
            outcome = self.ledger.import_document(ledger_document)
        except RecordError as exc:
            self._park(stream, raw, exc, counts, retried=parked)
            return False
        self._count(document, outcome, counts)
        if parked is not None:
            self.state.unpark(stream, parked.key)
            counts.unparked += 1
        if outcome.status is ImportStatus.IMPORTED and self.config.write_back_comments:
            self._write_back(document, outcome, counts)
        return True

    def _count(self, document: MagentoDocument, outcome: ImportOutcome, counts: StreamCounts) -> None:
        if outcome.status is ImportStatus.ALREADY_IMPORTED:
            counts.already_imported += 1
            return
        counts.imported += 1
        counts.customers_created += int(outcome.customer_created)
        if isinstance(document, MagentoInvoice):
            counts.payments += 1
        else:
            counts.refunds += 1
        logger.info(
            "imported %s as CI %s for customer %s",
            document.label,
            outcome.ci_document_number,
            outcome.customer_code,
            extra=self._log_extra,
        )

    def _write_back(self, document: MagentoDocument, outcome: ImportOutcome, counts: StreamCounts) -> None:
        what = "invoice" if isinstance(document, MagentoInvoice) else "credit note"
        try:
            self.magento.add_order_comment(
                document.order_id, f"Imported into CI Office as {what} {outcome.ci_document_number}"
            )
        except Exception as exc:  # the import stands whatever happens to the comment
            counts.comment_failures += 1
            logger.warning(
                "comment on order %s for %s failed: %s",
                document.order_id,
                document.label,
                exc,
                extra=self._log_extra,
            )
        else:
            counts.comments_added += 1

    def _park(
        self,
        stream: Stream,
        raw: dict[str, Any],
        error: RecordError,
        counts: StreamCounts,
        retried: ParkedRecord | None,
    ) -> None:
        now = self.clock.now()
        record = ParkedRecord(
            stream=stream,
            key=retried.key if retried is not None else _park_key(raw),
            reason=str(error),
            field=error.field,
            payload=trim_document(raw),
            first_seen=now,
            last_seen=now,
        )
        self.state.park(record)
        if retried is None:
            counts.parked += 1
        else:
            counts.still_parked += 1
        label = error.record or document_label(stream, raw)
        logger.warning("parked %s: %s", label, error, extra=self._log_extra)

    # ------------------------------------------------------------ parked documents

    def _is_due(self, record: ParkedRecord, run_start: datetime) -> bool:
        wait = min(PARKED_RETRY_BASE * (1 << min(max(record.attempts - 1, 0), 16)), PARKED_RETRY_MAX)
        return record.last_seen + wait <= run_start

    def _retry_parked(
        self,
        stream: Stream,
        parked: Sequence[ParkedRecord],
        parked_keys: set[str],
        run_start: datetime,
        counts: StreamCounts,
    ) -> _End:
        due = [r for r in parked if self._is_due(r, run_start)]
        if not due:
            return _End.DONE
        todo: list[tuple[ParkedRecord, MagentoDocument | RecordError]] = []
        for record in due:
            try:
                todo.append((record, parse_document(stream, record.payload)))
            except RecordError as exc:
                todo.append((record, exc))
        orders = self._fetch_orders([d for _, d in todo if not isinstance(d, RecordError)])
        for record, parsed in todo:
            if self._out_of_time():
                return _End.DEADLINE
            if self._import_one(stream, record.payload, parsed, orders, counts, parked=record):
                parked_keys.discard(record.key)
        return _End.DONE
