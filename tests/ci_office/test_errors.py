"""The driver-error table: transient, configuration, or a record problem."""

import sqlite3
import threading
from typing import Any

import psycopg.errors
import pymssql
import pytest
from kudos_sync.ci_office.catalogue import SqlCatalogueSource
from kudos_sync.ci_office.errors import classify, translate, translate_db_errors
from kudos_sync.domain.errors import ConfigurationError, RecordError, TransientError
from sqlalchemy import exc as sa_exc
from sqlalchemy import text

from sandbox.ci_office.testing import engine_for_url


def _wrapped(
    orig: BaseException, cls: type[sa_exc.DBAPIError] = sa_exc.OperationalError
) -> sa_exc.DBAPIError:
    return cls("SELECT secret_param", {"p": "hunter2"}, orig)


@pytest.mark.parametrize(
    ("orig", "expected"),
    [
        (
            pymssql.exceptions.OperationalError(1205, b"Transaction (Process ID 52) was deadlocked"),
            TransientError,
        ),
        (
            pymssql.exceptions.OperationalError(1222, b"Lock request time out period exceeded."),
            TransientError,
        ),
        (
            pymssql.exceptions.OperationalError(
                20009,
                b"DB-Lib error message 20009, severity 9:\nUnable to connect: Adaptive Server is unavailable",
            ),
            TransientError,
        ),
        (pymssql.exceptions.OperationalError(20047, b"DBPROCESS is dead or not enabled"), TransientError),
        (pymssql.exceptions.OperationalError(20003, b"Adaptive Server connection timed out"), TransientError),
        (pymssql.exceptions.OperationalError(-2, b"Timeout expired"), TransientError),  # statement timeout
        (pymssql.exceptions.OperationalError(20006, b"Write to the server failed"), TransientError),
        (
            pymssql.exceptions.OperationalError(
                18456,
                b"Login failed for user 'kudos'.DB-Lib error message 20018, severity 14:\n"
                b"General SQL Server error\nDB-Lib error message 20002, severity 9:\nconnection failed",
            ),
            ConfigurationError,
        ),
        (
            pymssql.exceptions.OperationalError(4060, b'Cannot open database "CI" requested by the login.'),
            ConfigurationError,
        ),
        (pymssql.exceptions.ProgrammingError(208, b"Invalid object name 'styles'."), ConfigurationError),
        (pymssql.exceptions.IntegrityError(2627, b"Violation of UNIQUE KEY constraint"), None),
        # A replay meeting the filtered unique index on magento_entity_id: the ledger decides.
        (pymssql.exceptions.IntegrityError(2601, b"Cannot insert duplicate key row ... unique index"), None),
        (psycopg.errors.DeadlockDetected("deadlock detected"), TransientError),
        (psycopg.errors.SerializationFailure("could not serialize"), TransientError),
        (psycopg.errors.AdminShutdown("terminating connection"), TransientError),
        (psycopg.errors.InvalidPassword("password authentication failed"), ConfigurationError),
        (psycopg.errors.InvalidCatalogName("database does not exist"), ConfigurationError),
        (
            psycopg.OperationalError('connection failed: FATAL:  database "ci" does not exist'),
            ConfigurationError,
        ),
        (psycopg.OperationalError("connection failed: Connection refused"), TransientError),
        (psycopg.errors.UniqueViolation("duplicate key"), None),
        (sqlite3.OperationalError("database is locked"), TransientError),
        (sqlite3.OperationalError("no such table: styles"), ConfigurationError),
        (sqlite3.IntegrityError("UNIQUE constraint failed: invoices.magento_entity_id"), None),
    ],
)
def test_driver_errors_are_classified(orig: BaseException, expected: type[Exception] | None) -> None:
    assert classify(_wrapped(orig)) is expected


def test_translated_errors_name_the_action_and_code_but_no_parameters() -> None:
    error = translate(
        _wrapped(pymssql.exceptions.OperationalError(1205, b"deadlocked")), "importing invoice 7"
    )

    assert isinstance(error, TransientError)
    assert "importing invoice 7" in str(error) and "1205" in str(error)
    assert "hunter2" not in str(error) and "secret_param" not in str(error)


def test_unclassified_integrity_error_becomes_record_error() -> None:
    error = translate(_wrapped(sqlite3.IntegrityError("CHECK failed"), sa_exc.IntegrityError), "importing x")

    assert isinstance(error, RecordError)


def test_invalidated_connection_is_transient() -> None:
    wrapped = sa_exc.OperationalError("SELECT 1", {}, Exception("gone"), connection_invalidated=True)

    assert classify(wrapped) is TransientError


def test_given_sqlite_locked_by_another_writer_when_reading_then_transient(tmp_path: Any) -> None:
    url = f"sqlite:///{tmp_path / 'locked.db'}"
    holder = sqlite3.connect(tmp_path / "locked.db", isolation_level=None)
    holder.execute("CREATE TABLE t (x INTEGER)")
    holder.execute("BEGIN EXCLUSIVE")
    engine = engine_for_url(url, connect_args={"timeout": 0.05})
    try:
        with pytest.raises(TransientError), translate_db_errors("reading t"), engine.connect() as conn:
            conn.execute(text("PRAGMA journal_mode=DELETE"))
            conn.execute(text("SELECT * FROM t")).all()
    finally:
        holder.execute("ROLLBACK")
        holder.close()
        engine.dispose()


def test_given_missing_schema_when_catalogue_read_then_configuration_error(tmp_path: Any) -> None:
    engine = engine_for_url(f"sqlite:///{tmp_path / 'empty.db'}")
    with pytest.raises(ConfigurationError):
        list(SqlCatalogueSource(engine).read_styles())
    engine.dispose()


def test_given_unreachable_postgres_then_transient() -> None:
    engine = engine_for_url(
        "postgresql+psycopg://postgres@127.0.0.1:1/none", connect_args={"connect_timeout": 2}
    )
    with pytest.raises(TransientError):
        list(SqlCatalogueSource(engine).read_styles())
    engine.dispose()


_ = threading  # keep the import list honest for readers of the locking test
