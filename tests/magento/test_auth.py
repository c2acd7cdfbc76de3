"""OAuth 1.0a signing, checked the way Magento verifies it, and bearer tokens."""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
from urllib.parse import quote, unquote, urlsplit

import pytest
from kudos_sync.magento.auth import BearerSigner, OAuthSigner, signer_for
from kudos_sync.magento.search import Filter, SearchCriteria, SortOrder, encode_search_criteria

from tests.magento.conftest import (
    ACCESS_TOKEN,
    CONSUMER_KEY,
    CONSUMER_SECRET,
    TOKEN_SECRET,
    bearer_auth,
    oauth_auth,
)


def parse_oauth_header(header: str) -> dict[str, str]:
    assert header.startswith("OAuth ")
    return {k: unquote(v) for k, v in re.findall(r'(\w+)="([^"]*)"', header)}


def rawurlencode(text: str) -> str:
    """PHP's rawurlencode (RFC 3986: only A-Z a-z 0-9 - _ . ~ stay)."""
    return quote(text, safe="-_.~")


def magento_expected_signature(method: str, url: str, oauth: dict[str, str]) -> str:
    """The signature as Magento recomputes it (Framework\\Oauth\\Helper\\Request + laminas-oauth):
    query split on & and =, rawurldecoded; every parameter except oauth_signature encoded, sorted,
    joined; URL without query; key consumer_secret&token_secret; HMAC-SHA256, base64."""
    parts = urlsplit(url)
    params = {k: v for k, v in oauth.items() if k != "oauth_signature"}
    if parts.query:
        for pair in parts.query.split("&"):
            bits = pair.split("=")
            if len(bits) == 2 and not bits[0].startswith("oauth_"):
                params[unquote(bits[0])] = unquote(bits[1])
    encoded = sorted((rawurlencode(k), rawurlencode(v)) for k, v in params.items())
    normalized = "&".join(f"{k}={v}" for k, v in encoded)
    base_url = f"{parts.scheme.lower()}://{parts.netloc.lower()}{parts.path}"
    base = "&".join([method.upper(), rawurlencode(base_url), rawurlencode(normalized)])
    key = f"{rawurlencode(CONSUMER_SECRET)}&{rawurlencode(TOKEN_SECRET)}"
    return base64.b64encode(hmac.new(key.encode(), base.encode(), hashlib.sha256).digest()).decode()


SEARCH_URL = "https://shop.example.com/rest/default/V1/products?" + encode_search_criteria(
    SearchCriteria(
        filter_groups=(
            (Filter("sku", "A/1,B 2,C+3", "in"),),
            (Filter("name", "50% off & more=yes", "like"), Filter("status", "1")),
        ),
        sort_orders=(SortOrder("created_at", "ASC"),),
        page_size=20,
        current_page=2,
    )
)


@pytest.mark.parametrize(
    ("method", "url"),
    [
        ("GET", SEARCH_URL),
        ("POST", "https://shop.example.com/rest/all/V1/products"),
        ("PUT", "https://shop.example.com/rest/all/V1/products/TEE%2FRED%20XL"),
        ("DELETE", "https://Shop.Example.com:8443/rest/all/V1/products/X/media/12"),
        ("GET", "http://127.0.0.1:8080/rest/default/V1/categories?rootCategoryId=2"),
    ],
)
def test_oauth_signature_matches_magentos_verification(method: str, url: str) -> None:
    header = OAuthSigner(oauth_auth()).authorization(method, url)
    oauth = parse_oauth_header(header)
    assert oauth["oauth_signature_method"] == "HMAC-SHA256"
    assert oauth["oauth_consumer_key"] == CONSUMER_KEY
    assert oauth["oauth_token"] == ACCESS_TOKEN
    assert oauth["oauth_signature"] == magento_expected_signature(method, url, oauth)


def test_oauth_never_sends_sha1_nor_a_body_hash() -> None:
    header = OAuthSigner(oauth_auth()).authorization("POST", "https://shop.example.com/rest/all/V1/products")
    assert "SHA1" not in header.upper().replace("SHA256", "")
    assert "oauth_body_hash" not in header


def test_each_signing_uses_a_fresh_nonce_and_signature() -> None:
    signer = OAuthSigner(oauth_auth())
    headers = [parse_oauth_header(signer.authorization("GET", SEARCH_URL)) for _ in range(20)]
    assert len({h["oauth_nonce"] for h in headers}) == 20
    assert len({h["oauth_signature"] for h in headers}) == 20


def test_query_parameters_are_signed() -> None:
    signer = OAuthSigner(oauth_auth())
    oauth = parse_oauth_header(signer.authorization("GET", "https://s.example/rest/default/V1/orders?a=1"))
    tampered = magento_expected_signature("GET", "https://s.example/rest/default/V1/orders?a=2", oauth)
    assert oauth["oauth_signature"] != tampered


def test_signers_never_show_secrets() -> None:
    oauth = OAuthSigner(oauth_auth())
    bearer = BearerSigner(bearer_auth("tok-very-secret"))
    for text in (repr(oauth), str(oauth), repr(bearer), repr(oauth_auth()), repr(bearer_auth())):
        for secret in (CONSUMER_SECRET, TOKEN_SECRET, ACCESS_TOKEN, CONSUMER_KEY, "tok-very-secret"):
            assert secret not in text


def test_bearer_header_and_factory() -> None:
    assert BearerSigner(bearer_auth("abc")).authorization("GET", "https://x/") == "Bearer abc"
    assert isinstance(signer_for(bearer_auth()), BearerSigner)
    assert isinstance(signer_for(oauth_auth()), OAuthSigner)
    assert signer_for(oauth_auth()).kind == "oauth"
