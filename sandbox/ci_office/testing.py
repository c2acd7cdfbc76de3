"""Isolated CI Office databases for tests, as functions and pytest fixtures any test folder can reuse.

- `sqlite`: the database at `CI_OFFICE_TEST_URL` when set (for example a real SQL Server), else a
  SQLite file in the test's temporary directory.
- `postgres`: a schema of its own per test process (`t_<random>`) in the database at
  `KUDOS_TEST_POSTGRES_URL`, reached through `search_path`, emptied before each test and dropped when
  the process exits, so parallel tests (`pytest -n`) never meet.
  Skipped when the URL is unset or PostgreSQL is unreachable, unless `KUDOS_REQUIRE_POSTGRES=1`,
  which turns the skip into a failure (CI).

Use them from a conftest.py:

    from sandbox.ci_office.testing import ci_office_engine, sqlite_ci_office_engine  # noqa: F401

Every engine comes with the reference schema created and empty; fill it with
`sandbox.ci_office.demo_data.generate` or with `seed_minimal`.
"""

import atexit
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
from sqlalchemy import Engine, create_engine, delete, insert, text
from sqlalchemy.engine import make_url
from sqlalchemy.pool import NullPool

CI_OFFICE_TEST_URL = "CI_OFFICE_TEST_URL"
POSTGRES_URL = "KUDOS_TEST_POSTGRES_URL"
REQUIRE_POSTGRES = "KUDOS_REQUIRE_POSTGRES"
BACKENDS: tuple[str, ...] = ("sqlite", "postgres")


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


def clear_ci_office(engine: Engine) -> None:
    """Delete every row of the reference schema and restart the document counters (cheaper than
    dropping and creating twenty tables, which costs up to a second per test on a busy PostgreSQL)."""
    with engine.begin() as conn:
        for table in reversed(s.metadata.sorted_tables):
            conn.execute(delete(table))
        conn.execute(insert(s.document_counters), [{"kind": k, "next_value": 1} for k in s.COUNTER_FORMATS])


_worker_schemas: dict[str, str] = {}  # PostgreSQL URL -> this process's schema
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


def _postgres_schema(url: str) -> str:
    """This test process's own schema (`t_<random>`), created once with the reference tables and
    dropped when the process exits; pytest-xdist workers each get their own."""
    name = _worker_schemas.get(url)
    if name is None:
        name = f"t_{uuid.uuid4().hex[:16]}"
        admin = create_engine(url, poolclass=NullPool)
        with admin.begin() as conn:
            conn.execute(text(f'CREATE SCHEMA "{name}"'))
        admin.dispose()
        atexit.register(_drop_postgres_schema, url, name)
        engine = _postgres_engine_on(url, name)
        try:
            s.create_schema(engine)
        finally:
            engine.dispose()
        _worker_schemas[url] = name
    return name


def _postgres_engine_on(url: str, schema_name: str) -> Engine:
    return engine_for_url(url, connect_args={"options": f"-csearch_path={schema_name}"})


@contextmanager
def postgres_engine() -> Iterator[Engine]:
    """An engine on this process's schema of the test PostgreSQL (`search_path`), with the
    reference schema empty. Skips (or fails under KUDOS_REQUIRE_POSTGRES=1) without PostgreSQL."""
    url = os.environ.get(POSTGRES_URL)
    if not url:
        _skip_or_fail(f"{POSTGRES_URL} is not set")
        raise AssertionError("unreachable")
    problem = _postgres_problem(url)
    if problem:
        _skip_or_fail(problem)
    engine = _postgres_engine_on(url, _postgres_schema(url))
    try:
        clear_ci_office(engine)
        yield engine
    finally:
        engine.dispose()


@contextmanager
def primary_engine(directory: Path) -> Iterator[Engine]:
    """An engine on a new SQLite file in `directory`, or on `CI_OFFICE_TEST_URL` when set: that
    database's reference schema is re-created once per process and emptied before each test, so give
    the tests a database of their own (and run them without -n on one shared server)."""
    url = os.environ.get(CI_OFFICE_TEST_URL)
    if url and make_url(url).get_backend_name() != "sqlite":
        engine = engine_for_url(url)
        if url not in _prepared:
            s.drop_schema(engine)
            s.create_schema(engine)
            _prepared.add(url)
        clear_ci_office(engine)
    else:
        engine = engine_for_url(url or f"sqlite:///{directory / 'ci_office.db'}")
        s.create_schema(engine)
    try:
        yield engine
    finally:
        engine.dispose()


@contextmanager
def isolated_engine(backend: str, directory: Path) -> Iterator[Engine]:
    """An engine for `backend` ("sqlite" or "postgres") with an empty reference schema."""
    if backend == "postgres":
        with postgres_engine() as engine:
            yield engine
    elif backend == "sqlite":
        with primary_engine(directory) as engine:
            yield engine
    else:
        raise ValueError(f"unknown CI Office test backend {backend!r}")


# ---------------------------------------------------------------- pytest fixtures


@pytest.fixture(params=BACKENDS)
def ci_office_engine(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    """An empty CI Office (reference schema), once on SQLite (or CI_OFFICE_TEST_URL), once on PostgreSQL."""
    with isolated_engine(request.param, tmp_path) as engine:
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
