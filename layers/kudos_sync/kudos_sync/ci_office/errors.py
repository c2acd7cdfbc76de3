"""The one table that turns CI Office driver errors into the sync's failure classes.

SQL Server (pymssql), PostgreSQL (psycopg 3) and SQLite (sqlite3) report the same situations in
different ways: numbers, SQLSTATEs, or only a message. Everything that reads a driver's number or
message lives here; the adapters wrap their work in `translate_db_errors` and never look at a
driver exception themselves.

Messages name what was being done, the driver's error class and its code, never the SQL parameters
or the URL: a driver message can echo values (SQL Server's duplicate-key and truncation messages quote
the customer's e-mail or name), and SQLAlchemy's own text includes the statement's parameters. So the
translated error is raised `from None`: a chained cause would put that text into the traceback the
Lambda handler logs (`logger.exception`).
"""

import re
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import exc as sa_exc

from kudos_sync.domain.errors import ConfigurationError, RecordError, SyncError, TransientError

# ---------------------------------------------------------------- SQL Server (pymssql / FreeTDS)

# Worth retrying: deadlock victim, lock timeout, snapshot conflict, resource waits, Azure SQL's
# throttling/failover codes, and FreeTDS (DB-Lib) connection failures.
MSSQL_TRANSIENT: frozenset[int] = frozenset(
    {
        -2,  # client timeout
        233,  # no process on the other end of the pipe
        1205,  # deadlock victim
        1222,  # lock request time out
        3960,  # snapshot isolation update conflict
        8645,  # timeout waiting for memory
        10053,
        10054,  # connection reset by peer
        10060,
        10928,
        10929,
        40143,
        40197,  # Azure: service error processing the request
        40501,  # Azure: service busy
        40613,  # Azure: database unavailable
        49918,
        49919,
        49920,
        20003,  # DB-Lib: adaptive server connection timed out
        20004,  # DB-Lib: read from the server failed
        20006,  # DB-Lib: write to the server failed
        20009,  # DB-Lib: unable to connect, server unavailable or does not exist
        20017,  # DB-Lib: unexpected EOF from the server
        20047,  # DB-Lib: DBPROCESS is dead or not enabled
        20002,  # DB-Lib: adaptive server connection failed (after the config codes are ruled out)
    }
)

# The settings are wrong: credentials, database name, permissions, or a schema that is not ours.
MSSQL_CONFIGURATION: frozenset[int] = frozenset(
    {
        18456,  # login failed
        18452,  # login from an untrusted domain
        18486,  # account locked out
        18487,
        18488,  # password expired / must be changed
        4060,  # cannot open database requested by the login
        911,  # database does not exist
        916,  # server principal cannot access the database
        229,  # permission denied on object
        230,  # permission denied on column
        208,  # invalid object name (table not in this database)
        207,  # invalid column name
    }
)

_DBLIB_NUMBER = re.compile(r"(?:DB-Lib error message|Msg|message) (\d+)")

# ---------------------------------------------------------------- PostgreSQL (psycopg)

PG_TRANSIENT_STATES: frozenset[str] = frozenset(
    {
        "40001",  # serialization failure
        "40P01",  # deadlock detected
        "55P03",  # lock not available
        "57014",  # query cancelled (statement timeout)
        "57P01",  # admin shutdown
        "57P02",  # crash shutdown
        "57P03",  # cannot connect now
        "53000",
        "53100",
        "53200",
        "53300",  # too many connections
    }
)
PG_TRANSIENT_CLASSES: tuple[str, ...] = ("08",)  # connection exceptions
PG_CONFIGURATION_STATES: frozenset[str] = frozenset(
    {
        "28000",  # invalid authorisation
        "28P01",  # invalid password
        "3D000",  # invalid catalogue (database) name
        "3F000",  # invalid schema name
        "42501",  # insufficient privilege
        "42P01",  # undefined table
        "42703",  # undefined column
    }
)
# psycopg raises connection failures without a SQLSTATE; only libpq's message tells them apart.
_PG_CONNECT_CONFIGURATION = re.compile(
    r"password authentication failed|database \".*\" does not exist|role \".*\" does not exist"
    r"|no pg_hba\.conf entry|permission denied",
    re.IGNORECASE,
)

# ---------------------------------------------------------------- SQLite

_SQLITE_TRANSIENT = re.compile(r"database is locked|database table is locked|disk i/o error", re.IGNORECASE)
_SQLITE_CONFIGURATION = re.compile(
    r"no such table|no such column|unable to open database file", re.IGNORECASE
)
_SQLITE_BUSY_CODES: frozenset[int] = frozenset({5, 6})  # SQLITE_BUSY, SQLITE_LOCKED (primary codes)


def _mssql_numbers(orig: BaseException) -> set[int]:
    numbers: set[int] = set()
    args = getattr(orig, "args", ())
    if args and isinstance(args[0], int):
        numbers.add(args[0])
    text = " ".join(
        a.decode("utf-8", "replace") if isinstance(a, bytes) else str(a)
        for a in args
        if not isinstance(a, int)
    )
    numbers.update(int(n) for n in _DBLIB_NUMBER.findall(text))
    return numbers


