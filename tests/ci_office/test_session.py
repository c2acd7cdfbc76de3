"""Lock and statement timeouts on every CI Office connection: a till's lock ends a run quickly with a
transient error (the next run retries), never by the Lambda's own timeout."""

import time
from collections.abc import Iterator
from typing import Any

import pytest
from kudos_sync.ci_office import schema as s
from kudos_sync.ci_office.catalogue import SqlCatalogueSource
from kudos_sync.ci_office.engine import WRITE_OPTIONS, create_ci_office_engine
from kudos_sync.ci_office.errors import translate_db_errors
from kudos_sync.ci_office.ledger import SqlLedger
from kudos_sync.ci_office.session import current_lock_timeout_ms, mssql_connect_args, session_statements
from kudos_sync.config import CiOfficeSettings
from kudos_sync.domain.errors import ConfigurationError, TransientError
from kudos_sync.domain.ledger import ImportStatus
from pydantic import SecretStr, ValidationError
from sqlalchemy import Connection, Engine, event, func, select, text, update

from sandbox.ci_office.testing import build_document, engine_like, seed_minimal

LOCK_SECONDS = 1
STATEMENT_SECONDS = 30
# Far below the statement timeout, far above the lock timeout: what "failed fast" means here.
FAST_SECONDS = 10.0


@pytest.fixture
def seeded(ci_office_engine: Engine) -> Engine:
    seed_minimal(ci_office_engine)
    return ci_office_engine


@pytest.fixture
def impatient(seeded: Engine) -> Iterator[Engine]:
    """The adapter's engine on the same database, waiting one second for a lock."""
    engine = engine_like(
        seeded, lock_timeout_seconds=LOCK_SECONDS, statement_timeout_seconds=STATEMENT_SECONDS
    )
    yield engine
    engine.dispose()


def _count(engine: Engine, table: Any) -> int:
    with engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(table)).scalar_one())


def _reads_are_versioned(conn: Connection) -> bool:
    """Whether a reader sees the last committed row instead of waiting for a writer's lock: always on
    PostgreSQL and SQLite in WAL mode, on SQL Server only with READ_COMMITTED_SNAPSHOT."""
    if conn.dialect.name != "mssql":
        return True
    return bool(
        conn.execute(
            text("SELECT is_read_committed_snapshot_on FROM sys.databases WHERE name = DB_NAME()")
        ).scalar_one()
    )


def test_given_defaults_then_lock_wait_bounded_and_below_the_statement_timeout() -> None:
    settings = CiOfficeSettings(url=SecretStr("mssql+pymssql://u:p@db/ci"))

    assert (settings.lock_timeout_seconds, settings.statement_timeout_seconds) == (10, 120)
    assert mssql_connect_args(settings) == {"timeout": 120}


def test_given_sql_server_then_lock_timeout_on_connect_and_query_timeout_in_pymssql() -> None:
    settings = CiOfficeSettings(
        url=SecretStr("mssql+pymssql://u:p@db.example.com/ci"),
        lock_timeout_seconds=5,
        statement_timeout_seconds=30,
    )
    engine = create_ci_office_engine(settings)
    seen: dict[str, Any] = {}

    @event.listens_for(engine, "do_connect")
    def capture(dialect: Any, record: Any, cargs: Any, cparams: dict[str, Any]) -> None:
        seen.update(cparams)
        raise ConnectionAbortedError  # never dial out

    with pytest.raises(ConnectionAbortedError):
        engine.connect()

    assert seen["timeout"] == 30
    assert session_statements("mssql", settings) == ["SET LOCK_TIMEOUT 5000"]
    assert session_statements("postgresql", settings) == [
        "SET SESSION lock_timeout = 5000",
        "SET SESSION statement_timeout = 30000",
    ]


@pytest.mark.parametrize(
    ("lock", "statement", "valid"),
    [(1, 2, True), (299, 300, True), (2, 2, False), (0, 2, False), (1, 901, False), (301, 900, False)],
)
def test_given_timeouts_when_validated_then_lock_wait_must_fit_in_a_statement(
    lock: int, statement: int, valid: bool
) -> None:
    def build() -> CiOfficeSettings:
        return CiOfficeSettings(
            url=SecretStr("sqlite://"), lock_timeout_seconds=lock, statement_timeout_seconds=statement
        )

    if valid:
        assert build().lock_timeout_seconds == lock
    else:
        with pytest.raises(ValidationError):
            build()


