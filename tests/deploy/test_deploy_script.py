"""scripts/package_nested.py and scripts/deploy.sh against a local S3 and CloudFormation (moto).

package_nested.py runs as the operator runs it (a subprocess) on a built template laid out as
`sam build` writes it: the source template in long form, with the nested stacks' Location relative to
.aws-sam/build. deploy.sh runs from a copy of the project with a stand-in SAM CLI (a fake .venv-sam
whose `sam` records its arguments), so the order and flags of build, packaging and deploy are checked
without AWS or a real build. Neither needs .venv-sam; the whole module takes a few seconds.
"""

import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
import yaml

from sandbox.aws import LocalAws, local_aws_session
from tests.deploy.expand import source_template
from tests.deploy.sam import REPO, TENANT_TEMPLATE

pytestmark = pytest.mark.deploy

SCRIPT = REPO / "scripts" / "package_nested.py"
DEPLOY = REPO / "scripts" / "deploy.sh"
# Where `sam build` leaves the nested template's Location: relative to .aws-sam/build.
BUILT_LOCATION = "../../templates/tenant.yaml"
MANAGED_STACK = "aws-sam-cli-managed-default"
SAMCONFIG_DEV_REGION = "ap-southeast-2"  # samconfig.toml [dev.global.parameters]


@pytest.fixture(scope="module")
def aws() -> Iterator[LocalAws]:
    yield from local_aws_session()


@pytest.fixture(scope="module")
def managed_bucket(aws: LocalAws) -> str:
    """SAM CLI's managed stack (what `sam deploy --resolve-s3` creates) in samconfig dev's Region."""
    cloudformation = boto3.client("cloudformation", region_name=SAMCONFIG_DEV_REGION)
    template = {
        "Resources": {"SamCliSourceBucket": {"Type": "AWS::S3::Bucket"}},
        "Outputs": {"SourceBucket": {"Value": {"Ref": "SamCliSourceBucket"}}},
    }
    existing = cloudformation.list_stacks(StackStatusFilter=["CREATE_COMPLETE"])["StackSummaries"]
    if not any(s["StackName"] == MANAGED_STACK for s in existing):  # the worker's server may have it
        cloudformation.create_stack(StackName=MANAGED_STACK, TemplateBody=json.dumps(template))
    [stack] = cloudformation.describe_stacks(StackName=MANAGED_STACK)["Stacks"]
    return str(stack["Outputs"][0]["OutputValue"])


def built_template_text() -> str:
    """The source template as `sam build` writes it (long-form YAML, Fn::ForEach kept)."""
    template = source_template()
    [body] = template["Resources"]["Fn::ForEach::Tenant"][2].values()
    body["Properties"]["Location"] = BUILT_LOCATION
    return yaml.safe_dump(template, sort_keys=False, default_flow_style=False)


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """A project folder: templates/tenant.yaml and a built .aws-sam/build/template.yaml."""
    (tmp_path / "templates").mkdir()
    shutil.copy(TENANT_TEMPLATE, tmp_path / "templates" / "tenant.yaml")
    build = tmp_path / ".aws-sam" / "build"
    build.mkdir(parents=True)
    (build / "template.yaml").write_text(built_template_text())
    return tmp_path


def aws_env(aws: LocalAws, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in {"AWS_PROFILE", "AWS_SESSION_TOKEN"}}
    env |= {
        "AWS_ENDPOINT_URL": aws.endpoint_url,
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": aws.region,
    }
    env.pop("AWS_REGION", None)
    return env | extra


def package(aws: LocalAws, project: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(SCRIPT), "--template", str(project / ".aws-sam/build/template.yaml"), *args],
        cwd=project,
        env=aws_env(aws),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def objects(bucket: str) -> dict[str, bytes]:
    s3 = boto3.client("s3")
    listed = s3.list_objects_v2(Bucket=bucket).get("Contents", [])
    return {o["Key"]: s3.get_object(Bucket=bucket, Key=o["Key"])["Body"].read() for o in listed}


def expected_key(content: bytes) -> str:
    return f"kudos-sync/templates/tenant-{hashlib.sha256(content).hexdigest()}.yaml"


def location(template_text: str) -> Any:
    [body] = yaml.safe_load(template_text)["Resources"]["Fn::ForEach::Tenant"][2].values()
    return body["Properties"]["Location"]


def without_location(template_text: str) -> dict[str, Any]:
    template = yaml.safe_load(template_text)
    [body] = template["Resources"]["Fn::ForEach::Tenant"][2].values()
    del body["Properties"]["Location"]
    return template


