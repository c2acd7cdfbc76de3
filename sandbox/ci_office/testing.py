"""Isolated CI Office databases for tests, as functions and pytest fixtures any test folder can reuse.

The backends (`BACKENDS`, also the test ids):
- `sqlite`: a SQLite file in the test's temporary directory.
- `postgresql`: a schema of its own per test process (`t_<random>`) in the database at
  `KUDOS_TEST_POSTGRES_URL`, reached through `search_path`, emptied before each test and dropped when
  the process exits, so parallel tests (`pytest -n`) never meet.
- `postgresql-sqlserver-like`: the same server, another schema, with SQL Server's semantics where they
  differ from PostgreSQL's and matter to us: a UNIQUE constraint admits one NULL (`NULLS NOT DISTINCT`)
  and every code and text column compares case-insensitively and accent-sensitively like a `_CI_AS`
  collation (an ICU nondeterministic collation, `und-u-ks-level2`). Not emulated: SQL Server ignores
  trailing spaces when comparing; PostgreSQL does not (the Python rule in `ci_office.codes` does).
  The PostgreSQL backends are skipped when the URL is unset or PostgreSQL is unreachable, unless
  `KUDOS_REQUIRE_POSTGRES=1`, which turns the skip into a failure (CI).
- With `CI_OFFICE_TEST_URL` set (for example a real SQL Server), every test runs on that database
  alone, labelled by its dialect (`mssql-url`): its reference schema is re-created once per process and
  emptied before each test, so give the tests a database of their own and run them without `-n`.

Use them from a conftest.py:

    from sandbox.ci_office.testing import ci_office_engine, sqlite_ci_office_engine  # noqa: F401

Every engine comes with the reference schema created and empty; fill it with
`sandbox.ci_office.demo_data.generate` or with `seed_minimal`.
"""

import atexit
import copy
import os
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from decimal import Decimal
from functools import cache
from pathlib import Path
from typing import Any

import pytest
from kudos_sync.ci_office import schema as s
from kudos_sync.ci_office.engine import create_ci_office_engine
from kudos_sync.config import CiOfficeSettings
from kudos_sync.domain.ids import BranchCode, MagentoEntityId, Sku
from kudos_sync.domain.ledger import CustomerDetails, DocumentKind, LedgerDocument, LedgerLine
from pydantic import SecretStr
from sqlalchemy import (
    Engine,
    MetaData,
    String,
    UniqueConstraint,
    create_engine,
    delete,
    insert,
    select,
    text,
)
from sqlalchemy.engine import make_url
from sqlalchemy.pool import NullPool

CI_OFFICE_TEST_URL = "CI_OFFICE_TEST_URL"
POSTGRES_URL = "KUDOS_TEST_POSTGRES_URL"
REQUIRE_POSTGRES = "KUDOS_REQUIRE_POSTGRES"
SQLITE = "sqlite"
POSTGRESQL = "postgresql"
SQLSERVER_LIKE = "postgresql-sqlserver-like"
# SQL Server's `Latin1_General_CI_AS`, as PostgreSQL can say it: case-insensitive, accent-sensitive.
SQLSERVER_LIKE_COLLATION = "ci_as"
_CREATE_COLLATION = (
    f"CREATE COLLATION IF NOT EXISTS {SQLSERVER_LIKE_COLLATION} "
    "(provider = icu, locale = 'und-u-ks-level2', deterministic = false)"
)


def url_backend(url: str) -> str:
    """The label of the database at `CI_OFFICE_TEST_URL`: its dialect (`mssql-url`)."""
    return f"{make_url(url).get_backend_name()}-url"


def _backends() -> tuple[str, ...]:
    url = os.environ.get(CI_OFFICE_TEST_URL)
    return (url_backend(url),) if url else (SQLITE, POSTGRESQL, SQLSERVER_LIKE)


BACKENDS: tuple[str, ...] = _backends()


