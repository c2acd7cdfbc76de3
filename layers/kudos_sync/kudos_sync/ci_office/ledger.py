"""CI Office, write side of the pull: one Magento invoice or credit memo = one SQL transaction.

The transaction resolves the customer, takes the next document number, writes the header (with the
Magento entity id under a unique constraint: the idempotency key), the lines, the payment or refund,
and adjusts stock on hand of the web branch. A replay meets the constraint, is rolled back, and is
reported as ALREADY_IMPORTED with the number written the first time.

Locks are taken in one order (counters, then stock rows by SKU) so two imports cannot deadlock on
each other; a unique-key race (two runs creating the same customer) is retried in a new transaction.
"""

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import Column, Connection, Engine, Table, func, insert, literal, select, update
from sqlalchemy import exc as sa_exc

from kudos_sync.ci_office import schema as s
from kudos_sync.ci_office.engine import WRITE_OPTIONS
from kudos_sync.ci_office.errors import translate, translate_db_errors
from kudos_sync.domain.errors import ConfigurationError, RecordError
from kudos_sync.domain.ledger import (
    CustomerDetails,
    DocumentKind,
    ImportOutcome,
    ImportStatus,
    LedgerDocument,
)
from kudos_sync.sync.ports import Clock

IN_CHUNK = 1000  # SQL Server allows 2100 parameters per statement
_ATTEMPTS = 3  # unique-key races (a customer created by a concurrent import) are retried


@dataclass(frozen=True)
class _Tables:
    """The header, line and money tables of one document kind, and their differing column names."""

    header: Table
    date_column: Column[Any]
    lines: Table
    line_document: Column[Any]
    money: Table
    money_document: Column[Any]
    money_date: str
    counter: str
    stock_sign: int  # -1: an invoice takes stock out; +1: a credit note returns it


_INVOICE = _Tables(
    header=s.invoices,
    date_column=s.invoices.c.invoice_date,
    lines=s.invoice_lines,
    line_document=s.invoice_lines.c.invoice_number,
    money=s.payments,
    money_document=s.payments.c.invoice_number,
    money_date="payment_date",
    counter="invoice",
    stock_sign=-1,
)
_CREDIT_NOTE = _Tables(
    header=s.credit_notes,
    date_column=s.credit_notes.c.credit_date,
    lines=s.credit_note_lines,
    line_document=s.credit_note_lines.c.credit_note_number,
    money=s.refunds,
    money_document=s.refunds.c.credit_note_number,
    money_date="refund_date",
    counter="credit_note",
    stock_sign=+1,
)


def _tables(kind: DocumentKind) -> _Tables:
    return _INVOICE if kind is DocumentKind.INVOICE else _CREDIT_NOTE


def _naive_utc(value: datetime) -> datetime:
    return value.astimezone(UTC).replace(tzinfo=None) if value.tzinfo is not None else value


def _fit(column: Column[Any], value: str | None) -> str | None:
    """Free text cut to the column's length (CI Office would refuse the whole document otherwise)."""
    if value is None:
        return None
    length = getattr(column.type, "length", None)
    return value[:length] if isinstance(length, int) else value


def _whole_cents(value: Decimal, field: str, record: str) -> Decimal:
    """A header or payment amount at the column's scale. A fraction of a cent is a mapping bug, not
    something to round away silently (each database would round it differently)."""
    exponent = Decimal(1).scaleb(-s.TOTAL_SCALE)
    cents = value.quantize(exponent)
    if cents != value:
        raise RecordError(f"{record}: {field} {value} has a fraction of a cent", record=record, field=field)
    return cents


@dataclass(frozen=True)
class _Customer:
    code: str
    created: bool


class _AlreadyImportedError(Exception):
    def __init__(self, outcome: ImportOutcome) -> None:
        super().__init__(outcome.ci_document_number)
        self.outcome = outcome


