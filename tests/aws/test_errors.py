"""AWS failures become the sync's failure classes in one place (kudos_sync.aws.errors)."""

import json
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import boto3
import kudos_sync.aws.table as table_module
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError, EndpointConnectionError, ReadTimeoutError
from botocore.stub import Stubber
from kudos_sync.aws.clients import CLIENT_CONFIG
from kudos_sync.aws.errors import aws_errors, classify
from kudos_sync.aws.state import DynamoStateStore
from kudos_sync.domain.errors import ConcurrentWriteError, ConfigurationError, TransientError
from kudos_sync.domain.state import Binding, BindingKind

from tests.contract.builders import a_cursor

NOW = datetime(2026, 11, 1, 9, 0, tzinfo=UTC)


def a_client_error(code: str, status: int = 400, operation: str = "PutItem") -> ClientError:
    return ClientError(
        {"Error": {"Code": code, "Message": "m"}, "ResponseMetadata": {"HTTPStatusCode": status}},  # type: ignore[typeddict-item]
        operation,
    )


@pytest.mark.parametrize(
    ("code", "status", "expected"),
    [
        ("ProvisionedThroughputExceededException", 400, TransientError),
        ("ThrottlingException", 400, TransientError),
        ("RequestLimitExceeded", 400, TransientError),
        ("SlowDown", 503, TransientError),
        ("InternalServerError", 500, TransientError),
        ("SomethingNew", 502, TransientError),
        ("AccessDeniedException", 400, ConfigurationError),
        ("AccessDenied", 403, ConfigurationError),
        ("ResourceNotFoundException", 400, ConfigurationError),
        ("NoSuchBucket", 404, ConfigurationError),
        ("UnrecognizedClientException", 400, ConfigurationError),
        ("ValidationException", 400, None),
        ("ConditionalCheckFailedException", 400, None),
    ],
)
def test_error_table(code: str, status: int, expected: type[Exception] | None) -> None:
    mapped = classify(a_client_error(code, status), "DynamoDB PutItem on table t")
    if expected is None:
        assert mapped is None
    else:
        assert type(mapped) is expected
        assert "DynamoDB PutItem on table t" in str(mapped)


def test_connection_failures_are_transient() -> None:
    assert isinstance(classify(EndpointConnectionError(endpoint_url="http://x"), "op"), TransientError)
    assert isinstance(classify(ReadTimeoutError(endpoint_url="http://x"), "op"), TransientError)


def test_unmapped_errors_pass_through_unchanged() -> None:
    with pytest.raises(ClientError, match="ValidationException"), aws_errors("op"):
        raise a_client_error("ValidationException")
    with pytest.raises(KeyError), aws_errors("op"):
        raise KeyError("not an AWS error")


# ---------------------------------------------------------------- the store, stubbed


@pytest.fixture
def stubbed() -> Iterator[tuple[DynamoStateStore, Stubber]]:
    client = boto3.client(
        "dynamodb", region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="x"
    )
    with Stubber(client) as stubber:
        yield DynamoStateStore(client, "state", "acme"), stubber


@pytest.mark.parametrize(
    "code", ["ProvisionedThroughputExceededException", "ThrottlingException", "RequestLimitExceeded"]
)
def test_given_dynamodb_throttling_when_store_reads_then_transient_error(
    stubbed: tuple[DynamoStateStore, Stubber], code: str
) -> None:
    store, stubber = stubbed
    stubber.add_client_error("get_item", service_error_code=code, http_status_code=400)
    with pytest.raises(TransientError, match="acme"):
        store.get_cursor("invoices")


def test_given_dynamodb_5xx_when_leasing_then_transient_error(
    stubbed: tuple[DynamoStateStore, Stubber],
) -> None:
    store, stubber = stubbed
    stubber.add_client_error("put_item", service_error_code="InternalServerError", http_status_code=500)
    with pytest.raises(TransientError):
        store.acquire_lease("push", "run-a", NOW, NOW + timedelta(minutes=14))


@pytest.mark.parametrize("code", ["AccessDeniedException", "ResourceNotFoundException"])
def test_given_no_access_or_no_table_then_configuration_error(
    stubbed: tuple[DynamoStateStore, Stubber], code: str
) -> None:
    store, stubber = stubbed
    stubber.add_client_error("query", service_error_code=code, http_status_code=400)
    with pytest.raises(ConfigurationError, match="table state"):
        store.list_parked()


