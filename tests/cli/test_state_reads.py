"""What `status` reads beyond runs and parked records: the lease holder and the tenants with a secret."""

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from kudos_sync.aws.secrets import list_tenant_ids

from sandbox.aws import LocalAws, local_aws_session
from sandbox.tenant import local_tenant_secret

NOW = datetime(2026, 12, 4, 12, 0, tzinfo=UTC)


@pytest.fixture(scope="module")
def local_aws() -> Iterator[LocalAws]:
    yield from local_aws_session()


def test_the_lease_holder_is_shown_until_the_lease_expires(local_aws: LocalAws) -> None:
    store = local_aws.clients(table_name=local_aws.new_table()).state_store("acme-nz")
    assert store.lease_holder("push", NOW) is None
    until = NOW + timedelta(minutes=16)
    assert store.acquire_lease("push", "run-1", NOW, until)
    assert store.lease_holder("push", NOW) == ("run-1", until)
    assert store.lease_holder("pull", NOW) is None
    assert store.lease_holder("push", until) is None  # expired at its end: the next run may take it
    store.release_lease("push", "run-1")
    assert store.lease_holder("push", NOW) is None


def test_tenants_are_listed_from_secret_names_under_the_prefix_only(local_aws: LocalAws) -> None:
    secrets = local_aws.clients().secretsmanager
    local_aws.put_tenant_secret("list-me", local_tenant_secret("http://127.0.0.1:9", "sqlite://"))
    secrets.create_secret(Name="kudos-sync/tenants/Not_A_Tenant", SecretString="{}")
    secrets.create_secret(Name="other-app/tenants/elsewhere", SecretString="{}")
    found = list_tenant_ids(secrets)
    assert "list-me" in found and found == sorted(found)
    assert "Not_A_Tenant" not in found and "elsewhere" not in found
