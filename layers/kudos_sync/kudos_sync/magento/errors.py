"""The one table that turns a Magento response into a failure class (ARCHITECTURE section 4).

Magento renders every failure as ``{"message": "...%1...", "parameters": [...] | {...}, "errors": [...]}``
and maps exceptions to statuses in ``Webapi\\ErrorProcessor``: NoSuchEntity -> 404, authentication and
authorization -> 401, any other LocalizedException -> 400, anything else -> 500. Some 400s are not the
record's fault (deadlocks, input limits, a rejected signature method) and are listed before the generic
rows. Callers never parse messages: they switch on ``reason``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from kudos_sync.domain.errors import ConfigurationError, RecordError, SyncError, TransientError

Outcome = Literal["transient", "record", "configuration"]

# %1, %2 ... or %name. Numbers and names are matched whole, so %1 never eats the start of %10.
_PLACEHOLDER = re.compile(r"%(\d+|[A-Za-z_][A-Za-z0-9_]*)")


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list | tuple):
        return ", ".join(_text(v) for v in value)
    return str(value)


def placeholder_values(message: str, parameters: Any) -> dict[str, str]:
    """The value each placeholder of ``message`` takes from ``parameters``.

    An object fills ``%name``; a list fills ``%1``, ``%2``... The price APIs send named placeholders
    with a positional list (``"Invalid attribute %fieldName = %fieldValue."`` with ``["SKU", "X"]``):
    then the names take the list in order of first appearance.
    """
    if not parameters or not isinstance(message, str):
        return {}
    if isinstance(parameters, Mapping):
        return {str(k): _text(v) for k, v in parameters.items()}
    if not isinstance(parameters, Sequence) or isinstance(parameters, str):
        return {}
    values = list(parameters)
    tokens = _PLACEHOLDER.findall(message)
    out: dict[str, str] = {}
    if any(t.isdigit() for t in tokens):
        for token in tokens:
            index = int(token) - 1 if token.isdigit() else -1
            if 0 <= index < len(values):
                out[token] = _text(values[index])
        return out
    for token in tokens:
        if token not in out and len(out) < len(values):
            out[token] = _text(values[len(out)])
    return out


def fill_template(message: str, parameters: Any) -> str:
    """Fill Magento's ``%1``/``%name`` placeholders; one without a value is left as it is."""
    if not isinstance(message, str):
        return _text(message)
    values = placeholder_values(message, parameters)
    if not values:
        return message
    return _PLACEHOLDER.sub(lambda m: values.get(m.group(1), m.group(0)), message)


def fill_message(body: Any) -> str:
    """A Magento error body as one readable sentence: the message filled in, then any ``errors``."""
    if body is None:
        return ""
    if isinstance(body, str):
        return body
    if not isinstance(body, Mapping):
        return _text(body)
    main = fill_template(str(body.get("message", "")), body.get("parameters"))
    details: list[str] = []
    errors = body.get("errors")
    if isinstance(errors, Sequence) and not isinstance(errors, str):
        for item in errors:
            if isinstance(item, Mapping):
                text = fill_template(str(item.get("message", "")), item.get("parameters"))
                if text and text != main and text not in details:
                    details.append(text)
    if details:
        joined = "; ".join(details)
        return f"{main.rstrip('.:')}: {joined}" if main else joined
    return main


@dataclass(frozen=True, slots=True)
class Rule:
    """One row of the table: which responses it matches and what they mean."""

    statuses: frozenset[int] | None  # None: any status
    pattern: re.Pattern[str] | None  # searched in the raw template and the filled message
    outcome: Outcome
    reason: str
    field: str = ""
    throttled: bool = False  # tells the concurrency limiter to back off
    hint: str = ""

    def matches(self, status: int, template: str, filled: str) -> bool:
        if self.statuses is not None and status not in self.statuses:
            return False
        if self.pattern is None:
            return True
        return bool(self.pattern.search(template) or self.pattern.search(filled))


def _rx(text: str) -> re.Pattern[str]:
    return re.compile(text, re.IGNORECASE)


_BEARER_HINT = (
    "integration tokens are refused as bearer tokens since Magento 2.4.4 unless "
    "oauth/consumer/enable_integration_as_bearer is 1 (Stores > Configuration > Services > OAuth); "
    "prefer the integration's OAuth 1.0a credentials, or grant the integration the API resources named"
)
_OAUTH_HINT = (
    "the integration is not authorized: activate it in System > Extensions > Integrations and grant "
    "the API resources named, then store its four OAuth credentials"
)