def test_given_unprocessed_items_when_deleting_a_kind_then_they_are_retried(
    stubbed: tuple[DynamoStateStore, Stubber], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(table_module, "_backoff", lambda attempt: None)
    store, stubber = stubbed
    shard = {"sk": {"S": "BIND#price#G0000000000000007#S00000"}, "gen": {"N": "7"}, "c": {"N": "1"}}
    stubber.add_response("query", {"Items": [shard]})
    leftover = {"state": [{"DeleteRequest": {"Key": {"pk": {"S": "TENANT#acme"}, "sk": shard["sk"]}}}]}
    stubber.add_response("batch_write_item", {"UnprocessedItems": leftover})
    stubber.add_response("batch_write_item", {"UnprocessedItems": {}})
    assert store.delete_bindings(BindingKind.PRICE) == 0, "no header: nothing was current"
    stubber.assert_no_pending_responses()


def test_given_items_never_processed_then_transient_error(
    stubbed: tuple[DynamoStateStore, Stubber], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(table_module, "_backoff", lambda attempt: None)
    store, stubber = stubbed
    shard = {"sk": {"S": "BIND#price#G0000000000000007#S00000"}, "gen": {"N": "7"}, "c": {"N": "1"}}
    stubber.add_response("query", {"Items": [shard]})
    leftover = {"state": [{"DeleteRequest": {"Key": {"pk": {"S": "TENANT#acme"}, "sk": shard["sk"]}}}]}
    for _ in range(8):
        stubber.add_response("batch_write_item", {"UnprocessedItems": leftover})
    with pytest.raises(TransientError, match="unprocessed"):
        store.delete_bindings(BindingKind.PRICE)


def _cancelled(*codes: str) -> dict[str, Any]:
    return {"Message": "cancelled", "CancellationReasons": [{"Code": code} for code in codes]}


def _save_one_price(stubber: Stubber) -> None:
    stubber.add_response("get_item", {"Item": {"shards": {"N": "1"}, "gen": {"N": "7"}}})
    stubber.add_response("batch_get_item", {"Responses": {"state": []}})


def test_given_transaction_conflict_when_saving_bindings_then_it_is_retried(
    stubbed: tuple[DynamoStateStore, Stubber], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(table_module, "_backoff", lambda attempt: None)
    store, stubber = stubbed
    _save_one_price(stubber)
    stubber.add_client_error(
        "transact_write_items",
        service_error_code="TransactionCanceledException",
        modeled_fields=_cancelled("None", "TransactionConflict"),
    )
    stubber.add_response("transact_write_items", {})
    store.save_bindings([Binding(kind=BindingKind.PRICE, key="SKU-1", fingerprint="f")])
    stubber.assert_no_pending_responses()


def test_given_shard_changed_since_read_when_saving_then_concurrent_write_error_and_no_retry(
    stubbed: tuple[DynamoStateStore, Stubber], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(table_module, "_backoff", lambda attempt: None)
    store, stubber = stubbed
    _save_one_price(stubber)
    stubber.add_client_error(
        "transact_write_items",
        service_error_code="TransactionCanceledException",
        modeled_fields=_cancelled("None", "ConditionalCheckFailed"),
    )
    with pytest.raises(ConcurrentWriteError, match="another writer") as raised:
        store.save_bindings([Binding(kind=BindingKind.PRICE, key="SKU-1", fingerprint="f")])
    assert isinstance(raised.value, TransientError), "the run ends failed, the next one starts over"
    stubber.assert_no_pending_responses()


def test_given_transaction_always_cancelled_then_transient_error(
    stubbed: tuple[DynamoStateStore, Stubber], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(table_module, "_backoff", lambda attempt: None)
    store, stubber = stubbed
    _save_one_price(stubber)
    for _ in range(5):
        stubber.add_client_error(
            "transact_write_items",
            service_error_code="TransactionCanceledException",
            modeled_fields=_cancelled("ThrottlingError"),
        )
    with pytest.raises(TransientError, match="cancelled after retries"):
        store.save_bindings([Binding(kind=BindingKind.PRICE, key="SKU-1", fingerprint="f")])


# ---------------------------------------------------------------- real HTTP, real retries


class _Throttling(BaseHTTPRequestHandler):
    requests = 0

    def do_POST(self) -> None:
        type(self).requests += 1
        self.rfile.read(int(self.headers.get("Content-Length", 0)))
        error_type = "com.amazonaws.dynamodb.v20120810#ProvisionedThroughputExceededException"
        body = json.dumps({"__type": error_type, "message": "slow"}).encode()
        self.send_response(400)
        self.send_header("Content-Type", "application/x-amz-json-1.0")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: Any) -> None:
        pass


def test_given_endpoint_that_keeps_throttling_then_botocore_retries_and_store_raises_transient() -> None:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Throttling)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        config = CLIENT_CONFIG.merge(Config(retries={"mode": "adaptive", "total_max_attempts": 2}))
        client = boto3.client(
            "dynamodb",
            region_name="us-east-1",
            endpoint_url=f"http://127.0.0.1:{server.server_address[1]}",
            aws_access_key_id="x",
            aws_secret_access_key="x",
            config=config,
        )
        store = DynamoStateStore(client, "state", "acme")
        with pytest.raises(TransientError, match="throttling"):
            store.save_cursor(a_cursor("invoices"))
        assert _Throttling.requests == 2, "botocore retried before giving up"
    finally:
        server.shutdown()
        thread.join()
