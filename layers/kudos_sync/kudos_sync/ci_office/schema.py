"""CI Office's reference schema in SQLAlchemy Core: every table and column name the adapter uses.

CI Office's real schema is not public. The names below are modelled on its documented concepts
(styles, colours, sizes, SKUs, stock on hand, Internet Active, tender types...), so a deployment
whose database spells them differently remaps them here and nowhere else.

Conventions:
- Money is `Numeric(14, 4)` (prices, line amounts) or `Numeric(12, 2)` (document totals, payments:
  whole cents, see `TOTAL_SCALE`), read back as `Decimal`. Quantities are `Numeric(12, 3)`.
- Date-times are timezone-naive UTC (`datetime2` on SQL Server); the adapters convert at the edge.
- Text people type (names, descriptions, addresses) is `Unicode` (NVARCHAR on SQL Server); codes are
  `String` (VARCHAR).
- A nullable column that must be unique where it is set (a customer's Magento link, a document's
  Magento id) is a unique index filtered on `IS NOT NULL`, never a UNIQUE constraint: SQL Server's
  UNIQUE admits one NULL, and every CI Office holds many till customers and till documents without one.
- The database compares codes as its collation says (case-insensitive on a `_CI_AS` SQL Server);
  Python compares them with `kudos_sync.domain.codes.code_key`, the same rule.
"""

from typing import Any

from sqlalchemy import (
    Boolean,
    Column,
    Date,
    DateTime,
    Engine,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    Numeric,
    String,
    Table,
    Unicode,
    UnicodeText,
    insert,
    select,
)
from sqlalchemy.dialects import mssql

# Stable constraint names on every dialect, so an error or a migration can name them.
metadata = MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
        "ck": "ck_%(table_name)s_%(constraint_name)s",
    }
)

# ---------------------------------------------------------------- column types

MONEY = Numeric(14, 4, asdecimal=True)
TOTAL = Numeric(12, 2, asdecimal=True)
TOTAL_SCALE = 2
QUANTITY = Numeric(12, 3, asdecimal=True)
UTC_DATETIME = DateTime(timezone=False).with_variant(mssql.DATETIME2(), "mssql")  # type: ignore[no-untyped-call]
# Explicit SQL Server types, so DDL is modern even before the dialect has seen the server's version
# (it would otherwise fall back to DATETIME, NTEXT and IMAGE).
DAY = Date().with_variant(mssql.DATE(), "mssql")
LONG_TEXT = UnicodeText().with_variant(mssql.NVARCHAR(), "mssql")  # no length: NVARCHAR(max)
BLOB = LargeBinary().with_variant(mssql.VARBINARY(), "mssql")  # type: ignore[no-untyped-call]
CODE = 20  # length of CI codes (style, SKU, customer, document numbers)
SHORT_CODE = 10  # colour, size, branch, tender codes

# ---------------------------------------------------------------- reference data

branches = Table(
    "branches",
    metadata,
    Column("code", String(SHORT_CODE), primary_key=True),
    Column("name", Unicode(60), nullable=False),
    Column("is_web", Boolean, nullable=False, default=False),
)

tender_types = Table(
    "tender_types",
    metadata,
    Column("code", String(SHORT_CODE), primary_key=True),
    Column("description", Unicode(60), nullable=False),
)

# ---------------------------------------------------------------- catalogue

styles = Table(
    "styles",
    metadata,
    Column("code", String(CODE), primary_key=True),
    Column("description", Unicode(120), nullable=False),
    Column("brand", Unicode(60)),
    Column("stock_group", Unicode(60)),
    Column("internet_active", Boolean, nullable=False, default=False, index=True),
    Column("internet_category", Unicode(255)),  # "Womens/Dresses"
    Column("internet_long_description", LONG_TEXT),
    Column("retail_price", MONEY),
    Column("sale_price", MONEY),
    Column("sale_from", DAY),
    Column("sale_to", DAY),
    Column("updated_at", UTC_DATETIME, nullable=False),
)

