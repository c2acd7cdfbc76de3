"""The client factory of the composition root."""

import pytest
from kudos_sync.aws.clients import IMAGE_BUCKET_ENV, STATE_TABLE_ENV, aws_clients
from kudos_sync.aws.images import S3ImageStage
from kudos_sync.aws.state import DynamoStateStore
from kudos_sync.domain.errors import ConfigurationError


def test_given_no_table_in_environment_then_configuration_error_naming_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv(STATE_TABLE_ENV, raising=False)
    monkeypatch.setenv(IMAGE_BUCKET_ENV, "bucket")
    with pytest.raises(ConfigurationError, match=STATE_TABLE_ENV):
        aws_clients("us-east-1")


def test_given_environment_then_clients_and_adapters_are_built(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(STATE_TABLE_ENV, "kudos-state")
    monkeypatch.setenv(IMAGE_BUCKET_ENV, "kudos-images")
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:9")
    clients = aws_clients("us-east-1")
    assert (clients.table_name, clients.bucket) == ("kudos-state", "kudos-images")
    assert clients.dynamodb.meta.endpoint_url == "http://127.0.0.1:9"
    assert clients.s3.meta.config.retries == {"mode": "adaptive", "total_max_attempts": 5}
    assert isinstance(clients.state_store("acme"), DynamoStateStore)
    assert isinstance(clients.image_stage("acme"), S3ImageStage)
