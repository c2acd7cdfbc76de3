"""Pull: Magento invoices and credit memos -> CI Office invoices and credit notes, each exactly once.

For each stream ("invoices", then "creditmemos"):

1. **Parked records first.** Documents parked on earlier runs are retried from the payload kept with
   them (read again by the adapter, `MagentoSales.reread_parked`); their orders are re-fetched in one
   batch, so a fix made since (a payment mapping, a SKU created in CI Office, an accepted currency)
   takes effect.
   Magento documents do not change after they are created, so the kept payload is as good as a
   re-fetch and costs no search request. A record is retried when it is due: 5 minutes after it was
   last parked, doubling with every attempt up to 6 hours. It is unparked when it imports; while it
   stays parked, the read below skips it when it meets it again.
2. **New documents.** Read ascending by (created_at, entity_id) from `cursor.created_at -
   overlap_minutes` (first run: from `pull_start`, default the epoch, i.e. everything: pass
   `pull_start` when a tenant goes live so years of history are not imported by accident), page by
   page until `current_page * page_size >= total_count`. The orders of a page are fetched in one
   `get_orders` call. The adapter gives each document parsed (or the RecordError saying why not); it
   is mapped and written by `ledger.import_document` (one SQL transaction, the Magento entity id under
   a unique constraint: a replay is ALREADY_IMPORTED).

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
Progress is reported per stream: parked documents retried, then documents read page by page.
"""

import logging
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from enum import Enum

from kudos_sync.config import TenantConfig
from kudos_sync.domain.errors import RecordError, TransientError
from kudos_sync.domain.ledger import ImportOutcome, ImportStatus
from kudos_sync.domain.pull_mapping import build_ledger_document
from kudos_sync.domain.sales import MagentoDocument, MagentoInvoice, MagentoOrder
from kudos_sync.domain.state import ParkedRecord, RunStatus
from kudos_sync.sync.ports import Clock, Deadline, Ledger, MagentoSales, ReadDocument, StateStore
from kudos_sync.sync.progress import NoProgress, Progress
from kudos_sync.sync.pull_cursor import StreamPosition
from kudos_sync.sync.pull_results import STREAMS, PullResult, Stream, StreamCounts

logger = logging.getLogger(__name__)

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
PARKED_RETRY_BASE = timedelta(minutes=5)
PARKED_RETRY_MAX = timedelta(hours=6)

Orders = dict[int, MagentoOrder | RecordError]


