"""`kudos-sync check` on the database itself: version, collation, isolation options, lock timeout,
rights, and reference tables and unique keys, each problem with what to fix."""

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from kudos_sync import preflight
from kudos_sync.ci_office import schema as s
from kudos_sync.ci_office.server import ServerFacts, describe_server, schema_problems
from kudos_sync.config import TenantConfig
from kudos_sync.preflight import check_sql_server
from sqlalchemy import Engine, text

from sandbox.ci_office.testing import compares_case_insensitively, engine_for_url, tenant_database
from tests.unit.test_push import make_config


def _config(ci_office_engine: Engine, **ci_office: object) -> TenantConfig:
    url = ci_office_engine.url.render_as_string(hide_password=False)
    return make_config(ci_office={"url": url, "encrypt": False, **ci_office})


def test_given_the_reference_schema_then_facts_reported_and_nothing_to_fix(ci_office_engine: Engine) -> None:
    facts = describe_server(ci_office_engine)
    findings = check_sql_server(_config(ci_office_engine), ci_office_engine)

    assert facts.dialect == ci_office_engine.dialect.name and facts.version
    assert facts.case_insensitive is compares_case_insensitively(ci_office_engine)
    assert facts.missing_rights == ()
    assert schema_problems(ci_office_engine) == []
    by_check = {finding.check: finding for finding in findings}
    assert all(finding.ok for finding in findings), [f for f in findings if not f.ok]
    assert by_check["ci office reference schema"].detail == "tables, columns and unique keys as expected"
    assert facts.collation in by_check["ci office collation"].detail
    if facts.dialect == "mssql":
        assert "READ_COMMITTED_SNAPSHOT" in by_check["ci office reads and tills"].detail
    else:  # PostgreSQL's MVCC and SQLite's WAL: readers never wait for writers
        assert facts.reads_versioned and facts.read_committed_snapshot is None
    if facts.dialect == "sqlite":
        assert facts.lock_timeout_ms is None and "ci office lock timeout" not in by_check
    else:
        assert facts.lock_timeout_ms == 10_000 and by_check["ci office lock timeout"].ok


@pytest.fixture
def scratch_engine(ci_office_backend: str, tmp_path: Path) -> Iterator[Engine]:
    """A CI Office of its own on this backend, for tests that break its schema."""
    with tenant_database(ci_office_backend, f"scratch-{uuid.uuid4().hex[:8]}", tmp_path) as url:
        engine = engine_for_url(url)
        try:
            yield engine
        finally:
            if ci_office_backend.endswith("-url"):  # one shared database: leave it as it was found
                s.drop_schema(engine)
                s.create_schema(engine)
            engine.dispose()


def test_given_an_unfiltered_unique_index_on_the_magento_link_then_a_problem_with_the_filtered_index_to_make(
    scratch_engine: Engine,
) -> None:
    ci_office_engine = scratch_engine
    with ci_office_engine.begin() as conn:  # what the schema was before SQL Server's one-NULL rule was known
        conn.execute(
            text("DROP INDEX uq_customers_external_link" + _on_table(conn.dialect.name, "customers"))
        )
        conn.execute(text("CREATE UNIQUE INDEX uq_customers_external_link ON customers (external_link)"))

    problems = schema_problems(ci_office_engine)
    findings = [f for f in check_sql_server(_config(ci_office_engine), ci_office_engine) if not f.ok]

    assert [p.problem for p in problems] == [
        "customers.external_link has an unfiltered unique index (uq_customers_external_link), which admits "
        "one NULL on SQL Server",
        "customers.external_link is not unique where set: a replayed Magento document or customer link "
        "could be written twice",
    ]
    assert problems[0].fix.endswith(
        "CREATE UNIQUE INDEX uq_customers_external_link ON customers (external_link) "
        "WHERE external_link IS NOT NULL"
    )
    assert [f.check for f in findings] == ["ci office reference schema"] * 2


def _on_table(dialect: str, table: str) -> str:
    return f" ON {table}" if dialect == "mssql" else ""


def test_given_a_unique_constraint_on_a_magento_id_then_a_problem_naming_it(scratch_engine: Engine) -> None:
    ci_office_engine = scratch_engine
    if ci_office_engine.dialect.name == "sqlite":
        pytest.skip("SQLite cannot add a constraint to an existing table")
    with ci_office_engine.begin() as conn:
        conn.execute(text("ALTER TABLE invoices ADD CONSTRAINT uq_old_invoices UNIQUE (magento_entity_id)"))

    problems = [p.problem for p in schema_problems(ci_office_engine)]

    assert problems == [
        "invoices.magento_entity_id has a UNIQUE constraint (uq_old_invoices), which admits one NULL "
        "on SQL Server"
    ]


