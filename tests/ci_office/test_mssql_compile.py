"""Every statement the CI Office gateway issues compiles for SQL Server, with parameters, not literals.

The statements are collected by running the gateway (SqlCatalogueSource, SqlLedger, create_schema)
against SQLite with a `before_execute` listener that keeps the Core ClauseElements, then each is
compiled with the mssql dialect (base and pymssql)."""

from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import pytest
from kudos_sync.ci_office import schema as s
from kudos_sync.ci_office.catalogue import SqlCatalogueSource
from kudos_sync.ci_office.ledger import SqlLedger
from kudos_sync.domain.errors import RecordError
from kudos_sync.domain.ledger import CustomerDetails, DocumentKind
from sqlalchemy import Engine, delete, event
from sqlalchemy.dialects import mssql
from sqlalchemy.dialects.mssql import pymssql as mssql_pymssql
from sqlalchemy.schema import CreateIndex, CreateTable, DDLElement
from sqlalchemy.sql import ClauseElement
from sqlalchemy.sql.dml import Insert, Update

from sandbox.ci_office import demo_data
from sandbox.ci_office.testing import build_document, engine_for_url


def _sql_server_2019(dialect: Any) -> Any:
    """A dialect configured as after connecting to SQL Server 2019 (what production runs)."""
    dialect.server_version_info = (15, 0)
    dialect._setup_version_attributes()
    return dialect


DIALECTS: dict[str, Any] = {
    "mssql": mssql.dialect(),  # type: ignore[no-untyped-call]
    "mssql+pymssql": mssql_pymssql.dialect(),  # type: ignore[no-untyped-call]
    "mssql-2019": _sql_server_2019(mssql_pymssql.dialect()),  # type: ignore[no-untyped-call]
}
MSSQL_PARAMETER_LIMIT = 2100


@dataclass(frozen=True)
class Issued:
    statement: ClauseElement
    parameters: list[dict[str, Any]]


def _capture(engine: Engine) -> tuple[list[Issued], Any]:
    issued: list[Issued] = []

    def keep(conn: Any, clauseelement: Any, multiparams: Any, params: Any, options: Any) -> None:
        if isinstance(clauseelement, ClauseElement):
            rows = list(multiparams) if multiparams else ([params] if params else [])
            issued.append(Issued(clauseelement, [dict(row) for row in rows if isinstance(row, dict)]))

    event.listen(engine, "before_execute", keep)
    return issued, keep


def _values(issued: Issued) -> set[str]:
    """The user values sent with a statement (strings long enough to be recognised in SQL text)."""
    found: set[str] = set()
    for row in issued.parameters:
        found.update(str(v) for v in row.values() if isinstance(v, str | Decimal) and len(str(v)) >= 4)
    for bind in _binds(issued.statement):
        value = bind.value
        for item in value if isinstance(value, list | tuple) else [value]:
            if isinstance(item, str | Decimal) and len(str(item)) >= 4:
                found.add(str(item))
    return found


def _binds(statement: ClauseElement) -> Iterator[Any]:
    from sqlalchemy.sql.visitors import iterate

    for element in iterate(statement):
        if element.__visit_name__ == "bindparam":
            yield element


@pytest.fixture(scope="module")
def gateway_statements(tmp_path_factory: pytest.TempPathFactory) -> list[Issued]:
    engine = engine_for_url(f"sqlite:///{tmp_path_factory.mktemp('mssql') / 'ci.db'}")
    issued, listener = _capture(engine)
    s.create_schema(engine)  # DDL and the counter seed
    event.remove(engine, "before_execute", listener)
    demo_data.generate(engine, 80, seed=2)
    sku = demo_data.pick_sku(engine, seed=1)
    unstocked = demo_data.pick_sku(engine, seed=2)
    demo_data.set_stock(engine, unstocked, "WEB", 0)
    with engine.begin() as conn:  # exercise the "no stock row" and "no counter row" paths
        conn.execute(delete(s.stock_on_hand).where(s.stock_on_hand.c.sku == unstocked))
        conn.execute(delete(s.document_counters).where(s.document_counters.c.kind == "credit_note"))
    linked = demo_data.pick_customer(engine, seed=4, linked=False)
    with engine.connect() as conn:
        email = conn.execute(s.customers.select().where(s.customers.c.code == linked)).one().email

    event.listen(engine, "before_execute", listener)
    source = SqlCatalogueSource(engine)
    list(source.read_styles())
    list(source.read_stock(["WEB", "AKL"]))
    metas = list(source.read_image_meta())
    source.read_image(metas[0].image_id)
    ledger = SqlLedger(engine)
    ledger.known_skus([sku, *[f"NOPE{n}" for n in range(1500)]])
    lines = [(sku, 1, "49.90"), (unstocked, 2, "10.00")]
    ledger.import_document(build_document(entity_id=1, lines=lines, shipping="5.00"))
    ledger.import_document(build_document(entity_id=1, lines=lines))  # replay
    ledger.import_document(
        build_document(
            entity_id=2, lines=lines, customer=CustomerDetails(link_key="magento:9", email=email.upper())
        )
    )
    ledger.import_document(
        build_document(
            entity_id=3, lines=lines, customer=CustomerDetails(link_key="CASH", fixed_customer_code="CASH")
        )
    )
    ledger.import_document(build_document(kind=DocumentKind.CREDIT_NOTE, entity_id=1, lines=lines))
    with pytest.raises(RecordError):
        ledger.import_document(build_document(entity_id=4, lines=[("NO-SUCH-SKU", 1, "1.00")]))
    event.remove(engine, "before_execute", listener)
    engine.dispose()
    return issued


