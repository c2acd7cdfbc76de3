"""Who may call: OAuth 1.0a integrations and integration bearer tokens, as the emulated release allows.

2.4.4 and later accept only HMAC-SHA256 and take an integration access token as a bearer token only when
``oauth/consumer/enable_integration_as_bearer`` is on; 2.4.2 and 2.4.3 accept HMAC-SHA1 as well and always
take the bearer token (``SandboxOptions.signature_methods``, ``bearer_allowed``).

Follows ``Magento\\Framework\\Oauth\\Oauth::validateAccessTokenRequest`` and the integration token provider:
protocol parameters first (version, presence, signature method, consumer, timestamp, nonce), then the
access token, then the signature. Errors keep Magento's statuses: input problems are 400, the rest 401.
A request without credentials reaches the ACL check and gets 401 "The consumer isn't authorized to access
%resources.". Magento refuses only timestamps more than 600 s in the future; the sandbox also refuses
ones more than ``max_timestamp_age_s`` in the past so its nonce memory stays bounded.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import threading
import time
from collections.abc import Mapping
from urllib.parse import parse_qsl, quote, unquote, urlsplit

from .errors import CONSUMER_NOT_AUTHORIZED, MagentoError, bad_request, unauthorized
from .options import SandboxOptions

CONSUMER_ID = 1
_REQUIRED = (
    "oauth_consumer_key",
    "oauth_signature",
    "oauth_signature_method",
    "oauth_nonce",
    "oauth_timestamp",
    "oauth_token",
)
TIME_DEVIATION_S = 600


_HEADER_PARAM = re.compile(r'([A-Za-z0-9_\-]+)\s*=\s*"([^"]*)"')


def _escape(text: str) -> str:
    """RFC 5849 section 3.6 percent-encoding (RFC 3986 unreserved characters kept)."""
    return quote(text, safe="~")


def parse_oauth_header(header: str) -> dict[str, str]:
    """The ``oauth_*`` parameters of an ``Authorization: OAuth ...`` header, percent-decoded."""
    return {
        unquote(k): unquote(v) for k, v in _HEADER_PARAM.findall(header.partition(" ")[2]) if k != "realm"
    }


def signature_base_string(method: str, url: str, oauth_params: dict[str, str]) -> str:
    """RFC 5849 section 3.4.1: method, base string URI, and the sorted, encoded oauth + query parameters."""
    parts = urlsplit(url)
    scheme, host = parts.scheme.lower(), (parts.hostname or "").lower()
    port = parts.port
    netloc = host if port is None or (scheme, port) in (("http", 80), ("https", 443)) else f"{host}:{port}"
    base_uri = f"{scheme}://{netloc}{parts.path or '/'}"
    pairs = [(k, v) for k, v in oauth_params.items() if k != "oauth_signature"]
    pairs.extend(parse_qsl(parts.query, keep_blank_values=True))
    encoded = sorted((_escape(k), _escape(v)) for k, v in pairs)
    normalized = "&".join(f"{k}={v}" for k, v in encoded)
    return f"{method.upper()}&{_escape(base_uri)}&{_escape(normalized)}"


def _hmac(method: str, base_string: str, consumer_secret: str, token_secret: str) -> str:
    """RFC 5849 section 3.4.2 (SHA-1, or SHA-256): key ``escape(consumer_secret)&escape(token_secret)``."""
    key = f"{_escape(consumer_secret)}&{_escape(token_secret)}"
    digestmod = hashlib.sha1 if method == "HMAC-SHA1" else hashlib.sha256
    digest = hmac.new(key.encode("utf-8"), base_string.encode("utf-8"), digestmod).digest()
    return base64.b64encode(digest).decode("ascii")


def not_authorized(resource: str) -> MagentoError:
    return unauthorized(CONSUMER_NOT_AUTHORIZED, {"resources": resource})


class Authenticator:
    """Checks the Authorization header of one request; remembers used nonces."""

    def __init__(self, options: SandboxOptions) -> None:
        self.options = options
        self._nonces: dict[str, int] = {}
        self._lock = threading.Lock()
        self._last_prune = 0.0

    def check(self, method: str, url: str, headers: Mapping[str, str], resource: str) -> None:
        header = headers.get("Authorization") or headers.get("authorization") or ""
        scheme, _, credentials = header.partition(" ")
        if scheme.lower() == "bearer":
            token = credentials.strip()
            accepted = {t for t in (self.options.bearer_token,) if t}
            if self.options.oauth is not None:
                accepted.add(self.options.oauth.access_token)
            if self.options.bearer_allowed and token in accepted:
                return
            raise not_authorized(resource)
        if scheme.lower() == "oauth" and self.options.oauth is not None:
            self._check_oauth(method, url, header)
            return
        raise not_authorized(resource)

    def _check_oauth(self, method: str, url: str, header: str) -> None:
        creds = self.options.oauth
        assert creds is not None
        params = parse_oauth_header(header)
        version = params.get("oauth_version")
        if version is not None and version != "1.0":
            raise bad_request('The "%1" Oauth version isn\'t supported.', [version])
        missing = [name for name in _REQUIRED if not params.get(name)]
        if len(missing) == 1:
            raise bad_request('"%fieldName" is required. Enter and try again.', {"fieldName": missing[0]})
        if missing:
            template = '"%fieldName" is required. Enter and try again.'
            raise bad_request(
                "One or more input exceptions have occurred.",
                errors=[{"message": template, "parameters": {"fieldName": m}} for m in missing],
            )
        method_name = params["oauth_signature_method"]
        if method_name not in self.options.signature_methods:
            raise bad_request("Signature method %1 is not supported", [method_name])
        if params["oauth_consumer_key"] != creds.consumer_key:
            raise unauthorized("A consumer having the specified key does not exist")
        self._check_nonce(params["oauth_nonce"], params["oauth_timestamp"])
        if params["oauth_token"] != creds.access_token:
            raise unauthorized("Specified token does not exist")
        base = signature_base_string(method, url, params)
        expected = _hmac(method_name, base, creds.consumer_secret, creds.token_secret)
        if not hmac.compare_digest(expected, params["oauth_signature"]):
            raise unauthorized("The signature is invalid. Verify and try again.")

    def _check_nonce(self, nonce: str, timestamp_text: str) -> None:
        try:
            timestamp = int(timestamp_text)
        except ValueError:
            timestamp = 0
        now = int(time.time())
        too_old = now - timestamp > self.options.max_timestamp_age_s
        if timestamp <= 0 or timestamp > now + TIME_DEVIATION_S or too_old:
            raise bad_request("Incorrect timestamp value in the oauth_timestamp parameter")
        with self._lock:
            if now - self._last_prune > 60:
                horizon = now - self.options.max_timestamp_age_s - TIME_DEVIATION_S
                self._nonces = {n: t for n, t in self._nonces.items() if t >= horizon}
                self._last_prune = now
            if nonce in self._nonces:
                raise unauthorized(
                    "The nonce is already being used by the consumer with ID %1", [CONSUMER_ID]
                )
            self._nonces[nonce] = timestamp
