"""Error and park reasons sized to fit a state item.

A reason is usually a sentence, but it can carry a long Magento message with every field error, or a
batch's worth of them, and DynamoDB refuses an item over 400 KB outright: the record would then fail
to park at all. The state store cuts each reason with `fit_reason` before writing it (parked records'
`reason`, run records' `error`); the cut keeps the start, where the record and the cause are named.
"""

MAX_REASON_BYTES = 4096  # UTF-8 bytes: a hundredth of an item, far more than any useful sentence
_MARKER = " ... [{cut} more bytes cut]"


def fit_reason(text: str, limit: int = MAX_REASON_BYTES) -> str:
    """`text` unchanged when its UTF-8 form fits in `limit` bytes; otherwise its start, cut on a
    character boundary, followed by a marker saying how many bytes were cut, all within `limit`."""
    data = text.encode("utf-8")
    if len(data) <= limit:
        return text
    # The marker's length depends on the count it shows: size it for the largest count possible.
    room = limit - len(_MARKER.format(cut=len(data)).encode("utf-8"))
    if room <= 0:
        return data[:limit].decode("utf-8", "ignore")
    kept = data[:room].decode("utf-8", "ignore")
    return kept + _MARKER.format(cut=len(data) - len(kept.encode("utf-8")))
