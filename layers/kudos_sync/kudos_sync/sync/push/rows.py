"""The row exporters: base prices, special prices and stock, on one send/bind cycle.

Each is the skeleton with its own diff and request shape: diff desired rows against the bindings ->
write ahead a pending binding for each row about to change -> send batches, several in flight -> bind
the rows Magento accepted -> park the rows it refused, with Magento's message. Ownership `on_create`
sends a row only while nothing was confirmed for it yet and the product was not adopted from the
store; a price, which the create itself carries, only for a product this run created (a run cut
between the create and the price step must not overwrite a price the web team set meanwhile).
"""

from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence

from kudos_sync.batches import chunks
from kudos_sync.config import Ownership
from kudos_sync.domain.desired import DesiredCatalogue, Problem
from kudos_sync.domain.push_fingerprints import price_fingerprint, special_fingerprint, stock_fingerprint
from kudos_sync.domain.state import Binding, BindingKind, BindingPayload
from kudos_sync.sync.ports import RowFailure
from kudos_sync.sync.push import binders, mappers
from kudos_sync.sync.push.context import PushContext
from kudos_sync.sync.push.results import PushCounts


class RowExporter(ABC):
    """The shared cycle; a subclass says what differs, how a batch is sent and what it counts."""

    kind: BindingKind
    stream: str  # where refused rows are parked
    field: str  # the field a refused row names
    ownership_of: str  # the field-ownership name

    def __init__(
        self, ctx: PushContext, desired: DesiredCatalogue, bindings: Mapping[str, Binding], present: set[str]
    ) -> None:
        self.ctx = ctx
        self.desired = desired
        self.bindings = bindings
        self.present = present
        self.stores = ctx.stores
        self._ownership = ctx.config.owns(self.ownership_of)

    # ------------------------------------------------------------ what differs per exporter

    @abstractmethod
    def desired_keys(self) -> Mapping[str, object]:
        """The desired rows, keyed as their bindings are."""

    @abstractmethod
    def fingerprint(self, key: str) -> str:
        """The fingerprint of a desired row."""

    def payload(self, key: str) -> BindingPayload | None:
        """What the row's binding keeps beyond its fingerprint."""
        return None

    @abstractmethod
    def send(self, keys: Sequence[str]) -> list[RowFailure]:
        """One request for these rows; the rows Magento refused."""

    @abstractmethod
    def count(self, counts: PushCounts, sent: int) -> None:
        """Count rows Magento accepted."""

    def sku_of(self, key: str) -> str:
        return key

    def wanted(self, key: str) -> bool:
        """Whether a desired row is pushed at all this run (its product is in Magento)."""
        return self.sku_of(key) in self.present

    per_request = 1  # keys per request; set from the context by subclasses
    write_ahead_new = False  # also write ahead rows never sent before

    # ------------------------------------------------------------ the cycle

    sent_with_create = False  # the product's create already carries this value (a new simple's price)

    def may_send(self, key: str, binding: Binding | None) -> bool:
        """`always`: every change; `never`; `on_create`: while a write of it is pending, or nothing was
        confirmed for it yet and the product was not found in the store (adopted). A value the create
        carries is sent only for a product created by this run: a run cut between the create and this
        step must not overwrite what the web team set in between."""
        if self._ownership is Ownership.ON_CREATE:
            if binders.is_pending(binding):
                return True
            sku = self.sku_of(key)
            tally = self.ctx.tally
            return (
                binding is None
                and sku not in tally.adopted
                and (not self.sent_with_create or sku in tally.created)
            )
        return self._ownership is Ownership.ALWAYS

    def diff(self) -> tuple[list[str], int]:
        to_send: list[str] = []
        unchanged = 0
        for key in self.desired_keys():
            binding = self.bindings.get(key)
            if not self.wanted(key) or not self.may_send(key, binding):
                continue
            if binding is not None and binding.in_step(self.fingerprint(key)):
                unchanged += 1
            else:
                to_send.append(key)
        return to_send, unchanged

    def push(self) -> None:
        to_send, unchanged = self.diff()
        self.ctx.tally.counts.unchanged += unchanged
        with self.ctx.step(self.stream, len(to_send)):
            self.send_and_bind(to_send)

    def send_and_bind(self, to_send: list[str]) -> None:
        ctx = self.ctx
        ctx.write_ahead(
            binders.pending(self.kind, key, self.fingerprint(key), None, self.payload(key))
            for key in to_send
            if self.write_ahead_new or key in self.bindings
        )
        ctx.in_flight(list(chunks(to_send, self.per_request)), self.send, self._sent, ctx.slots)

    def _sent(self, keys: Sequence[str], failures: list[RowFailure]) -> None:
        failed = self.park(keys, failures)
        saved = [
            binders.sent(self.kind, key, self.fingerprint(key), None, self.payload(key))
            for key in keys
            if key not in failed
        ]
        self.ctx.writes.save(saved)
        self.count(self.ctx.tally.counts, len(saved))
        self.ctx.progress.advance(self.stream, len(keys))

    def park(self, keys: Sequence[str], failures: Sequence[RowFailure]) -> set[str]:
        """A problem per refused row, Magento's message filled in; returns the refused keys. A failure
        without a source code refuses every row of its SKU in the batch."""
        failed: set[str] = set()
        for failure in failures:
            if failure.source_code:
                refused = [f"{failure.sku}@{failure.source_code}"]
            else:
                refused = [key for key in keys if self.sku_of(key) == failure.sku] or [failure.sku]
            for key in refused:
                failed.add(key)
                self.ctx.tally.problem(Problem(self.stream, key, self.field, failure.message))
        return failed