def test_uploads_the_tenant_template_by_content_hash_and_points_location_at_it(
    aws: LocalAws, project: Path
) -> None:
    bucket = aws.new_bucket()
    built = project / ".aws-sam/build/template.yaml"
    before = built.read_text()

    done = package(aws, project, "--s3-bucket", bucket, "--region", aws.region)

    assert done.returncode == 0, done.stderr
    content = TENANT_TEMPLATE.read_bytes()
    key = expected_key(content)
    assert objects(bucket) == {key: content}
    after = built.read_text()
    url = location(after)
    # Path style on the S3 endpoint, as SAM CLI writes nested-stack URLs (on AWS:
    # https://s3.<region>.amazonaws.com/<bucket>/<key>; here the local endpoint).
    assert url == f"{boto3.client('s3').meta.endpoint_url}/{bucket}/{key}"
    # Only the Location line changed: Fn::ForEach and everything else are byte for byte as built.
    changed = [
        (old, new) for old, new in zip(before.splitlines(), after.splitlines(), strict=True) if old != new
    ]
    assert changed == [(f"        Location: {BUILT_LOCATION}", f"        Location: {url}")]
    assert without_location(after) == without_location(before)
    assert "Fn::ForEach::Tenant" in yaml.safe_load(after)["Resources"]
    assert key in done.stdout and url in done.stdout  # says what it did


def test_running_it_again_or_after_a_rebuild_changes_nothing(aws: LocalAws, project: Path) -> None:
    bucket = aws.new_bucket()
    built = project / ".aws-sam/build/template.yaml"
    fresh_build = built.read_text()
    assert package(aws, project, "--s3-bucket", bucket, "--region", aws.region).returncode == 0
    first, uploaded = built.read_text(), objects(bucket)

    again = package(aws, project, "--s3-bucket", bucket, "--region", aws.region)
    assert again.returncode == 0, again.stderr
    assert "nothing to do" in again.stdout
    assert built.read_text() == first
    assert objects(bucket) == uploaded

    built.write_text(fresh_build)  # the next deploy's `sam build`, template unchanged
    rebuilt = package(aws, project, "--s3-bucket", bucket, "--region", aws.region)
    assert rebuilt.returncode == 0, rebuilt.stderr
    assert "already there" in rebuilt.stdout
    assert built.read_text() == first  # same URL: no tenant's nested stack is touched
    assert objects(bucket) == uploaded


def test_a_changed_tenant_template_goes_to_a_new_key(aws: LocalAws, project: Path) -> None:
    bucket = aws.new_bucket()
    built = project / ".aws-sam/build/template.yaml"
    fresh_build = built.read_text()
    assert package(aws, project, "--s3-bucket", bucket, "--region", aws.region).returncode == 0
    first_url = location(built.read_text())

    tenant = project / "templates" / "tenant.yaml"
    tenant.write_text(tenant.read_text() + "# changed\n")
    built.write_text(fresh_build)
    assert package(aws, project, "--s3-bucket", bucket, "--region", aws.region).returncode == 0

    second_url = location(built.read_text())
    assert second_url != first_url
    assert second_url.endswith(expected_key(tenant.read_bytes()))
    assert len(objects(bucket)) == 2  # the old one stays for stacks still pointing at it


def test_without_a_bucket_it_uses_resolve_s3s_bucket_in_samconfigs_region(
    aws: LocalAws, managed_bucket: str, project: Path
) -> None:
    done = package(aws, project, "--config-env", "dev")
    assert done.returncode == 0, done.stderr
    assert list(objects(managed_bucket)) == [expected_key(TENANT_TEMPLATE.read_bytes())]
    assert f"/{managed_bucket}/kudos-sync/templates/tenant-" in location(
        (project / ".aws-sam/build/template.yaml").read_text()
    )


def test_without_sam_cli_a_missing_managed_stack_is_an_error_not_a_guess(
    aws: LocalAws, project: Path
) -> None:
    built = project / ".aws-sam/build/template.yaml"
    before = built.read_text()
    done = package(aws, project, "--region", "eu-west-3")  # no managed stack there
    assert done.returncode == 1
    assert MANAGED_STACK in done.stderr and "--s3-bucket" in done.stderr
    assert built.read_text() == before


def test_a_location_that_is_not_a_file_fails_and_leaves_the_template(aws: LocalAws, project: Path) -> None:
    (project / "templates" / "tenant.yaml").unlink()
    built = project / ".aws-sam/build/template.yaml"
    before = built.read_text()
    done = package(aws, project, "--s3-bucket", aws.new_bucket(), "--region", aws.region)
    assert done.returncode == 1
    assert "no file" in done.stderr
    assert built.read_text() == before


# --- scripts/deploy.sh ----------------------------------------------------------------------------

FAKE_SAM = """#!/usr/bin/env bash
set -euo pipefail
echo "sam $*" >> "$SAM_LOG"
case "$1" in
  build)
    echo "python3.12 $(command -v python3.12)" >> "$SAM_LOG"
    mkdir -p .aws-sam/build
    cp "$BUILT_TEMPLATE" .aws-sam/build/template.yaml ;;
  deploy) cp .aws-sam/build/template.yaml "$DEPLOYED_TEMPLATE" ;;
esac
"""


