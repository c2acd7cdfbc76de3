"""create_ci_office_engine: TLS and timeouts for SQL Server, safe SQLite, URLs checked."""

import threading
from typing import Any

import pytest
from kudos_sync.ci_office.engine import create_ci_office_engine
from kudos_sync.config import CiOfficeSettings
from kudos_sync.domain.errors import ConfigurationError
from pydantic import SecretStr
from sqlalchemy import Engine, event, text
from sqlalchemy.pool import QueuePool


class _Stop(Exception):
    pass


def _connect_params(engine: Engine) -> dict[str, Any]:
    seen: dict[str, Any] = {}

    @event.listens_for(engine, "do_connect")
    def capture(dialect: Any, record: Any, cargs: Any, cparams: dict[str, Any]) -> None:
        seen.update(cparams)
        raise _Stop

    with pytest.raises(_Stop):
        engine.connect()
    return seen


def test_given_mssql_url_with_encrypt_then_tls_required_and_login_timeout() -> None:
    settings = CiOfficeSettings(
        url=SecretStr("mssql+pymssql://kudos:pw@ci.example.com:1433/CIOffice"), login_timeout_seconds=9
    )
    engine = create_ci_office_engine(settings)

    params = _connect_params(engine)

    assert params["encryption"] == "require"
    assert params["login_timeout"] == 9
    assert params["use_datetime2"] is True
    assert params["host"].startswith("ci.example.com") and params["database"] == "CIOffice"
    assert isinstance(engine.pool, QueuePool) and engine.pool.size() == 1
    assert "pw" not in repr(engine)


def test_given_mssql_on_loopback_without_encrypt_then_encryption_off() -> None:
    """Off loopback, encrypt=false is refused (tests/security/test_transport.py)."""
    settings = CiOfficeSettings(url=SecretStr("mssql+pymssql://kudos:pw@127.0.0.1/CIOffice"), encrypt=False)

    assert _connect_params(create_ci_office_engine(settings))["encryption"] == "off"


def test_given_bad_url_then_configuration_error_without_secret() -> None:
    for url in ("not a url", "nosuchdb+driver://u:hunter2@h/db"):
        with pytest.raises(ConfigurationError) as error:
            create_ci_office_engine(CiOfficeSettings(url=SecretStr(url)))
        assert "hunter2" not in str(error.value)


def test_given_sqlite_then_foreign_keys_on_and_threads_can_share_it(tmp_path: Any) -> None:
    engine = create_ci_office_engine(CiOfficeSettings(url=SecretStr(f"sqlite:///{tmp_path / 'x.db'}")))
    with engine.connect() as conn:
        assert conn.execute(text("PRAGMA foreign_keys")).scalar() == 1
    results: list[int] = []

    def use() -> None:
        with engine.connect() as conn:
            results.append(int(conn.execute(text("SELECT 1")).scalar_one()))

    threads = [threading.Thread(target=use) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert results == [1, 1, 1, 1]
    engine.dispose()


def test_given_in_memory_sqlite_then_one_database_across_threads() -> None:
    engine = create_ci_office_engine(CiOfficeSettings(url=SecretStr("sqlite://")))
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE t (x INTEGER)"))
    seen: list[int] = []

    def read() -> None:
        with engine.connect() as conn:
            seen.append(int(conn.execute(text("SELECT count(*) FROM t")).scalar_one()))

    thread = threading.Thread(target=read)
    thread.start()
    thread.join()
    assert seen == [0]
