"""Tenant secret payloads for the AWS adapter tests."""

import uuid
from typing import Any

# Values that must never appear in an error message, a log line or an exception chain.
SECRET_VALUES = (
    "ck-9f3a-CONSUMER-KEY",
    "cs-77e1-CONSUMER-SECRET",
    "at-51b0-ACCESS-TOKEN",
    "ats-c4d2-TOKEN-SECRET",
    "Sup3r-S3cret-SQL-Passw0rd",
)


def a_tenant_id() -> str:
    """A tenant id no other test (or xdist worker) uses: moto's state is shared per process."""
    return f"t-{uuid.uuid4().hex[:12]}"


def a_tenant_secret(tenant: str, **overrides: Any) -> dict[str, Any]:
    payload: dict[str, Any] = {
        "tenant": tenant,
        "magento": {
            "base_url": "https://shop.example.com",
            "auth": {
                "kind": "oauth",
                "consumer_key": SECRET_VALUES[0],
                "consumer_secret": SECRET_VALUES[1],
                "access_token": SECRET_VALUES[2],
                "access_token_secret": SECRET_VALUES[3],
            },
        },
        "ci_office": {"url": f"mssql+pymssql://kudos:{SECRET_VALUES[4]}@ci.example.com:1433/ci"},
        "branch_sources": {"WEB": "web", "AKL": "auckland"},
    }
    payload.update(overrides)
    return payload
