"""boto3 clients for the composition root (handlers, CLI), built once per process.

Endpoints: boto3 honours `AWS_ENDPOINT_URL` (and `AWS_ENDPOINT_URL_<SERVICE>`) natively, which is how
local AWS (moto server) is reached; nothing here special-cases it.
"""

import os
from dataclasses import dataclass
from typing import TYPE_CHECKING

import boto3
from botocore.config import Config

from kudos_sync.domain.errors import ConfigurationError

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.client import DynamoDBClient
    from mypy_boto3_s3.client import S3Client
    from mypy_boto3_secretsmanager.client import SecretsManagerClient

    from kudos_sync.aws.images import S3ImageStage
    from kudos_sync.aws.state import DynamoStateStore

STATE_TABLE_ENV = "KUDOS_STATE_TABLE"
IMAGE_BUCKET_ENV = "KUDOS_IMAGE_BUCKET"

# A Lambda run lasts minutes: fail a stuck connection fast and let botocore retry it; adaptive mode adds
# client-side rate limiting when DynamoDB or S3 throttle, on top of backoff with jitter.
CLIENT_CONFIG = Config(
    connect_timeout=3,
    read_timeout=10,
    retries={"mode": "adaptive", "total_max_attempts": 5},
    tcp_keepalive=True,
    max_pool_connections=32,
)


@dataclass(frozen=True)
class AwsClients:
    dynamodb: "DynamoDBClient"
    s3: "S3Client"
    secretsmanager: "SecretsManagerClient"
    table_name: str
    bucket: str

    def state_store(self, tenant: str) -> "DynamoStateStore":
        from kudos_sync.aws.state import DynamoStateStore

        return DynamoStateStore(self.dynamodb, self.table_name, tenant)

    def image_stage(self, tenant: str) -> "S3ImageStage":
        from kudos_sync.aws.images import S3ImageStage

        return S3ImageStage(self.s3, self.bucket, tenant)


def _required_env(name: str) -> str:
    value = os.environ.get(name, "").strip()
    if not value:
        raise ConfigurationError(f"environment variable {name} is not set (the stack sets it per function)")
    return value


def aws_clients(
    region: str | None = None,
    *,
    table_name: str | None = None,
    bucket: str | None = None,
    endpoint_url: str | None = None,
) -> AwsClients:
    """Clients with short timeouts and adaptive retries; table and bucket from the arguments or from
    KUDOS_STATE_TABLE / KUDOS_IMAGE_BUCKET. Raises ConfigurationError naming a missing variable.

    `endpoint_url` is for tests only; otherwise boto3 reads AWS_ENDPOINT_URL itself."""
    table = table_name or _required_env(STATE_TABLE_ENV)
    image_bucket = bucket or _required_env(IMAGE_BUCKET_ENV)
    session = boto3.session.Session(region_name=region)
    return AwsClients(
        dynamodb=session.client("dynamodb", config=CLIENT_CONFIG, endpoint_url=endpoint_url),
        s3=session.client("s3", config=CLIENT_CONFIG, endpoint_url=endpoint_url),
        secretsmanager=session.client("secretsmanager", config=CLIENT_CONFIG, endpoint_url=endpoint_url),
        table_name=table,
        bucket=image_bucket,
    )
