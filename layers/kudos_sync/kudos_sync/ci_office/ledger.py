"""CI Office, write side of the pull: one Magento invoice or credit memo = one SQL transaction.

The transaction resolves the customer, takes the next document number, writes the header (with the
Magento entity id under a unique index: the idempotency key), the lines, the payment or refund,
and adjusts stock on hand of the web branch. A replay meets the constraint, is rolled back, and is
reported as ALREADY_IMPORTED with the number written the first time.

Locks are taken in one order (counters, then stock rows by SKU) so two imports cannot deadlock on
each other; a unique-key race (two runs creating the same customer) is retried in a new transaction.

What the transaction holds, and for how long (docs/operations.md says it to the retailer): write
locks on the rows it writes - the `document_counters` rows of the web series (`customer`,
`invoice`, `credit_note`), the customer it creates or links, the new header, lines and payment or
refund rows, and the web branch's `stock_on_hand` row of each SKU sold - from the statement that
takes each until commit. The transaction talks to nothing but CI Office (the Magento document is
fetched before it begins), so it lasts as long as its dozen or so statements: milliseconds. Reads of
`skus`, `tender_types`, `branches` and `customers` take no lock past the statement under READ
COMMITTED. Any wait for a till's lock is bounded by the lock timeout (`session.py`): past it the
document is not written and the run ends with a TransientError, to be retried next run.
"""

from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import Column, Connection, Engine, func, insert, literal, select, update
from sqlalchemy import exc as sa_exc

from kudos_sync.ci_office import schema as s
from kudos_sync.ci_office.document_tables import tables_for
from kudos_sync.ci_office.engine import WRITE_OPTIONS
from kudos_sync.ci_office.errors import translate, translate_db_errors
from kudos_sync.domain.codes import code_key
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