colours = Table(
    "colours",
    metadata,
    Column("code", String(SHORT_CODE), primary_key=True),
    Column("description", Unicode(60), nullable=False),
)

sizes = Table(
    "sizes",
    metadata,
    Column("code", String(SHORT_CODE), primary_key=True),
    Column("description", Unicode(30), nullable=False),
    Column("size_order", Integer, nullable=False, default=0),
)

skus = Table(
    "skus",
    metadata,
    Column("sku", String(40), primary_key=True),
    Column("style_code", String(CODE), ForeignKey("styles.code"), nullable=False, index=True),
    Column("colour_code", String(SHORT_CODE), ForeignKey("colours.code")),
    Column("size_code", String(SHORT_CODE), ForeignKey("sizes.code")),
    Column("barcode", String(20)),
)

stock_on_hand = Table(
    "stock_on_hand",
    metadata,
    Column("sku", String(40), ForeignKey("skus.sku"), primary_key=True),
    Column("branch_code", String(SHORT_CODE), ForeignKey("branches.code"), primary_key=True),
    Column("quantity", QUANTITY, nullable=False),
)

product_images = Table(
    "product_images",
    metadata,
    Column("image_id", Integer, primary_key=True, autoincrement=True),
    Column("style_code", String(CODE), ForeignKey("styles.code"), nullable=False, index=True),
    Column("sequence", Integer, nullable=False),
    Column("colour_code", String(SHORT_CODE), ForeignKey("colours.code")),
    Column("content_type", String(40), nullable=False),
    Column("data", BLOB, nullable=False),
    Column("byte_length", Integer, nullable=False),
    Column("updated_at", UTC_DATETIME, nullable=False),
)

# ---------------------------------------------------------------- customers and ledger

customers = Table(
    "customers",
    metadata,
    Column("code", String(CODE), primary_key=True),
    Column("first_name", Unicode(60), nullable=False, default=""),
    Column("last_name", Unicode(60), nullable=False, default=""),
    Column("email", Unicode(254), index=True),
    Column("phone", Unicode(40)),
    Column("company", Unicode(100)),
    Column("address1", Unicode(100)),
    Column("address2", Unicode(100)),
    Column("address3", Unicode(100)),
    Column("city", Unicode(60)),
    Column("region", Unicode(60)),
    Column("postcode", Unicode(20)),
    Column("country", String(2)),
    Column("external_link", Unicode(300)),  # "magento:<id>", "guest:<e-mail>"; unique where set
    Column("created_at", UTC_DATETIME, nullable=False),
)

invoices = Table(
    "invoices",
    metadata,
    Column("number", String(CODE), primary_key=True),
    Column("customer_code", String(CODE), ForeignKey("customers.code"), nullable=False, index=True),
    Column("invoice_date", UTC_DATETIME, nullable=False),
    Column("currency", String(3), nullable=False),
    Column("total", TOTAL, nullable=False),
    Column("tax_total", TOTAL, nullable=False),
    Column("magento_entity_id", Integer),  # the idempotency key of the pull; unique where set
    Column("magento_increment_id", String(50)),
    Column("order_increment_id", String(50)),
    Column("branch_code", String(SHORT_CODE), ForeignKey("branches.code"), nullable=False),
)

invoice_lines = Table(
    "invoice_lines",
    metadata,
    Column("invoice_number", String(CODE), ForeignKey("invoices.number"), primary_key=True),
    Column("line_no", Integer, primary_key=True),
    Column("sku", String(40), ForeignKey("skus.sku")),
    Column("charge_code", String(SHORT_CODE)),
    Column("description", Unicode(255), nullable=False),
    Column("quantity", QUANTITY, nullable=False),
    Column("unit_price", MONEY, nullable=False),
    Column("discount", MONEY, nullable=False),
    Column("tax", MONEY, nullable=False),
    Column("line_total", MONEY, nullable=False),
)