def engine_for_url(url: str, **engine_options: Any) -> Engine:
    """The adapter's own engine for a test URL (TLS off: test servers rarely have certificates)."""
    engine: Engine = create_ci_office_engine(
        CiOfficeSettings(url=SecretStr(url), encrypt=False), **engine_options
    )
    return engine


def _skip_or_fail(reason: str) -> None:
    if os.environ.get(REQUIRE_POSTGRES) == "1":
        pytest.fail(f"{reason} and {REQUIRE_POSTGRES}=1")
    pytest.skip(reason)


@cache
def _postgres_problem(url: str) -> str | None:
    admin = create_engine(url, poolclass=NullPool)
    try:
        with admin.connect() as conn:
            conn.execute(text("SELECT 1"))
    except Exception as error:  # any failure means: not usable here
        return f"PostgreSQL at {POSTGRES_URL} is unreachable ({type(error).__name__})"
    finally:
        admin.dispose()
    return None


def _postgres_url() -> str:
    """The test PostgreSQL's URL; skips (or fails under KUDOS_REQUIRE_POSTGRES=1) without one."""
    url = os.environ.get(POSTGRES_URL)
    if not url:
        _skip_or_fail(f"{POSTGRES_URL} is not set")
        raise AssertionError("unreachable")
    problem = _postgres_problem(url)
    if problem:
        _skip_or_fail(problem)
    return url


def clear_ci_office(engine: Engine) -> None:
    """Delete every row of the reference schema and restart the document counters (cheaper than
    dropping and creating twenty tables, which costs up to a second per test on a busy PostgreSQL)."""
    with engine.begin() as conn:
        for table in reversed(s.metadata.sorted_tables):
            conn.execute(delete(table))
        conn.execute(insert(s.document_counters), [{"kind": k, "next_value": 1} for k in s.COUNTER_FORMATS])


@cache
def sqlserver_like_metadata() -> MetaData:
    """The reference schema as SQL Server would hold it, spelt for PostgreSQL: every string column
    in the case-insensitive collation, every UNIQUE constraint admitting one NULL. Unique indexes
    stay as declared (a filtered index is how SQL Server admits many NULLs)."""
    metadata = MetaData(naming_convention=s.metadata.naming_convention)
    for table in s.metadata.sorted_tables:
        profiled = table.to_metadata(metadata)
        for column in profiled.columns:
            if isinstance(column.type, String):
                column.type = copy.copy(column.type)
                column.type.collation = SQLSERVER_LIKE_COLLATION
        for constraint in profiled.constraints:
            if isinstance(constraint, UniqueConstraint):
                constraint.dialect_options["postgresql"]["nulls_not_distinct"] = True
    return metadata


def create_sqlserver_like_schema(engine: Engine) -> None:
    """Create the collation and the SQL Server-like reference schema in the first schema of the
    engine's `search_path`, then the document counters (`schema.create_schema` finds the tables)."""
    with engine.begin() as conn:
        conn.execute(text(_CREATE_COLLATION))
        sqlserver_like_metadata().create_all(conn, checkfirst=True)
    s.create_schema(engine)


_worker_schemas: dict[tuple[str, str], str] = {}  # (PostgreSQL URL, backend) -> this process's schema
_prepared: set[str] = set()  # URLs whose reference schema this process has (re)created


def _drop_postgres_schema(url: str, name: str) -> None:
    admin = create_engine(url, poolclass=NullPool)
    try:
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA IF EXISTS "{name}" CASCADE'))
    except Exception:  # best effort at interpreter exit
        pass
    finally:
        admin.dispose()


