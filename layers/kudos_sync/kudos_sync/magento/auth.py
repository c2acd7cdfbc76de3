"""Request signing for Magento's admin REST API: OAuth 1.0a (HMAC-SHA256, or SHA1) or a bearer token.

Supported releases are 2.4.2 to 2.4.7. Every one of them accepts HMAC-SHA256, so the client signs with it;
2.4.2 and 2.4.3 also accept HMAC-SHA1, which 2.4.4+ refuses with a 400 "Signature method %1 is not
supported" (the preflight signs one probe with SHA-1 to tell the two apart). An integration access token
works as a bearer token on 2.4.2/2.4.3 always and on 2.4.4+ only when the store allows it.

The base string covers the method, the URL without its query, the oauth_* parameters and the query
parameters; the JSON body is not signed. oauthlib adds an ``oauth_body_hash`` (a SHA-1 of
the body) when it is given a non-form body, so the body is never passed to it.

Every call to ``sign`` makes a fresh nonce and timestamp: Magento rejects a nonce it has seen for the
consumer, so a retried request must be signed again. Secrets stay ``SecretStr`` until the moment of
signing and never appear in a repr, a log line or an exception.
"""

from __future__ import annotations

from typing import Literal, Protocol

from oauthlib.oauth1 import SIGNATURE_HMAC_SHA1, SIGNATURE_HMAC_SHA256, SIGNATURE_TYPE_AUTH_HEADER, Client

from kudos_sync.config import BearerAuth, OAuthAuth


class RequestSigner(Protocol):
    """Produces the Authorization header for one request, signed over its final URL."""

    kind: str

    def authorization(self, method: str, url: str) -> str:
        """The Authorization header value for this method and exact URL (query included)."""
        ...


SignatureMethod = Literal["HMAC-SHA256", "HMAC-SHA1"]
_OAUTHLIB_METHODS = {"HMAC-SHA256": SIGNATURE_HMAC_SHA256, "HMAC-SHA1": SIGNATURE_HMAC_SHA1}


class OAuthSigner:
    """OAuth 1.0a, parameters in the Authorization header; HMAC-SHA256 unless told otherwise."""

    kind = "oauth"
    __slots__ = ("_credentials", "signature_method")

    def __init__(self, credentials: OAuthAuth, signature_method: SignatureMethod = "HMAC-SHA256") -> None:
        self._credentials = credentials
        self.signature_method: SignatureMethod = signature_method

    def authorization(self, method: str, url: str) -> str:
        creds = self._credentials
        client = Client(
            creds.consumer_key.get_secret_value(),
            client_secret=creds.consumer_secret.get_secret_value(),
            resource_owner_key=creds.access_token.get_secret_value(),
            resource_owner_secret=creds.access_token_secret.get_secret_value(),
            signature_method=_OAUTHLIB_METHODS[self.signature_method],
            signature_type=SIGNATURE_TYPE_AUTH_HEADER,
        )
        # No body and no Content-Type: the JSON body is not part of the signature (and no body hash).
        _, headers, _ = client.sign(url, http_method=method.upper())
        return str(headers["Authorization"])

    def __repr__(self) -> str:
        return f"OAuthSigner({self.signature_method}, credentials=**********)"


class BearerSigner:
    """An integration access token sent as a bearer token (2.4.2/2.4.3 always; 2.4.4+ when allowed)."""

    kind = "bearer"
    __slots__ = ("_credentials",)

    def __init__(self, credentials: BearerAuth) -> None:
        self._credentials = credentials

    def authorization(self, method: str, url: str) -> str:
        return "Bearer " + self._credentials.token.get_secret_value()

    def __repr__(self) -> str:
        return "BearerSigner(token=**********)"


def signer_for(
    auth: OAuthAuth | BearerAuth, signature_method: SignatureMethod = "HMAC-SHA256"
) -> OAuthSigner | BearerSigner:
    """The signer for a tenant's configured credentials."""
    if isinstance(auth, OAuthAuth):
        return OAuthSigner(auth, signature_method)
    return BearerSigner(auth)


def bearer_for(auth: OAuthAuth) -> BearerSigner:
    """The integration's access token used on its own, as a bearer token."""
    return BearerSigner(BearerAuth(token=auth.access_token))
