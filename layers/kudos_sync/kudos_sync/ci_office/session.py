"""Per-connection session settings of a CI Office database: how long we wait for a till's locks and
how long any statement may take.

CI Office's tills write the same tables the sync reads and writes. SQL Server's defaults are to wait
for a lock forever (`@@LOCK_TIMEOUT` -1) and pymssql's to wait for a result forever; a Lambda
invocation would die first and leave nothing but a timeout. So every connection gets:

- SQL Server: `SET LOCK_TIMEOUT <ms>` on connect (error 1222 past it) and pymssql's `timeout=`
  (a client-side query timeout, DB-Lib error 20003; -2 from other drivers);
- PostgreSQL: `lock_timeout` (SQLSTATE 55P03) and `statement_timeout` (57014) for the session;
- SQLite: its busy timeout is the lock wait (`engine.py`).

`errors.py` maps each of those to a TransientError: the run stops, its state is saved as far as it
got, and the next run retries. A lock wait ends the statement, not the transaction; the ledger's
transaction is rolled back by its `with conn.begin()`.
"""

from typing import Any

from sqlalchemy import Engine, event, text

from kudos_sync.config import CiOfficeSettings


def mssql_connect_args(settings: CiOfficeSettings) -> dict[str, Any]:
    """pymssql connect arguments for the statement timeout (seconds, client side)."""
    return {"timeout": settings.statement_timeout_seconds}


def session_statements(dialect: str, settings: CiOfficeSettings) -> list[str]:
    """What each new connection of this dialect runs (the values are validated integers)."""
    lock_ms = settings.lock_timeout_seconds * 1000
    statement_ms = settings.statement_timeout_seconds * 1000
    if dialect == "mssql":
        return [f"SET LOCK_TIMEOUT {lock_ms}"]
    if dialect == "postgresql":
        return [f"SET SESSION lock_timeout = {lock_ms}", f"SET SESSION statement_timeout = {statement_ms}"]
    return []


def apply_session_settings(engine: Engine, settings: CiOfficeSettings) -> Engine:
    """Run the lock and statement timeouts on every new connection of `engine` (pool `connect`)."""
    statements = session_statements(engine.dialect.name, settings)
    if not statements:
        return engine

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # psycopg: in autocommit, or the rollback SQLAlchemy issues when the connection first goes
        # back to the pool would undo the settings (PostgreSQL's SET is transactional). SQL
        # Server's SET options are not, whatever the transaction does.
        psycopg_manual = getattr(dbapi_connection, "autocommit", None) is False
        if psycopg_manual:
            dbapi_connection.autocommit = True
        cursor = dbapi_connection.cursor()
        try:
            for statement in statements:
                cursor.execute(statement)
        finally:
            cursor.close()
            if psycopg_manual:
                dbapi_connection.autocommit = False

    return engine


def current_lock_timeout_ms(engine: Engine) -> int | None:
    """The lock timeout a connection of `engine` runs with, in milliseconds (None where the dialect
    has no such setting); `kudos-sync check` and the tests read it back."""
    dialect = engine.dialect.name
    with engine.connect() as conn:
        if dialect == "mssql":
            return int(conn.execute(text("SELECT @@LOCK_TIMEOUT")).scalar_one())
        if dialect == "postgresql":
            value = str(conn.execute(text("SELECT current_setting('lock_timeout')")).scalar_one())
            return _postgres_ms(value)
    return None


def _postgres_ms(value: str) -> int:
    """A PostgreSQL duration setting ("10s", "500ms", "0", "1min") in milliseconds."""
    units = {"ms": 1, "s": 1000, "min": 60_000, "h": 3_600_000, "d": 86_400_000}
    for unit in sorted(units, key=len, reverse=True):
        if value.endswith(unit) and value[: -len(unit)].isdigit():
            return int(value[: -len(unit)]) * units[unit]
    return int(value)
