"""Tenant settings for the local stack: the demo, integration tests, chaos and benchmarks share them."""

from typing import Any

from sandbox.magento import DEMO_OAUTH

# CI Office branch -> MSI source code in the sandbox store.
DEMO_BRANCH_SOURCES = {"WEB": "web", "AKL": "akl", "WLG": "wlg"}
# Magento payment method -> CI Office tender type.
DEMO_PAYMENT_MAPPING = {
    "checkmo": "BANK",
    "banktransfer": "BANK",
    "cashondelivery": "CASH",
    "purchaseorder": "ONACC",
    "free": "VOUCHER",
}


def local_tenant_secret(magento_base_url: str, ci_office_url: str, **overrides: Any) -> dict[str, Any]:
    """A tenant secret pointing at a sandbox store and a local CI Office database."""
    secret: dict[str, Any] = {
        "magento": {
            "base_url": magento_base_url,
            "auth": {
                "kind": "oauth",
                "consumer_key": DEMO_OAUTH.consumer_key,
                "consumer_secret": DEMO_OAUTH.consumer_secret,
                "access_token": DEMO_OAUTH.access_token,
                "access_token_secret": DEMO_OAUTH.token_secret,
            },
            "timeout_seconds": 10,
        },
        "ci_office": {"url": ci_office_url, "encrypt": False, "web_branch": "WEB"},
        "branch_sources": dict(DEMO_BRANCH_SOURCES),
        "payment_mapping": dict(DEMO_PAYMENT_MAPPING),
        "sync": {"batch_size": 100, "page_size": 100, "concurrency": 4},
    }
    for key, value in overrides.items():
        if isinstance(value, dict) and isinstance(secret.get(key), dict):
            secret[key] = {**secret[key], **value}
        else:
            secret[key] = value
    return secret
