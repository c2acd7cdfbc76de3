"""Authentication as a 2.4.4+ store with 2FA performs it: OAuth 1.0a HMAC-SHA256, bearer off by default."""

from __future__ import annotations

import re
import time

import requests
from oauthlib.oauth1 import SIGNATURE_HMAC_SHA1, Client

from sandbox.magento import DEMO_OAUTH, OAuthCredentials
from sandbox.magento.testing import SandboxClient, simple_product

CONSUMER_NOT_AUTHORIZED = "The consumer isn't authorized to access %resources."


def test_given_signed_request_when_listing_products_then_ok(sandbox_client: SandboxClient) -> None:
    response = sandbox_client.get("/V1/products", params={"searchCriteria": ""})
    assert response.status_code == 200
    assert response.json() == {"items": [], "search_criteria": {"filter_groups": []}, "total_count": 0}


def test_given_no_credentials_then_401_names_the_acl_resource(magento_sandbox, sandbox_client) -> None:
    response = requests.get(sandbox_client.url("/V1/products/ANY"))
    assert response.status_code == 401
    assert response.json() == {
        "message": CONSUMER_NOT_AUTHORIZED,
        "parameters": {"resources": "Magento_Catalog::products"},
    }


def test_given_hmac_sha1_then_400_signature_method_not_supported(magento_sandbox) -> None:
    client = SandboxClient(magento_sandbox.base_url, DEMO_OAUTH, signature_method=SIGNATURE_HMAC_SHA1)
    response = client.get("/V1/products/ANY")
    assert response.status_code == 400
    assert response.json() == {"message": "Signature method %1 is not supported", "parameters": ["HMAC-SHA1"]}


def test_given_wrong_token_secret_then_401_signature_invalid(magento_sandbox) -> None:
    wrong = OAuthCredentials(
        DEMO_OAUTH.consumer_key, DEMO_OAUTH.consumer_secret, DEMO_OAUTH.access_token, "nope"
    )
    response = SandboxClient(magento_sandbox.base_url, wrong).get("/V1/products/ANY")
    assert response.status_code == 401
    assert response.json() == {"message": "The signature is invalid. Verify and try again."}


def test_given_unknown_consumer_or_token_then_401(magento_sandbox) -> None:
    c = DEMO_OAUTH
    unknown_consumer = OAuthCredentials("other", c.consumer_secret, c.access_token, c.token_secret)
    unknown_token = OAuthCredentials(c.consumer_key, c.consumer_secret, "other", c.token_secret)
    r1 = SandboxClient(magento_sandbox.base_url, unknown_consumer).get("/V1/products/ANY")
    r2 = SandboxClient(magento_sandbox.base_url, unknown_token).get("/V1/products/ANY")
    assert (r1.status_code, r1.json()["message"]) == (
        401,
        "A consumer having the specified key does not exist",
    )
    assert (r2.status_code, r2.json()["message"]) == (401, "Specified token does not exist")


def _signed(url: str, method: str = "GET", nonce: str | None = None, timestamp: str | None = None) -> dict:
    client = Client(
        DEMO_OAUTH.consumer_key,
        client_secret=DEMO_OAUTH.consumer_secret,
        resource_owner_key=DEMO_OAUTH.access_token,
        resource_owner_secret=DEMO_OAUTH.token_secret,
        signature_method="HMAC-SHA256",
        nonce=nonce,
        timestamp=timestamp,
    )
    return client.sign(url, http_method=method)[1]


def test_given_reused_nonce_then_second_request_refused(magento_sandbox, sandbox_client) -> None:
    url = sandbox_client.url("/V1/products", params={"searchCriteria": ""})
    headers = _signed(url, nonce="fixed-nonce-1", timestamp=str(int(time.time())))
    first = requests.get(url, headers=headers)
    second = requests.get(url, headers=headers)
    assert first.status_code == 200
    assert second.status_code == 401
    assert second.json() == {
        "message": "The nonce is already being used by the consumer with ID %1",
        "parameters": [1],
    }


def test_given_stale_or_future_timestamp_then_400(magento_sandbox, sandbox_client) -> None:
    url = sandbox_client.url("/V1/products/ANY")
    for ts in (int(time.time()) - 601, int(time.time()) + 700):
        response = requests.get(url, headers=_signed(url, timestamp=str(ts)))
        assert response.status_code == 400
        assert response.json()["message"] == "Incorrect timestamp value in the oauth_timestamp parameter"


def test_given_query_parameters_they_are_part_of_the_signature(magento_sandbox, sandbox_client) -> None:
    url = sandbox_client.url("/V1/products", params={"searchCriteria[pageSize]": "5"})
    headers = _signed(url)
    tampered = url.replace("pageSize%5D=5", "pageSize%5D=6")
    assert requests.get(tampered, headers=headers).status_code == 401


def test_given_bearer_token_when_bearer_disabled_then_401(magento_sandbox, sandbox_client) -> None:
    response = requests.get(
        sandbox_client.url("/V1/products/ANY"), headers={"Authorization": f"Bearer {DEMO_OAUTH.access_token}"}
    )
    assert response.status_code == 401
    assert response.json()["message"] == CONSUMER_NOT_AUTHORIZED


def test_given_bearer_allowed_then_integration_token_works(store_with) -> None:
    with store_with(allow_bearer=True, bearer_token="extra-token") as (_store, client):
        for token in (DEMO_OAUTH.access_token, "extra-token"):
            response = requests.post(
                client.url("/V1/products"),
                json={"product": simple_product(f"B-{token}", f"Bearer {token}", 5)},
                headers={"Authorization": f"Bearer {token}"},
            )
            assert response.status_code == 200, response.text
        bad = requests.get(client.url("/V1/products/ANY"), headers={"Authorization": "Bearer wrong"})
        assert bad.status_code == 401


def test_given_admin_credentials_then_2fa_refuses_a_token(magento_sandbox, sandbox_client) -> None:
    url = sandbox_client.url("/V1/integration/admin/token")
    ok = requests.post(url, json={"username": "admin", "password": "admin123"})
    bad = requests.post(url, json={"username": "admin", "password": "wrong"})
    assert ok.status_code == 400
    assert ok.json() == {
        "message": "Please use the 2fa provider-specific endpoints to obtain a token.",
        "parameters": {"active_providers": ["google"]},
    }
    assert bad.status_code == 401
    assert bad.json() == {
        "message": "The account sign-in was incorrect or your account is disabled temporarily. "
        "Please wait and try again later."
    }


def test_given_unknown_route_then_404_before_authentication(magento_sandbox, sandbox_client) -> None:
    for url in (sandbox_client.url("/V1/nothing/here"), sandbox_client.url("/V1/products", scope="nostore")):
        response = requests.get(url)
        assert response.status_code == 404
        assert response.json() == {"message": "Request does not match any route."}


def test_given_missing_oauth_parameter_then_400_field_required(magento_sandbox, sandbox_client) -> None:
    url = sandbox_client.url("/V1/products/ANY")
    header = _signed(url)["Authorization"]
    stripped = re.sub(r'oauth_nonce="[^"]*",? ?', "", header)
    response = requests.get(url, headers={"Authorization": stripped})
    assert response.status_code == 400
    assert response.json() == {
        "message": '"%fieldName" is required. Enter and try again.',
        "parameters": {"fieldName": "oauth_nonce"},
    }
