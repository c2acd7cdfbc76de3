"""Building the SQLAlchemy engine for a tenant's CI Office database.

- SQL Server (`mssql+pymssql://...`, production): TLS required and the certificate validated
  (`transport.py`: TDS 7.4, FreeTDS `encryption="require"`, weakening options refused off
  loopback), a login timeout, `datetime2` round trips, and a pool of one or two
  connections with pre-ping, because one Lambda invocation runs one sync at a time.
- PostgreSQL (CI): as given, with pre-ping.
- SQLite (demo, fast tests): foreign keys on, WAL journal, a busy timeout (the lock timeout setting),
  usable from several threads,
  and write transactions opened with `BEGIN IMMEDIATE` (see `WRITE_OPTIONS`) so two writers queue for
  the lock instead of failing on the read-to-write upgrade.

Every engine's connections get the tenant's lock and statement timeouts (`session.py`).
"""

import sqlite3
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, NoSuchModuleError
from sqlalchemy.pool import StaticPool

from kudos_sync.ci_office.session import apply_session_settings
from kudos_sync.ci_office.session import mssql_connect_args as session_connect_args
from kudos_sync.ci_office.transport import mssql_connect_args as transport_connect_args
from kudos_sync.config import CiOfficeSettings
from kudos_sync.domain.errors import ConfigurationError

# Execution option the ledger sets on connections whose transaction will write.
WRITE_OPTION = "kudos_write"
WRITE_OPTIONS: dict[str, Any] = {WRITE_OPTION: True}

_POOL_SIZE = 1
_MAX_OVERFLOW = 1
_POOL_RECYCLE_SECONDS = 300  # below the idle timeouts of NAT gateways and SQL Server proxies
# SQLAlchemy's error text and echo logs otherwise carry each statement's parameters (customer data).
_HIDE_PARAMETERS: dict[str, Any] = {"hide_parameters": True}


def create_ci_office_engine(settings: CiOfficeSettings, **engine_options: Any) -> Engine:
    """The engine for this CI Office database. Raises ConfigurationError for an unusable URL."""
    raw_url = settings.url.get_secret_value()
    try:
        url = make_url(raw_url)
    except ArgumentError:
        raise ConfigurationError("CI Office url is not a valid SQLAlchemy URL") from None
    backend = url.get_backend_name()
    try:
        if backend == "mssql":
            engine = _create_mssql_engine(url, settings, engine_options)
        elif backend == "sqlite":
            engine = _create_sqlite_engine(url, settings, engine_options)
        else:
            engine = create_engine(url, pool_pre_ping=True, **{**_HIDE_PARAMETERS, **engine_options})
    except (NoSuchModuleError, ArgumentError, ImportError):
        raise ConfigurationError(
            f"CI Office url uses an unsupported driver ({url.drivername}); use mssql+pymssql"
        ) from None
    return apply_session_settings(engine, settings)  # lock and statement timeouts (session.py)


def _create_mssql_engine(url: Any, settings: CiOfficeSettings, engine_options: dict[str, Any]) -> Engine:
    connect_args: dict[str, Any] = {}
    if url.get_driver_name() == "pymssql":  # the supported driver; others get only what is passed
        connect_args.update(
            login_timeout=settings.login_timeout_seconds, use_datetime2=True, appname="kudos-sync"
        )
        connect_args.update(session_connect_args(settings))
        connect_args.update(transport_connect_args(url, settings.encrypt, settings.ca_bundle_pem))
    connect_args.update(engine_options.pop("connect_args", {}))
    options: dict[str, Any] = {
        "pool_pre_ping": True,
        "pool_size": _POOL_SIZE,
        "max_overflow": _MAX_OVERFLOW,
        "pool_recycle": _POOL_RECYCLE_SECONDS,
        "pool_timeout": settings.login_timeout_seconds,
        **_HIDE_PARAMETERS,
        **engine_options,
    }
    return create_engine(url, connect_args=connect_args, **options)


def _create_sqlite_engine(url: Any, settings: CiOfficeSettings, engine_options: dict[str, Any]) -> Engine:
    in_memory = url.database in (None, "", ":memory:") or "mode=memory" in str(url)
    # `timeout` is SQLite's busy timeout: how long a writer waits for another's lock.
    busy_seconds = float(settings.lock_timeout_seconds)
    connect_args: dict[str, Any] = {"check_same_thread": False, "timeout": busy_seconds}
    connect_args.update(engine_options.pop("connect_args", {}))
    options: dict[str, Any] = {**_HIDE_PARAMETERS, **engine_options}
    if in_memory:
        options.setdefault("poolclass", StaticPool)  # one shared connection, or every thread sees its own DB
    engine = create_engine(url, connect_args=connect_args, **options)

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: sqlite3.Connection, _record: Any) -> None:
        # Let SQLAlchemy, not pysqlite, decide when transactions begin (see `_on_begin`).
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        try:
            cursor.execute("PRAGMA foreign_keys=ON")
            if not in_memory:
                cursor.execute("PRAGMA journal_mode=WAL")
        finally:
            cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Connection) -> None:
        writes = conn.get_execution_options().get(WRITE_OPTION, False)
        conn.exec_driver_sql("BEGIN IMMEDIATE" if writes else "BEGIN")

    return engine
