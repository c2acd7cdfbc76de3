"""One local AWS (moto server) per pytest worker, shared with the other suites that ask for it."""

from collections.abc import Iterator

import pytest

from sandbox.aws import LocalAws, local_aws_session


@pytest.fixture(scope="session")
def local_aws() -> Iterator[LocalAws]:
    yield from local_aws_session()