def _ci_spellings(sku: str, found: dict[str, list[str]]) -> list[str]:
    """How CI Office spells `sku`: as asked when it has it so, else every SKU it has that is equal
    under `code_key` (more than one only where the collation is case-sensitive)."""
    spellings = found.get(code_key(sku), [])
    return [sku] if sku in spellings else spellings


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
        """Which of these SKUs exist in CI Office (one query per 1000 SKUs), spelt as asked: under a
        case-insensitive collation `tee1-blk-s` is CI Office's `TEE1-BLK-S`."""
        wanted = sorted(set(skus))
        if not wanted:
            return set()
        with translate_db_errors("looking up SKUs", ConfigurationError), self._engine.connect() as conn:
            found = self._ci_skus(conn, wanted)
        return {sku for sku in wanted if _ci_spellings(sku, found)}

    @staticmethod
    def _ci_skus(conn: Connection, skus: Sequence[str]) -> dict[str, list[str]]:
        """CI Office's own spellings of these SKUs, by `code_key`. The database is asked first in its
        own collation (an index seek); SKUs it does not hold as spelt are then looked up by
        `code_key` in SQL, so a case-sensitive database holding `Bag1` and `bag1` answers both for
        `BAG1` (and the caller refuses to choose)."""
        sku_column = s.skus.c.sku
        found: dict[str, set[str]] = defaultdict(set)
        for start in range(0, len(skus), IN_CHUNK):
            chunk = list(skus[start : start + IN_CHUNK])
            for sku in conn.scalars(select(sku_column).where(sku_column.in_(chunk))):
                found[code_key(sku)].add(sku)
        unmatched = sorted({code_key(sku) for sku in skus if sku not in found.get(code_key(sku), ())})
        folded = func.lower(func.rtrim(sku_column))
        for start in range(0, len(unmatched), IN_CHUNK):
            chunk = unmatched[start : start + IN_CHUNK]
            for sku in conn.scalars(select(sku_column).where(folded.in_(chunk))):
                found[code_key(sku)].add(sku)
        return {key: sorted(spellings) for key, spellings in found.items()}

    def find_document(self, kind: DocumentKind, magento_entity_id: int) -> ImportOutcome | None:
        """The outcome of an earlier import of this Magento document, if there was one."""
        with (
            translate_db_errors(f"looking up {kind} {magento_entity_id}", ConfigurationError),
            self._engine.connect() as conn,
        ):
            return self._existing(conn, kind, magento_entity_id)

    @staticmethod
    def _existing(conn: Connection, kind: DocumentKind, magento_entity_id: int) -> ImportOutcome | None:
        t = tables_for(kind)
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
        t = tables_for(document.kind)
        total = _whole_cents(document.total, "total", record)
        tax_total = _whole_cents(document.tax_total, "tax_total", record)
        existing = self._existing(conn, document.kind, document.magento_entity_id)
        if existing is not None:
            raise _AlreadyImportedError(existing)
        ci_skus = self._check_references(conn, document, record)
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
                        "sku": ci_skus[line.sku] if line.sku is not None else None,
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
            self._adjust_stock(conn, document, t.stock_sign, ci_skus)
        return ImportOutcome(
            status=ImportStatus.IMPORTED,
            ci_document_number=number,
            customer_code=customer.code,
            customer_created=customer.created,
        )

    def _check_references(self, conn: Connection, document: LedgerDocument, record: str) -> dict[str, str]:
        """Refuse the document for an unknown or ambiguous SKU, tender or branch; returns CI Office's
        spelling of each line's SKU, so lines and stock rows are written as CI Office has the SKU."""
        skus = sorted({line.sku for line in document.lines if line.sku is not None})
        found = self._ci_skus(conn, skus)
        ci_skus: dict[str, str] = {}
        for index, line in enumerate(document.lines):
            if line.sku is None:
                continue
            spellings = _ci_spellings(line.sku, found)
            if not spellings:
                raise RecordError(
                    f"{record}: SKU {line.sku!r} on line {index + 1} is not in CI Office",
                    record=record,
                    field=f"lines[{index}].sku",
                )
            if len(spellings) > 1:
                raise RecordError(
                    f"{record}: SKU {line.sku!r} on line {index + 1} is CI Office's "
                    f"{' and '.join(repr(sku) for sku in spellings)}, which differ only in case "
                    "or trailing spaces",
                    record=record,
                    field=f"lines[{index}].sku",
                )
            ci_skus[line.sku] = spellings[0]
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
        return ci_skus

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
                .where(func.lower(c.c.email) == code_key(details.email.strip()))
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
    def _adjust_stock(conn: Connection, document: LedgerDocument, sign: int, ci_skus: dict[str, str]) -> None:
        """Stock of the web branch moved by each line's quantity, per SKU as CI Office spells it
        (`ci_skus`): lines for `TEE1` and `tee1` move one SKU on a case-insensitive database."""
        soh = s.stock_on_hand
        deltas: dict[str, Decimal] = defaultdict(Decimal)
        for line in document.lines:
            if line.sku is not None:
                deltas[ci_skus[line.sku]] += line.quantity * sign
        changes = {sku: delta for sku, delta in sorted(deltas.items()) if delta != 0}
        if not changes:
            return
        rows: set[str] = set()  # the stock rows' own spellings (a till may have written `tee1`)
        wanted = list(changes)
        for start in range(0, len(wanted), IN_CHUNK):
            rows.update(
                conn.scalars(
                    select(soh.c.sku).where(
                        soh.c.branch_code == document.web_branch,
                        soh.c.sku.in_(wanted[start : start + IN_CHUNK]),
                    )
                )
            )
        row_keys = {code_key(sku) for sku in rows}
        asked_per_key = Counter(code_key(sku) for sku in wanted)

        def has_row(sku: str) -> bool:
            # The database matched the row under its collation; by key only when no other SKU asked
            # for shares the key (a case-sensitive database holding both `ABC` and `abc`).
            return sku in rows or (code_key(sku) in row_keys and asked_per_key[code_key(sku)] == 1)

        # One UPDATE per SKU, in SKU order: the same lock order in every transaction.
        for sku, delta in changes.items():
            if has_row(sku):
                conn.execute(
                    update(soh)
                    .where(soh.c.sku == sku, soh.c.branch_code == document.web_branch)
                    .values(quantity=soh.c.quantity + delta)
                )
        missing = [
            {"sku": sku, "branch_code": document.web_branch, "quantity": delta}
            for sku, delta in changes.items()
            if not has_row(sku)
        ]
        if missing:
            conn.execute(insert(soh), missing)

    def _now(self) -> datetime:
        now: datetime = self._clock.now() if self._clock is not None else datetime.now(UTC)
        return _naive_utc(now)
