"""Tenant settings: parsed from the secret, errors name tenant and field, never a value."""

import json
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from kudos_sync.config import GuestPolicy, Ownership, TenantConfig, secret_name
from kudos_sync.domain.errors import ConfigurationError
from kudos_sync.domain.ids import InvalidTenantIdError, validate_tenant_id

SECRET_VALUES = ("ck-3f9a-SECRET", "cs-77b1-SECRET", "at-1c2d-SECRET", "ats-9e8f-SECRET", "P@ssw0rd-SECRET")


def good_secret(**overrides: Any) -> dict[str, Any]:
    secret: dict[str, Any] = {
        "magento": {
            "base_url": "https://shop.example.co.nz",
            "auth": {
                "kind": "oauth",
                "consumer_key": SECRET_VALUES[0],
                "consumer_secret": SECRET_VALUES[1],
                "access_token": SECRET_VALUES[2],
                "access_token_secret": SECRET_VALUES[3],
            },
        },
        "ci_office": {"url": f"mssql+pymssql://sync:{SECRET_VALUES[4]}@ci.example.local:1433/CIOFFICE"},
        "branch_sources": {"WEB": "default", "AKL": "akl"},
        "payment_mapping": {"checkmo": "BANK"},
    }
    secret.update(overrides)
    return secret


def test_given_good_secret_then_defaults_applied() -> None:
    config = TenantConfig.from_secret("acme-nz", json.dumps(good_secret()))
    assert config.tenant == "acme-nz"
    assert config.owns("name") is Ownership.ON_CREATE
    assert config.owns("price") is Ownership.ALWAYS
    assert config.sync.batch_size == 100
    assert config.guest_policy is GuestPolicy.PER_EMAIL
    assert config.source_for("AKL") == "akl" and config.source_for("WLG") is None
    assert secret_name("acme-nz") == "kudos-sync/tenants/acme-nz"


def test_given_ownership_override_then_merged_with_defaults() -> None:
    config = TenantConfig.from_secret("acme", good_secret(field_ownership={"description": "always"}))
    assert config.owns("description") is Ownership.ALWAYS
    assert config.owns("name") is Ownership.ON_CREATE


@pytest.mark.parametrize(
    ("mutate", "field"),
    [
        (lambda s: s["magento"].pop("base_url"), "magento.base_url"),
        (lambda s: s["magento"]["auth"].update(kind="hmac-sha1"), "magento.auth"),
        (lambda s: s["magento"]["auth"].pop("consumer_secret"), "magento.auth.oauth.consumer_secret"),
        (lambda s: s.update(branch_sources={}), "branch_sources"),
        (lambda s: s.update(sync={"batch_size": 0}), "sync.batch_size"),
        (lambda s: s.update(field_ownership={"colour": "always"}), "field_ownership"),
        (lambda s: s.update(guest_policy="cash_sale"), "cash_sale_customer_code"),
        (lambda s: s.update(unexpected="x"), "unexpected"),
    ],
)
def test_given_bad_field_then_error_names_tenant_and_field_but_no_secret(mutate: Any, field: str) -> None:
    secret = good_secret()
    mutate(secret)
    with pytest.raises(ConfigurationError) as caught:
        TenantConfig.from_secret("acme", secret)
    message = str(caught.value)
    assert "tenant acme" in message and field in message
    assert not any(value in message for value in SECRET_VALUES)


def test_given_secret_that_is_not_json_then_error_without_its_content() -> None:
    with pytest.raises(ConfigurationError) as caught:
        TenantConfig.from_secret("acme", "consumer_secret=" + SECRET_VALUES[1])
    assert "not JSON" in str(caught.value) and SECRET_VALUES[1] not in str(caught.value)


def test_given_secret_of_another_tenant_then_refused() -> None:
    with pytest.raises(ConfigurationError, match="another tenant"):
        TenantConfig.from_secret("acme", good_secret(tenant="globex"))


@pytest.mark.parametrize(
    "url", ["http://shop.example.co.nz", "ftp://shop.example.co.nz", "shop.example.co.nz"]
)
def test_given_non_https_magento_url_then_refused(url: str) -> None:
    secret = good_secret()
    secret["magento"]["base_url"] = url
    with pytest.raises(ConfigurationError, match=r"magento\.base_url"):
        TenantConfig.from_secret("acme", secret)


@pytest.mark.parametrize("url", ["http://127.0.0.1:8080", "http://localhost:9000/", "http://[::1]:81"])
def test_given_plain_http_on_loopback_then_allowed(url: str) -> None:
    secret = good_secret()
    secret["magento"]["base_url"] = url
    assert TenantConfig.from_secret("acme", secret).magento.base_url == url.rstrip("/")


def test_secret_values_never_appear_in_repr_or_dump() -> None:
    config = TenantConfig.from_secret("acme", good_secret())
    shown = repr(config) + str(config.model_dump()) + config.model_dump_json()
    assert not any(value in shown for value in SECRET_VALUES)


@pytest.mark.parametrize("tenant", ["acme", "acme-nz", "a1", "kudos-retail-42"])
def test_valid_tenant_ids(tenant: str) -> None:
    assert validate_tenant_id(tenant) == tenant


@pytest.mark.parametrize(
    "tenant",
    ["", "a", "Acme", "acme_nz", "-acme", "acme-", "acme--nz", "1acme", "a/b", "../x", "a" * 33, "acme nz"],
)
def test_invalid_tenant_ids(tenant: str) -> None:
    with pytest.raises(InvalidTenantIdError):
        validate_tenant_id(tenant)


@given(st.text(max_size=40))
def test_any_accepted_tenant_id_is_safe_in_keys_paths_and_names(candidate: str) -> None:
    try:
        tenant = validate_tenant_id(candidate)
    except InvalidTenantIdError:
        return
    assert all(c.islower() or c.isdigit() or c == "-" for c in tenant)
    assert "/" not in tenant and "#" not in tenant and ".." not in tenant