class SqlLedger:
    """Ledger over the CI Office database (reference schema in `ci_office.schema`)."""

    def __init__(self, engine: Engine, *, clock: Clock | None = None) -> None:
        self._engine = engine
        self._clock = clock  # stamps created customers; the system clock when None

    # ------------------------------------------------------------ reads

    def known_skus(self, skus: Sequence[str]) -> set[str]:
        """Which of these SKUs exist in CI Office (one query per 1000 SKUs)."""
        wanted = sorted(set(skus))
        found: set[str] = set()
        if not wanted:
            return found
        with translate_db_errors("looking up SKUs", ConfigurationError), self._engine.connect() as conn:
            for start in range(0, len(wanted), IN_CHUNK):
                found.update(self._known_skus(conn, wanted[start : start + IN_CHUNK]))
        return found

    @staticmethod
    def _known_skus(conn: Connection, chunk: Sequence[str]) -> set[str]:
        return set(conn.scalars(select(s.skus.c.sku).where(s.skus.c.sku.in_(list(chunk)))))

    def find_document(self, kind: DocumentKind, magento_entity_id: int) -> ImportOutcome | None:
        """The outcome of an earlier import of this Magento document, if there was one."""
        with (
            translate_db_errors(f"looking up {kind} {magento_entity_id}", ConfigurationError),
            self._engine.connect() as conn,
        ):
            return self._existing(conn, kind, magento_entity_id)

    @staticmethod
    def _existing(conn: Connection, kind: DocumentKind, magento_entity_id: int) -> ImportOutcome | None:
        t = _tables(kind)
        row = conn.execute(
            select(t.header.c.number, t.header.c.customer_code).where(
                t.header.c.magento_entity_id == magento_entity_id
            )
        ).first()
        if row is None:
            return None
        return ImportOutcome(
            status=ImportStatus.ALREADY_IMPORTED, ci_document_number=row[0], customer_code=row[1]
        )

    # ------------------------------------------------------------ the write

    def import_document(self, document: LedgerDocument) -> ImportOutcome:
        """Write the document in one transaction; a replay returns ALREADY_IMPORTED.
        Raises RecordError (unknown SKU, tender or customer) or TransientError (deadlock, lost
        connection); nothing is written in either case."""
        record = f"{document.kind} {document.magento_increment_id or document.magento_entity_id}"
        action = f"importing {record}"
        for attempt in range(1, _ATTEMPTS + 1):
            try:
                with self._engine.connect() as conn:
                    conn = conn.execution_options(**WRITE_OPTIONS)
                    with conn.begin():
                        return self._import(conn, document, record)
            except _AlreadyImportedError as done:
                return done.outcome
            except sa_exc.IntegrityError as error:
                # The entity id's unique constraint (a concurrent or earlier import committed it),
                # or a unique-key race on a new customer / stock row: look, then retry once more.
                existing = self.find_document(document.kind, document.magento_entity_id)
                if existing is not None:
                    return existing
                if attempt == _ATTEMPTS:
                    raise translate(error, action) from None  # the cause may quote customer data
            except (sa_exc.DBAPIError, sa_exc.TimeoutError) as error:
                raise translate(error, action) from None  # the cause may quote customer data
        raise AssertionError("unreachable")  # pragma: no cover

    def _import(self, conn: Connection, document: LedgerDocument, record: str) -> ImportOutcome:
        t = _tables(document.kind)
        total = _whole_cents(document.total, "total", record)
        tax_total = _whole_cents(document.tax_total, "tax_total", record)
        existing = self._existing(conn, document.kind, document.magento_entity_id)
        if existing is not None:
            raise _AlreadyImportedError(existing)
        self._check_references(conn, document, record)
        customer = self._resolve_customer(conn, document.customer, record)
        number = self._next_number(conn, t.counter)
        when = _naive_utc(document.document_date)
        conn.execute(
            insert(t.header).values(
                {
                    "number": number,
                    "customer_code": customer.code,
                    t.date_column.key: when,
                    "currency": document.currency,
                    "total": total,
                    "tax_total": tax_total,
                    "magento_entity_id": document.magento_entity_id,
                    "magento_increment_id": document.magento_increment_id,
                    "order_increment_id": document.order_increment_id,
                    "branch_code": document.web_branch,
                }
            )
        )
        if document.lines:
            description = t.lines.c.description
            conn.execute(
                insert(t.lines),
                [
                    {
                        t.line_document.key: number,
                        "line_no": index,
                        "sku": line.sku,
                        "charge_code": line.charge_code,
                        "description": _fit(description, line.description) or "",
                        "quantity": line.quantity,
                        "unit_price": line.unit_price,
                        "discount": line.discount,
                        "tax": line.tax,
                        "line_total": line.line_total,
                    }
                    for index, line in enumerate(document.lines, start=1)
                ],
            )
        conn.execute(
            insert(t.money).values(
                {
                    t.money_document.key: number,
                    "customer_code": customer.code,
                    "tender_code": document.tender_code,
                    "amount": total,
                    t.money_date: when,
                }
            )
        )
        if document.kind is DocumentKind.INVOICE or document.adjust_stock:
            self._adjust_stock(conn, document, t.stock_sign)
        return ImportOutcome(
            status=ImportStatus.IMPORTED,
            ci_document_number=number,
            customer_code=customer.code,
            customer_created=customer.created,
        )

    def _check_references(self, conn: Connection, document: LedgerDocument, record: str) -> None:
        skus = sorted({line.sku for line in document.lines if line.sku is not None})
        known: set[str] = set()
        for start in range(0, len(skus), IN_CHUNK):
            known.update(self._known_skus(conn, skus[start : start + IN_CHUNK]))
        for index, line in enumerate(document.lines):
            if line.sku is not None and line.sku not in known:
                raise RecordError(
                    f"{record}: SKU {line.sku!r} on line {index + 1} is not in CI Office",
                    record=record,
                    field=f"lines[{index}].sku",
                )
        tender = conn.execute(
            select(s.tender_types.c.code).where(s.tender_types.c.code == document.tender_code)
        ).first()
        if tender is None:
            raise RecordError(
                f"{record}: tender type {document.tender_code!r} is not in CI Office",
                record=record,
                field="tender_code",
            )
        branch = conn.execute(
            select(s.branches.c.code).where(s.branches.c.code == document.web_branch)
        ).first()
        if branch is None:
            raise ConfigurationError(f"web branch {document.web_branch!r} is not a CI Office branch")

    def _resolve_customer(self, conn: Connection, details: CustomerDetails, record: str) -> _Customer:
        c = s.customers
        if details.fixed_customer_code:
            found = conn.execute(select(c.c.code).where(c.c.code == details.fixed_customer_code)).first()
            if found is None:
                raise RecordError(
                    f"{record}: customer {details.fixed_customer_code!r} is not in CI Office",
                    record=record,
                    field="customer.fixed_customer_code",
                )
            return _Customer(found[0], created=False)
        by_link = conn.execute(select(c.c.code).where(c.c.external_link == details.link_key)).first()
        if by_link is not None:
            return _Customer(by_link[0], created=False)
        if details.email:
            by_email = conn.execute(
                select(c.c.code, c.c.external_link)
                .where(func.lower(c.c.email) == details.email.strip().lower())
                .order_by(c.c.code)
            ).all()
            if by_email:
                # Prefer a customer not yet linked to anyone else; link it so the next match is by link.
                unlinked = [row for row in by_email if row[1] is None]
                if unlinked:
                    code = unlinked[0][0]
                    conn.execute(
                        update(c)
                        .where(c.c.code == code, c.c.external_link.is_(None))
                        .values(external_link=_fit(c.c.external_link, details.link_key))
                    )
                    return _Customer(code, created=False)
                return _Customer(by_email[0][0], created=False)
        code = self._next_number(conn, "customer")
        street = list(details.street)
        address = [*street[:2], ", ".join(street[2:]) or None] if street else [None, None, None]
        address += [None] * (3 - len(address))
        conn.execute(
            insert(c).values(
                code=code,
                first_name=_fit(c.c.first_name, details.first_name) or "",
                last_name=_fit(c.c.last_name, details.last_name) or "",
                email=details.email,
                phone=_fit(c.c.phone, details.phone),
                company=_fit(c.c.company, details.company),
                address1=_fit(c.c.address1, address[0]),
                address2=_fit(c.c.address2, address[1]),
                address3=_fit(c.c.address3, address[2]),
                city=_fit(c.c.city, details.city),
                region=_fit(c.c.region, details.region),
                postcode=_fit(c.c.postcode, details.postcode),
                country=(details.country or None) and details.country[:2].upper(),
                external_link=details.link_key,
                created_at=self._now(),
            )
        )
        return _Customer(code, created=True)

    def _next_number(self, conn: Connection, kind: str) -> str:
        """Take the next number of a series. The UPDATE takes the counter row's write lock (SQL
        Server, PostgreSQL) or the database write lock (SQLite) until commit, so numbers are unique
        and a rolled-back import gives its number back."""
        dc = s.document_counters
        updated = conn.execute(
            update(dc).where(dc.c.kind == kind).values(next_value=dc.c.next_value + literal(1))
        ).rowcount
        if updated == 0:
            # A remapped or hand-made schema without the counter row: start the series.
            conn.execute(insert(dc).values(kind=kind, next_value=2))
            value = 1
        else:
            value = conn.execute(select(dc.c.next_value).where(dc.c.kind == kind)).scalar_one() - 1
        return s.COUNTER_FORMATS.get(kind, "{}").format(value)

    @staticmethod
    def _adjust_stock(conn: Connection, document: LedgerDocument, sign: int) -> None:
        soh = s.stock_on_hand
        deltas: dict[str, Decimal] = defaultdict(Decimal)
        for line in document.lines:
            if line.sku is not None:
                deltas[line.sku] += line.quantity * sign
        changes = {sku: delta for sku, delta in sorted(deltas.items()) if delta != 0}
        if not changes:
            return
        present: set[str] = set()
        wanted = list(changes)
        for start in range(0, len(wanted), IN_CHUNK):
            present.update(
                conn.scalars(
                    select(soh.c.sku).where(
                        soh.c.branch_code == document.web_branch,
                        soh.c.sku.in_(wanted[start : start + IN_CHUNK]),
                    )
                )
            )
        # One UPDATE per SKU, in SKU order: the same lock order in every transaction.
        for sku, delta in changes.items():
            if sku in present:
                conn.execute(
                    update(soh)
                    .where(soh.c.sku == sku, soh.c.branch_code == document.web_branch)
                    .values(quantity=soh.c.quantity + delta)
                )
        missing = [
            {"sku": sku, "branch_code": document.web_branch, "quantity": delta}
            for sku, delta in changes.items()
            if sku not in present
        ]
        if missing:
            conn.execute(insert(soh), missing)

    def _now(self) -> datetime:
        now: datetime = self._clock.now() if self._clock is not None else datetime.now(UTC)
        return _naive_utc(now)
