"""The CI Office tables one document kind is written to (header, lines, payment or refund), and the
column names that differ between invoices and credit notes: the ledger writes both through this."""

from dataclasses import dataclass
from typing import Any

from sqlalchemy import Column, Table

from kudos_sync.ci_office import schema as s
from kudos_sync.domain.ledger import DocumentKind


@dataclass(frozen=True)
class DocumentTables:
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


INVOICE_TABLES = DocumentTables(
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
CREDIT_NOTE_TABLES = DocumentTables(
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


def tables_for(kind: DocumentKind) -> DocumentTables:
    return INVOICE_TABLES if kind is DocumentKind.INVOICE else CREDIT_NOTE_TABLES
