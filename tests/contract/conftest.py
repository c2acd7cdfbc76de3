"""Fixtures of the contract suites: one local AWS (moto server) per pytest worker."""

from collections.abc import Iterator

import pytest
from kudos_sync.aws.clients import AwsClients

from sandbox.aws import LocalAws, local_aws_session


@pytest.fixture(scope="session")
def local_aws() -> Iterator[LocalAws]:
    yield from local_aws_session()


@pytest.fixture(scope="session")
def aws(local_aws: LocalAws) -> AwsClients:
    """Production-configured clients on local AWS, shared by the worker's tests (clients are thread-safe)."""
    return local_aws.clients()
