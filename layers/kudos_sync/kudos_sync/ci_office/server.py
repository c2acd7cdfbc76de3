"""What the database behind CI Office is: version, collation, isolation and lock options, the
login's rights, and whether the reference tables and unique keys are as this adapter expects.

`kudos-sync check` reports these (see `preflight.check_sql_server`). SQL Server is what production
runs; PostgreSQL and SQLite answer what applies to them. Only system catalogues are read here; the
reference schema's names come from `schema.py`.
"""

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Connection, Engine, inspect, text

from kudos_sync.ci_office import schema as s
from kudos_sync.ci_office.errors import translate_db_errors
from kudos_sync.ci_office.session import current_lock_timeout_ms
from kudos_sync.domain.errors import ConfigurationError

# What the sync does to each table: the push reads the catalogue, the pull writes the ledger.
READ_TABLES: tuple[str, ...] = (
    s.branches.name,
    s.tender_types.name,
    s.styles.name,
    s.colours.name,
    s.sizes.name,
    s.skus.name,
    s.stock_on_hand.name,
    s.product_images.name,
)
WRITE_TABLES: dict[str, tuple[str, ...]] = {
    s.customers.name: ("SELECT", "INSERT", "UPDATE"),
    s.document_counters.name: ("SELECT", "INSERT", "UPDATE"),
    s.stock_on_hand.name: ("SELECT", "INSERT", "UPDATE"),
    s.invoices.name: ("SELECT", "INSERT"),
    s.invoice_lines.name: ("SELECT", "INSERT"),
    s.payments.name: ("SELECT", "INSERT"),
    s.credit_notes.name: ("SELECT", "INSERT"),
    s.credit_note_lines.name: ("SELECT", "INSERT"),
    s.refunds.name: ("SELECT", "INSERT"),
}


@dataclass(frozen=True)
class ServerFacts:
    """The database as the sync meets it. None where the dialect has no such notion."""

    dialect: str
    version: str
    collation: str  # of the code columns (`skus.sku`), else the database's default
    case_insensitive: bool  # whether `TEE1` and `tee1` are one code to the database
    reads_versioned: bool  # whether a read sees the last committed row instead of waiting for a till
    read_committed_snapshot: bool | None  # SQL Server's READ_COMMITTED_SNAPSHOT option
    snapshot_isolation: str | None  # SQL Server's ALLOW_SNAPSHOT_ISOLATION state
    lock_timeout_ms: int | None  # as a connection of this engine runs (session.py)
    missing_rights: tuple[str, ...] = field(default=())  # "INSERT on invoices", ...


@dataclass(frozen=True)
class SchemaProblem:
    """Something in the reference tables that is not as the adapter expects, and how to fix it."""

    problem: str
    fix: str


def describe_server(engine: Engine) -> ServerFacts:
    """Read the facts of the database behind `engine` (system catalogues only)."""
    dialect = engine.dialect.name
    with translate_db_errors("reading the server's options", ConfigurationError), engine.connect() as conn:
        if dialect == "mssql":
            facts = _mssql(conn)
        elif dialect == "postgresql":
            facts = _postgresql(conn)
        else:
            facts = _sqlite(conn)
        rights = tuple(_missing_rights(conn, dialect))
        lock_timeout_ms = current_lock_timeout_ms(engine)
    return ServerFacts(**facts, lock_timeout_ms=lock_timeout_ms, missing_rights=rights)


def _mssql(conn: Connection) -> dict[str, Any]:
    version = conn.execute(
        text("SELECT CAST(SERVERPROPERTY('ProductVersion') AS nvarchar(64)), @@VERSION")
    ).one()
    column = conn.execute(
        text(
            "SELECT c.collation_name FROM sys.columns c "
            "WHERE c.object_id = OBJECT_ID(:table) AND c.name = :column"
        ),
        {"table": s.skus.name, "column": s.skus.c.sku.name},
    ).scalar()
    options = conn.execute(
        text(
            "SELECT CAST(DATABASEPROPERTYEX(DB_NAME(), 'Collation') AS nvarchar(128)), "
            "is_read_committed_snapshot_on, snapshot_isolation_state_desc "
            "FROM sys.databases WHERE name = DB_NAME()"
        )
    ).one()
    collation = str(column or options[0])
    rcsi = bool(options[1])
    return {
        "dialect": "mssql",
        "version": f"{version[0]} ({str(version[1]).splitlines()[0].strip()})",
        "collation": collation,
        "case_insensitive": "_CI" in collation.upper(),
        "reads_versioned": rcsi,
        "read_committed_snapshot": rcsi,
        "snapshot_isolation": str(options[2]),
    }