RULES: tuple[Rule, ...] = (
    Rule(frozenset({401}), _rx(r"isn'?t authorized|not authorized"), "configuration", "not_authorized"),
    Rule(
        frozenset({401}),
        _rx(r"oauth|signature|nonce|timestamp|token|consumer"),
        "configuration",
        "credentials_rejected",
        hint="the OAuth credentials or token were rejected; check the tenant's Magento integration "
        "credentials and the server clock",
    ),
    Rule(frozenset({401}), None, "configuration", "unauthenticated", hint="check the tenant's credentials"),
    Rule(
        frozenset({403}),
        None,
        "configuration",
        "forbidden",
        hint="the store or a firewall in front of it refused the integration",
    ),
    Rule(
        frozenset({400}),
        _rx(r"Signature method .* is not supported"),
        "configuration",
        "signature_method",
        hint="Magento 2.4.4+ accepts only HMAC-SHA256",
    ),
    Rule(
        frozenset({400}),
        _rx(r"oauth"),
        "configuration",
        "oauth_request",
        hint="Magento refused the OAuth parameters; check the server clock and the integration credentials",
    ),
    Rule(
        frozenset({400}),
        _rx(r"2fa provider-specific"),
        "configuration",
        "two_factor",
        hint="admin tokens need 2FA; use an integration instead",
    ),
    Rule(
        frozenset({400}),
        _rx(r"Maximum SearchCriteria pageSize"),
        "configuration",
        "page_size_limit",
        hint="the store has web API input limits on: lower sync.page_size",
    ),
    Rule(
        frozenset({400}),
        _rx(r"Maximum items of type"),
        "configuration",
        "array_limit",
        hint="the store has web API input limits on: lower sync.batch_size",
    ),
    Rule(None, _rx(r"deadlock|lock wait timeout"), "transient", "deadlock"),
    Rule(frozenset({429}), None, "transient", "throttled", throttled=True),
    Rule(frozenset({503}), None, "transient", "unavailable", throttled=True),
    Rule(frozenset({408, 500, 502, 504}), None, "transient", "server_error"),
    Rule(
        frozenset({404}),
        _rx(r"Request does not match any route"),
        "configuration",
        "no_route",
        hint="check base_url and store_code, and that the module serving this route (e.g. MSI) is installed",
    ),
    Rule(
        frozenset({400}),
        _rx(r"URL key for specified store already exists"),
        "record",
        "url_key_conflict",
        field="url_key",
    ),
    Rule(frozenset({400}), _rx(r"already exists"), "record", "already_exists"),
    Rule(frozenset({400}), _rx(r"doesn'?t contain the specified product"), "record", "not_linked"),
    Rule(frozenset({400}), _rx(r"Validation Failed"), "record", "validation_failed"),
    Rule(frozenset({404}), None, "record", "not_found"),
    Rule(
        frozenset({301, 302, 303, 307, 308}),
        None,
        "configuration",
        "redirect",
        hint="the store redirects the API; set base_url to the final https address",
    ),
    Rule(None, None, "record", "rejected"),  # any other 4xx
)

_ANY_5XX = Rule(None, None, "transient", "server_error")


def match_rule(status: int, body: Any) -> Rule:
    """The first row of RULES that matches (any status >= 500 not listed is transient)."""
    template = str(body.get("message", "")) if isinstance(body, Mapping) else _text(body)
    filled = fill_message(body)
    for rule in RULES:
        if rule.statuses is None and rule.pattern is None and status >= 500:
            return _ANY_5XX
        if rule.matches(status, template, filled):
            return rule
    return _ANY_5XX


class MagentoTransientError(TransientError):
    """A transient failure with what the retry loop needs to know."""

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        reason: str = "",
        throttled: bool = False,
        retry_after: float | None = None,
        may_have_applied: bool = False,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.reason = reason
        self.throttled = throttled
        self.retry_after = retry_after
        self.may_have_applied = may_have_applied


class AmbiguousWriteError(MagentoTransientError):
    """A write that is not idempotent failed after it may have reached Magento: it was not retried
    blindly. The caller checks whether it took effect (e.g. re-lists) before sending it again."""


class MagentoRecordError(RecordError):
    def __init__(
        self,
        message: str,
        *,
        record: str = "",
        field: str = "",
        status: int = 400,
        reason: str = "rejected",
        detail: str = "",
    ) -> None:
        super().__init__(message, record=record, field=field)
        self.status = status
        self.reason = reason
        self.detail = detail  # Magento's filled message alone, without the endpoint prefix


class MagentoConfigurationError(ConfigurationError):
    def __init__(self, message: str, *, status: int | None = None, reason: str = "") -> None:
        super().__init__(message)
        self.status = status
        self.reason = reason


def classify(
    status: int,
    body: Any,
    *,
    endpoint: str,
    record: str = "",
    auth_kind: str = "oauth",
    retry_after: float | None = None,
) -> SyncError:
    """The exception for a failed response: TransientError, RecordError or ConfigurationError.

    ``endpoint`` is the method and path template ("POST /V1/products"), ``record`` the SKU or id the
    call was about; both go into the message so it says what happened and to which record.
    """
    rule = match_rule(status, body)
    # A body that is not JSON (an HTML error page, a proxy's text) is matched but never quoted: a
    # store in developer mode prints the failed SQL with its values (customers' e-mails, names).
    detail = "a body that is not JSON" if isinstance(body, str) else fill_message(body) or f"HTTP {status}"
    about = f" for {record}" if record else ""
    prefix = f"Magento {endpoint}{about}: HTTP {status}"
    if rule.outcome == "transient":
        return MagentoTransientError(
            f"{prefix}: {detail}",
            status=status,
            reason=rule.reason,
            throttled=rule.throttled,
            retry_after=retry_after,
            # Throttling and deadlocks happen before or instead of the write (the transaction rolled back).
            may_have_applied=rule.reason == "server_error",
        )
    if rule.outcome == "configuration":
        hint = rule.hint
        if rule.reason == "not_authorized":
            hint = _BEARER_HINT if auth_kind == "bearer" else _OAUTH_HINT
        return MagentoConfigurationError(f"{prefix}: {detail} ({hint})", status=status, reason=rule.reason)
    field = rule.field
    if not field and isinstance(body, Mapping):
        values = placeholder_values(str(body.get("message", "")), body.get("parameters"))
        field = values.get("fieldName", "")
    return MagentoRecordError(
        f"{prefix}: {detail}", record=record, field=field, status=status, reason=rule.reason, detail=detail
    )


def transport_error(
    exc: BaseException, *, endpoint: str, record: str = "", sent: bool
) -> MagentoTransientError:
    """A timeout or dropped connection. ``sent``: the request may have reached Magento."""
    about = f" for {record}" if record else ""
    return MagentoTransientError(
        f"Magento {endpoint}{about}: {type(exc).__name__} (no response)",
        reason="timeout" if "Timeout" in type(exc).__name__ else "connection",
        may_have_applied=sent,
    )