def test_given_a_connection_back_from_the_pool_then_its_lock_timeout_is_still_set(impatient: Engine) -> None:
    first = current_lock_timeout_ms(impatient)
    with impatient.begin() as conn:  # a transaction rolled back or committed must not undo it
        conn.execute(select(s.branches.c.code)).all()
    again = current_lock_timeout_ms(impatient)

    if impatient.dialect.name == "sqlite":
        assert first is again is None  # SQLite's lock wait is its busy timeout, set on connect
    else:
        assert first == again == LOCK_SECONDS * 1000


def test_given_a_till_holding_the_invoice_counter_when_imported_then_transient_fast_and_next_run_imports(
    seeded: Engine, impatient: Engine
) -> None:
    ledger = SqlLedger(impatient)
    with seeded.connect() as till:
        till = till.execution_options(**WRITE_OPTIONS)
        with till.begin():
            counters = s.document_counters
            till.execute(
                update(counters)
                .where(counters.c.kind == "invoice")
                .values(next_value=counters.c.next_value + 0)
            )
            started = time.monotonic()
            with pytest.raises(TransientError, match="will retry"):
                ledger.import_document(build_document())
            waited = time.monotonic() - started

    assert LOCK_SECONDS * 0.5 <= waited < FAST_SECONDS
    assert _count(seeded, s.invoices) == 0 and _count(seeded, s.customers) == 1  # all rolled back
    assert ledger.import_document(build_document()).status is ImportStatus.IMPORTED  # the next run


def test_given_a_till_writing_a_style_when_catalogue_read_then_read_or_transient_fast(
    seeded: Engine, impatient: Engine
) -> None:
    source = SqlCatalogueSource(impatient)
    with seeded.connect() as till:
        till = till.execution_options(**WRITE_OPTIONS)
        versioned = _reads_are_versioned(till)
        with till.begin():
            till.execute(
                update(s.styles).where(s.styles.c.code == "TEE1").values(description="Crew Tee (till)")
            )
            started = time.monotonic()
            if versioned:  # the reader sees the last committed row and never waits
                styles = {style.code: style.description for style in source.read_styles()}
                assert styles["TEE1"] == "Crew Tee"
            else:
                with pytest.raises(TransientError):
                    list(source.read_styles())
            waited = time.monotonic() - started

    assert waited < FAST_SECONDS


def test_given_a_table_lock_when_catalogue_read_then_transient_error_within_the_lock_timeout(
    seeded: Engine, impatient: Engine
) -> None:
    if seeded.dialect.name != "postgresql":
        pytest.skip("an explicit table lock that blocks readers is PostgreSQL's LOCK TABLE")
    source = SqlCatalogueSource(impatient)
    with seeded.begin() as till:
        till.execute(text("LOCK TABLE styles IN ACCESS EXCLUSIVE MODE"))
        started = time.monotonic()
        with pytest.raises(TransientError) as error:
            list(source.read_styles())
        waited = time.monotonic() - started

    assert "SQLSTATE 55P03" in str(error.value)
    assert LOCK_SECONDS * 0.5 <= waited < FAST_SECONDS
    assert [style.code for style in source.read_styles()] == ["BAG1", "TEE1"]  # released: reads again


def test_given_a_statement_longer_than_the_statement_timeout_then_transient_error(seeded: Engine) -> None:
    if seeded.dialect.name != "postgresql":
        pytest.skip("a server-side sleep to outlast the timeout is PostgreSQL's pg_sleep")
    engine = engine_like(seeded, lock_timeout_seconds=1, statement_timeout_seconds=2)
    try:
        started = time.monotonic()
        with (
            pytest.raises(TransientError) as error,
            translate_db_errors("reading styles", ConfigurationError),
            engine.connect() as conn,
        ):
            conn.execute(text("SELECT pg_sleep(20)"))
        waited = time.monotonic() - started
    finally:
        engine.dispose()

    assert "SQLSTATE 57014" in str(error.value)
    assert 1.5 <= waited < FAST_SECONDS


def test_given_a_sqlite_url_then_the_busy_timeout_is_the_lock_timeout(tmp_path: Any) -> None:
    settings = CiOfficeSettings(url=SecretStr(f"sqlite:///{tmp_path / 'ci.db'}"), lock_timeout_seconds=3)
    engine = create_ci_office_engine(settings)
    try:
        with engine.connect() as conn:
            busy_ms = conn.exec_driver_sql("PRAGMA busy_timeout").scalar_one()
    finally:
        engine.dispose()

    assert busy_ms == 3000
