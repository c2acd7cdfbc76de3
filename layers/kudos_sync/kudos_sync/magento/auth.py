"""Request signing for Magento's admin REST API: OAuth 1.0a (HMAC-SHA256) or a bearer token.

Magento 2.4.4+ accepts only HMAC-SHA256 for OAuth; HMAC-SHA1 gets a 400 "Signature method %1 is not
supported". The base string covers the method, the URL without its query, the oauth_* parameters and
the query parameters; the JSON body is not signed. oauthlib adds an ``oauth_body_hash`` (a SHA-1 of
the body) when it is given a non-form body, so the body is never passed to it.

Every call to ``sign`` makes a fresh nonce and timestamp: Magento rejects a nonce it has seen for the
consumer, so a retried request must be signed again. Secrets stay ``SecretStr`` until the moment of
signing and never appear in a repr, a log line or an exception.
"""

from __future__ import annotations

from typing import Protocol

from oauthlib.oauth1 import SIGNATURE_HMAC_SHA256, SIGNATURE_TYPE_AUTH_HEADER, Client

from kudos_sync.config import BearerAuth, OAuthAuth


class RequestSigner(Protocol):
    """Produces the Authorization header for one request, signed over its final URL."""

    kind: str

    def authorization(self, method: str, url: str) -> str:
        """The Authorization header value for this method and exact URL (query included)."""
        ...


class OAuthSigner:
    """OAuth 1.0a, HMAC-SHA256, parameters in the Authorization header."""

    kind = "oauth"
    __slots__ = ("_credentials",)

    def __init__(self, credentials: OAuthAuth) -> None:
        self._credentials = credentials

    def authorization(self, method: str, url: str) -> str:
        creds = self._credentials
        client = Client(
            creds.consumer_key.get_secret_value(),
            client_secret=creds.consumer_secret.get_secret_value(),
            resource_owner_key=creds.access_token.get_secret_value(),
            resource_owner_secret=creds.access_token_secret.get_secret_value(),
            signature_method=SIGNATURE_HMAC_SHA256,
            signature_type=SIGNATURE_TYPE_AUTH_HEADER,
        )
        # No body and no Content-Type: the JSON body is not part of the signature (and no body hash).
        _, headers, _ = client.sign(url, http_method=method.upper())
        return str(headers["Authorization"])

    def __repr__(self) -> str:
        return "OAuthSigner(HMAC-SHA256, credentials=**********)"


class BearerSigner:
    """An integration access token sent as a bearer token (the store must allow it on 2.4.4+)."""

    kind = "bearer"
    __slots__ = ("_credentials",)

    def __init__(self, credentials: BearerAuth) -> None:
        self._credentials = credentials

    def authorization(self, method: str, url: str) -> str:
        return "Bearer " + self._credentials.token.get_secret_value()

    def __repr__(self) -> str:
        return "BearerSigner(token=**********)"


def signer_for(auth: OAuthAuth | BearerAuth) -> OAuthSigner | BearerSigner:
    """The signer for a tenant's configured credentials."""
    if isinstance(auth, OAuthAuth):
        return OAuthSigner(auth)
    return BearerSigner(auth)
