"""End to end on the local stack: the Magento sandbox over HTTP, moto server, and a CI Office on each
test backend (SQLite, PostgreSQL, the SQL Server-like PostgreSQL; or CI_OFFICE_TEST_URL alone).

Every test gets its own tenant, state table, bucket, store and CI Office database, so tests run in
parallel and never see each other's data.
"""

import importlib.util
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from kudos_sync.aws.state import DynamoStateStore
from kudos_sync.clock import WallClockDeadline
from kudos_sync.domain.state import Direction, RunRecord
from kudos_sync.service import Stack, run_tenant
from kudos_sync.sync.ports import Deadline
from sqlalchemy.engine import Engine

from sandbox.aws import LocalAws, local_aws_session
from sandbox.ci_office import demo_data
from sandbox.ci_office.testing import BACKENDS, SQLITE, engine_for_url, tenant_database
from sandbox.magento import MagentoSandbox, SandboxOptions
from sandbox.tenant import DEMO_BRANCH_SOURCES, local_tenant_secret

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="session")
def local_aws() -> Iterator[LocalAws]:
    yield from local_aws_session()


@dataclass
class LocalTenant:
    """One retailer on the local stack."""

    tenant: str
    aws: LocalAws
    stack: Stack
    store: MagentoSandbox
    engine: Engine
    ci_url: str
    secret: dict[str, Any] = field(default_factory=dict)

    def run(self, direction: Direction, deadline: Deadline | None = None) -> RunRecord:
        return run_tenant(self.tenant, direction, deadline or WallClockDeadline(300.0), stack=self.stack)

    def push(self, deadline: Deadline | None = None) -> RunRecord:
        return self.run(Direction.PUSH, deadline)

    def pull(self, deadline: Deadline | None = None) -> RunRecord:
        return self.run(Direction.PULL, deadline)

    @property
    def state(self) -> DynamoStateStore:
        return DynamoStateStore(self.stack.clients.dynamodb, self.stack.clients.table_name, self.tenant)

    def environment(self) -> dict[str, str]:
        """What the stack gives the Lambda functions."""
        return {
            "KUDOS_STATE_TABLE": self.stack.clients.table_name,
            "KUDOS_IMAGE_BUCKET": self.stack.clients.bucket,
        }


def make_tenant(
    aws: LocalAws,
    directory: Path,
    *,
    backend: str = SQLITE,
    skus: int = 40,
    seed: int = 3,
    sandbox: dict[str, Any] | None = None,
    **secret: Any,
) -> Iterator[LocalTenant]:
    tenant = f"it-{uuid.uuid4().hex[:10]}"
    with tenant_database(backend, tenant, directory) as ci_url:
        engine = engine_for_url(ci_url)
        demo_data.generate(engine, skus, seed)
        clients = aws.clients(table_name=aws.new_table(), bucket=aws.new_bucket())
        options = SandboxOptions(sources=tuple(DEMO_BRANCH_SOURCES.values()), record=True, **(sandbox or {}))
        with MagentoSandbox(options) as store:
            payload = local_tenant_secret(store.base_url, ci_url, **secret)
            aws.put_tenant_secret(tenant, payload)
            yield LocalTenant(tenant, aws, Stack(clients=clients), store, engine, ci_url, payload)
        engine.dispose()


@pytest.fixture(params=BACKENDS)
def ci_office_backend(request: pytest.FixtureRequest) -> str:
    """The CI Office backend of this test case (a test id: sqlite, postgresql, ...)."""
    backend: str = request.param
    return backend


@pytest.fixture
def local_tenant(local_aws: LocalAws, tmp_path: Path, ci_office_backend: str) -> Iterator[LocalTenant]:
    """A retailer whose CI Office is on each test backend in turn (SQLite, PostgreSQL, SQL Server-like)."""
    yield from make_tenant(local_aws, tmp_path, backend=ci_office_backend)


@pytest.fixture
def tenant_factory(local_aws: LocalAws, tmp_path: Path, ci_office_backend: str) -> Iterator[Any]:
    made: list[Iterator[LocalTenant]] = []

    def factory(**options: Any) -> LocalTenant:
        options.setdefault("backend", ci_office_backend)
        generator = make_tenant(local_aws, tmp_path, **options)
        made.append(generator)
        return next(generator)

    yield factory
    for generator in made:
        next(generator, None)


class FakeLambdaContext:
    function_name = "kudos-sync-test"
    memory_limit_in_mb = 1024
    invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:kudos-sync-test"
    aws_request_id = "00000000-0000-0000-0000-000000000000"

    def __init__(self, seconds: float = 300.0) -> None:
        self.seconds = seconds

    def get_remaining_time_in_millis(self) -> int:
        return int(self.seconds * 1000)


def load_handler(direction: str) -> ModuleType:
    """Import functions/<direction>/app.py as Lambda does (each handler is its own `app` module)."""
    path = ROOT / "functions" / direction / "app.py"
    spec = importlib.util.spec_from_file_location(f"kudos_{direction}_app_{uuid.uuid4().hex[:6]}", path)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module