payments = Table(
    "payments",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("invoice_number", String(CODE), ForeignKey("invoices.number"), nullable=False, index=True),
    Column("customer_code", String(CODE), ForeignKey("customers.code"), nullable=False),
    Column("tender_code", String(SHORT_CODE), ForeignKey("tender_types.code"), nullable=False),
    Column("amount", TOTAL, nullable=False),
    Column("payment_date", UTC_DATETIME, nullable=False),
)

credit_notes = Table(
    "credit_notes",
    metadata,
    Column("number", String(CODE), primary_key=True),
    Column("customer_code", String(CODE), ForeignKey("customers.code"), nullable=False, index=True),
    Column("credit_date", UTC_DATETIME, nullable=False),
    Column("currency", String(3), nullable=False),
    Column("total", TOTAL, nullable=False),
    Column("tax_total", TOTAL, nullable=False),
    Column("magento_entity_id", Integer),  # unique where set
    Column("magento_increment_id", String(50)),
    Column("order_increment_id", String(50)),
    Column("branch_code", String(SHORT_CODE), ForeignKey("branches.code"), nullable=False),
)

credit_note_lines = Table(
    "credit_note_lines",
    metadata,
    Column("credit_note_number", String(CODE), ForeignKey("credit_notes.number"), primary_key=True),
    Column("line_no", Integer, primary_key=True),
    Column("sku", String(40), ForeignKey("skus.sku")),
    Column("charge_code", String(SHORT_CODE)),
    Column("description", Unicode(255), nullable=False),
    Column("quantity", QUANTITY, nullable=False),
    Column("unit_price", MONEY, nullable=False),
    Column("discount", MONEY, nullable=False),
    Column("tax", MONEY, nullable=False),
    Column("line_total", MONEY, nullable=False),
)

refunds = Table(
    "refunds",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("credit_note_number", String(CODE), ForeignKey("credit_notes.number"), nullable=False, index=True),
    Column("customer_code", String(CODE), ForeignKey("customers.code"), nullable=False),
    Column("tender_code", String(SHORT_CODE), ForeignKey("tender_types.code"), nullable=False),
    Column("amount", TOTAL, nullable=False),
    Column("refund_date", UTC_DATETIME, nullable=False),
)


def _unique_where_set(column: Column[Any]) -> Index:
    """Unique among the rows where `column` is set, any number of NULLs, on every dialect (a filtered
    index on SQL Server, a partial index on PostgreSQL and SQLite)."""
    is_set = column.is_not(None)
    return Index(
        f"uq_{column.table.name}_{column.name}",
        column,
        unique=True,
        mssql_where=is_set,
        postgresql_where=is_set,
        sqlite_where=is_set,
    )


UNIQUE_WHERE_SET: tuple[Index, ...] = (
    _unique_where_set(customers.c.external_link),
    _unique_where_set(invoices.c.magento_entity_id),
    _unique_where_set(credit_notes.c.magento_entity_id),
)

document_counters = Table(
    "document_counters",
    metadata,
    Column("kind", String(20), primary_key=True),  # "invoice", "credit_note", "customer"
    Column("next_value", Integer, nullable=False),
)

# Counter kinds and how their numbers are written (web documents get their own series).
COUNTER_FORMATS: dict[str, str] = {
    "invoice": "WI{:07d}",
    "credit_note": "WC{:07d}",
    "customer": "W{:07d}",
}


def create_schema(engine: Engine) -> None:
    """Create the reference schema (tables missing only) and its document counters."""
    with engine.begin() as conn:  # one transaction: all or nothing where DDL is transactional
        metadata.create_all(conn, checkfirst=True)
        present = set(conn.scalars(select(document_counters.c.kind)))
        missing = [{"kind": kind, "next_value": 1} for kind in COUNTER_FORMATS if kind not in present]
        if missing:
            conn.execute(insert(document_counters), missing)


def drop_schema(engine: Engine) -> None:
    """Drop every table of the reference schema."""
    metadata.drop_all(engine, checkfirst=True)
