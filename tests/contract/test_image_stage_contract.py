"""ImageStage contract: the in-memory fake and S3 (moto) behave alike."""

import hashlib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import pytest
from kudos_sync.aws.clients import AwsClients
from kudos_sync.aws.images import S3ImageStage
from kudos_sync.domain.errors import RecordError
from kudos_sync.sync.ports import ImageStage

from sandbox.aws import LocalAws
from tests.fakes.state import InMemoryImageStage

TENANT = "acme"
JPEG = b"\xff\xd8\xff\xe0" + b"front of the crew tee" * 20
PNG = b"\x89PNG\r\n\x1a\n" + b"swatch" * 10


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


@dataclass
class StageHarness:
    name: str
    open_stage: Callable[[str], ImageStage]  # another stage on the same storage, for a tenant
    puts: Callable[[], int]  # uploads made so far
    object_keys: Callable[[], list[str]] | None = None  # S3: every key in the bucket

    @property
    def stage(self) -> ImageStage:
        return self.open_stage(TENANT)


@contextmanager
def counting_s3_calls(client: Any) -> Iterator[list[str]]:
    calls: list[str] = []

    def record(model: Any, **_: Any) -> None:
        calls.append(model.name)

    client.meta.events.register("before-parameter-build.s3", record, unique_id="count-s3")
    try:
        yield calls
    finally:
        client.meta.events.unregister("before-parameter-build.s3", unique_id="count-s3")


@pytest.fixture(params=["memory", "s3"])
def harness(request: pytest.FixtureRequest) -> Iterator[StageHarness]:
    if request.param == "memory":
        stages: dict[str, InMemoryImageStage] = {}
        yield StageHarness(
            "memory",
            lambda tenant: stages.setdefault(tenant, InMemoryImageStage()),
            puts=lambda: sum(stage.puts for stage in stages.values()),
        )
        return
    local_aws: LocalAws = request.getfixturevalue("local_aws")
    aws: AwsClients = request.getfixturevalue("aws")
    bucket = local_aws.new_bucket()

    def object_keys() -> list[str]:
        listed = aws.s3.list_objects_v2(Bucket=bucket)
        return sorted(obj["Key"] for obj in listed.get("Contents", []))

    with counting_s3_calls(aws.s3) as calls:
        yield StageHarness(
            "s3",
            lambda tenant: S3ImageStage(aws.s3, bucket, tenant),
            puts=lambda: calls.count("PutObject"),
            object_keys=object_keys,
        )


def test_given_new_image_when_staged_then_uploaded_and_fetchable(harness: StageHarness) -> None:
    assert harness.stage.stage(sha(JPEG), "jpg", JPEG) is True
    assert harness.stage.stage(sha(PNG), "png", PNG) is True
    assert harness.stage.fetch(sha(JPEG), "jpg") == JPEG
    assert harness.stage.fetch(sha(PNG), "png") == PNG
    assert harness.puts() == 2


def test_given_staged_image_when_staged_again_then_false_and_no_upload(harness: StageHarness) -> None:
    assert harness.stage.stage(sha(JPEG), "jpg", JPEG) is True
    assert harness.puts() == 1
    again = harness.open_stage(TENANT)  # e.g. the next run, with a new adapter
    assert again.stage(sha(JPEG), "jpg", JPEG) is False
    assert harness.stage.stage(sha(JPEG), "jpg", JPEG) is False
    assert harness.puts() == 1


def test_given_unstaged_image_when_fetched_then_it_fails(harness: StageHarness) -> None:
    # The port does not name the error; the fake raises KeyError, S3ImageStage a RecordError.
    with pytest.raises((KeyError, RecordError)):
        harness.stage.fetch(sha(b"never staged"), "jpg")


def test_given_two_tenants_then_each_stages_its_own_copy(harness: StageHarness) -> None:
    assert harness.open_stage("acme").stage(sha(JPEG), "jpg", JPEG) is True
    assert harness.open_stage("globex").stage(sha(JPEG), "jpg", JPEG) is True
    assert harness.open_stage("globex").fetch(sha(JPEG), "jpg") == JPEG


def test_given_staged_images_then_keys_are_content_addressed_under_the_tenant_prefix(
    harness: StageHarness,
) -> None:
    if harness.object_keys is None:
        pytest.skip("the in-memory fake keeps bytes by '<sha256>.<ext>' without a tenant prefix")
    harness.open_stage("acme").stage(sha(JPEG), "jpg", JPEG)
    harness.open_stage("globex").stage(sha(PNG), "png", PNG)
    assert harness.object_keys() == sorted(
        [f"tenants/acme/images/{sha(JPEG)}.jpg", f"tenants/globex/images/{sha(PNG)}.png"]
    )