def create_postgres_database(url: str, name: str, backend: str) -> str:
    """Create schema `name` in the PostgreSQL at `url` with the reference tables of `backend`
    (`postgresql` or `postgresql-sqlserver-like`); returns a URL whose `search_path` is that schema,
    as a tenant's secret would carry it. Drop it with `drop_postgres_database`."""
    admin = create_engine(url, poolclass=NullPool)
    try:
        with admin.begin() as conn:
            conn.execute(text(f'CREATE SCHEMA "{name}"'))
    finally:
        admin.dispose()
    schema_url = _schema_url(url, name)
    engine = engine_for_url(schema_url)
    try:
        if backend == SQLSERVER_LIKE:
            create_sqlserver_like_schema(engine)
        else:
            s.create_schema(engine)
    finally:
        engine.dispose()
    return schema_url


def drop_postgres_database(url: str, name: str) -> None:
    """Drop a schema made by `create_postgres_database` (best effort)."""
    _drop_postgres_schema(url, name)


def _postgres_schema(url: str, backend: str) -> str:
    """This test process's own schema (`t_<random>`) for `backend`, created once with the reference
    tables and dropped when the process exits; pytest-xdist workers each get their own."""
    name = _worker_schemas.get((url, backend))
    if name is None:
        name = f"t_{uuid.uuid4().hex[:16]}"
        create_postgres_database(url, name, backend)
        atexit.register(_drop_postgres_schema, url, name)
        _worker_schemas[(url, backend)] = name
    return name


def _schema_url(url: str, schema_name: str) -> str:
    """The PostgreSQL URL whose connections see `schema_name` first (`search_path`)."""
    separator = "&" if "?" in url else "?"
    return f"{url}{separator}options=-csearch_path%3D{schema_name}"


def _postgres_engine_on(url: str, schema_name: str) -> Engine:
    return engine_for_url(_schema_url(url, schema_name))


def engine_like(engine: Engine, **settings: Any) -> Engine:
    """Another engine on the same test database, built by the adapter with other `CiOfficeSettings`
    fields (for example `lock_timeout_seconds=1`). Dispose of it after use."""
    url = engine.url.render_as_string(hide_password=False)
    built: Engine = create_ci_office_engine(CiOfficeSettings(url=SecretStr(url), encrypt=False, **settings))
    return built


@contextmanager
def postgres_engine(backend: str = POSTGRESQL) -> Iterator[Engine]:
    """An engine on this process's schema of the test PostgreSQL (`search_path`) for `backend`
    (`postgresql` or `postgresql-sqlserver-like`), with the reference schema empty. Skips (or fails
    under KUDOS_REQUIRE_POSTGRES=1) without PostgreSQL."""
    url = _postgres_url()
    engine = _postgres_engine_on(url, _postgres_schema(url, backend))
    try:
        clear_ci_office(engine)
        yield engine
    finally:
        engine.dispose()


def _url_engine(url: str) -> Engine:
    engine = engine_for_url(url)
    if url not in _prepared:
        s.drop_schema(engine)
        s.create_schema(engine)
        _prepared.add(url)
    clear_ci_office(engine)
    return engine


@contextmanager
def primary_engine(directory: Path) -> Iterator[Engine]:
    """An engine on `CI_OFFICE_TEST_URL` when set, else on a new SQLite file in `directory`."""
    url = os.environ.get(CI_OFFICE_TEST_URL)
    if url and make_url(url).get_backend_name() != "sqlite":
        engine = _url_engine(url)
    else:
        engine = engine_for_url(url or f"sqlite:///{directory / 'ci_office.db'}")
        s.create_schema(engine)
    try:
        yield engine
    finally:
        engine.dispose()


@contextmanager
def isolated_engine(backend: str, directory: Path) -> Iterator[Engine]:
    """An engine for `backend` (one of `BACKENDS`) with an empty reference schema."""
    if backend in (POSTGRESQL, "postgres"):
        with postgres_engine(POSTGRESQL) as engine:
            yield engine
    elif backend == SQLSERVER_LIKE:
        with postgres_engine(SQLSERVER_LIKE) as engine:
            yield engine
    elif backend == SQLITE or backend.endswith("-url"):
        with primary_engine(directory) as engine:
            yield engine
    else:
        raise ValueError(f"unknown CI Office test backend {backend!r}")


