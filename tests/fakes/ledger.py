"""In-memory CI Office ledger (the Ledger port) for core tests.

Behaves like `ci_office.ledger.SqlLedger` where the core can tell: the Magento entity id is unique per
document kind (a replay is ALREADY_IMPORTED with the first number), customers are matched by link,
then e-mail (linking the match), else created; a fixed (cash-sale) customer must exist; unknown SKUs
raise RecordError naming the SKU and line (and, when `tenders` is given, unknown tenders the tender);
stock on hand of the web branch moves with each document.

Failure injection: `fail_after_imports(n)` makes the calls after n committed documents raise
TransientError before writing (a deadlock); `crash_after_commit(entity_id)` commits that document and
then raises TransientError (connection lost before the answer came back).
"""

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal

from kudos_sync.domain.errors import RecordError, TransientError
from kudos_sync.domain.ledger import (
    CustomerDetails,
    DocumentKind,
    ImportOutcome,
    ImportStatus,
    LedgerDocument,
)


@dataclass
class FakeCustomer:
    code: str
    email: str | None
    link_key: str | None
    details: CustomerDetails | None = None


@dataclass(frozen=True)
class Committed:
    document: LedgerDocument
    number: str
    customer_code: str


class FakeLedger:
    def __init__(self, known_skus: Iterable[str] | None = None, tenders: Iterable[str] | None = None) -> None:
        self.skus: set[str] | None = set(known_skus) if known_skus is not None else None  # None: any
        self.tenders: set[str] | None = set(tenders) if tenders is not None else None  # None: any
        self.committed: dict[tuple[DocumentKind, int], Committed] = {}
        self.customers: dict[str, FakeCustomer] = {}
        self.stock: defaultdict[tuple[str, str], Decimal] = defaultdict(Decimal)  # (branch, sku) -> qty
        self.import_calls = 0
        self.commits: list[tuple[DocumentKind, int]] = []  # every commit, in order (duplicates would show)
        self._fail_after: int | None = None
        self._fail_times = 0
        self._crash_after_commit: set[int] = set()
        self._numbers: defaultdict[DocumentKind, int] = defaultdict(int)

    # ---------------------------------------------------------------- arrange

    def add_customer(self, code: str, email: str | None = None, link_key: str | None = None) -> None:
        self.customers[code] = FakeCustomer(code, email, link_key)

    def fail_after_imports(self, committed: int, times: int = 1) -> None:
        """Once `committed` documents are in, the next `times` calls raise TransientError unwritten."""
        self._fail_after, self._fail_times = committed, times

    def crash_after_commit(self, entity_id: int) -> None:
        """Commit this document, then raise TransientError as if the connection dropped."""
        self._crash_after_commit.add(entity_id)

    # ---------------------------------------------------------------- Ledger

    def known_skus(self, skus: Sequence[str]) -> set[str]:
        return set(skus) if self.skus is None else set(skus) & self.skus

    def import_document(self, document: LedgerDocument) -> ImportOutcome:
        self.import_calls += 1
        if self._fail_after is not None and len(self.commits) >= self._fail_after and self._fail_times > 0:
            self._fail_times -= 1
            raise TransientError("SQL Server: deadlock victim (1205)")
        key = (document.kind, int(document.magento_entity_id))
        existing = self.committed.get(key)
        if existing is not None:
            return ImportOutcome(
                status=ImportStatus.ALREADY_IMPORTED,
                ci_document_number=existing.number,
                customer_code=existing.customer_code,
            )
        record = f"{document.kind.value} {document.magento_increment_id}"
        for index, line in enumerate(document.lines):
            if line.sku is not None and self.skus is not None and line.sku not in self.skus:
                raise RecordError(
                    f"{record}: SKU {line.sku!r} on line {index + 1} is not in CI Office",
                    record=record,
                    field=f"lines[{index}].sku",
                )
        if self.tenders is not None and document.tender_code not in self.tenders:
            raise RecordError(
                f"{record}: tender {document.tender_code!r} is not in CI Office",
                record=record,
                field="tender_code",
            )
        customer, created = self._resolve_customer(document.customer, record)
        self._numbers[document.kind] += 1
        prefix = "W" if document.kind is DocumentKind.INVOICE else "R"
        number = f"{prefix}{self._numbers[document.kind]:06d}"
        self.committed[key] = Committed(document, number, customer.code)
        self.commits.append(key)
        sign = Decimal(-1) if document.kind is DocumentKind.INVOICE else Decimal(1)
        if document.kind is DocumentKind.INVOICE or document.adjust_stock:
            for line in document.lines:
                if line.sku is not None:
                    self.stock[(document.web_branch, line.sku)] += sign * line.quantity
        if document.magento_entity_id in self._crash_after_commit:
            self._crash_after_commit.discard(document.magento_entity_id)
            raise TransientError("connection lost after commit")
        return ImportOutcome(
            status=ImportStatus.IMPORTED,
            ci_document_number=number,
            customer_code=customer.code,
            customer_created=created,
        )

    def _resolve_customer(self, details: CustomerDetails, record: str) -> tuple[FakeCustomer, bool]:
        if details.fixed_customer_code:
            fixed = self.customers.get(details.fixed_customer_code)
            if fixed is None:
                raise RecordError(
                    f"{record}: customer {details.fixed_customer_code!r} is not in CI Office",
                    record=record,
                    field="customer.fixed_customer_code",
                )
            return fixed, False
        for customer in self.customers.values():
            if customer.link_key == details.link_key:
                return customer, False
        if details.email:
            for customer in sorted(self.customers.values(), key=lambda c: c.code):
                if customer.email and customer.email.lower() == details.email.lower():
                    if customer.link_key is None:
                        customer.link_key = details.link_key
                    return customer, False
        code = f"C{len(self.customers) + 1:06d}"
        customer = FakeCustomer(code, details.email, details.link_key, details)
        self.customers[code] = customer
        return customer, True

    # ---------------------------------------------------------------- assert

    def entity_ids(self, kind: DocumentKind) -> list[int]:
        return sorted(entity for k, entity in self.committed if k is kind)

    def document(self, kind: DocumentKind, entity_id: int) -> LedgerDocument:
        return self.committed[(kind, entity_id)].document
