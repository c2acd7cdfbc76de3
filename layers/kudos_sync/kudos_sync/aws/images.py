"""ImageStage on S3: content-addressed, one object per image under `tenants/<tenant>/images/`.

The object key is the SHA-256 of the bytes, so an image is uploaded once however many runs or styles
see it; a HEAD first makes a re-run cost one cheap request per image instead of a PUT.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from botocore.exceptions import ClientError

from kudos_sync.aws.errors import aws_errors, error_code, http_status
from kudos_sync.domain.errors import RecordError
from kudos_sync.domain.ids import validate_tenant_id

if TYPE_CHECKING:
    from mypy_boto3_s3.client import S3Client
    from mypy_boto3_s3.literals import ServerSideEncryptionType

CONTENT_TYPES: dict[str, str] = {
    "jpg": "image/jpeg",
    "jpeg": "image/jpeg",
    "png": "image/png",
    "gif": "image/gif",
    "webp": "image/webp",
}
_SHA256 = re.compile(r"^[0-9a-f]{64}$")
_MISSING = {"404", "NoSuchKey", "NotFound"}
# A tenant's role may list only its own prefix (templates/tenant.yaml), so S3 answers a read of a
# missing key with 403 rather than 404: S3 cannot tell the caller a key is absent without a listing
# permission that carries no prefix. A read under the tenant's own prefix that is refused is read as
# "not there"; a real permission problem still shows, on the PutObject that follows.
_MISSING_STATUSES = {403, 404}


def image_key(tenant: str, sha256: str, extension: str) -> str:
    """`tenants/<tenant>/images/<sha256>.<ext>`; raises ValueError for a bad hash or extension."""
    if not _SHA256.fullmatch(sha256):
        raise ValueError("sha256 must be 64 lower-case hex digits")
    if extension not in CONTENT_TYPES:
        raise ValueError(f"image extension {extension!r} is not one of {sorted(CONTENT_TYPES)}")
    return f"tenants/{validate_tenant_id(tenant)}/images/{sha256}.{extension}"


class S3ImageStage:
    """ImageStage of one tenant in the stack's image bucket; objects are written with SSE."""

    def __init__(
        self,
        client: S3Client,
        bucket: str,
        tenant: str,
        *,
        server_side_encryption: ServerSideEncryptionType = "AES256",
        kms_key_id: str | None = None,
    ) -> None:
        self._client = client
        self._bucket = bucket
        self.tenant = validate_tenant_id(tenant)
        self._sse: ServerSideEncryptionType = server_side_encryption
        self._kms_key_id = kms_key_id

    def key(self, sha256: str, extension: str) -> str:
        return image_key(self.tenant, sha256, extension)

    def _what(self, operation: str, key: str) -> str:
        return f"S3 {operation} of s3://{self._bucket}/{key}"

    def exists(self, sha256: str, extension: str) -> bool:
        key = self.key(sha256, extension)
        with aws_errors(self._what("HeadObject", key)):
            try:
                self._client.head_object(Bucket=self._bucket, Key=key)
            except ClientError as exc:
                if error_code(exc) in _MISSING or http_status(exc) in _MISSING_STATUSES:
                    return False
                raise
        return True

    def stage(self, sha256: str, extension: str, data: bytes) -> bool:
        """Store unless already there (HEAD before PUT); True when it was uploaded now."""
        if self.exists(sha256, extension):
            return False
        key = self.key(sha256, extension)
        with aws_errors(self._what("PutObject", key)):
            if self._kms_key_id:
                self._client.put_object(
                    Bucket=self._bucket,
                    Key=key,
                    Body=data,
                    ContentType=CONTENT_TYPES[extension],
                    ServerSideEncryption=self._sse,
                    SSEKMSKeyId=self._kms_key_id,
                )
            else:
                self._client.put_object(
                    Bucket=self._bucket,
                    Key=key,
                    Body=data,
                    ContentType=CONTENT_TYPES[extension],
                    ServerSideEncryption=self._sse,
                )
        return True

    def fetch(self, sha256: str, extension: str) -> bytes:
        """The staged bytes; RecordError when the image was never staged (or has been removed)."""
        key = self.key(sha256, extension)
        with aws_errors(self._what("GetObject", key)):
            try:
                response = self._client.get_object(Bucket=self._bucket, Key=key)
            except ClientError as exc:
                if error_code(exc) in _MISSING or http_status(exc) in _MISSING_STATUSES:
                    raise RecordError(
                        f"image {sha256}.{extension} is not staged for tenant {self.tenant}",
                        record=f"{sha256}.{extension}",
                    ) from None
                raise
            return response["Body"].read()