@contextmanager
def tenant_database(backend: str, name: str, directory: Path) -> Iterator[str]:
    """The URL of a CI Office database of its own (reference schema, empty) for one test tenant:
    a SQLite file, a PostgreSQL schema (plain or SQL Server-like, named `name`), or the database at
    `CI_OFFICE_TEST_URL`."""
    if backend in (POSTGRESQL, SQLSERVER_LIKE):
        url = _postgres_url()
        schema_name = name.replace("-", "_")
        schema_url = create_postgres_database(url, schema_name, backend)
        try:
            yield schema_url
        finally:
            drop_postgres_database(url, schema_name)
    elif backend.endswith("-url"):
        test_url = os.environ[CI_OFFICE_TEST_URL]
        _url_engine(test_url).dispose()
        yield test_url
    else:
        sqlite_url = f"sqlite:///{directory / f'{name}.db'}"
        engine = engine_for_url(sqlite_url)
        s.create_schema(engine)
        engine.dispose()
        yield sqlite_url


# ---------------------------------------------------------------- pytest fixtures


@pytest.fixture(params=BACKENDS)
def ci_office_backend(request: pytest.FixtureRequest) -> str:
    """The CI Office backend of this test case (one of `BACKENDS`)."""
    backend: str = request.param
    return backend


@pytest.fixture
def ci_office_engine(ci_office_backend: str, tmp_path: Path) -> Iterator[Engine]:
    """An empty CI Office (reference schema) on each backend: SQLite, PostgreSQL and the SQL
    Server-like PostgreSQL, or only the database at CI_OFFICE_TEST_URL."""
    with isolated_engine(ci_office_backend, tmp_path) as engine:
        yield engine


@pytest.fixture
def sqlite_ci_office_engine(tmp_path: Path) -> Iterator[Engine]:
    """An empty CI Office (reference schema) in a SQLite file."""
    engine = engine_for_url(f"sqlite:///{tmp_path / 'ci_office.db'}")
    s.create_schema(engine)
    try:
        yield engine
    finally:
        engine.dispose()


@pytest.fixture
def postgres_ci_office_engine() -> Iterator[Engine]:
    """An empty CI Office (reference schema) in a PostgreSQL schema of its own."""
    with postgres_engine() as engine:
        yield engine


# ---------------------------------------------------------------- small fixtures of data


def compares_case_insensitively(engine: Engine) -> bool:
    """Whether this CI Office holds `x` and `X` as one code, as SQL Server's `_CI_AS` collations do
    (asked of the `branches.code` column itself, the way every code column is declared)."""
    b = s.branches
    with engine.connect() as conn, conn.begin() as transaction:
        conn.execute(insert(b).values(code="zzprobe", name="probe", is_web=False))
        found = conn.execute(select(b.c.code).where(b.c.code == "ZZPROBE")).first() is not None
        transaction.rollback()
    return found


