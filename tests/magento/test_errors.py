"""The error table: status + Magento message -> failure class, with Magento's placeholders filled."""

from __future__ import annotations

from typing import Any

import pytest
from kudos_sync.domain.errors import ConfigurationError, RecordError, TransientError
from kudos_sync.magento.errors import (
    MagentoRecordError,
    MagentoTransientError,
    classify,
    fill_message,
    fill_template,
    placeholder_values,
)


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (
            {"message": "Product %1 not in store %2", "parameters": ["TEE-1", "3"]},
            "Product TEE-1 not in store 3",
        ),
        ({"message": "%1 and %10", "parameters": [str(i) for i in range(1, 11)]}, "1 and 10"),
        (
            {
                "message": "No such entity with %fieldName = %fieldValue",
                "parameters": {"fieldName": "sku", "fieldValue": "X/1"},
            },
            "No such entity with sku = X/1",
        ),
        (
            {"message": "Invalid attribute %fieldName = %fieldValue.", "parameters": ["SKU", "MH01"]},
            "Invalid attribute SKU = MH01.",
        ),
        (
            {
                "message": "Requested store is not found. Row ID: SKU = %SKU, Store ID: %storeId.",
                "parameters": ["MH01-XL", "10"],
            },
            "Requested store is not found. Row ID: SKU = MH01-XL, Store ID: 10.",
        ),
        (
            {
                "message": "The consumer isn't authorized to access %resources.",
                "parameters": {"resources": "Magento_Catalog::products"},
            },
            "The consumer isn't authorized to access Magento_Catalog::products.",
        ),
        ({"message": "Nothing to fill"}, "Nothing to fill"),
        ({"message": "Left %missing alone", "parameters": {}}, "Left %missing alone"),
        (
            {
                "message": "Validation Failed",
                "errors": [
                    {"message": '"%field" can not be empty.', "parameters": {"field": "sku"}},
                    {"message": "Source %1 is unknown", "parameters": ["web"]},
                ],
            },
            'Validation Failed: "sku" can not be empty.; Source web is unknown',
        ),
        ("plain text", "plain text"),
        (None, ""),
    ],
)
def test_fill_message(body: Any, expected: str) -> None:
    assert fill_message(body) == expected


def test_fill_leaves_percent_in_values_alone() -> None:
    assert fill_template("Got %1 for %2", ["100%2", "x"]) == "Got 100%2 for x"


def test_placeholder_values_pair_names_with_a_list_in_order() -> None:
    assert placeholder_values("A %SKU b %storeId c %SKU", ["S1", "7"]) == {"SKU": "S1", "storeId": "7"}


def _err(status: int, message: str = "", parameters: Any = None, **kw: Any) -> Exception:
    body: dict[str, Any] = {"message": message}
    if parameters is not None:
        body["parameters"] = parameters
    return classify(status, body, endpoint="POST /V1/products", record="TEE-1", **kw)


@pytest.mark.parametrize("status", [429, 500, 502, 503, 504, 408])
def test_overload_and_server_errors_are_transient(status: int) -> None:
    error = _err(status, "Internal Error. Details are available in Magento log file. Report ID: webapi-1")
    assert isinstance(error, TransientError)
    assert isinstance(error, MagentoTransientError)
    assert error.throttled is (status in (429, 503))


@pytest.mark.parametrize(
    "message",
    [
        "Database deadlock found when trying to get lock",
        "SQLSTATE[40001]: Serialization failure: 1213 Deadlock found when trying to get lock",
        "Database lock wait timeout exceeded",
        "SQLSTATE[HY000]: General error: 1205 Lock wait timeout exceeded; try restarting transaction",
    ],
)
def test_deadlock_400s_are_transient_and_not_applied(message: str) -> None:
    error = _err(400, message)
    assert isinstance(error, MagentoTransientError)
    assert error.reason == "deadlock"
    assert not error.may_have_applied


def test_401_not_authorized_names_resources_and_the_oauth_fix() -> None:
    error = _err(
        401, "The consumer isn't authorized to access %resources.", {"resources": "Magento_Catalog::products"}
    )
    assert isinstance(error, ConfigurationError)
    assert "Magento_Catalog::products" in str(error)
    assert "Integrations" in str(error)


def test_401_with_a_bearer_token_explains_the_2_4_4_change() -> None:
    error = _err(
        401,
        "The consumer isn't authorized to access %resources.",
        {"resources": "Magento_Sales::sales"},
        auth_kind="bearer",
    )
    assert isinstance(error, ConfigurationError)
    assert "2.4.4" in str(error) and "enable_integration_as_bearer" in str(error)


@pytest.mark.parametrize(
    ("status", "message", "reason"),
    [
        (401, "The signature is invalid. Verify and try again.", "credentials_rejected"),
        (401, "", "unauthenticated"),
        (403, "Forbidden", "forbidden"),
        (400, "Signature method %1 is not supported", "signature_method"),
        (400, "Please use the 2fa provider-specific endpoints to obtain a token.", "two_factor"),
        (400, "Incorrect timestamp value in the oauth_timestamp parameter", "oauth_request"),
        (400, 'The "%1" Oauth version isn\'t supported.', "oauth_request"),
        (400, "Maximum SearchCriteria pageSize is %max", "page_size_limit"),
        (400, 'Maximum items of type "%type" is %max', "array_limit"),
        (404, "Request does not match any route.", "no_route"),
        (302, "", "redirect"),
    ],
)
def test_configuration_failures(status: int, message: str, reason: str) -> None:
    error = _err(status, message)
    assert isinstance(error, ConfigurationError)
    assert getattr(error, "reason", None) == reason


@pytest.mark.parametrize(
    ("status", "message", "parameters", "reason", "field"),
    [
        (400, "URL key for specified store already exists.", None, "url_key_conflict", "url_key"),
        (400, 'Admin store attribute option label "%1" already exists.', ["Red"], "already_exists", ""),
        (400, "Invalid product data: %1", ["price is negative"], "rejected", ""),
        (
            404,
            "The product that was requested doesn't exist. Verify the product and try again.",
            None,
            "not_found",
            "",
        ),
        (
            404,
            "No such entity with %fieldName = %fieldValue",
            {"fieldName": "sku", "fieldValue": "X"},
            "not_found",
            "sku",
        ),
        (400, "The category doesn't contain the specified product.", None, "not_linked", ""),
        (400, "Validation Failed", None, "validation_failed", ""),
        (413, "", None, "rejected", ""),
    ],
)
def test_record_failures(status: int, message: str, parameters: Any, reason: str, field: str) -> None:
    error = _err(status, message, parameters)
    assert isinstance(error, RecordError)
    assert isinstance(error, MagentoRecordError)
    assert error.reason == reason
    assert error.field == field
    assert error.record == "TEE-1"
    assert "TEE-1" in str(error) and "POST /V1/products" in str(error)
    assert "%" not in error.detail or not parameters


def test_unlisted_5xx_is_transient() -> None:
    assert isinstance(classify(507, "Insufficient Storage", endpoint="GET /V1/orders"), TransientError)


def test_html_error_page_body_is_classified_by_status() -> None:
    assert isinstance(classify(502, "<html>Bad gateway</html>", endpoint="GET /V1/orders"), TransientError)