@pytest.fixture
def deploy_project(tmp_path: Path) -> tuple[Path, dict[str, str]]:
    """A copy of the scripts, samconfig.toml and templates/tenant.yaml, and a fake .venv-sam whose
    `sam` logs its arguments (build copies in a built template; deploy saves what it was given)."""
    root = tmp_path / "project"
    (root / "scripts").mkdir(parents=True)
    for name in ("deploy.sh", "sam-venv.sh", "find-python312.sh", "package_nested.py"):
        shutil.copy2(REPO / "scripts" / name, root / "scripts" / name)
    (root / "templates").mkdir()
    shutil.copy(TENANT_TEMPLATE, root / "templates" / "tenant.yaml")
    shutil.copy(REPO / "samconfig.toml", root / "samconfig.toml")

    venv = tmp_path / "fake-sam-venv"
    (venv / "bin").mkdir(parents=True)
    pinned = re.search(
        r"aws-sam-cli==\$\{SAM_CLI_VERSION:-([^}]+)\}", (REPO / "scripts/sam-venv.sh").read_text()
    )
    assert pinned
    (venv / ".installed").write_text(f"aws-sam-cli=={pinned.group(1)}\n")  # sam-venv.sh reuses it
    (venv / "bin" / "sam").write_text(FAKE_SAM)
    (venv / "bin" / "python").write_text(f'#!/bin/sh\nexec "{sys.executable}" "$@"\n')
    for tool in ("sam", "python"):
        (venv / "bin" / tool).chmod(0o755)
    built = tmp_path / "built.yaml"
    built.write_text(built_template_text())
    env = {
        "KUDOS_SAM_VENV": str(venv),
        "SAM_LOG": str(tmp_path / "sam.log"),
        "BUILT_TEMPLATE": str(built),
        "DEPLOYED_TEMPLATE": str(tmp_path / "deployed.yaml"),
    }
    return root, env


def run_deploy(
    aws: LocalAws, root: Path, env: dict[str, str], *args: str
) -> subprocess.CompletedProcess[str]:
    full_env = aws_env(aws, **env)
    full_env.pop("SAM_CLI_VERSION", None)
    return subprocess.run(
        [str(root / "scripts" / "deploy.sh"), *args],
        cwd=root.parent,  # it finds the project from its own path
        env=full_env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_deploy_builds_points_the_nested_stacks_at_the_upload_then_deploys(
    aws: LocalAws, deploy_project: tuple[Path, dict[str, str]]
) -> None:
    root, env = deploy_project
    bucket = aws.new_bucket()

    done = run_deploy(aws, root, env, "--config-env", "prod", "--s3-bucket", bucket, "--", "--no-fail")

    assert done.returncode == 0, done.stdout + done.stderr
    build, python, deploy = Path(env["SAM_LOG"]).read_text().splitlines()
    assert build == "sam build --config-env prod --language-extensions"
    assert python.startswith("python3.12 /")  # sam build finds python3.12 on PATH
    assert deploy == (
        "sam deploy --config-env prod --template-file .aws-sam/build/template.yaml "
        f"--no-resolve-s3 --s3-bucket {bucket} --no-fail"
    )
    key = expected_key(TENANT_TEMPLATE.read_bytes())
    assert list(objects(bucket)) == [key]
    deployed = Path(env["DEPLOYED_TEMPLATE"]).read_text()
    assert location(deployed).endswith(f"/{bucket}/{key}")  # sam deploy got the rewritten template
    assert "Fn::ForEach::Tenant" in yaml.safe_load(deployed)["Resources"]
    assert sum(line.startswith("+ ") for line in done.stdout.splitlines()) == 3  # each command printed


def test_deploy_defaults_to_dev_and_resolve_s3s_bucket(
    aws: LocalAws, managed_bucket: str, deploy_project: tuple[Path, dict[str, str]]
) -> None:
    root, env = deploy_project
    done = run_deploy(aws, root, env)
    assert done.returncode == 0, done.stdout + done.stderr
    build, _, deploy = Path(env["SAM_LOG"]).read_text().splitlines()
    assert build == "sam build --config-env dev --language-extensions"
    assert deploy == "sam deploy --config-env dev --template-file .aws-sam/build/template.yaml"
    assert f"/{managed_bucket}/kudos-sync/templates/tenant-" in location(
        Path(env["DEPLOYED_TEMPLATE"]).read_text()
    )


def test_deploy_refuses_an_environment_samconfig_does_not_have(
    aws: LocalAws, deploy_project: tuple[Path, dict[str, str]]
) -> None:
    root, env = deploy_project
    done = run_deploy(aws, root, env, "--config-env", "staging")
    assert done.returncode == 2
    assert "staging" in done.stderr
    assert not Path(env["SAM_LOG"]).exists()  # nothing ran
