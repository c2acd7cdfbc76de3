"""S3ImageStage specifics: key rules, HEAD before PUT, SSE and content type on the object."""

import hashlib

import pytest
from botocore.stub import Stubber
from kudos_sync.aws.clients import AwsClients
from kudos_sync.aws.images import S3ImageStage, image_key
from kudos_sync.domain.errors import ConfigurationError, TransientError

from sandbox.aws import LocalAws
from tests.contract.test_image_stage_contract import counting_s3_calls

PNG = b"\x89PNG\r\n\x1a\n" + b"swatch" * 10
DIGEST = hashlib.sha256(PNG).hexdigest()


@pytest.mark.parametrize(
    ("sha256", "extension", "problem"),
    [
        ("A" * 64, "png", "sha256"),
        ("a" * 63, "png", "sha256"),
        ("../" + "a" * 61, "png", "sha256"),
        ("a" * 64, "exe", "extension"),
        ("a" * 64, "PNG", "extension"),
        ("a" * 64, "png/../x", "extension"),
    ],
)
def test_given_bad_hash_or_extension_then_refused_before_any_request(
    aws: AwsClients, sha256: str, extension: str, problem: str
) -> None:
    stage = S3ImageStage(aws.s3, "any-bucket", "acme")
    with counting_s3_calls(aws.s3) as calls, pytest.raises(ValueError, match=problem):
        stage.stage(sha256, extension, b"x")
    assert calls == []


def test_image_key_layout() -> None:
    assert image_key("acme", "a" * 64, "jpg") == f"tenants/acme/images/{'a' * 64}.jpg"


def test_given_new_image_then_head_then_put_with_sse_and_content_type(
    aws: AwsClients, local_aws: LocalAws
) -> None:
    bucket = local_aws.new_bucket()
    stage = S3ImageStage(aws.s3, bucket, "acme")
    with counting_s3_calls(aws.s3) as calls:
        assert stage.stage(DIGEST, "png", PNG)
        assert not stage.stage(DIGEST, "png", PNG)
    assert calls == ["HeadObject", "PutObject", "HeadObject"]
    head = aws.s3.head_object(Bucket=bucket, Key=f"tenants/acme/images/{DIGEST}.png")
    assert head["ContentType"] == "image/png"
    assert head["ServerSideEncryption"] == "AES256"


def test_given_missing_bucket_then_configuration_error(aws: AwsClients) -> None:
    stage = S3ImageStage(aws.s3, "kudos-no-such-bucket", "acme")
    with pytest.raises(ConfigurationError, match="kudos-no-such-bucket"):
        stage.stage(DIGEST, "png", PNG)


@pytest.mark.parametrize(
    ("code", "status", "expected"),
    [("AccessDenied", 403, ConfigurationError), ("SlowDown", 503, TransientError)],
)
def test_given_s3_failure_then_mapped(
    aws: AwsClients, code: str, status: int, expected: type[Exception]
) -> None:
    stage = S3ImageStage(aws.s3, "bucket", "acme")
    with Stubber(aws.s3) as stubber:
        stubber.add_client_error("head_object", service_error_code=code, http_status_code=status)
        if status == 403:  # a refused HEAD reads as "not staged"; the PUT tells a real refusal
            stubber.add_client_error("put_object", service_error_code=code, http_status_code=status)
        with pytest.raises(expected):
            stage.stage(DIGEST, "png", PNG)


def test_given_a_role_that_lists_only_its_prefix_when_head_answers_403_then_the_image_is_uploaded(
    aws: AwsClients,
) -> None:
    """The tenant role's ListBucket carries its prefix, so S3 answers HEAD of a missing key 403."""
    stage = S3ImageStage(aws.s3, "bucket", "acme")
    with Stubber(aws.s3) as stubber:
        stubber.add_client_error("head_object", service_error_code="403", http_status_code=403)
        stubber.add_response("put_object", {})
        assert stage.stage(DIGEST, "png", PNG) is True
        stubber.assert_no_pending_responses()
