"""Upload the nested tenant template and point the built template's Fn::ForEach nested stacks at it.

SAM CLI 1.170 uploads templates/tenant.yaml during `sam deploy` but leaves the Location of an
AWS::Serverless::Application inside Fn::ForEach a local path, which CloudFormation cannot read
(tests/deploy/test_sam_cli.py tracks it with a strict xfail). Run this between `sam build` and
`sam deploy` (scripts/deploy.sh does):

    python scripts/package_nested.py --config-env prod                     # resolve_s3's bucket
    python scripts/package_nested.py --config-env prod --s3-bucket my-artifacts

For every Fn::ForEach body in the built template (default .aws-sam/build/template.yaml) whose
AWS::Serverless::Application has a local Location, it uploads that file (resolved from the built
template's folder, as SAM does) to s3://<bucket>/kudos-sync/templates/<name>-<sha256>.yaml and
replaces that Location line, and nothing else, with the object's URL (path style on the S3 endpoint,
as SAM CLI writes nested-stack URLs). Fn::ForEach stays: CloudFormation expands it at deploy. The key
depends only on the content, so an unchanged template is not uploaded again and every tenant's nested
stack keeps its TemplateURL. A second run finds no local Location and changes nothing.

The bucket: --s3-bucket, else the one `sam deploy --resolve-s3` uses (output SourceBucket of the
stack aws-sam-cli-managed-default; when it does not exist yet and SAM CLI is importable, as in
.venv-sam, it is created the same way SAM CLI does). Region: --region, else samconfig.toml's for
--config-env, else the AWS SDK's. Needs boto3 and PyYAML (.venv-sam and .venv both have them).
"""

from __future__ import annotations

import argparse
import copy
import hashlib
import os
import re
import sys
import tempfile
import tomllib
from pathlib import Path
from typing import Any

import boto3
import yaml
from botocore.exceptions import BotoCoreError, ClientError

REPO = Path(__file__).resolve().parents[1]
KEY_PREFIX = "kudos-sync/templates"
SAM_MANAGED_STACK = "aws-sam-cli-managed-default"
APPLICATION = "AWS::Serverless::Application"
REMOTE = ("https://", "http://", "s3://")


class PackageError(Exception):
    """Something the operator has to fix; the message says what."""


class _Loader(yaml.SafeLoader):  # type: ignore[misc]
    """SAM writes built templates in long form; keep any short-form tag as {"!Tag": value}."""


def _tagged(loader: _Loader, suffix: str, node: yaml.Node) -> dict[str, Any]:
    if isinstance(node, yaml.ScalarNode):
        value: Any = loader.construct_scalar(node)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    else:
        value = loader.construct_mapping(node, deep=True)
    return {f"!{suffix}": value}


_Loader.add_multi_constructor("!", _tagged)


def parse(text: str) -> dict[str, Any]:
    loader = _Loader(text)
    try:
        data = loader.get_single_data()
    finally:
        loader.dispose()
    if not isinstance(data, dict):
        raise PackageError("the built template is not a mapping")
    return data


def foreach_locations(template: dict[str, Any]) -> list[tuple[list[str], str]]:
    """(path to the resource's Properties, Location) of every Serverless::Application in Fn::ForEach."""
    found: list[tuple[list[str], str]] = []

    def walk(body: Any, path: list[str]) -> None:
        if not isinstance(body, dict):
            return
        for name, value in body.items():
            if name.startswith("Fn::ForEach::") and isinstance(value, list) and len(value) == 3:
                walk(value[2], [*path, name, "2"])
            elif isinstance(value, dict) and value.get("Type") == APPLICATION and in_foreach(path):
                location = value.get("Properties", {}).get("Location")
                if isinstance(location, str):
                    found.append(([*path, name, "Properties"], location))

    def in_foreach(path: list[str]) -> bool:
        return any(part.startswith("Fn::ForEach::") for part in path)

    walk(template.get("Resources", {}), ["Resources"])
    return found


def samconfig_region(config_file: Path, config_env: str) -> str | None:
    if not config_file.is_file():
        return None
    config = tomllib.loads(config_file.read_text(encoding="utf-8")).get(config_env, {})
    for command in ("deploy", "global"):
        region = config.get(command, {}).get("parameters", {}).get("region")
        if region:
            return str(region)
    return None


def resolve_bucket(session: boto3.session.Session, region: str) -> str:
    """The bucket `sam deploy --resolve-s3` uses: SourceBucket of SAM's managed stack."""
    cloudformation = session.client("cloudformation", region_name=region)
    try:
        stacks = cloudformation.describe_stacks(StackName=SAM_MANAGED_STACK)["Stacks"]
    except ClientError as error:
        if "does not exist" not in str(error):
            raise
        try:
            from samcli.lib.bootstrap.bootstrap import manage_stack
        except ImportError:
            raise PackageError(
                f"stack {SAM_MANAGED_STACK} (resolve_s3's bucket) does not exist in {region}: run this "
                "with .venv-sam's python (scripts/deploy.sh does) to create it, or pass --s3-bucket"
            ) from None
        print(f"creating {SAM_MANAGED_STACK} in {region}, as `sam deploy --resolve-s3` would")
        try:
            return str(manage_stack(profile=None, region=region))
        except Exception as error:  # SAM CLI's own errors (UserException, ...) carry the reason
            raise PackageError(f"SAM CLI could not create {SAM_MANAGED_STACK}: {error}") from error
    outputs = {o["OutputKey"]: o["OutputValue"] for o in stacks[0].get("Outputs", [])}
    if "SourceBucket" not in outputs:
        raise PackageError(f"stack {SAM_MANAGED_STACK} in {region} has no SourceBucket output")
    return str(outputs["SourceBucket"])


