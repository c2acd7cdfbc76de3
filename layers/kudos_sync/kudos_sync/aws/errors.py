"""The one table that turns AWS SDK failures into the sync's three failure classes (ARCHITECTURE §4).

botocore has already retried throttling and 5xx with backoff (see `aws.clients.CLIENT_CONFIG`) by the
time an exception reaches this module, so what arrives here has exhausted its retries: a transient
failure ends the run without moving cursors; a configuration failure (no permission, no such table,
bucket or secret) fails fast. Anything else is a programming error and is re-raised unchanged, so it
surfaces with its traceback instead of being disguised as a sync failure.

Messages name the operation and the AWS error code, never a request payload (payloads can hold
secret values).
"""

from collections.abc import Iterator
from contextlib import contextmanager

from botocore.exceptions import (
    BotoCoreError,
    ClientError,
    ConnectionClosedError,
    EndpointConnectionError,
    NoCredentialsError,
    NoRegionError,
    PartialCredentialsError,
    ReadTimeoutError,
)
from botocore.exceptions import (
    ConnectTimeoutError as BotoConnectTimeoutError,
)

from kudos_sync.domain.errors import ConfigurationError, SyncError, TransientError

TRANSIENT_CODES: frozenset[str] = frozenset(
    {
        "ProvisionedThroughputExceededException",
        "ThrottlingException",
        "Throttling",
        "ThrottledException",
        "RequestLimitExceeded",
        "TooManyRequestsException",
        "RequestThrottled",
        "RequestThrottledException",
        "SlowDown",
        "InternalServerError",
        "InternalFailure",
        "InternalError",
        "InternalServiceError",
        "ServiceUnavailable",
        "ServiceUnavailableException",
        "TransactionInProgressException",
        "RequestTimeout",
        "RequestTimeoutException",
    }
)

CONFIGURATION_CODES: frozenset[str] = frozenset(
    {
        "AccessDenied",
        "AccessDeniedException",
        "ResourceNotFoundException",
        "NoSuchBucket",
        "UnrecognizedClientException",
        "InvalidClientTokenId",
        "InvalidSignatureException",
        "SignatureDoesNotMatch",
        "ExpiredToken",
        "ExpiredTokenException",
        "InvalidAccessKeyId",
        "KMSAccessDeniedException",
        "KMSDisabledException",
        "KMSNotFoundException",
        "KMSInvalidStateException",
        "DecryptionFailure",
    }
)

_TRANSIENT_BOTOCORE = (
    EndpointConnectionError,
    BotoConnectTimeoutError,
    ReadTimeoutError,
    ConnectionClosedError,
)
_CONFIGURATION_BOTOCORE = (NoCredentialsError, PartialCredentialsError, NoRegionError)


def error_code(exc: ClientError) -> str:
    """The AWS error code of a ClientError ('' when the response carries none)."""
    return str(exc.response.get("Error", {}).get("Code", ""))


def http_status(exc: ClientError) -> int:
    return int(exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0) or 0)


def classify(exc: BaseException, what: str) -> SyncError | None:
    """The sync error an SDK exception stands for, or None when it is not an AWS failure we map.

    `what` names the operation and the thing it was about (e.g. "DynamoDB PutItem on table x").
    """
    if isinstance(exc, ClientError):
        code, status = error_code(exc), http_status(exc)
        if code in TRANSIENT_CODES or status >= 500 or status == 429:
            return TransientError(f"{what}: AWS is throttling or unavailable ({code or status}); retry later")
        if code in CONFIGURATION_CODES or status == 403:
            return ConfigurationError(f"{what}: {code or status} (check the stack's resources and access)")
        return None
    if isinstance(exc, _TRANSIENT_BOTOCORE):
        return TransientError(f"{what}: {type(exc).__name__}; retry later")
    if isinstance(exc, _CONFIGURATION_BOTOCORE):
        return ConfigurationError(f"{what}: {type(exc).__name__}")
    if isinstance(exc, BotoCoreError):
        return TransientError(f"{what}: {type(exc).__name__}; retry later")
    return None


@contextmanager
def aws_errors(what: str) -> Iterator[None]:
    """Translate AWS failures raised inside the block (see `classify`); let everything else through."""
    try:
        yield
    except (ClientError, BotoCoreError) as exc:
        mapped = classify(exc, what)
        if mapped is None:
            raise
        raise mapped from exc
