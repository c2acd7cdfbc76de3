"""Tenant settings from Secrets Manager (moto server) through Powertools Parameters."""

import json
import traceback

import pytest
from aws_lambda_powertools.utilities import parameters
from aws_lambda_powertools.utilities.parameters.exceptions import GetParameterError
from botocore.exceptions import ClientError
from kudos_sync.aws.clients import AwsClients
from kudos_sync.aws.secrets import load_tenant_config, store_tenant_secret
from kudos_sync.config import secret_name
from kudos_sync.domain.errors import ConfigurationError, TransientError

from sandbox.aws import LocalAws
from tests.aws.builders import SECRET_VALUES, a_tenant_id, a_tenant_secret


def _everything_said(exc: BaseException) -> str:
    """The message, the repr and the whole formatted chain: where a leaked value would show."""
    return "\n".join([str(exc), repr(exc), *traceback.format_exception(exc)])


def test_given_good_secret_when_loaded_then_tenant_config(local_aws: LocalAws) -> None:
    tenant = a_tenant_id()
    local_aws.put_tenant_secret(tenant, a_tenant_secret(tenant))
    config = load_tenant_config(tenant, max_age=0)
    assert config.tenant == tenant
    assert config.magento.base_url == "https://shop.example.com"
    assert config.source_for("AKL") == "auckland"
    assert config.ci_office.url.get_secret_value().startswith("mssql+pymssql://")


def test_given_missing_secret_when_loaded_then_configuration_error_naming_it(local_aws: LocalAws) -> None:
    tenant = a_tenant_id()
    with pytest.raises(ConfigurationError) as caught:
        load_tenant_config(tenant, max_age=0)
    assert secret_name(tenant) in str(caught.value)
    assert "does not exist" in str(caught.value)


def test_given_bad_field_when_loaded_then_error_names_field_and_tenant_but_no_secret(
    local_aws: LocalAws,
) -> None:
    tenant = a_tenant_id()
    payload = a_tenant_secret(tenant, branch_sources={})
    payload["magento"]["base_url"] = f"ftp://kudos:{SECRET_VALUES[4]}@shop.example.com"
    local_aws.put_tenant_secret(tenant, payload, validate=False)
    with pytest.raises(ConfigurationError) as caught:
        load_tenant_config(tenant, max_age=0)
    said = _everything_said(caught.value)
    assert tenant in str(caught.value)
    assert "magento.base_url" in str(caught.value)
    assert "branch_sources" in str(caught.value)
    for value in SECRET_VALUES:
        assert value not in said


def test_given_secret_that_is_not_json_then_configuration_error_without_the_value(
    local_aws: LocalAws, aws: AwsClients
) -> None:
    tenant = a_tenant_id()
    aws.secretsmanager.create_secret(Name=secret_name(tenant), SecretString=f"password={SECRET_VALUES[4]}")
    with pytest.raises(ConfigurationError, match="is not JSON") as caught:
        load_tenant_config(tenant, max_age=0)
    assert SECRET_VALUES[4] not in _everything_said(caught.value)


def test_given_existing_secret_when_stored_again_then_new_value_is_read(aws: AwsClients) -> None:
    tenant = a_tenant_id()
    first_arn = store_tenant_secret(aws.secretsmanager, tenant, a_tenant_secret(tenant))
    second_arn = store_tenant_secret(
        aws.secretsmanager, tenant, a_tenant_secret(tenant, branch_sources={"WEB": "web-2"})
    )
    assert first_arn == second_arn
    assert load_tenant_config(tenant, max_age=0).source_for("WEB") == "web-2"
    stored = json.loads(aws.secretsmanager.get_secret_value(SecretId=secret_name(tenant))["SecretString"])
    assert stored["branch_sources"] == {"WEB": "web-2"}


def test_given_invalid_payload_when_stored_then_refused_and_nothing_written(aws: AwsClients) -> None:
    tenant = a_tenant_id()
    with pytest.raises(ConfigurationError, match="branch_sources"):
        store_tenant_secret(aws.secretsmanager, tenant, a_tenant_secret(tenant, branch_sources={}))
    with pytest.raises(ClientError, match="ResourceNotFoundException"):
        aws.secretsmanager.describe_secret(SecretId=secret_name(tenant))


def test_given_secret_naming_another_tenant_when_loaded_then_refused(local_aws: LocalAws) -> None:
    tenant = a_tenant_id()
    local_aws.put_tenant_secret(tenant, a_tenant_secret("someone-else"), validate=False)
    with pytest.raises(ConfigurationError, match="another tenant"):
        load_tenant_config(tenant, max_age=0)


@pytest.mark.parametrize(
    ("code", "status", "expected"),
    [
        ("ThrottlingException", 400, TransientError),
        ("InternalServiceError", 500, TransientError),
        ("AccessDeniedException", 400, ConfigurationError),
        ("DecryptionFailure", 400, ConfigurationError),
        ("InvalidRequestException", 400, ConfigurationError),  # e.g. scheduled for deletion
    ],
)
def test_given_secrets_manager_failure_then_mapped_without_sdk_message(
    monkeypatch: pytest.MonkeyPatch, code: str, status: int, expected: type[Exception]
) -> None:
    def failing_get_secret(name: str, **_: object) -> str:
        response = {
            "Error": {"Code": code, "Message": f"detail {SECRET_VALUES[0]}"},
            "ResponseMetadata": {"HTTPStatusCode": status},
        }
        try:
            raise ClientError(response, "GetSecretValue")  # type: ignore[arg-type]
        except ClientError as exc:
            raise GetParameterError(str(exc))  # noqa: B904 - exactly how Powertools wraps it

    monkeypatch.setattr(parameters, "get_secret", failing_get_secret)
    with pytest.raises(expected) as caught:
        load_tenant_config("acme")
    assert "kudos-sync/tenants/acme" in str(caught.value)
    assert SECRET_VALUES[0] not in str(caught.value)
