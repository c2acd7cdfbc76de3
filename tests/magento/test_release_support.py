"""Magento 2.4.2 to 2.4.7 on the client side: HMAC-SHA1 signing, bearer tokens, and the release preflight.

The client and ``kudos-sync check`` run against the sandbox behaving as 2.4.2 and as 2.4.7.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Iterator
from typing import Any
from urllib.parse import quote, unquote

import pytest
from kudos_sync.config import BearerAuth, MagentoSettings, SyncSettings, TenantConfig
from kudos_sync.magento.auth import OAuthSigner, bearer_for, signer_for
from kudos_sync.magento.client import MagentoClient
from kudos_sync.preflight import check_magento_version

from sandbox.magento import DEMO_OAUTH, MagentoSandbox, SandboxOptions
from tests.magento.conftest import CONSUMER_SECRET, TOKEN_SECRET, Sleeps, magento_settings, oauth_auth
from tests.magento.test_auth import parse_oauth_header

URL = "https://shop.example.com/rest/default/V1/store/storeViews"


def _escape(text: str) -> str:
    return quote(text, safe="-_.~")


def test_sha1_signer_signs_as_magento_2_4_2_checks_it() -> None:
    signer = OAuthSigner(oauth_auth(), "HMAC-SHA1")
    oauth = parse_oauth_header(signer.authorization("GET", URL))
    assert oauth["oauth_signature_method"] == "HMAC-SHA1"
    params = sorted((_escape(k), _escape(v)) for k, v in oauth.items() if k != "oauth_signature")
    base = "&".join(["GET", _escape(URL), _escape("&".join(f"{k}={v}" for k, v in params))])
    key = f"{_escape(CONSUMER_SECRET)}&{_escape(TOKEN_SECRET)}"
    expected = base64.b64encode(hmac.new(key.encode(), base.encode(), hashlib.sha1).digest()).decode()
    assert unquote(oauth["oauth_signature"]) == expected
    assert repr(signer) == "OAuthSigner(HMAC-SHA1, credentials=**********)"


def test_default_signer_is_sha256_and_the_token_can_go_alone() -> None:
    signer = signer_for(oauth_auth())
    assert isinstance(signer, OAuthSigner) and signer.signature_method == "HMAC-SHA256"
    assert bearer_for(oauth_auth()).authorization("GET", URL) == "Bearer demo-access-token"
    assert "demo-access-token" not in repr(bearer_for(oauth_auth()))


# ---------------------------------------------------------------- against the sandbox


@pytest.fixture(params=["2.4.2", "2.4.7"])
def release(request: pytest.FixtureRequest) -> Iterator[MagentoSandbox]:
    with MagentoSandbox(SandboxOptions(magento_version=request.param)) as store:
        yield store
        assert store.unexpected_errors == []


def tenant(settings: MagentoSettings) -> TenantConfig:
    return TenantConfig(
        tenant="acme",
        magento=settings,
        ci_office={"url": "mssql+pymssql://u:p@h/db"},
        branch_sources={"WEB": "default"},
    )


def client(settings: MagentoSettings) -> MagentoClient:
    return MagentoClient(settings, SyncSettings(concurrency=1, batch_size=10, page_size=10), sleep=Sleeps())


def probes(store: MagentoSandbox) -> dict[str, Any]:
    return store.stats()["requests"]


def test_oauth_client_and_release_check_work_on_both_releases(release: MagentoSandbox) -> None:
    settings = magento_settings(release.base_url)
    with client(settings) as magento:
        assert magento.get("/V1/store/storeViews")
        [finding] = check_magento_version(tenant(settings), magento)
    assert finding.ok, finding.detail
    if release.options.magento_version == "2.4.2":
        assert "2.4.2 or 2.4.3" in finding.detail and "also works" in finding.detail
    else:
        assert "2.4.4 or newer" in finding.detail and "does not work" in finding.detail
    assert probes(release)["GET /V1/store/storeViews"] == 3  # the run's own read and two probes


def test_bearer_token_works_on_2_4_2_and_is_reported_on_2_4_7(release: MagentoSandbox) -> None:
    settings = magento_settings(release.base_url, auth=BearerAuth(token=DEMO_OAUTH.access_token))
    with client(settings) as magento:
        [finding] = check_magento_version(tenant(settings), magento)
    if release.options.magento_version == "2.4.2":
        assert finding.ok and "bearer token accepted" in finding.detail
    else:
        assert not finding.ok and "refused" in finding.detail
        assert "standalone Bearer tokens" in finding.fix
    assert DEMO_OAUTH.access_token not in finding.detail + finding.fix


def test_bearer_token_on_2_4_7_that_allows_it() -> None:
    with MagentoSandbox(SandboxOptions(allow_bearer=True)) as store:
        settings = magento_settings(store.base_url, auth=BearerAuth(token=DEMO_OAUTH.access_token))
        with client(settings) as magento:
            [finding] = check_magento_version(tenant(settings), magento)
    assert finding.ok, finding.detail
