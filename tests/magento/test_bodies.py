"""Bodies at the Magento edge: answers read with a size cap (too big: a record error naming the size,
which is what the record is parked with), and path values of dots only refused before any request."""

import io
from typing import Any

import pytest
import requests
from kudos_sync.config import MagentoSettings, SyncSettings
from kudos_sync.domain.errors import RecordError
from kudos_sync.magento.bodies import MAX_RESPONSE_BYTES, read_capped
from kudos_sync.magento.client import MagentoClient

LIMIT = 1024


class StreamingSession(requests.Session):
    """Answers every request with `body`, streamed from a file-like raw (as urllib3 would)."""

    def __init__(self, body: bytes, *, declare_length: bool = True) -> None:
        super().__init__()
        self.body = body
        self.declare_length = declare_length
        self.sent: list[str] = []

    def send(self, request: requests.PreparedRequest, **kwargs: Any) -> requests.Response:
        self.sent.append(str(request.url))
        assert kwargs.get("stream") is True, "answers must be streamed to be capped"
        response = requests.Response()
        response.status_code = 200
        response.raw = io.BytesIO(self.body)
        response.headers["Content-Type"] = "application/json"
        if self.declare_length:
            response.headers["Content-Length"] = str(len(self.body))
        response.request = request
        return response


def _client(session: requests.Session, limit: int = LIMIT) -> MagentoClient:
    settings = MagentoSettings.model_validate(
        {"base_url": "https://shop.example.com", "auth": {"kind": "bearer", "token": "t"}}
    )
    return MagentoClient(settings, SyncSettings(), session=session, max_response_bytes=limit)


def _json_of_size(size: int) -> bytes:
    body = b'{"items":["' + b"x" * max(0, size - 14) + b'"]}'
    assert len(body) == size
    return body


@pytest.mark.parametrize("declare_length", [True, False], ids=["content-length", "chunked"])
def test_given_an_answer_at_the_limit_then_it_is_read(declare_length: bool) -> None:
    client = _client(StreamingSession(_json_of_size(LIMIT), declare_length=declare_length))
    assert len(client.get("/V1/products", record="SKU-1")["items"][0]) == LIMIT - 14


@pytest.mark.parametrize("declare_length", [True, False], ids=["content-length", "chunked"])
def test_given_an_answer_one_byte_over_the_limit_then_a_record_error_names_its_size(
    declare_length: bool,
) -> None:
    client = _client(StreamingSession(_json_of_size(LIMIT + 1), declare_length=declare_length))
    with pytest.raises(RecordError) as raised:
        client.get("/V1/products/{sku}", path={"sku": "SKU-1"}, record="SKU-1")
    message = str(raised.value)
    assert raised.value.record == "SKU-1"
    assert f"{LIMIT + 1} bytes" in message and f"{LIMIT}-byte limit" in message
    assert "xxxx" not in message  # the content itself is never quoted


def test_the_default_cap_bounds_memory_and_still_reads_a_large_page() -> None:
    assert 8 * 1024 * 1024 <= MAX_RESPONSE_BYTES <= 64 * 1024 * 1024
    response = requests.Response()
    response.raw = io.BytesIO(_json_of_size(4 * 1024 * 1024))
    assert (
        len(read_capped(response, MAX_RESPONSE_BYTES, endpoint="GET /V1/orders", record=""))
        == 4 * 1024 * 1024
    )


@pytest.mark.parametrize("sku", [".", "..", "...", "...."])
def test_given_a_sku_of_dots_only_then_a_record_error_before_any_request(sku: str) -> None:
    session = StreamingSession(b"{}")
    client = _client(session)
    with pytest.raises(RecordError) as raised:
        client.get("/V1/products/{sku}/media", path={"sku": sku}, record=sku)
    assert raised.value.record == sku and "dots only" in str(raised.value)
    assert session.sent == []


@pytest.mark.parametrize("sku", ["a.b", ".a", "a..", "v1.2"])
def test_given_a_sku_with_dots_and_more_then_it_is_escaped_into_its_own_segment(sku: str) -> None:
    session = StreamingSession(b"{}")
    _client(session).get("/V1/products/{sku}/media", path={"sku": sku}, record=sku)
    assert session.sent == [f"https://shop.example.com/rest/default/V1/products/{sku}/media"]


def test_given_a_non_json_error_page_then_the_error_does_not_quote_it() -> None:
    from kudos_sync.magento.errors import classify

    page = "<html>SQLSTATE[23000]: INSERT INTO customer_entity VALUES ('jane.doe@example.net')</html>"
    for status in (400, 500, 502):
        error = classify(status, page, endpoint="POST /V1/orders", record="100000001")
        assert "jane.doe" not in str(error) and "not JSON" in str(error)