class _End(Enum):
    DONE = "done"
    DEADLINE = "deadline"


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
        progress: Progress = NoProgress(),  # noqa: B008 - stateless, shared safely
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
        self.progress = progress
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
        step = f"{stream} parked"
        self.progress.start(step, len(due))
        try:
            todo = [(record, self.magento.reread_parked(stream, record.payload)) for record in due]
            orders = self._fetch_orders([read for _, read in todo])
            for record, read in todo:
                if self._out_of_time():
                    return _End.DEADLINE
                if self._import_one(stream, read, orders, counts, parked=record):
                    parked_keys.discard(record.key)
                self.progress.advance(step, 1)
            return _End.DONE
        finally:
            self.progress.finish(step)

    # ------------------------------------------------------------ new documents

    def _read_new(
        self, stream: Stream, parked_keys: set[str], run_start: datetime, counts: StreamCounts
    ) -> _End:
        overlap = timedelta(minutes=self.config.sync.overlap_minutes)
        cursor = self.state.get_cursor(stream)
        created_from = cursor.created_at - overlap if cursor is not None else (self.pull_start or EPOCH)
        position = StreamPosition(stream, cursor, overlap)
        page_size = self.config.sync.page_size
        page_number = 1
        reporting = False
        try:
            while True:
                if self._out_of_time():
                    return _End.DEADLINE
                page = self.magento.search_documents(stream, created_from, page_number, page_size)
                if not reporting:  # the first page tells how many documents the read will meet
                    self.progress.start(stream, page.total_count)
                    reporting = True
                end, reached_run_start = self._handle_page(
                    stream, page.documents, parked_keys, run_start, position, counts
                )
                self._save_cursor(position)
                self.progress.advance(stream, len(page.documents))
                if end is _End.DEADLINE:
                    return _End.DEADLINE
                if reached_run_start or not page.documents or page_number * page_size >= page.total_count:
                    return _End.DONE
                page_number += 1
        finally:
            # Deadline, transient error or done: the cursor covers exactly the documents handled.
            self._save_cursor(position)
            if reporting:
                self.progress.finish(stream)

    def _save_cursor(self, position: StreamPosition) -> None:
        cursor = position.cursor()
        if cursor is not None and cursor != position.saved:
            self.state.save_cursor(cursor)
            position.saved = cursor

    def _handle_page(
        self,
        stream: Stream,
        documents: Sequence[ReadDocument],
        parked_keys: set[str],
        run_start: datetime,
        position: StreamPosition,
        counts: StreamCounts,
    ) -> tuple[_End, bool]:
        """Handle one page in order. Returns (DEADLINE or DONE, whether the run's start was reached)."""
        todo: list[ReadDocument] = []
        queued: set[int] = set()
        reached_run_start = False
        for index, read in enumerate(documents):
            entity_id, created_at = read.ref.entity_id, read.ref.created_at
            if created_at is not None and created_at > run_start:
                counts.deferred += len(documents) - index
                reached_run_start = True
                break
            if entity_id is not None and position.is_seen(entity_id):
                counts.skipped_seen += 1
                position.mark(entity_id, created_at)  # learn its time: it leaves `seen_ids` with the window
                continue
            if entity_id is not None and entity_id in queued:
                counts.skipped_seen += 1  # twice on one page (a row shifted by a concurrent commit)
                continue
            if read.ref.key in parked_keys:
                counts.skipped_parked += 1  # recorded; the parked retry owns it
                position.mark(entity_id, created_at)
                continue
            if entity_id is not None:
                queued.add(entity_id)
            todo.append(read)

        orders = self._fetch_orders(todo)
        for read in todo:
            if self._out_of_time():
                return _End.DEADLINE, reached_run_start
            self._import_one(stream, read, orders, counts, parked=None)
            position.mark(read.ref.entity_id, read.ref.created_at)
        return _End.DONE, reached_run_start

    def _fetch_orders(self, reads: Sequence[ReadDocument]) -> Orders:
        order_ids = sorted({r.document.order_id for r in reads if not isinstance(r.document, RecordError)})
        return self.magento.get_orders(order_ids) if order_ids else {}

    # ------------------------------------------------------------ one document

    def _import_one(
        self,
        stream: Stream,
        read: ReadDocument,
        orders: Orders,
        counts: StreamCounts,
        parked: ParkedRecord | None,
    ) -> bool:
        """Map and write one document; park it on a RecordError (`parked`: the record being retried,
        unparked when it imports). True when the document is in the ledger.
        A TransientError propagates: the cursor stops before the document."""
        try:
            document = read.document
            if isinstance(document, RecordError):
                raise document
            order = orders.get(document.order_id)
            if order is None:
                raise RecordError(
                    f"{document.label}: order_id: order {document.order_id} was not found in Magento",
                    record=document.label,
                    field="order_id",
                )
            if isinstance(order, RecordError):
                raise RecordError(
                    f"{document.label}: {order}", record=document.label, field=f"order.{order.field}"
                )
            try:
                ledger_document = build_ledger_document(document, order, self.config)
            except (ValueError, ArithmeticError) as exc:  # a value the rules did not foresee: park, not crash
                raise RecordError(
                    f"{document.label}: cannot be mapped ({type(exc).__name__})", record=document.label
                ) from exc
            outcome = self.ledger.import_document(ledger_document)
        except RecordError as exc:
            self._park(stream, read, exc, counts, retried=parked)
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
        read: ReadDocument,
        error: RecordError,
        counts: StreamCounts,
        retried: ParkedRecord | None,
    ) -> None:
        now = self.clock.now()
        record = ParkedRecord(
            stream=stream,
            key=retried.key if retried is not None else read.ref.key,
            reason=str(error),
            field=error.field,
            payload=read.payload,
            first_seen=now,
            last_seen=now,
        )
        self.state.park(record)
        if retried is None:
            counts.parked += 1
        else:
            counts.still_parked += 1
        logger.warning("parked %s: %s", error.record or read.ref.label, error, extra=self._log_extra)


__all__ = ["STREAMS", "PullResult", "PullSync", "Stream", "StreamCounts"]