def test_given_a_missing_table_then_a_problem_and_no_key_checks_on_it(scratch_engine: Engine) -> None:
    ci_office_engine = scratch_engine
    with ci_office_engine.begin() as conn:
        conn.execute(text("DROP TABLE refunds"))
        conn.execute(text("DROP TABLE credit_note_lines"))

    problems = [p.problem for p in schema_problems(ci_office_engine)]

    assert sorted(problems) == ["table credit_note_lines is missing", "table refunds is missing"]


@pytest.fixture
def read_only_login(ci_office_engine: Engine) -> Iterator[Engine]:
    """The same PostgreSQL schema through a role that may only read the catalogue."""
    if ci_office_engine.dialect.name != "postgresql":
        pytest.skip("a second login is made here on PostgreSQL only")
    role = f"kudos_ro_{uuid.uuid4().hex[:8]}"
    with ci_office_engine.begin() as conn:
        schema = conn.execute(text("SELECT current_schema()")).scalar_one()
        conn.execute(text(f'CREATE ROLE "{role}"'))
        conn.execute(text(f'GRANT USAGE ON SCHEMA "{schema}" TO "{role}"'))
        for table in ("branches", "tender_types", "styles", "colours", "sizes", "skus", "stock_on_hand"):
            conn.execute(text(f'GRANT SELECT ON "{schema}".{table} TO "{role}"'))
    url = ci_office_engine.url.render_as_string(hide_password=False)
    engine = engine_for_url(url.replace("options=-csearch_path", f"options=-crole%3D{role}%20-csearch_path"))
    try:
        yield engine
    finally:
        engine.dispose()
        with ci_office_engine.begin() as conn:
            conn.execute(text(f'DROP OWNED BY "{role}"'))
            conn.execute(text(f'DROP ROLE "{role}"'))


def test_given_a_login_without_write_rights_then_each_missing_right_named_with_the_grant_to_make(
    ci_office_engine: Engine, read_only_login: Engine
) -> None:
    facts = describe_server(read_only_login)
    rights = next(
        f
        for f in check_sql_server(_config(ci_office_engine), read_only_login)
        if f.check == "ci office rights"
    )

    assert "SELECT on product_images" in facts.missing_rights
    assert "INSERT on invoices" in facts.missing_rights and "UPDATE on stock_on_hand" in facts.missing_rights
    assert "SELECT on styles" not in facts.missing_rights
    assert not rights.ok and "GRANT" in rights.fix and "INSERT on invoices" in rights.detail


def _sql_server(**facts: object) -> ServerFacts:
    values: dict[str, object] = {
        "dialect": "mssql",
        "version": "15.0.4355.3 (Microsoft SQL Server 2019)",
        "collation": "Latin1_General_CI_AS",
        "case_insensitive": True,
        "reads_versioned": True,
        "read_committed_snapshot": True,
        "snapshot_isolation": "OFF",
        "lock_timeout_ms": 10_000,
        **facts,
    }
    return ServerFacts(**values)  # type: ignore[arg-type]


@pytest.mark.parametrize("rcsi", [True, False])
def test_given_sql_server_without_read_committed_snapshot_then_safe_and_the_option_recommended(
    rcsi: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(
        preflight,
        "describe_server",
        lambda engine: _sql_server(read_committed_snapshot=rcsi, reads_versioned=rcsi),
    )
    monkeypatch.setattr(preflight, "schema_problems", lambda engine: [])

    findings = {f.check: f for f in check_sql_server(make_config(), engine=None)}  # type: ignore[arg-type]

    reads = findings["ci office reads and tills"]
    assert all(f.ok for f in findings.values())  # safe either way: not a reason to fail the check
    assert f"READ_COMMITTED_SNAPSHOT {'ON' if rcsi else 'OFF'}" in reads.detail
    if rcsi:
        assert reads.fix == "" and "never wait" in reads.detail
    else:
        assert "READ_COMMITTED_SNAPSHOT ON" in reads.fix and "at most 10 s" in reads.detail


def test_given_sql_server_with_a_case_sensitive_collation_or_no_lock_timeout_then_said_with_what_to_do(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    facts = _sql_server(collation="Latin1_General_CS_AS", case_insensitive=False, lock_timeout_ms=-1)
    monkeypatch.setattr(preflight, "describe_server", lambda engine: facts)
    monkeypatch.setattr(preflight, "schema_problems", lambda engine: [])

    findings = {f.check: f for f in check_sql_server(make_config(), engine=None)}  # type: ignore[arg-type]

    assert findings["ci office collation"].ok and "parks them" in findings["ci office collation"].fix
    assert not findings["ci office lock timeout"].ok
    assert (
        findings["ci office lock timeout"].detail == "-1 ms on the sync's connections (configured 10000 ms)"
    )
