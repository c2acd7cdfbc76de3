"""Tenant settings from Secrets Manager (`kudos-sync/tenants/<tenant>`), through Powertools Parameters.

Powertools caches each secret for `max_age` seconds, so a warm Lambda does not call Secrets Manager
every run, and honours AWS_ENDPOINT_URL through boto3 (local AWS). Errors name the secret and the
tenant, never a value.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from aws_lambda_powertools.utilities import parameters
from aws_lambda_powertools.utilities.parameters.exceptions import GetParameterError
from botocore.exceptions import BotoCoreError, ClientError

from kudos_sync.aws.errors import aws_errors, classify, error_code
from kudos_sync.config import SECRET_PREFIX, TenantConfig, secret_name
from kudos_sync.domain.errors import ConfigurationError
from kudos_sync.domain.ids import InvalidTenantIdError, validate_tenant_id

if TYPE_CHECKING:
    from mypy_boto3_secretsmanager.client import SecretsManagerClient


def _aws_cause(exc: BaseException) -> ClientError | BotoCoreError | None:
    """Powertools wraps the SDK error in GetParameterError (chained implicitly): find it."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, ClientError | BotoCoreError):
            return current
        current = current.__cause__ or current.__context__
    return None


def load_tenant_config(tenant: str, *, max_age: int = 300) -> TenantConfig:
    """The tenant's settings, validated. ConfigurationError when the secret is missing, unreadable or
    invalid (naming the secret and the bad fields); TransientError when Secrets Manager is throttling
    or unreachable (after botocore's own retries)."""
    name = secret_name(tenant)
    try:
        raw = parameters.get_secret(name, max_age=max_age)
    except GetParameterError as exc:
        cause = _aws_cause(exc)
        if isinstance(cause, ClientError) and error_code(cause) == "ResourceNotFoundException":
            raise ConfigurationError(f"tenant {tenant}: secret {name} does not exist") from None
        mapped = classify(cause, f"Secrets Manager GetSecretValue of {name}") if cause else None
        if mapped is not None:
            raise mapped from None
        if cause is None and "ResourceNotFoundException" in str(exc):
            raise ConfigurationError(f"tenant {tenant}: secret {name} does not exist") from None
        # Anything else (a secret marked for deletion, a bad request) will not fix itself: say which
        # secret and what kind of failure, and keep the SDK's message out (it is not ours to echo).
        kind = error_code(cause) if isinstance(cause, ClientError) else type(cause or exc).__name__
        raise ConfigurationError(f"tenant {tenant}: could not read secret {name} ({kind})") from None
    return TenantConfig.from_secret(tenant, raw)


def clear_secret_cache() -> None:
    """Forget cached secrets and Powertools' default clients (local AWS restarts on a new endpoint)."""
    parameters.clear_caches()  # type: ignore[no-untyped-call]


def store_tenant_secret(
    client: SecretsManagerClient, tenant: str, payload: dict[str, Any], *, validate: bool = True
) -> str:
    """Create the tenant's secret, or put a new value when it exists; returns the secret's ARN.

    With `validate` (the default) the payload must parse as the tenant's TenantConfig first, so a typo
    is refused here rather than at the next run.
    """
    name = secret_name(tenant)
    if validate:
        TenantConfig.from_secret(tenant, payload)
    value = json.dumps(payload, separators=(",", ":"))
    with aws_errors(f"Secrets Manager write of {name}"):
        try:
            created = client.create_secret(
                Name=name,
                SecretString=value,
                Description=f"Kudos sync settings of tenant {tenant}",
                Tags=[{"Key": "kudos:tenant", "Value": tenant}],
            )
            return created["ARN"]
        except ClientError as exc:
            if error_code(exc) != "ResourceExistsException":
                raise
        put = client.put_secret_value(SecretId=name, SecretString=value)
        return put["ARN"]


def list_tenant_ids(client: SecretsManagerClient) -> list[str]:
    """The tenants that have a secret under `kudos-sync/tenants/`, sorted (names only: no value is read).
    Names under the prefix that are not valid tenant ids are left out."""
    found: set[str] = set()
    with aws_errors(f"Secrets Manager ListSecrets under {SECRET_PREFIX}"):
        for page in client.get_paginator("list_secrets").paginate(
            Filters=[{"Key": "name", "Values": [SECRET_PREFIX]}]
        ):
            for entry in page.get("SecretList", []):
                name = entry.get("Name", "")
                if name.startswith(SECRET_PREFIX):
                    try:
                        found.add(validate_tenant_id(name.removeprefix(SECRET_PREFIX)))
                    except InvalidTenantIdError:
                        continue
    return sorted(found)