def test_the_gateway_issues_core_statements(gateway_statements: list[Issued]) -> None:
    kinds = {type(issued.statement).__name__ for issued in gateway_statements}

    assert {"Select", "Insert", "Update", "CreateTable"} <= kinds
    assert len(gateway_statements) > 40
    assert not any(type(i.statement).__name__ == "TextClause" for i in gateway_statements)


@pytest.mark.parametrize("dialect_name", sorted(DIALECTS))
def test_every_gateway_statement_compiles_for_sql_server_with_parameters(
    gateway_statements: list[Issued], dialect_name: str
) -> None:
    dialect = DIALECTS[dialect_name]
    for issued in gateway_statements:
        statement = issued.statement
        if isinstance(statement, DDLElement):
            sql = str(statement.compile(dialect=dialect))
            assert sql.strip()
            continue
        keys = list(issued.parameters[0]) if issued.parameters else None
        compiled = statement.compile(
            dialect=dialect, column_keys=keys, compile_kwargs={"render_postcompile": True}
        )
        sql = str(compiled)
        assert sql.strip(), statement
        assert "LIMIT" not in sql.upper().split(), sql
        for value in _values(issued):
            assert value not in sql, f"value {value!r} rendered into SQL: {sql}"
        if isinstance(statement, Insert | Update) or " WHERE " in sql:
            assert compiled.params or keys, f"no parameters in {sql}"
        assert len(compiled.params) <= MSSQL_PARAMETER_LIMIT, f"{len(compiled.params)} parameters"


@pytest.mark.parametrize("table", s.metadata.sorted_tables, ids=lambda table: table.name)
@pytest.mark.parametrize("dialect_name", sorted(DIALECTS))
def test_every_table_creates_on_sql_server(table: Any, dialect_name: str) -> None:
    dialect = DIALECTS[dialect_name]
    ddl = str(CreateTable(table).compile(dialect=dialect))
    for index in table.indexes:
        assert str(CreateIndex(index).compile(dialect=dialect))

    assert ddl.startswith("\nCREATE TABLE " + table.name)
    if table is s.styles:
        for sql_type in ("DATETIME2", "BIT", "NUMERIC(14, 4)", "NVARCHAR(max)", "sale_from DATE NULL"):
            assert sql_type in ddl
    if table is s.product_images:
        assert "VARBINARY(max)" in ddl and "IDENTITY" in ddl
    if table in (s.invoices, s.credit_notes):  # till documents have no Magento id
        assert "UNIQUE (magento_entity_id)" not in ddl
        indexes = [str(CreateIndex(index).compile(dialect=dialect)) for index in table.indexes]
        assert (
            f"CREATE UNIQUE INDEX uq_{table.name}_magento_entity_id ON {table.name} (magento_entity_id) "
            "WHERE magento_entity_id IS NOT NULL"
        ) in indexes
    if table is s.customers:
        # SQL Server's UNIQUE admits one NULL; most customers have no Magento link.
        assert "UNIQUE (external_link)" not in ddl
        indexes = [str(CreateIndex(index).compile(dialect=dialect)) for index in table.indexes]
        assert (
            "CREATE UNIQUE INDEX uq_customers_external_link ON customers (external_link) "
            "WHERE external_link IS NOT NULL"
        ) in indexes


@pytest.mark.parametrize("table", s.metadata.sorted_tables, ids=lambda table: table.name)
def test_every_nullable_unique_column_is_a_filtered_unique_index_on_sql_server(table: Any) -> None:
    dialect = DIALECTS["mssql-2019"]
    ddl = str(CreateTable(table).compile(dialect=dialect))
    filtered = {
        index.columns[0].name: str(CreateIndex(index).compile(dialect=dialect))
        for index in table.indexes
        if index.unique and len(index.columns) == 1
    }
    for column in table.columns:
        if column.nullable and (column.unique or column.name in filtered):
            assert f"UNIQUE ({column.name})" not in ddl
            assert filtered[column.name].endswith(f"WHERE {column.name} IS NOT NULL")