def seed_minimal(engine: Engine) -> None:
    """The smallest useful CI Office: branches WEB/AKL, tenders, a style with two sizes and a
    one-size style, stock, and a cash-sale customer. Tests that need a catalogue use demo_data."""
    now = datetime(2026, 11, 1, 9, 0)
    with engine.begin() as conn:
        conn.execute(
            insert(s.branches),
            [
                {"code": "WEB", "name": "Web", "is_web": True},
                {"code": "AKL", "name": "Auckland", "is_web": False},
            ],
        )
        conn.execute(
            insert(s.tender_types),
            [{"code": "VISA", "description": "Visa"}, {"code": "PAYPAL", "description": "PayPal"}],
        )
        conn.execute(insert(s.colours), [{"code": "BLK", "description": "Black"}])
        conn.execute(
            insert(s.sizes),
            [
                {"code": "S", "description": "S", "size_order": 20},
                {"code": "M", "description": "M", "size_order": 30},
            ],
        )
        conn.execute(
            insert(s.styles),
            [
                {
                    "code": "TEE1",
                    "description": "Crew Tee",
                    "internet_active": True,
                    "retail_price": Decimal("49.90"),
                    "updated_at": now,
                },
                {
                    "code": "BAG1",
                    "description": "Canvas Tote",
                    "internet_active": True,
                    "retail_price": Decimal("59.00"),
                    "updated_at": now,
                },
            ],
        )
        conn.execute(
            insert(s.skus),
            [
                {"sku": "TEE1-BLK-S", "style_code": "TEE1", "colour_code": "BLK", "size_code": "S"},
                {"sku": "TEE1-BLK-M", "style_code": "TEE1", "colour_code": "BLK", "size_code": "M"},
                {"sku": "BAG1", "style_code": "BAG1", "colour_code": None, "size_code": None},
            ],
        )
        conn.execute(
            insert(s.stock_on_hand),
            [
                {"sku": "TEE1-BLK-S", "branch_code": "WEB", "quantity": Decimal(5)},
                {"sku": "TEE1-BLK-M", "branch_code": "WEB", "quantity": Decimal(3)},
            ],
        )
        conn.execute(
            insert(s.customers),
            [{"code": "CASH", "first_name": "Cash", "last_name": "Sale", "created_at": now}],
        )


def build_document(
    *,
    kind: DocumentKind = DocumentKind.INVOICE,
    entity_id: int = 1001,
    lines: Sequence[tuple[str | None, Decimal | int | str, Decimal | int | str]] = (
        ("TEE1-BLK-S", 1, "49.90"),
    ),
    customer: CustomerDetails | None = None,
    tender_code: str = "VISA",
    web_branch: str = "WEB",
    adjust_stock: bool = True,
    shipping: Decimal | str | None = None,
) -> LedgerDocument:
    """A ledger document built from (sku, quantity, unit price) lines; tax 15% included in prices."""
    built: list[LedgerLine] = []
    for sku, quantity, unit_price in lines:
        qty, price = Decimal(quantity), Decimal(unit_price)
        total = qty * price
        built.append(
            LedgerLine(
                sku=Sku(sku) if sku else None,
                charge_code=None if sku else "ADJUST",
                description=f"Item {sku}" if sku else "Adjustment",
                quantity=qty,
                unit_price=price,
                tax=(total * 3 / 23).quantize(Decimal("0.01")),
                line_total=total,
            )
        )
    if shipping is not None:
        freight = Decimal(shipping)
        built.append(
            LedgerLine(
                sku=None,
                charge_code="FREIGHT",
                description="Shipping",
                quantity=Decimal(1),
                unit_price=freight,
                tax=(freight * 3 / 23).quantize(Decimal("0.01")),
                line_total=freight,
            )
        )
    grand = sum((line.line_total for line in built), Decimal(0))
    prefix = "1" if kind is DocumentKind.INVOICE else "5"
    return LedgerDocument(
        kind=kind,
        magento_entity_id=MagentoEntityId(entity_id),
        magento_increment_id=f"{prefix}{entity_id:08d}",
        order_increment_id=f"0{entity_id:08d}",
        document_date=datetime(2026, 11, 2, 3, 4, 5, tzinfo=UTC),
        currency="NZD",
        customer=customer
        or CustomerDetails(
            link_key="magento:77",
            email="Kiri.Tane@example.co.nz",
            first_name="Kiri",
            last_name="Tane",
            street=("1 Queen Street", "Level 2"),
            city="Auckland",
            postcode="1010",
            country="NZ",
        ),
        lines=tuple(built),
        total=grand,
        tax_total=sum((line.tax for line in built), Decimal(0)),
        tender_code=tender_code,
        web_branch=BranchCode(web_branch),
        adjust_stock=adjust_stock,
    )
