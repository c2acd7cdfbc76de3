"""`kudos-sync demo --ci-office-url URL`: the demo against an integrator's scratch database, with the
reference schema created there only when asked."""

from io import StringIO
from pathlib import Path

import pytest
from kudos_sync.ci_office import schema as ci
from rich.console import Console
from sqlalchemy import create_engine, func, select

import sandbox.demo
from sandbox.ci_office.testing import POSTGRESQL, SQLSERVER_LIKE, tenant_database


@pytest.fixture
def demo_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    directory = tmp_path / ".demo"
    monkeypatch.setattr(sandbox.demo, "DEMO_DIR", directory)
    return directory


def _console() -> tuple[Console, StringIO]:
    out = StringIO()
    return Console(file=out, width=200, color_system=None), out


def test_given_a_database_without_the_reference_schema_when_demo_runs_then_it_asks_for_create_schema(
    demo_dir: Path, tmp_path: Path
) -> None:
    console, out = _console()
    with tenant_database(POSTGRESQL, "demo-empty", tmp_path) as url:
        engine = create_engine(url)
        ci.drop_schema(engine)  # a scratch database as an integrator has it: no tables

        status = sandbox.demo.run_demo(console, skus=80, ci_office_url=url)
        tables = sandbox.demo.missing_reference_tables(engine)
        engine.dispose()

    assert status == 2
    assert "--create-schema" in out.getvalue() and "lacks the reference tables" in out.getvalue()
    assert len(tables) == len(ci.metadata.sorted_tables)  # nothing was created without asking


def test_given_create_schema_when_demo_runs_on_a_url_then_both_ways_succeed_there(
    demo_dir: Path, tmp_path: Path
) -> None:
    console, out = _console()
    with tenant_database(POSTGRESQL, "demo-create", tmp_path) as url:
        engine = create_engine(url)
        ci.drop_schema(engine)

        status = sandbox.demo.run_demo(console, skus=80, ci_office_url=url, create_schema=True)
        with engine.connect() as conn:
            invoices = conn.execute(select(func.count()).select_from(ci.invoices)).scalar_one()
        engine.dispose()

    assert status == 0, out.getvalue()[-2000:]
    assert "postgresql at --ci-office-url" in out.getvalue()
    assert invoices == 4


def test_given_a_sql_server_like_database_with_data_when_demo_runs_then_it_refuses_and_deletes_nothing(
    demo_dir: Path, tmp_path: Path
) -> None:
    console, out = _console()
    with tenant_database(SQLSERVER_LIKE, "demo-full", tmp_path) as url:
        engine = create_engine(url)
        first = sandbox.demo.run_demo(console, skus=80, ci_office_url=url)
        with engine.connect() as conn:
            styles = conn.execute(select(func.count()).select_from(ci.styles)).scalar_one()
        second = sandbox.demo.run_demo(console, skus=80, ci_office_url=url)
        with engine.connect() as conn:
            styles_after = conn.execute(select(func.count()).select_from(ci.styles)).scalar_one()
        engine.dispose()

    assert first == 0, out.getvalue()[-2000:]
    assert second == 2 and "already has data" in out.getvalue()
    assert styles_after == styles > 0
