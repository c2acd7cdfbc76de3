"""Magento 2.4.2 to 2.4.7: where the releases differ for the service, the sandbox follows the chosen one."""

from __future__ import annotations

import pytest
from oauthlib.oauth1 import SIGNATURE_HMAC_SHA1, SIGNATURE_HMAC_SHA256

from sandbox.magento import DEMO_OAUTH, SandboxOptions
from sandbox.magento.__main__ import parse_args
from sandbox.magento.errors import INTERNAL_ERROR_MESSAGE
from sandbox.magento.options import MAGENTO_VERSIONS
from sandbox.magento.testing import SandboxClient, simple_product

BEARER = {"Authorization": f"Bearer {DEMO_OAUTH.access_token}"}


@pytest.mark.parametrize(
    ("version", "sha1", "bearer"),
    [("2.4.2", True, True), ("2.4.3", True, True), ("2.4.4", False, False), ("2.4.7", False, False)],
)
def test_signature_methods_and_bearer_tokens_by_release(
    store_with, version: str, sha1: bool, bearer: bool
) -> None:
    with store_with(magento_version=version) as (store, client):
        sha256 = client.get("/V1/store/storeViews")
        assert sha256.status_code == 200
        signed_sha1 = SandboxClient(store.base_url, signature_method=SIGNATURE_HMAC_SHA1)
        answer = signed_sha1.get("/V1/store/storeViews")
        if sha1:
            assert answer.status_code == 200
        else:
            assert (answer.status_code, answer.json()) == (
                400,
                {"message": "Signature method %1 is not supported", "parameters": ["HMAC-SHA1"]},
            )
        unsigned = SandboxClient(store.base_url, oauth=None)
        assert (unsigned.get("/V1/store/storeViews", headers=BEARER).status_code == 200) is bearer


def test_given_a_wrong_sha1_signature_on_2_4_2_then_401(store_with) -> None:
    with store_with(magento_version="2.4.2") as (store, _client):
        wrong = SandboxClient(
            store.base_url,
            oauth=type(DEMO_OAUTH)("demo-consumer-key", "wrong", "demo-access-token", "demo-token-secret"),
            signature_method=SIGNATURE_HMAC_SHA1,
        )
        assert wrong.get("/V1/store/storeViews").status_code == 401


def test_given_2_4_4_with_bearer_allowed_then_token_accepted(store_with) -> None:
    with store_with(magento_version="2.4.4", allow_bearer=True) as (store, _client):
        unsigned = SandboxClient(store.base_url, oauth=None, signature_method=SIGNATURE_HMAC_SHA256)
        assert unsigned.get("/V1/store/storeViews", headers=BEARER).status_code == 200


@pytest.mark.parametrize(("version", "status"), [("2.4.2", 500), ("2.4.6", 500), ("2.4.7", 400)])
def test_unknown_nested_field_by_release(store_with, version: str, status: int) -> None:
    with store_with(magento_version=version) as (_store, client):
        body = {"product": {**simple_product("A", "A", 1), "colour_code": "red"}}
        response = client.post("/V1/products", json=body)
        assert response.status_code == status
        if status == 500:
            assert response.json()["message"].startswith(INTERNAL_ERROR_MESSAGE.split("%s")[0])


def test_version_flag_and_validation() -> None:
    options, _ = parse_args(["--magento-version", "2.4.2"])
    assert options.magento_version == "2.4.2"
    assert options.bearer_allowed and options.signature_methods == ("HMAC-SHA1", "HMAC-SHA256")
    assert parse_args([])[0].magento_version == "2.4.7"
    with pytest.raises(SystemExit):
        parse_args(["--magento-version", "2.3.7"])
    with pytest.raises(ValueError, match="magento_version"):
        SandboxOptions(magento_version="2.5.0")
    assert MAGENTO_VERSIONS[0] == "2.4.2" and MAGENTO_VERSIONS[-1] == "2.4.7"


def test_magento_version_page_names_only_the_minor_release(store_with) -> None:
    with store_with(magento_version="2.4.2") as (store, client):
        page = client.session.get(f"{store.base_url}/magento_version")
        assert (page.status_code, page.text) == (200, "Magento/2.4 (Community)")
