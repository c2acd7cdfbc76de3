"""Documents as the pull writes them into CI Office's ledger: one of these is one SQL transaction.

The pull builds them from Magento's invoices and credit memos (`sync.pull`); the CI Office adapter
(`ci_office.ledger`) writes each in a single transaction, keyed by the Magento entity id.
"""

from datetime import datetime
from decimal import Decimal
from enum import StrEnum

from pydantic import BaseModel, ConfigDict

from kudos_sync.domain.ids import BranchCode, MagentoEntityId, Sku


class CustomerDetails(BaseModel):
    """Who bought, as Magento knows them; used to match or create the CI Office customer."""

    model_config = ConfigDict(frozen=True)

    # The stable link stored on the CI customer: "magento:<customer_id>" for registered customers,
    # "guest:<lower-case e-mail>" for guests, or the tenant's cash-sale customer code.
    link_key: str
    email: str | None = None
    first_name: str = ""
    last_name: str = ""
    phone: str | None = None
    company: str | None = None
    street: tuple[str, ...] = ()
    city: str | None = None
    region: str | None = None
    postcode: str | None = None
    country: str | None = None
    # When set, never create: post to this existing CI customer code (guest policy "cash_sale").
    fixed_customer_code: str | None = None


class LedgerLine(BaseModel):
    """One line of a CI invoice or credit note. Amounts are per line, in the document currency."""

    model_config = ConfigDict(frozen=True)

    sku: Sku | None  # None for charge lines (shipping, adjustments) that carry `charge_code`
    charge_code: str | None = None
    description: str
    quantity: Decimal
    unit_price: Decimal  # as the tenant's tax mode says (incl. or excl. tax)
    discount: Decimal = Decimal("0")
    tax: Decimal = Decimal("0")
    line_total: Decimal  # quantity * unit_price - discount (+ tax when prices exclude tax)


class DocumentKind(StrEnum):
    INVOICE = "invoice"
    CREDIT_NOTE = "credit_note"


class LedgerDocument(BaseModel):
    """A CI invoice with its payment, or a CI credit note with its refund."""

    model_config = ConfigDict(frozen=True)

    kind: DocumentKind
    magento_entity_id: MagentoEntityId  # unique per kind in CI Office: a replay meets the constraint
    magento_increment_id: str
    order_increment_id: str
    document_date: datetime  # UTC
    currency: str
    customer: CustomerDetails
    lines: tuple[LedgerLine, ...]
    total: Decimal  # grand total; equals the payment (invoice) or refund (credit note)
    tax_total: Decimal
    tender_code: str  # CI tender type for the payment or refund
    web_branch: BranchCode
    # Invoice: reduce stock on hand of the web branch. Credit note: return stock when True.
    adjust_stock: bool = True


class ImportStatus(StrEnum):
    IMPORTED = "imported"
    ALREADY_IMPORTED = "already_imported"


class ImportOutcome(BaseModel):
    model_config = ConfigDict(frozen=True)

    status: ImportStatus
    ci_document_number: str
    customer_code: str
    customer_created: bool = False
