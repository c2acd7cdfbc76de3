"""One local AWS (moto server) per pytest worker, shared with the other suites that ask for it, and
the CI Office engine on each test backend (SQLite, PostgreSQL, SQL Server-like)."""

from collections.abc import Iterator

import pytest

from sandbox.aws import LocalAws, local_aws_session
from sandbox.ci_office.testing import ci_office_backend, ci_office_engine  # noqa: F401 (pytest fixtures)


@pytest.fixture(scope="session")
def local_aws() -> Iterator[LocalAws]:
    yield from local_aws_session()
