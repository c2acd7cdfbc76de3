"""Prices and MSI source items over Magento's bulk endpoints: batches sent concurrently, a refused
row isolated by splitting its batch so the rest are saved (part of RestMagentoCatalog)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date
from typing import Any

from kudos_sync.batches import chunks
from kudos_sync.domain.errors import RecordError
from kudos_sync.domain.ids import Sku
from kudos_sync.fanout import in_order
from kudos_sync.magento.client import MagentoClient
from kudos_sync.magento.errors import MagentoRecordError, fill_message, placeholder_values
from kudos_sync.sync.ports import PriceRow, RowFailure, SourceItemRow


def record_detail(exc: RecordError) -> str:
    """Magento's own words for a refused record when it gave them, else the error's message."""
    return exc.detail if isinstance(exc, MagentoRecordError) and exc.detail else str(exc)


def record_reason(exc: RecordError) -> str:
    """The error table's reason for a refused record ("not_found", "already_exists"...), else ""."""
    return exc.reason if isinstance(exc, MagentoRecordError) else ""


def delete_if_present(
    client: MagentoClient, template: str, path: Mapping[str, str | int], record: str, gone: tuple[str, ...]
) -> None:
    """DELETE something that may already be gone (a retry, or the web team got there first)."""
    try:
        client.call("DELETE", template, path=path, scope="all", idempotent=True, record=record)
    except RecordError as exc:
        if record_reason(exc) not in gone:
            raise


def _magento_date(value: date) -> str:
    """Magento's "Y-m-d H:i:s"; special price dates are whole days (the to-date is inclusive)."""
    return f"{value.isoformat()} 00:00:00"


class RowWriter:
    """Base prices, special prices (and their delete) and source items for one tenant's store."""

    def __init__(self, client: MagentoClient, batch_size: int, workers: int) -> None:
        self.client = client
        self.batch_size = batch_size
        self.workers = workers

    # ------------------------------------------------------------ prices

    def save_base_prices(self, rows: Sequence[PriceRow]) -> list[RowFailure]:
        return self._post_prices("/V1/products/base-prices", rows, with_dates=False)

    def save_special_prices(self, rows: Sequence[PriceRow]) -> list[RowFailure]:
        return self._post_prices("/V1/products/special-price", rows, with_dates=True)

    def delete_special_prices(self, rows: Sequence[PriceRow]) -> list[RowFailure]:
        return self._post_prices("/V1/products/special-price-delete", rows, with_dates=True)

    def _post_prices(self, template: str, rows: Sequence[PriceRow], *, with_dates: bool) -> list[RowFailure]:
        """Batches of batch_size, concurrently. HTTP 200 lists the rows Magento skipped."""

        def post(batch: Sequence[PriceRow]) -> list[RowFailure]:
            prices = []
            for row in batch:
                price: dict[str, Any] = {"sku": row.sku, "price": row.price, "store_id": row.store_id}
                if with_dates:
                    # The schema requires both keys; Magento reads null exactly as a missing key.
                    price["price_from"] = _magento_date(row.price_from) if row.price_from else None
                    price["price_to"] = _magento_date(row.price_to) if row.price_to else None
                prices.append(price)
            result = self.client.call(
                "POST",
                template,
                body={"prices": prices},
                idempotent=True,
                items=len(batch),
                record=batch[0].sku if len(batch) == 1 else "",
            )
            failures = [price_failure(item, batch) for item in result or [] if isinstance(item, Mapping)]
            if len(batch) > 1 and any(not f.sku for f in failures):
                # Some messages name only the bad value ("Price = -1"), not the row. Writes are
                # repeatable, so send the halves again until each such failure stands alone.
                middle = len(batch) // 2
                return post(batch[:middle]) + post(batch[middle:])
            return failures

        batches = list(chunks(list(rows), self.batch_size))
        return [f for failures in in_order(post, batches, self.workers, name="magento") for f in failures]

    # ------------------------------------------------------------ stock

    def save_source_items(self, rows: Sequence[SourceItemRow]) -> list[RowFailure]:
        """MSI source items in batches. Magento saves a batch all-or-nothing, so a rejected batch is
        split in halves until each rejected item stands alone; the rest are saved."""
        batches = list(chunks(list(rows), self.batch_size))
        return [
            f
            for failures in in_order(self._save_source_batch, batches, self.workers, name="magento")
            for f in failures
        ]

    def _save_source_batch(self, batch: Sequence[SourceItemRow]) -> list[RowFailure]:
        if not batch:
            return []  # Magento answers an empty list with "Input data is empty"
        items = [
            {
                "sku": r.sku,
                "source_code": r.source_code,
                "quantity": r.quantity,
                "status": 1 if r.in_stock else 0,
            }
            for r in batch
        ]
        single = batch[0] if len(batch) == 1 else None
        try:
            self.client.call(
                "POST",
                "/V1/inventory/source-items",
                body={"sourceItems": items},
                idempotent=True,
                items=len(batch),
                record=f"{single.sku} at {single.source_code}" if single else "",
            )
        except RecordError as exc:
            if single is not None:
                return [
                    RowFailure(sku=single.sku, message=record_detail(exc), source_code=single.source_code)
                ]
            middle = len(batch) // 2
            return self._save_source_batch(batch[:middle]) + self._save_source_batch(batch[middle:])
        return []


def price_failure(item: Mapping[str, Any], batch: Sequence[PriceRow]) -> RowFailure:
    """A skipped price row as a RowFailure: the message filled in, the SKU taken from the named
    placeholder (``%SKU``, or ``%fieldName``=SKU) or else from any parameter that is a batch SKU."""
    message = str(item.get("message", ""))
    parameters = item.get("parameters")
    values = placeholder_values(message, parameters)
    skus = {row.sku for row in batch}
    sku = ""
    for key in ("SKU", "sku", "Sku"):
        if values.get(key):
            sku = values[key]
            break
    if not sku and values.get("fieldName", "").lower() == "sku":
        sku = values.get("fieldValue", "")
    if not sku:
        raw = parameters.values() if isinstance(parameters, Mapping) else parameters or []
        sku = next((str(p) for p in raw if str(p) in skus), "")
    if not sku and len(batch) == 1:
        sku = batch[0].sku
    return RowFailure(sku=Sku(sku), message=fill_message(item))