def upload(s3: Any, bucket: str, source: Path) -> str:
    """Put source under its content hash unless it is there already; return the key."""
    body = source.read_bytes()
    key = f"{KEY_PREFIX}/{source.stem}-{hashlib.sha256(body).hexdigest()}{source.suffix}"
    try:
        s3.head_object(Bucket=bucket, Key=key)
    except ClientError as error:
        # Without s3:ListBucket a missing key answers 403, not 404: upload then as well.
        if error.response.get("Error", {}).get("Code") not in ("404", "NoSuchKey", "NotFound", "403"):
            raise
        print(f"uploading {display(source)} to s3://{bucket}/{key}")
        s3.put_object(Bucket=bucket, Key=key, Body=body, ContentType="application/x-yaml")
    else:
        print(f"s3://{bucket}/{key} is already there (same content)")
    return key


def rewrite(text: str, old: str, new: str, expected: int) -> str:
    """Replace exactly `expected` lines `Location: <old>` (plain or quoted) by `Location: <new>`."""
    pattern = re.compile(
        r"^(?P<lead>[ \t]*(?:-[ \t]+)?Location:[ \t]*)(?P<q>['\"]?)" + re.escape(old) + r"(?P=q)[ \t]*$",
        re.MULTILINE,
    )
    result, count = pattern.subn(lambda m: m.group("lead") + new, text)
    if count != expected:
        raise PackageError(
            f"expected {expected} line(s) 'Location: {old}' in the built template, found {count}: "
            "not rewriting a template laid out differently from SAM CLI's build output"
        )
    return result


def label(path: list[str]) -> str:
    """Fn::ForEach::Tenant/Tenant&{tenant} for [Resources, Fn::ForEach::Tenant, 2, Tenant&{tenant}, ...]."""
    return "/".join(part for part in path[1:-1] if not part.isdigit())


def display(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(Path.cwd()))
    except ValueError:
        return str(path)


def package(template_path: Path, bucket: str | None, region: str | None) -> int:
    text = template_path.read_text(encoding="utf-8")
    template = parse(text)
    locations = foreach_locations(template)
    if not locations:
        raise PackageError(f"{display(template_path)} has no {APPLICATION} inside Fn::ForEach")
    local = sorted({loc for _, loc in locations if not loc.startswith(REMOTE)})
    if not local:
        for path, location in locations:
            print(f"{label(path)}: Location is already {location}; nothing to do")
        return 0

    session = boto3.session.Session(region_name=region)
    region = session.region_name
    if not region:
        raise PackageError("no region: pass --region or --config-env (samconfig.toml), or set AWS_REGION")
    bucket = bucket or resolve_bucket(session, region)
    s3 = session.client("s3", region_name=region)
    bucket_region = s3.get_bucket_location(Bucket=bucket).get("LocationConstraint") or "us-east-1"
    if bucket_region != region:
        s3 = session.client("s3", region_name=bucket_region)

    urls = {}
    for location in local:
        source = (template_path.parent / location).resolve()
        if not source.is_file():
            raise PackageError(f"Location {location} in {display(template_path)}: no file {source}")
        key = upload(s3, bucket, source)
        urls[location] = f"{s3.meta.endpoint_url.rstrip('/')}/{bucket}/{key}"

    expected = copy.deepcopy(template)
    for path, location in locations:
        if location in urls:
            node: Any = expected
            for part in path:
                node = node[int(part)] if isinstance(node, list) else node[part]
            node["Location"] = urls[location]
            print(f"{label(path)}: Location {location} -> {urls[location]}")
    for location, url in urls.items():
        count = sum(1 for _, loc in locations if loc == location)
        text = rewrite(text, location, url, count)
    if parse(text) != expected:  # the line edit changed exactly the Locations, nothing else
        raise PackageError("rewriting the Location lines changed more than the Locations; not writing")

    fd, tmp = tempfile.mkstemp(dir=template_path.parent, prefix=".template-", suffix=".yaml")
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(text)
    os.chmod(tmp, template_path.stat().st_mode & 0o777)  # mkstemp makes it 0600
    os.replace(tmp, template_path)
    print(f"wrote {display(template_path)}")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--template",
        type=Path,
        default=Path(".aws-sam/build/template.yaml"),
        help="the built template to rewrite in place (default: %(default)s)",
    )
    parser.add_argument("--s3-bucket", help="upload here instead of resolve_s3's bucket")
    parser.add_argument("--config-env", default="default", help="samconfig.toml environment, for its region")
    parser.add_argument("--config-file", type=Path, default=REPO / "samconfig.toml")
    parser.add_argument("--region", help="overrides samconfig.toml's region")
    args = parser.parse_args(argv)
    region = args.region or samconfig_region(args.config_file, args.config_env)
    try:
        return package(args.template, args.s3_bucket, region)
    except (PackageError, OSError, BotoCoreError, ClientError) as error:
        print(f"package_nested: {error}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
