"""Magento's web API error bodies and the HTTP statuses it maps exceptions to.

Magento renders every failure as ``{"message": "...%1...", "parameters": [...] | {...}}``; ``errors`` is
added for aggregate exceptions and ``parameters`` is omitted when the phrase has no arguments
(``Magento\\Framework\\Webapi\\Rest\\Response``). The HTTP status follows ``ErrorProcessor::maskException``:
NoSuchEntity -> 404, authentication/authorization -> 401, any other LocalizedException -> 400, anything
else -> 500 with a masked "Report ID" message.
"""

from __future__ import annotations

import secrets
from typing import Any

Parameters = list[Any] | dict[str, Any] | None

INTERNAL_ERROR_MESSAGE = "Internal Error. Details are available in Magento log file. Report ID: %s"


class MagentoError(Exception):
    """A failure the sandbox reports the way Magento's ErrorProcessor would."""

    def __init__(
        self,
        status: int,
        message: str,
        parameters: Parameters = None,
        errors: list[dict[str, Any]] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.parameters = parameters
        self.errors = errors
        self.headers = headers or {}

    def body(self) -> dict[str, Any]:
        """The JSON body Magento writes for this error."""
        out: dict[str, Any] = {"message": self.message}
        if self.errors:
            out["errors"] = self.errors
        if self.parameters:
            out["parameters"] = self.parameters
        return out


def bad_request(
    message: str, parameters: Parameters = None, errors: list[dict[str, Any]] | None = None
) -> MagentoError:
    return MagentoError(400, message, parameters, errors)


def not_found(message: str, parameters: Parameters = None) -> MagentoError:
    return MagentoError(404, message, parameters)


def unauthorized(message: str, parameters: Parameters = None) -> MagentoError:
    return MagentoError(401, message, parameters)


def report_id() -> str:
    """A report id shaped like PHP's ``uniqid("webapi-")`` (13 hex digits)."""
    return "webapi-" + secrets.token_hex(7)[:13]


def internal_error() -> MagentoError:
    return MagentoError(500, INTERNAL_ERROR_MESSAGE % report_id())


def required_field(field_name: str) -> MagentoError:
    return bad_request('"%fieldName" is required. Enter and try again.', {"fieldName": field_name})


PRODUCT_NOT_FOUND = "The product that was requested doesn't exist. Verify the product and try again."
NO_ROUTE = "Request does not match any route."
CONSUMER_NOT_AUTHORIZED = "The consumer isn't authorized to access %resources."
DEADLOCK = "Database deadlock found when trying to get lock"


def product_not_found() -> MagentoError:
    return not_found(PRODUCT_NOT_FOUND)


def no_such_entity(field_name: str, field_value: Any) -> MagentoError:
    """``NoSuchEntityException::singleField``."""
    return not_found(
        "No such entity with %fieldName = %fieldValue", {"fieldName": field_name, "fieldValue": field_value}
    )