def _postgresql(conn: Connection) -> dict[str, Any]:
    version = str(conn.execute(text("SHOW server_version")).scalar_one())
    row = conn.execute(
        text(
            "SELECT coalesce(nullif(coll.collname, 'default'), d.datcollate), coll.collisdeterministic "
            "FROM pg_database d "
            "LEFT JOIN pg_attribute a ON a.attrelid = to_regclass(:table) AND a.attname = :column "
            "LEFT JOIN pg_collation coll ON coll.oid = a.attcollation "
            "WHERE d.datname = current_database()"
        ),
        {"table": s.skus.name, "column": s.skus.c.sku.name},
    ).one()
    return {
        "dialect": "postgresql",
        "version": version,
        "collation": str(row[0]),
        # A nondeterministic ICU collation (e.g. und-u-ks-level2) is how PostgreSQL ignores case.
        "case_insensitive": row[1] is False,
        "reads_versioned": True,  # MVCC: readers never wait for writers
        "read_committed_snapshot": None,
        "snapshot_isolation": None,
    }


def _sqlite(conn: Connection) -> dict[str, Any]:
    version = str(conn.exec_driver_sql("SELECT sqlite_version()").scalar_one())
    journal = str(conn.exec_driver_sql("PRAGMA journal_mode").scalar_one()).lower()
    return {
        "dialect": conn.dialect.name,
        "version": version,
        "collation": "BINARY",
        "case_insensitive": False,
        "reads_versioned": journal == "wal",  # WAL: readers see the last commit, never wait
        "read_committed_snapshot": None,
        "snapshot_isolation": None,
    }


def _missing_rights(conn: Connection, dialect: str) -> list[str]:
    wanted = [(table, "SELECT") for table in READ_TABLES if table not in WRITE_TABLES]
    wanted += [(table, right) for table, rights in WRITE_TABLES.items() for right in rights]
    if dialect == "mssql":
        query = text("SELECT HAS_PERMS_BY_NAME(:table, 'OBJECT', :right)")
    elif dialect == "postgresql":
        query = text("SELECT has_table_privilege(current_user, to_regclass(:table), :right)")
    else:
        return []  # SQLite: whoever can open the file can do everything
    missing = []
    for table, right in wanted:
        granted = conn.execute(query, {"table": table, "right": right}).scalar()
        if not granted:  # NULL: the table is not there (reported with the schema)
            missing.append(f"{right} on {table}")
    return missing


def schema_problems(engine: Engine) -> list[SchemaProblem]:
    """Where the database's tables differ from the reference schema in ways the sync depends on:
    missing tables or columns, and unique keys over nullable columns that are not filtered on
    IS NOT NULL (SQL Server's UNIQUE constraint admits one NULL: the second till customer without a
    Magento link would be refused)."""
    inspector = inspect(engine)
    present = set(inspector.get_table_names())
    problems: list[SchemaProblem] = []
    for table in s.metadata.sorted_tables:
        if table.name not in present:
            problems.append(
                SchemaProblem(
                    f"table {table.name} is missing",
                    "create it as kudos_sync/ci_office/schema.py declares it, or map the name there",
                )
            )
            continue
        columns = {column["name"] for column in inspector.get_columns(table.name)}
        missing = [column.name for column in table.columns if column.name not in columns]
        if missing:
            problems.append(
                SchemaProblem(
                    f"table {table.name} lacks columns {', '.join(missing)}",
                    "add them, or map the names in kudos_sync/ci_office/schema.py",
                )
            )
    for index in s.UNIQUE_WHERE_SET:
        column = index.columns[0]
        if column.table.name in present:
            problems.extend(_unique_where_set_problems(inspector, column.table.name, column.name))
    return problems


def _unique_where_set_problems(inspector: Any, table: str, column: str) -> list[SchemaProblem]:
    problems = []
    create = f"CREATE UNIQUE INDEX uq_{table}_{column} ON {table} ({column}) WHERE {column} IS NOT NULL"
    constraints = [c for c in inspector.get_unique_constraints(table) if c["column_names"] == [column]]
    for constraint in constraints:
        problems.append(
            SchemaProblem(
                f"{table}.{column} has a UNIQUE constraint ({constraint['name']}), which admits one "
                "NULL on SQL Server",
                f"drop it and use a filtered unique index: {create}",
            )
        )
    # A UNIQUE constraint's own index is listed too (flagged on PostgreSQL, by name on SQL Server).
    constraint_names = {constraint["name"] for constraint in constraints}
    unique = [
        index
        for index in inspector.get_indexes(table)
        if index["column_names"] == [column]
        and index["unique"]
        and not index.get("duplicates_constraint")
        and index["name"] not in constraint_names
    ]
    # The reflected filter of a filtered (partial) index: mssql_where, postgresql_where, sqlite_where.
    filtered = [
        index
        for index in unique
        if any(
            key.endswith("_where") and value is not None for key, value in index["dialect_options"].items()
        )
    ]
    unfiltered = [index for index in unique if index not in filtered]
    for index in unfiltered:
        problems.append(
            SchemaProblem(
                f"{table}.{column} has an unfiltered unique index ({index['name']}), which admits one "
                "NULL on SQL Server",
                f"replace it with a filtered one: {create}",
            )
        )
    if not filtered:
        problems.append(
            SchemaProblem(
                f"{table}.{column} is not unique where set: a replayed Magento document or customer "
                "link could be written twice",
                create,
            )
        )
    return problems