class PriceExporter(RowExporter):
    kind = BindingKind.PRICE
    stream = "prices"
    field = "price"
    ownership_of = "price"
    sent_with_create = True

    def __init__(
        self, ctx: PushContext, desired: DesiredCatalogue, bindings: Mapping[str, Binding], present: set[str]
    ) -> None:
        super().__init__(ctx, desired, bindings, present)
        self.per_request = ctx.skus_per_request

    def desired_keys(self) -> Mapping[str, object]:
        return self.desired.prices

    def fingerprint(self, key: str) -> str:
        return price_fingerprint(self.desired.prices[key], self.stores)

    def send(self, keys: Sequence[str]) -> list[RowFailure]:
        prices = self.desired.prices
        return self.ctx.magento.save_base_prices(
            [row for sku in keys for row in mappers.base_price_rows(sku, prices[sku], self.stores)]
        )

    def count(self, counts: PushCounts, sent: int) -> None:
        counts.prices_sent += sent


class StockExporter(RowExporter):
    kind = BindingKind.STOCK
    stream = "stock"
    field = "quantity"
    ownership_of = "stock"

    def __init__(
        self, ctx: PushContext, desired: DesiredCatalogue, bindings: Mapping[str, Binding], present: set[str]
    ) -> None:
        super().__init__(ctx, desired, bindings, present)
        self.per_request = ctx.batch

    def desired_keys(self) -> Mapping[str, object]:
        return self.desired.stock

    def sku_of(self, key: str) -> str:
        return self.desired.stock[key].sku

    def fingerprint(self, key: str) -> str:
        return stock_fingerprint(self.desired.stock[key])

    def send(self, keys: Sequence[str]) -> list[RowFailure]:
        stock = self.desired.stock
        return self.ctx.magento.save_source_items([mappers.source_item(stock[key]) for key in keys])

    def count(self, counts: PushCounts, sent: int) -> None:
        counts.stock_sent += sent


class SpecialPriceExporter(RowExporter):
    """Special prices: a sale that ended (or whose dates moved) has its old rows deleted first."""

    kind = BindingKind.SPECIAL_PRICE
    stream = "special_prices"
    field = "special_price"
    ownership_of = "special_price"
    # Every sale is written ahead, new ones too: a sale applied whose binding was lost would otherwise
    # never be deleted when it ends (nothing would say it was sent).
    write_ahead_new = True

    def __init__(
        self, ctx: PushContext, desired: DesiredCatalogue, bindings: Mapping[str, Binding], present: set[str]
    ) -> None:
        super().__init__(ctx, desired, bindings, present)
        self.per_request = ctx.skus_per_request

    def desired_keys(self) -> Mapping[str, object]:
        return self.desired.specials

    def fingerprint(self, key: str) -> str:
        return special_fingerprint(self.desired.specials[key], self.stores)

    def payload(self, key: str) -> BindingPayload | None:
        return binders.special_rows(self.desired.specials[key], self.stores)

    def send(self, keys: Sequence[str]) -> list[RowFailure]:
        specials = self.desired.specials
        return self.ctx.magento.save_special_prices(
            [row for sku in keys for row in mappers.special_price_rows(sku, specials[sku], self.stores)]
        )

    def count(self, counts: PushCounts, sent: int) -> None:
        counts.special_prices_sent += sent

    def diff_specials(self) -> tuple[list[str], list[Binding], int]:
        """(skus to save, bindings whose rows must be deleted, unchanged count)."""
        to_save: list[str] = []
        to_delete: list[Binding] = []
        unchanged = 0
        desired = self.desired
        for sku in sorted(self.present):
            binding = self.bindings.get(sku)
            if sku in desired.held_specials or not self.may_send(sku, binding):
                continue
            product = desired.products.get(sku)
            if product is None or not product.sellable:
                continue
            want = desired.specials.get(sku)
            if want is not None:
                if binding is not None and binding.in_step(special_fingerprint(want, self.stores)):
                    unchanged += 1
                    continue
                to_save.append(sku)
                if binding is not None and binders.special_dates_changed(binding, want):
                    to_delete.append(binding)  # a new date range replaces the old row, not adds to it
            elif binding is not None:
                to_delete.append(binding)
        return to_save, to_delete, unchanged

    def push(self) -> None:
        ctx = self.ctx
        to_save, to_delete, unchanged = self.diff_specials()
        ctx.tally.counts.unchanged += unchanged
        saving = set(to_save)

        def delete(chunk: Sequence[Binding]) -> list[RowFailure]:
            rows = [row for binding in chunk for row in binders.rows_last_sent(binding)]
            return ctx.magento.delete_special_prices(rows) if rows else []

        def deleted(chunk: Sequence[Binding], failures: list[RowFailure]) -> None:
            failed = self.park([b.key for b in chunk], failures)
            gone = [b.key for b in chunk if b.key not in failed and b.key not in saving]
            if gone:
                ctx.writes.delete(BindingKind.SPECIAL_PRICE, gone)
            ctx.tally.counts.special_prices_deleted += sum(1 for b in chunk if b.key not in failed)
            ctx.progress.advance(self.stream, len(chunk))

        with ctx.step(self.stream, len(to_save) + len(to_delete)):
            ctx.in_flight(list(chunks(to_delete, self.per_request)), delete, deleted, ctx.slots)
            if ctx.tally.partial:
                return  # out of time: a new date range waits for the old row's delete, next run
            self.send_and_bind(to_save)
