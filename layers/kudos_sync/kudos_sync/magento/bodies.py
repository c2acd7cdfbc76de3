"""Request and response bodies at the Magento edge: JSON out (Decimal and datetime as Magento reads
them), and JSON in, read with a size cap so one oversized answer cannot exhaust the function's
memory. An answer over the cap is a record error that names its size, never its content."""

from __future__ import annotations

import json
from datetime import datetime
from decimal import Decimal
from typing import Any

import requests

from kudos_sync.magento.errors import MagentoRecordError

# The largest answer read: a page of 100 orders with their items is well under 2 MB; a product's
# media list with base64 content is not requested. 32 MB leaves room and still bounds memory.
MAX_RESPONSE_BYTES = 32 * 1024 * 1024
_CHUNK = 64 * 1024
_UNDECODABLE_PREVIEW = 500


def _json_default(value: Any) -> Any:
    if isinstance(value, Decimal):
        # Money is Decimal inside; JSON numbers at the edge. A quantised amount prints exactly.
        return float(value)
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M:%S")
    if isinstance(value, set | frozenset | tuple):
        return list(value)
    raise TypeError(f"cannot send a {type(value).__name__} to Magento")


def dumps(body: Any) -> bytes:
    """The JSON body as bytes (ASCII-escaped, so no proxy or server can mis-decode it)."""
    return json.dumps(body, default=_json_default, separators=(",", ":"), ensure_ascii=True).encode("ascii")


class Undecodable:
    """A body that is not JSON; only its start is kept (an HTML error page, a proxy's text)."""

    __slots__ = ("size", "text")

    def __init__(self, content: bytes) -> None:
        self.size = len(content)
        self.text = content[:_UNDECODABLE_PREVIEW].decode("utf-8", "replace")


def too_big(endpoint: str, record: str, size: int, limit: int) -> MagentoRecordError:
    about = f" for {record}" if record else ""
    return MagentoRecordError(
        f"Magento {endpoint}{about}: response of {size} bytes or more exceeds the {limit}-byte limit",
        record=record,
        reason="too_big",
        detail=f"response of {size} bytes or more exceeds the {limit}-byte limit",
    )


def read_capped(response: requests.Response, limit: int, *, endpoint: str, record: str) -> bytes:
    """The response's bytes, at most `limit` of them; MagentoRecordError (size in the message) beyond.
    The response must have been sent with `stream=True` (a stand-in without a raw stream is read whole)."""
    declared = response.headers.get("Content-Length", "")
    if declared.isdigit() and int(declared) > limit:
        response.close()
        raise too_big(endpoint, record, int(declared), limit)
    if response.raw is None:  # a test double that set its content directly
        content = response.content or b""
    else:
        chunks: list[bytes] = []
        size = 0
        for chunk in response.iter_content(_CHUNK):
            size += len(chunk)
            if size > limit:
                response.close()
                raise too_big(endpoint, record, size, limit)
            chunks.append(chunk)
        content = b"".join(chunks)
    if len(content) > limit:
        raise too_big(endpoint, record, len(content), limit)
    return content


def decode(content: bytes) -> Any:
    """The JSON value, None for an empty body, or Undecodable."""
    if not content:
        return None
    try:
        return json.loads(content)
    except ValueError:
        return Undecodable(content)