def _classify_mssql(orig: BaseException) -> type[SyncError] | None:
    numbers = _mssql_numbers(orig)
    if numbers & MSSQL_CONFIGURATION:
        return ConfigurationError
    if numbers & MSSQL_TRANSIENT:
        return TransientError
    if type(orig).__name__ in ("OperationalError", "InterfaceError") and not numbers:
        return TransientError
    return None


def _classify_postgres(orig: BaseException) -> type[SyncError] | None:
    state = getattr(orig, "sqlstate", None)
    if isinstance(state, str):
        if state in PG_CONFIGURATION_STATES:
            return ConfigurationError
        if state in PG_TRANSIENT_STATES or state.startswith(PG_TRANSIENT_CLASSES):
            return TransientError
        return None
    if type(orig).__name__ in ("OperationalError", "InterfaceError"):
        if _PG_CONNECT_CONFIGURATION.search(str(orig)):
            return ConfigurationError
        return TransientError  # refused, reset, timed out: the server may be back next run
    return None


def _classify_sqlite(orig: BaseException) -> type[SyncError] | None:
    if not isinstance(orig, sqlite3.OperationalError):
        return None
    code = getattr(orig, "sqlite_errorcode", None)
    message = str(orig)
    if _SQLITE_CONFIGURATION.search(message):
        return ConfigurationError
    if (isinstance(code, int) and code & 0xFF in _SQLITE_BUSY_CODES) or _SQLITE_TRANSIENT.search(message):
        return TransientError
    return None


def _driver_code(orig: BaseException) -> str:
    """The driver's class and code (`IntegrityError SQLSTATE 23505`, `OperationalError error 1205`):
    enough to look the failure up, and nothing the statement carried."""
    kind = type(orig).__name__
    state = getattr(orig, "sqlstate", None)
    if isinstance(state, str):
        return f"{kind} SQLSTATE {state}"
    name = getattr(orig, "sqlite_errorname", None)
    if isinstance(name, str):
        return f"{kind} {name}"
    numbers = _mssql_numbers(orig) if type(orig).__module__.startswith(("pymssql", "_mssql")) else set()
    if numbers:
        return f"{kind} error " + "/".join(str(n) for n in sorted(numbers))
    return kind


def classify(error: BaseException) -> type[SyncError] | None:
    """The failure class of a driver or SQLAlchemy error, or None when it is not one of ours
    (for example a constraint violation, which the caller decides about)."""
    if isinstance(error, SyncError):
        return type(error)
    if isinstance(error, sa_exc.TimeoutError):  # connection pool exhausted
        return TransientError
    if isinstance(error, sa_exc.NoSuchModuleError | sa_exc.ArgumentError):
        return ConfigurationError
    orig: BaseException | None = error.orig if isinstance(error, sa_exc.DBAPIError) else error
    if isinstance(error, sa_exc.DBAPIError) and error.connection_invalidated:
        return TransientError
    if orig is None:
        return None
    module = type(orig).__module__
    if module.startswith(("pymssql", "_mssql")):
        return _classify_mssql(orig)
    if module.startswith("psycopg"):
        return _classify_postgres(orig)
    if module.startswith("sqlite3"):
        return _classify_sqlite(orig)
    return None


def translate(error: BaseException, action: str, unclassified: type[SyncError] = RecordError) -> SyncError:
    """The SyncError to raise for a database error met while doing `action` (e.g. "reading styles").
    Raise it `from None`: the driver error's text may quote customer data (see the module docstring).
    Errors that are neither transient nor configuration become `unclassified`: a RecordError for a
    write (the document is parked), a ConfigurationError for a catalogue read (nothing to park: the
    database is not what the adapter expects)."""
    kind = classify(error)
    orig = error.orig if isinstance(error, sa_exc.DBAPIError) else error
    code = _driver_code(orig) if orig is not None else type(error).__name__
    if kind is TransientError:
        return TransientError(f"CI Office database unavailable while {action} ({code}); will retry")
    if kind is ConfigurationError:
        return ConfigurationError(
            f"CI Office database refused {action} ({code}): check the CI Office URL, credentials and schema"
        )
    if isinstance(error, sa_exc.IntegrityError):
        return unclassified(f"CI Office rejected {action}: constraint violated ({code})")
    return unclassified(f"CI Office rejected {action} ({code})")


@contextmanager
def translate_db_errors(action: str, unclassified: type[SyncError] = RecordError) -> Iterator[None]:
    """Run a block of database work; a driver error leaves it as Transient/Configuration/RecordError
    (see `translate` for `unclassified`)."""
    try:
        yield
    except SyncError:
        raise
    except (sa_exc.DBAPIError, sa_exc.TimeoutError, sa_exc.NoSuchModuleError, sa_exc.ArgumentError) as error:
        raise translate(error, action, unclassified) from None  # the cause may quote customer data
